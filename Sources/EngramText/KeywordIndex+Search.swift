#if canImport(Glibc)
import Glibc
#endif

/// BM25 search: term-at-a-time into a dense accumulator, with max-score pruning of the common terms.
///
/// Query terms go rarest (highest upper bound) first. Before a long postings list (one with a skip table), the
/// k-th best score so far (θ) is compared with the most the remaining terms could add to any document (their
/// bounds' sum, R). Once θ > R no untouched document can reach the top k, so the remaining terms only update the
/// candidates (touched documents with score + R ≥ θ), and their lists are decoded only in the blocks that hold
/// one. Results are the same as a full evaluation.
extension KeywordIndex {
    /// One distinct query term: where it is in each layer, its weight (idf × query frequency × (k1 + 1)) and score bound.
    struct QueryTerm {
        var text: String
        var baseTerm: Int?
        var baseDF: Int
        var deltaTerm: Int?
        var weight: Float
        /// The most this term adds to any document's score (tf / (tf + K) < 1): the weight, with a hair of margin for rounding.
        var bound: Float
    }

    /// Query terms and the length normalisation `K(len) = c0 + c1 × len` (k1 × (1 − b + b × len / avgdl)).
    struct PreparedQuery {
        var terms: [QueryTerm]
        var c0: Float
        var c1: Float
        var k1PlusOne: Float
    }

    /// Top k by BM25 over the query's terms, best first, ties by key; `accept` filters keys (Engram uses it for record kinds).
    public func search(_ query: String, k: Int, accept: ((String) -> Bool)? = nil) -> [KeywordHit] {
        guard k > 0, let q = prepare(query), !q.terms.isEmpty else { return [] }
        prepareScratch()
        defer { resetScratch() }
        // suffix[i]: the most terms i... can still add.
        var suffix = [Float](repeating: 0, count: q.terms.count + 1)
        for i in stride(from: q.terms.count - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + q.terms[i].bound }
        var pruning = false
        var theta: Float = 0
        var candidates: [Int32] = []
        for (i, term) in q.terms.enumerated() {
            // θ ≤ what the terms so far can add up to, so when that is not above what the rest can add, θ > R is
            // impossible: skip the O(touched) selection.
            if !pruning, term.baseDF >= KeywordFormat.skipThreshold, touched.count >= k, suffix[0] - suffix[i] > suffix[i] {
                let top = selectTop(touched, k: k, accept: accept)
                if top.count == k {
                    theta = accumulator[top[k - 1]]
                    if theta > suffix[i] {
                        pruning = true
                        candidates = touched.filter { accumulator[Int($0)] + suffix[i] >= theta }
                        candidates.sort()
                    }
                }
            }
            if pruning {
                candidates.removeAll { accumulator[Int($0)] + suffix[i] < theta }
                if candidates.isEmpty { break }
                accumulateCandidates(term, q, candidates)
            } else {
                accumulateAll(term, q)
            }
        }
        let top = selectTop(pruning ? candidates : touched, k: k, accept: accept)
        return top.map { KeywordHit(key: key(ofDoc: $0), score: accumulator[$0]) }
    }

    /// BM25 score of one document for a query (0 if it matches nothing) — for explaining/fusing.
    public func score(_ query: String, key: String) -> Float? {
        let doc: Int
        if let d = deltaByKey[key] {
            doc = baseCount + d
        } else if let segment, let d = segment.find(key: key), !isTombstoned(d) {
            doc = d
        } else {
            return nil
        }
        guard let q = prepare(query) else { return 0 }
        let length = doc < baseCount ? Float(segment!.length(doc)) : deltaLengths[doc - baseCount]
        var total: Float = 0
        for term in q.terms {
            var tf: UInt32 = 0
            if doc < baseCount, let t = term.baseTerm {
                tf = baseFrequency(term: t, doc: doc)
            } else if doc >= baseCount, let t = term.deltaTerm {
                let d = deltaDocs[doc - baseCount]
                if let at = binarySearch(d.terms, Int32(t)) { tf = d.frequencies[at] }
            }
            if tf > 0 { total += Self.contribution(term.weight, tf, length, q) }
        }
        return total
    }

    // MARK: Scoring

    /// `weight` is idf × query frequency × (k1 + 1): one multiplication less per posting.
    @inline(__always)
    static func contribution(_ weight: Float, _ tf: UInt32, _ length: Float, _ q: PreparedQuery) -> Float {
        let f = Float(tf)
        return weight * f / (f + q.c0 + q.c1 * length)
    }

