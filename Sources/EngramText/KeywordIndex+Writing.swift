import EngramIO

extension KeywordIndex {
    /// Writes the whole index (base merged with every change) to `path` (O_CREAT|O_TRUNC|O_NOFOLLOW, fsync — the caller does temp name + rename + directory fsync). Returns size and XXH3-64.
    ///
    /// Streams through a hashing writer: the doc table and keys, then each term's merged postings as it is
    /// produced; only the term dictionary is held until the end. Afterwards the index maps the new file as its
    /// base and empties the delta (a mapping outlives the caller's rename), so searches are unchanged and memory
    /// stays proportional to the changes since the last write.
    public func write(to path: String) throws(EngramError) -> (size: Int, hash: UInt64) {
        let op = "write keyword index"
        var writer = try HashingFileWriter(path: path, operation: op)
        do {
            try writeSegment(&writer)
        } catch {
            writer.abandon()
            throw error
        }
        let result = try writer.finish()
        // Rebase onto what was just written; if it cannot be mapped, keep the current layers (still correct).
        if let fresh = try? KeywordSegment(path: path, verifyChecksum: false) {
            rebase(on: fresh)
        }
        changesSinceWrite = 0
        return result
    }

    /// A live document in the merged order: where it comes from.
    private struct Source {
        var base: Int32  // base doc, or -1
        var delta: Int32  // delta doc, or -1
    }

    private func writeSegment(_ writer: inout HashingFileWriter) throws(EngramError) {
        // 1. Live documents, sorted by key bytes; the new doc number of each base and delta document.
        var sources: [Source] = []
        sources.reserveCapacity(count)
        if let segment {
            for doc in 0..<segment.docCount where !isTombstoned(doc) { sources.append(Source(base: Int32(doc), delta: -1)) }
        }
        for (doc, live) in deltaLive.enumerated() where live { sources.append(Source(base: -1, delta: Int32(doc))) }
        sources.sort { a, b in withSourceKey(a) { ka in withSourceKey(b) { kb in compareBytes(ka, kb) < 0 } } }
        var baseRemap = [Int32](repeating: -1, count: baseCount)
        var deltaRemap = [Int32](repeating: -1, count: deltaDocs.count)
        for (new, s) in sources.enumerated() {
            if s.base >= 0 { baseRemap[Int(s.base)] = Int32(new) } else { deltaRemap[Int(s.delta)] = Int32(new) }
        }

        // 2. Header, doc table, key blob.
        var keyBytes = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        for s in sources { keyBytes += withSourceKey(s) { $0.count } }
        buffer.append(contentsOf: KeywordFormat.magic)
        buffer.appendLE(KeywordFormat.version)
        buffer.appendLE(UInt32(0))
        buffer.appendLE(parameters.k1.bitPattern)
        buffer.appendLE(parameters.b.bitPattern)
        buffer.appendLE(UInt64(sources.count))
        buffer.appendLE(UInt64(max(0, totalLength)))
        buffer.appendLE(UInt64(keyBytes))
        buffer.append(contentsOf: repeatElement(0, count: KeywordFormat.headerChecked - buffer.count))  // reserved
        buffer.appendLE(buffer.withUnsafeBytes { KeywordFormat.hash($0.baseAddress!, KeywordFormat.headerChecked) })
        var keyOffset = 0
        for s in sources {
            let keyLength = withSourceKey(s) { $0.count }
            buffer.appendLE(UInt32(keyOffset))
            buffer.appendLE(UInt32(keyLength))
            buffer.appendLE(UInt64(bitPattern: s.base >= 0 ? segment!.version(Int(s.base)) : deltaDocs[Int(s.delta)].version))
            buffer.appendLE(UInt32(s.base >= 0 ? segment!.length(Int(s.base)) : deltaDocs[Int(s.delta)].length))
            buffer.appendLE(UInt32(0))
            keyOffset += keyLength
            if buffer.count >= 1 << 20 { try flush(&buffer, &writer) }
        }
        for s in sources {
            withSourceKey(s) { buffer.append(contentsOf: $0) }
            if buffer.count >= 1 << 20 { try flush(&buffer, &writer) }
        }

        // 3. Postings, term by term in byte order: the union of the base's (already sorted) and the delta's terms.
        let deltaOrder = deltaTermNames.indices.filter { deltaDF[$0] > 0 }
            .sorted { deltaTermNames[$0].utf8.lexicographicallyPrecedes(deltaTermNames[$1].utf8) }
        let baseTerms = segment?.termCount ?? 0
        var termBlob: [UInt8] = []
        var termTable: [UInt8] = []
        var termCount = 0
        var postingsBytes = 0
        var postings: [(doc: Int32, tf: UInt32)] = []
        var fromDelta: [(doc: Int32, tf: UInt32)] = []
        var bi = 0, di = 0
        while bi < baseTerms || di < deltaOrder.count {
            var useBase = bi < baseTerms, useDelta = di < deltaOrder.count
            if useBase, useDelta {
                var name = deltaTermNames[deltaOrder[di]]
                let c = name.withUTF8 { compareBytes(segment!.termBytes(bi), UnsafeRawBufferPointer($0)) }
                useBase = c <= 0
                useDelta = c >= 0
            }
            postings.removeAll(keepingCapacity: true)
            fromDelta.removeAll(keepingCapacity: true)
            var termBytes: [UInt8]
            if useBase {
                termBytes = Array(segment!.termBytes(bi))
                segment!.postingsList(bi).forEach { doc, tf in
                    let new = baseRemap[doc]
                    if new >= 0 { postings.append((new, tf)) }
                }
                bi += 1
                // A damaged base (keys out of order) remaps out of order; never write a negative gap.
                if zip(postings, postings.dropFirst()).contains(where: { $0.doc >= $1.doc }) { postings.sort { $0.doc < $1.doc } }
            } else {
                termBytes = Array(deltaTermNames[deltaOrder[di]].utf8)
            }
            if useDelta {
                let t = deltaOrder[di]
                for (d, tf) in zip(deltaPostings[t], deltaFrequencies[t]) where deltaLive[Int(d)] {
                    fromDelta.append((deltaRemap[Int(d)], tf))
                }
                di += 1
                if !fromDelta.isEmpty {
                    fromDelta.sort { $0.doc < $1.doc }
                    postings = merge(postings, fromDelta)
                }
            }
            if postings.isEmpty { continue }  // every document holding it was removed
            let start = buffer.count
            encode(postings, into: &buffer)
            let length = buffer.count - start
            termTable.appendLE(UInt32(termBlob.count))
            termTable.appendLE(UInt32(termBytes.count))
            termTable.appendLE(UInt32(postings.count))
            termTable.appendLE(UInt32(length))
            termTable.appendLE(UInt64(postingsBytes))
            termBlob.append(contentsOf: termBytes)
            postingsBytes += length
            termCount += 1
            termBytes = []
            if buffer.count >= 1 << 20 { try flush(&buffer, &writer) }
        }
        try flush(&buffer, &writer)

        // 4. Term blob, term table, trailer (its hash covers everything before it).
        try writer.write(termBlob)
        try writer.write(termTable)
        buffer.appendLE(UInt64(termCount))
        buffer.appendLE(UInt64(termBlob.count))
        buffer.appendLE(UInt64(postingsBytes))
        buffer.appendLE(writer.currentHash)
        try flush(&buffer, &writer)
    }

