import EngramIO

/// A BM25 keyword index over keyed documents (docs/KEYWORDS.md).
///
/// Two layers: an immutable **base segment** (a file written by ``write(to:)``, memory-mapped, never parsed
/// whole) and an in-memory **delta** holding documents added since, plus **tombstones** for base documents
/// removed or replaced. Searches score both. `write(to:)` merges them into a new file and then maps it in place
/// of the old base, so the delta never outgrows the changes since the last write.
///
/// Statistics: N and the average document length are exact over live documents. A term's document frequency
/// still counts base documents that were removed or replaced, until the next write (as Lucene counts deleted
/// documents until a merge); it is capped at N.
///
/// Not thread-safe: the caller serialises access (Engram keeps it inside a Mutex). Many processes may map one file.
public final class KeywordIndex {
    public private(set) var parameters: BM25Parameters
    let tokenizer = TextTokenizer()

    // MARK: Base segment
    var segment: KeywordSegment?
    var baseCount: Int { segment?.docCount ?? 0 }
    /// Base documents removed or replaced; allocated on the first removal so opening stays O(1).
    var tombstones: [Bool] = []
    var tombstoneCount = 0
    var tombstonedLength = 0
    /// Base document lengths as floats, read from the doc table on the first search (not at open).
    var baseLengths: [Float] = []

    // MARK: Delta
    struct DeltaDocument {
        var key: String
        var version: Int64
        var length: Int
        /// The document's distinct delta term ids, ascending, and their frequencies.
        var terms: [Int32]
        var frequencies: [UInt32]
    }
    var deltaDocs: [DeltaDocument] = []
    /// Whether each delta document is still live (a replaced or removed one keeps its slot until the next write).
    var deltaLive: [Bool] = []
    var deltaLengths: [Float] = []
    var deltaByKey: [String: Int] = [:]
    var deltaTermIDs: [String: Int32] = [:]
    var deltaTermNames: [String] = []
    /// Per delta term: the delta documents holding it (ascending) and the term's frequency in each.
    var deltaPostings: [[Int32]] = []
    var deltaFrequencies: [[UInt32]] = []
    /// Per delta term: how many live delta documents hold it.
    var deltaDF: [Int] = []
    var deltaLiveCount = 0
    var deltaLiveLength = 0

    public internal(set) var changesSinceWrite = 0

    // MARK: Search scratch (reused: a dense accumulator indexed by doc number, and the docs it touched)
    var accumulator: [Float] = []
    var touched: [Int32] = []

    public init(parameters: BM25Parameters = BM25Parameters()) {
        self.parameters = parameters
    }

    /// Maps a file written by `write(to:)`; does not parse it whole (open must be O(1)-ish apart from an optional checksum pass).
    /// Throws EngramError (.corrupt naming the path and what is wrong, remedy: rebuild) for a bad/truncated/foreign file.
    public static func open(path: String, parameters: BM25Parameters = BM25Parameters(), verifyChecksum: Bool = false) throws(EngramError) -> KeywordIndex {
        let index = KeywordIndex(parameters: parameters)
        index.segment = try KeywordSegment(path: path, verifyChecksum: verifyChecksum)
        return index
    }

    /// Live documents.
    public var count: Int { baseCount - tombstoneCount + deltaLiveCount }

    /// Sum of the lengths (in terms) of the live documents.
    var totalLength: Int { (segment?.totalLength ?? 0) - tombstonedLength + deltaLiveLength }

    /// Replaces the document with this key (or adds it).
    public func upsert(key: String, version: Int64, text: String) {
        removeDocument(key)
        var ids: [Int32] = []
        ids.reserveCapacity(64)
        tokenizer.forEachTerm(text) { bytes in
            let term = String(decoding: bytes, as: UTF8.self)
            if let id = deltaTermIDs[term] {
                ids.append(id)
            } else {
                let id = Int32(deltaTermNames.count)
                deltaTermIDs[term] = id
                deltaTermNames.append(term)
                deltaPostings.append([])
                deltaFrequencies.append([])
                deltaDF.append(0)
                ids.append(id)
            }
        }
        let length = ids.count
        ids.sort()
        var terms: [Int32] = []
        var frequencies: [UInt32] = []
        terms.reserveCapacity(ids.count)
        frequencies.reserveCapacity(ids.count)
        for id in ids {
            if terms.last == id { frequencies[frequencies.count - 1] += 1 } else { terms.append(id); frequencies.append(1) }
        }
        let doc = deltaDocs.count
        for (t, f) in zip(terms, frequencies) {
            deltaPostings[Int(t)].append(Int32(doc))
            deltaFrequencies[Int(t)].append(f)
            deltaDF[Int(t)] += 1
        }
        deltaDocs.append(DeltaDocument(key: key, version: version, length: length, terms: terms, frequencies: frequencies))
        deltaLive.append(true)
        deltaLengths.append(Float(length))
        deltaByKey[key] = doc
        deltaLiveCount += 1
        deltaLiveLength += length
        changesSinceWrite += 1
    }

    public func remove(key: String) {
        if removeDocument(key) { changesSinceWrite += 1 }
    }

    /// Drops the live document with this key from the delta or the base; false when there was none.
    @discardableResult
    func removeDocument(_ key: String) -> Bool {
        if let doc = deltaByKey.removeValue(forKey: key) {
            deltaLive[doc] = false
            for t in deltaDocs[doc].terms { deltaDF[Int(t)] -= 1 }
            deltaLiveCount -= 1
            deltaLiveLength -= deltaDocs[doc].length
            return true  // a key is live in at most one layer: upsert tombstones the base copy first
        }
        guard let segment, let doc = segment.find(key: key) else { return false }
        if tombstones.isEmpty { tombstones = [Bool](repeating: false, count: segment.docCount) }
        if tombstones[doc] { return false }
        tombstones[doc] = true
        tombstoneCount += 1
        tombstonedLength += segment.length(doc)
        return true
    }

    public func version(of key: String) -> Int64? {
        if let doc = deltaByKey[key] { return deltaDocs[doc].version }
        guard let segment, let doc = segment.find(key: key), !isTombstoned(doc) else { return nil }
        return segment.version(doc)
    }

    @inline(__always) func isTombstoned(_ doc: Int) -> Bool { !tombstones.isEmpty && tombstones[doc] }

    /// Every live document: the base's in key order, then the delta's in the order they were added.
    public func forEachDocument(_ body: (_ key: String, _ version: Int64) -> Void) {
        if let segment {
            for doc in 0..<segment.docCount where !isTombstoned(doc) { body(segment.key(doc), segment.version(doc)) }
        }
        for (doc, d) in deltaDocs.enumerated() where deltaLive[doc] { body(d.key, d.version) }
    }

    /// Damage a full check finds (structure, sortedness, offsets in range) — for `engram verify`. Empty when sound.
    public func check() -> [String] {
        segment?.check() ?? []
    }
}