    func prepare(_ query: String) -> PreparedQuery? {
        let n = count
        guard n > 0 else { return nil }
        var counts: [String: Int] = [:]
        var order: [String] = []
        tokenizer.forEachTerm(query) { bytes in
            let term = String(decoding: bytes, as: UTF8.self)
            if let c = counts[term] { counts[term] = c + 1 } else { counts[term] = 1; order.append(term) }
        }
        let k1 = parameters.k1, b = parameters.b
        let total = totalLength
        let averageLength = total > 0 ? Float(total) / Float(n) : 1
        var terms: [QueryTerm] = []
        for text in order {
            var baseTerm: Int?
            var baseDF = 0
            if let segment {
                var t = text
                baseTerm = t.withUTF8 { segment.find(term: UnsafeRawBufferPointer($0)) }
                if let baseTerm { baseDF = segment.df(baseTerm) }
            }
            let deltaTerm = deltaTermIDs[text].map(Int.init)
            let df = min(baseDF + (deltaTerm.map { deltaDF[$0] } ?? 0), n)
            guard df > 0 else { continue }
            // Lucene's idf: log(1 + (N − df + 0.5) / (df + 0.5)), always > 0.
            let idf = Float(log(1 + (Double(n) - Double(df) + 0.5) / (Double(df) + 0.5)))
            let weight = idf * Float(counts[text]!) * (k1 + 1)
            terms.append(QueryTerm(text: text, baseTerm: baseTerm, baseDF: baseDF, deltaTerm: deltaTerm, weight: weight,
                                   bound: weight * 1.0001))
        }
        terms.sort { $0.bound != $1.bound ? $0.bound > $1.bound : $0.text.utf8.lexicographicallyPrecedes($1.text.utf8) }
        return PreparedQuery(terms: terms, c0: k1 * (1 - b), c1: k1 * b / averageLength, k1PlusOne: k1 + 1)
    }

    /// Adds a term's contribution to every document holding it.
    func accumulateAll(_ term: QueryTerm, _ q: PreparedQuery) {
        let baseCount = self.baseCount
        // The touched list moves into a local for the loop: appending to a class property pays an exclusivity
        // check per posting.
        var touched = self.touched
        self.touched = []
        defer { self.touched = touched }
        accumulator.withUnsafeMutableBufferPointer { acc in
            if let t = term.baseTerm, let segment {
                baseLengths.withUnsafeBufferPointer { lengths in
                    let weight = term.weight
                    segment.postingsList(t).forEach { doc, tf in
                        if acc[doc] == 0 { touched.append(Int32(doc)) }
                        let f = Float(tf)
                        acc[doc] += weight * f / (f + q.c0 + q.c1 * lengths[doc])
                    }
                }
            }
            if let t = term.deltaTerm {
                let docs = deltaPostings[t], tfs = deltaFrequencies[t]
                for i in docs.indices where deltaLive[Int(docs[i])] {
                    let d = Int(docs[i])
                    let doc = baseCount + d
                    if acc[doc] == 0 { touched.append(Int32(doc)) }
                    acc[doc] += Self.contribution(term.weight, tfs[i], deltaLengths[d], q)
                }
            }
        }
    }

    /// Adds a term's contribution to the candidates (sorted doc numbers) only, skipping blocks that hold none.
    func accumulateCandidates(_ term: QueryTerm, _ q: PreparedQuery, _ candidates: [Int32]) {
        let baseCount = self.baseCount
        accumulator.withUnsafeMutableBufferPointer { acc in
            if let t = term.baseTerm, let segment {
                let list = segment.postingsList(t)
                baseLengths.withUnsafeBufferPointer { lengths in
                    var ci = 0
                    let visit = { (doc: Int, tf: UInt32) in
                        while ci < candidates.count, Int(candidates[ci]) < doc { ci += 1 }
                        if ci < candidates.count, Int(candidates[ci]) == doc {
                            acc[doc] += Self.contribution(term.weight, tf, lengths[doc], q)
                        }
                    }
                    let blocks = list.blocks
                    if blocks == 0 {
                        list.forEach(visit)
                    } else {
                        var previousLast = -1, previousEnd = 0
                        for b in 0..<blocks {
                            guard ci < candidates.count, Int(candidates[ci]) < baseCount else { break }
                            let (last, end) = list.skip(b)
                            if Int(candidates[ci]) <= last { list.decode(from: previousEnd, to: end, previous: previousLast, visit) }
                            previousLast = last
                            previousEnd = end
                        }
                    }
                }
            }
            if let t = term.deltaTerm {
                let docs = deltaPostings[t], tfs = deltaFrequencies[t]
                var ci = candidates.firstIndex { Int($0) >= baseCount } ?? candidates.count
                for i in docs.indices where deltaLive[Int(docs[i])] {
                    let doc = baseCount + Int(docs[i])
                    while ci < candidates.count, Int(candidates[ci]) < doc { ci += 1 }
                    if ci < candidates.count, Int(candidates[ci]) == doc {
                        acc[doc] += Self.contribution(term.weight, tfs[i], deltaLengths[Int(docs[i])], q)
                    }
                }
            }
        }
    }

