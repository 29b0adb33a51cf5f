import EngramIO

/// A keyword index file mapped read-only (layout in ``KeywordFormat``): binary searches over its sorted keys and
/// terms, and postings decoding. Opening validates the header, the trailer and that the sections add up to the
/// file's size; every later read of an offset, length or doc number that came from the file is checked against
/// those sections, so a damaged file gives wrong answers or a `check()` problem, never a crash.
final class KeywordSegment {
    let file: MappedFile
    let path: String
    let docCount: Int
    let totalLength: Int
    let termCount: Int
    /// The parameters the writer used (informational: scoring uses the index's own).
    let writtenParameters: BM25Parameters
    let docTable: Int, keyBlob: Int, keyBytes: Int
    let postings: Int, postingsBytes: Int
    let termBlob: Int, termBytes: Int
    let termTable: Int
    let trailer: Int
    var base: UnsafeRawPointer { file.base }

    init(path: String, verifyChecksum: Bool) throws(EngramError) {
        let op = "open keyword index"
        func corrupt(_ message: String) -> EngramError {
            EngramError(code: .corrupt, message: message, operation: op, path: path, remedy: KeywordFormat.remedy)
        }
        self.path = path
        file = try MappedFile(path: path, operation: op, remedy: KeywordFormat.remedy)
        let size = file.size
        let p = file.base
        guard size >= KeywordFormat.headerBytes + KeywordFormat.trailerBytes else {
            throw corrupt("\(size) bytes is shorter than a header and a trailer (truncated)")
        }
        guard KeywordFormat.magic.indices.allSatisfy({ p.load(fromByteOffset: $0, as: UInt8.self) == KeywordFormat.magic[$0] }) else {
            throw corrupt("bad magic (not an Engram keyword index)")
        }
        guard p.le64(KeywordFormat.headerChecked) == KeywordFormat.hash(p, KeywordFormat.headerChecked) else {
            throw corrupt("header checksum mismatch")
        }
        guard p.le32(8) == KeywordFormat.version else {
            throw EngramError(code: .unsupportedFormat, message: "keyword index format version \(p.le32(8)), this Engram reads \(KeywordFormat.version)",
                              operation: op, path: path, remedy: KeywordFormat.remedy)
        }
        writtenParameters = BM25Parameters(k1: Float(bitPattern: p.le32(16)), b: Float(bitPattern: p.le32(20)))
        trailer = size - KeywordFormat.trailerBytes
        // Sizes as read may be anything: add them up without overflow before trusting any.
        let fields = [p.le64(24), p.le64(32), p.le64(40), p.le64(trailer), p.le64(trailer + 8), p.le64(trailer + 16)]
        guard fields.allSatisfy({ $0 <= UInt64(size) }) else { throw corrupt("a section size exceeds the file size (\(size) bytes)") }
        let (docs, total, keys, terms, termBytes, postingsBytes) = (Int(fields[0]), Int(fields[1]), Int(fields[2]), Int(fields[3]), Int(fields[4]), Int(fields[5]))
        let expected = KeywordFormat.headerBytes + docs * KeywordFormat.docEntryBytes + keys + postingsBytes + termBytes
            + terms * KeywordFormat.termEntryBytes + KeywordFormat.trailerBytes
        guard expected == size else {
            throw corrupt("sections add up to \(expected) bytes but the file has \(size) (truncated or damaged)")
        }
        docCount = docs
        totalLength = total
        termCount = terms
        self.keyBytes = keys
        self.termBytes = termBytes
        self.postingsBytes = postingsBytes
        docTable = KeywordFormat.headerBytes
        keyBlob = docTable + docs * KeywordFormat.docEntryBytes
        postings = keyBlob + keys
        termBlob = postings + postingsBytes
        termTable = termBlob + termBytes
        if verifyChecksum, p.le64(trailer + 24) != KeywordFormat.hash(p, trailer) {
            throw corrupt("checksum mismatch (the file was damaged after it was written)")
        }
    }

    // MARK: Documents

    /// The key's bytes of `doc` (empty when its range lies outside the key blob).
    @inline(__always) func keyBytes(_ doc: Int) -> UnsafeRawBufferPointer {
        let e = docTable + doc * KeywordFormat.docEntryBytes
        let offset = Int(base.le32(e)), length = Int(base.le32(e + 4))
        guard offset + length <= keyBytes else { return UnsafeRawBufferPointer(start: base, count: 0) }
        return UnsafeRawBufferPointer(start: base + keyBlob + offset, count: length)
    }

    func key(_ doc: Int) -> String { String(decoding: keyBytes(doc), as: UTF8.self) }

    func version(_ doc: Int) -> Int64 { Int64(bitPattern: base.le64(docTable + doc * KeywordFormat.docEntryBytes + 8)) }

    func length(_ doc: Int) -> Int { Int(base.le32(docTable + doc * KeywordFormat.docEntryBytes + 16)) }

