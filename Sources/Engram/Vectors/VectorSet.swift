import CEngramKernels
import EngramIO
import EngramVector

/// The vectors of one kind of record in an exact FAISS index (`IndexIDMap2` over a flat index), with the
/// record id ↔ FAISS id mapping and the version (`updated_at`) each vector was taken from.
///
/// Removal is lazy: a removed FAISS id becomes a tombstone (filtered out of results) and tombstones are
/// compacted in one pass once there are enough of them, because `IndexFlat` removal moves every later
/// vector (O(n) per call). FAISS ids are never reused.
struct VectorSet {
    let kind: RecordKind
    let metric: DistanceMetric
    private(set) var index: FaissIndex?
    private(set) var ids: [String: Int64] = [:]
    private(set) var versions: [String: Timestamp] = [:]
    private(set) var records: [Int64: String] = [:]
    private(set) var tombstones: Set<Int64> = []

    init(kind: RecordKind, metric: DistanceMetric) {
        self.kind = kind
        self.metric = metric
    }

    /// Restores a set from its persisted parts (checked by the caller).
    init(kind: RecordKind, metric: DistanceMetric, index: FaissIndex?, ids: [String: Int64], versions: [String: Timestamp]) {
        self.kind = kind
        self.metric = metric
        self.index = index
        self.ids = ids
        self.versions = versions
        for (id, fid) in ids { records[fid] = id }
    }

    var count: Int { ids.count }
    var dimension: Int? { index?.dimension }

    func version(of id: String) -> Timestamp? { versions[id] }

    /// Adds or replaces many vectors with one FAISS call.
    mutating func upsert(_ items: [(id: String, vector: [Float], version: Timestamp)], nextID: inout Int64) throws(FaissError) {
        guard !items.isEmpty else { return }
        for item in items where ids[item.id] != nil { remove(item.id) }
        if index == nil { index = try FaissIndex(dimension: items[0].vector.count, metric: metric.faissMetric) }
        var flat: [Float] = []
        flat.reserveCapacity(items.count * items[0].vector.count)
        var newIDs: [Int64] = []
        newIDs.reserveCapacity(items.count)
        for item in items {
            flat.append(contentsOf: metric.normalises ? FaissIndex.normalized(item.vector) : item.vector)
            newIDs.append(nextID)
            nextID += 1
        }
        try index!.add(vectors: flat, ids: newIDs)
        for (item, fid) in zip(items, newIDs) {
            ids[item.id] = fid
            versions[item.id] = item.version
            records[fid] = item.id
        }
    }

    /// Removes a record's vector (lazily). Returns whether there was one.
    @discardableResult
    mutating func remove(_ id: String) -> Bool {
        guard let fid = ids.removeValue(forKey: id) else { return false }
        versions[id] = nil
        records[fid] = nil
        tombstones.insert(fid)
        return true
    }

    /// Compacts tombstones when they are many (or always, before persisting).
    mutating func compact(force: Bool) throws(FaissError) {
        guard let index, !tombstones.isEmpty else { return }
        guard force || tombstones.count >= max(256, min(4096, index.count / 16)) else { return }
        try index.remove(ids: Array(tombstones))
        tombstones.removeAll()
    }

    /// The `k` nearest live records; `query` is already validated.
    func search(_ query: [Float], k: Int) throws(FaissError) -> [(id: String, score: Float)] {
        guard let index, k > 0, !ids.isEmpty else { return [] }
        let q = metric.normalises ? FaissIndex.normalized(query) : query
        if let scanned = scan(index, q, k: k) { return scanned }
        let hits = try index.search(query: q, k: min(index.count, k + tombstones.count))
        var out: [(id: String, score: Float)] = []
        out.reserveCapacity(k)
        for hit in hits {
            guard let id = records[hit.id] else { continue }
            out.append((id, hit.distance))
            if out.count == k { break }
        }
        return out
    }

    /// One query, exact: every live vector scanned with Engram's AVX2/FMA kernels (Debian's FAISS, built
    /// without AVX2, is about 5× slower per distance; it still serves batches, which it runs through BLAS).
    /// Nil when the index offers no flat view.
    private func scan(_ index: FaissIndex, _ q: [Float], k: Int) -> [(id: String, score: Float)]? {
        let higher = metric != .l2
        let d = index.dimension
        guard q.count == d else { return nil }
        return index.withFlatView { vectors, fids, count -> [(id: String, score: Float)] in
            var distances = [Float](repeating: 0, count: count)
            q.withUnsafeBufferPointer { query in
                distances.withUnsafeMutableBufferPointer { out in
                    if higher {
                        engram_ip_many(query.baseAddress, vectors, count, d, d, out.baseAddress)
                    } else {
                        engram_l2sq_many(query.baseAddress, vectors, count, d, d, out.baseAddress)
                    }
                }
            }
            // The k best live rows, kept sorted (best first); removed rows (tombstones) have no record.
            var best: [(id: String, score: Float)] = []
            best.reserveCapacity(k + 1)
            for row in 0..<count {
                let score = distances[row]
                if best.count == k, let worst = best.last, higher ? score <= worst.score : score >= worst.score { continue }
                guard let id = records[fids[row]] else { continue }
                let position = best.firstIndex { higher ? score > $0.score : score < $0.score } ?? best.count
                best.insert((id, score), at: position)
                if best.count > k { best.removeLast() }
            }
            return best
        }
    }

    func search(_ queries: [[Float]], k: Int) throws(FaissError) -> [[(id: String, score: Float)]] {
        guard let index, k > 0, !ids.isEmpty else { return queries.map { _ in [] } }
        let qs = metric.normalises ? queries.map(FaissIndex.normalized) : queries
        // A few queries: scan with the AVX2 kernels; many: FAISS batches them through BLAS, which wins.
        if qs.count <= 4 {
            var answers: [[(id: String, score: Float)]] = []
            for q in qs {
                guard let scanned = scan(index, q, k: k) else { answers = []; break }
                answers.append(scanned)
            }
            if answers.count == qs.count { return answers }
        }
        let all = try index.search(queries: qs, k: min(index.count, k + tombstones.count))
        return all.map { hits in
            var out: [(id: String, score: Float)] = []
            for hit in hits {
                guard let id = records[hit.id] else { continue }
                out.append((id, hit.distance))
                if out.count == k { break }
            }
            return out
        }
    }

    /// The stored vector of a record (normalised for cosine), for verification.
    func vector(of id: String) -> [Float]? {
        guard let fid = ids[id], let index else { return nil }
        return try? index.reconstruct(id: fid)
    }
}