    private func flush(_ buffer: inout [UInt8], _ writer: inout HashingFileWriter) throws(EngramError) {
        try writer.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func withSourceKey<R>(_ s: Source, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if s.base >= 0 { return body(segment!.keyBytes(Int(s.base))) }
        var key = deltaDocs[Int(s.delta)].key
        return key.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    private func merge(_ a: [(doc: Int32, tf: UInt32)], _ b: [(doc: Int32, tf: UInt32)]) -> [(doc: Int32, tf: UInt32)] {
        if a.isEmpty { return b }
        var out: [(doc: Int32, tf: UInt32)] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count, j < b.count {
            if a[i].doc < b[j].doc { out.append(a[i]); i += 1 } else { out.append(b[j]); j += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }

    /// One term's postings (layout in ``PostingsList``): the skip table when the list is long, then the stream.
    private func encode(_ postings: [(doc: Int32, tf: UInt32)], into out: inout [UInt8]) {
        let blocks = KeywordFormat.skipEntries(df: postings.count)
        let tableStart = out.count
        if blocks > 0 { out.append(contentsOf: repeatElement(0, count: blocks * KeywordFormat.skipEntryBytes)) }
        let streamStart = out.count
        var previous: Int32 = -1
        for (i, p) in postings.enumerated() {
            let gap = UInt32(p.doc - previous)
            out.appendVarint(gap << 1 | (p.tf > 1 ? 1 : 0))
            if p.tf > 1 { out.appendVarint(p.tf) }
            previous = p.doc
            if blocks > 0, (i + 1) % KeywordFormat.blockSize == 0 || i == postings.count - 1 {
                let b = i / KeywordFormat.blockSize
                let last = UInt32(p.doc).littleEndian, end = UInt32(out.count - streamStart).littleEndian
                out.withUnsafeMutableBytes { raw in
                    raw.storeBytes(of: last, toByteOffset: tableStart + b * 8, as: UInt32.self)
                    raw.storeBytes(of: end, toByteOffset: tableStart + b * 8 + 4, as: UInt32.self)
                }
            }
        }
    }

    /// Makes `fresh` (a file holding exactly the live documents) the base, and empties the delta.
    private func rebase(on fresh: KeywordSegment) {
        segment = fresh
        tombstones = []
        tombstoneCount = 0
        tombstonedLength = 0
        baseLengths = []
        deltaDocs = []
        deltaLive = []
        deltaLengths = []
        deltaByKey = [:]
        deltaTermIDs = [:]
        deltaTermNames = []
        deltaPostings = []
        deltaFrequencies = []
        deltaDF = []
        deltaLiveCount = 0
        deltaLiveLength = 0
        accumulator = []
        touched = []
    }
}