    /// A base document's frequency for a term, 0 when absent (uses the skip table to decode one block).
    func baseFrequency(term: Int, doc: Int) -> UInt32 {
        guard let segment else { return 0 }
        let list = segment.postingsList(term)
        var found: UInt32 = 0
        let visit = { (d: Int, tf: UInt32) in if d == doc { found = tf } }
        let blocks = list.blocks
        if blocks == 0 {
            list.forEach(visit)
            return found
        }
        var previousLast = -1, previousEnd = 0
        for b in 0..<blocks {
            let (last, end) = list.skip(b)
            if doc <= last {
                list.decode(from: previousEnd, to: end, previous: previousLast, visit)
                break
            }
            previousLast = last
            previousEnd = end
        }
        return found
    }

    // MARK: Selection

    /// The best k eligible documents among `docs` (live, accepted), by score then key.
    func selectTop(_ docs: [Int32], k: Int, accept: ((String) -> Bool)?) -> [Int] {
        var top: [Int] = []
        top.reserveCapacity(k + 1)
        var worst = -Float.infinity  // the k-th score once there are k: most docs stop at one comparison
        for d in docs {
            let doc = Int(d)
            let s = accumulator.withUnsafeBufferPointer { $0[doc] }
            if s < worst { continue }
            if top.count == k {
                if s == worst && !keyPrecedes(doc, top[k - 1]) { continue }
            }
            guard isLive(doc) else { continue }
            if let accept, !accept(key(ofDoc: doc)) { continue }
            var at = top.count
            while at > 0 {
                let other = top[at - 1], so = accumulator[other]
                if so > s || (so == s && keyPrecedes(other, doc)) { break }
                at -= 1
            }
            top.insert(doc, at: at)
            if top.count > k { top.removeLast() }
            if top.count == k { worst = accumulator[top[k - 1]] }
        }
        return top
    }

    @inline(__always) func isLive(_ doc: Int) -> Bool {
        doc < baseCount ? !isTombstoned(doc) : deltaLive[doc - baseCount]
    }

    func key(ofDoc doc: Int) -> String {
        doc < baseCount ? segment!.key(doc) : deltaDocs[doc - baseCount].key
    }

    /// Key order (UTF-8 bytes) between two documents of either layer: how score ties are broken.
    func keyPrecedes(_ a: Int, _ b: Int) -> Bool {
        withKeyBytes(a) { ka in withKeyBytes(b) { kb in compareBytes(ka, kb) < 0 } }
    }

    func withKeyBytes<R>(_ doc: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if doc < baseCount { return body(segment!.keyBytes(doc)) }
        var key = deltaDocs[doc - baseCount].key
        return key.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    // MARK: Scratch

    func prepareScratch() {
        let total = baseCount + deltaDocs.count
        if accumulator.count < total { accumulator.append(contentsOf: repeatElement(0, count: total - accumulator.count)) }
        if baseLengths.count != baseCount, let segment {
            baseLengths = (0..<segment.docCount).map { Float(segment.length($0)) }
        }
    }

    /// Zeroes what the search touched: doc by doc when few, the whole array when many (a memset is cheaper).
    func resetScratch() {
        if touched.count > accumulator.count / 8 {
            accumulator.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        } else {
            for d in touched { accumulator[Int(d)] = 0 }
        }
        touched.removeAll(keepingCapacity: true)
    }
}

/// The index of `value` in an ascending array, or nil.
func binarySearch(_ array: [Int32], _ value: Int32) -> Int? {
    var lo = 0, hi = array.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if array[mid] == value { return mid }
        if array[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return nil
}