    /// Binary search of the sorted keys.
    func find(key: String) -> Int? {
        var key = key
        return key.withUTF8 { k in
            var lo = 0, hi = docCount
            while lo < hi {
                let mid = (lo + hi) / 2
                let c = compareBytes(keyBytes(mid), UnsafeRawBufferPointer(k))
                if c == 0 { return mid }
                if c < 0 { lo = mid + 1 } else { hi = mid }
            }
            return nil
        }
    }

    // MARK: Terms

    func termBytes(_ term: Int) -> UnsafeRawBufferPointer {
        let e = termTable + term * KeywordFormat.termEntryBytes
        let offset = Int(base.le32(e)), length = Int(base.le32(e + 4))
        guard offset + length <= termBytes else { return UnsafeRawBufferPointer(start: base, count: 0) }
        return UnsafeRawBufferPointer(start: base + termBlob + offset, count: length)
    }

    func df(_ term: Int) -> Int { Int(base.le32(termTable + term * KeywordFormat.termEntryBytes + 8)) }

    /// Binary search of the sorted terms for a folded term's bytes.
    func find(term: UnsafeRawBufferPointer) -> Int? {
        var lo = 0, hi = termCount
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = compareBytes(termBytes(mid), term)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// A term's postings, bounded to the postings section (an out-of-range list reads as empty).
    func postingsList(_ term: Int) -> PostingsList {
        let e = termTable + term * KeywordFormat.termEntryBytes
        let df = Int(base.le32(e + 8)), length = Int(base.le32(e + 12)), offset = base.le64(e + 16)
        guard offset <= UInt64(postingsBytes), Int(offset) + length <= postingsBytes else {
            return PostingsList(start: base + postings, count: 0, df: 0, docCount: docCount)
        }
        return PostingsList(start: base + postings + Int(offset), count: length, df: df, docCount: docCount)
    }
}

/// One term's postings in the mapped file: an optional skip table (one entry per block of
/// ``KeywordFormat/blockSize`` postings: u32 last doc, u32 end offset in the stream), then a stream of
/// `varint(gap << 1 | tf > 1)` followed by `varint(tf)` when tf > 1, gaps counted from doc -1.
struct PostingsList {
    let start: UnsafeRawPointer
    let count: Int
    let df: Int
    let docCount: Int

    var blocks: Int {
        let n = KeywordFormat.skipEntries(df: df)
        return n * KeywordFormat.skipEntryBytes <= count ? n : 0
    }
    var streamStart: Int { KeywordFormat.skipEntries(df: df) * KeywordFormat.skipEntryBytes }

    /// Block `b`'s last doc and where its bytes end (relative to the stream).
    func skip(_ b: Int) -> (lastDoc: Int, end: Int) {
        (Int(start.le32(b * 8)), Int(start.le32(b * 8 + 4)))
    }

    /// Decodes postings from stream offset `from` to `to`, the doc before them being `previous`; stops at the
    /// first doc that is not increasing or not below `docCount` (damage). Calls `body(doc, tf)`.
    @inline(__always)
    func decode(from: Int, to: Int, previous: Int, _ body: (Int, UInt32) -> Void) {
        let s0 = streamStart
        guard from >= 0, from <= to, s0 + to <= count else { return }
        let p = start.assumingMemoryBound(to: UInt8.self) + s0
        var i = from
        var doc = previous
        while i < to {
            var v = UInt32(p[i]); i += 1
            if v >= 0x80 {
                v &= 0x7F
                var shift: UInt32 = 7
                while true {
                    guard i < to, shift < 32 else { return }
                    let byte = UInt32(p[i]); i += 1
                    v |= (byte & 0x7F) << shift
                    if byte < 0x80 { break }
                    shift += 7
                }
            }
            var tf: UInt32 = 1
            if v & 1 != 0 {
                tf = 0
                var shift: UInt32 = 0
                while true {
                    guard i < to, shift < 32 else { return }
                    let byte = UInt32(p[i]); i += 1
                    tf |= (byte & 0x7F) << shift
                    if byte < 0x80 { break }
                    shift += 7
                }
            }
            let gap = Int(v >> 1)
            guard gap > 0 else { return }
            doc += gap
            guard doc < docCount else { return }
            body(doc, tf)
        }
    }

    /// Every posting, in doc order.
    @inline(__always)
    func forEach(_ body: (Int, UInt32) -> Void) {
        decode(from: 0, to: count - streamStart, previous: -1, body)
    }
}

/// memcmp-style order of byte strings (shorter first on a common prefix): the order keys and terms are stored in.
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmpBytes(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c }
    }
    return a.count - b.count
}

@inline(__always)
private func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Int {
    var i = 0
    while i < n {
        let x = a.load(fromByteOffset: i, as: UInt8.self), y = b.load(fromByteOffset: i, as: UInt8.self)
        if x != y { return Int(x) - Int(y) }
        i += 1
    }
    return 0
}
