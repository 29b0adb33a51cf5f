import CFaissShim
import Synchronization

/// FAISS's `IndexHNSWFlat`: the approximate baseline the graph tier is measured against (labels are
/// insertion positions). Every operation takes an internal mutex.
package final class HNSWIndex: Sendable {
    private struct Handle: @unchecked Sendable { let ptr: OpaquePointer }
    private let handle: Mutex<Handle>

    package let dimension: Int
    package let metric: VectorMetric

    package init(dimension: Int, links: Int = 32, efConstruction: Int = 200, efSearch: Int = 64, metric: VectorMetric = .l2) throws(FaissError) {
        let op = "HNSWIndex(dimension: \(dimension), links: \(links))"
        var raw: OpaquePointer?
        try Self.check(engram_faiss_hnsw_new(Int64(dimension), Int32(links), Int32(efConstruction), Int32(efSearch), metric.cValue, &raw), op)
        guard let raw else { throw FaissError(code: FaissError.unknownException, operation: op, detail: "no handle returned") }
        handle = Mutex(Handle(ptr: raw))
        self.dimension = dimension
        self.metric = metric
    }

    deinit { handle.withLock { engram_faiss_hnsw_free($0.ptr) } }

    package var count: Int { handle.withLock { Int(engram_faiss_hnsw_count($0.ptr)) } }

    /// Sets efSearch for later searches.
    package func setEfSearch(_ ef: Int) throws(FaissError) {
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            try Self.check(engram_faiss_hnsw_set_ef_search(box.ptr, Int32(ef)), "HNSWIndex.setEfSearch(\(ef))")
        }
    }

    /// Adds vectors (row-major); labels continue from ``count``. Uses ``FaissIndex/threadCount`` threads.
    package func add(_ vectors: [Float]) throws(FaissError) {
        guard vectors.count % dimension == 0 else {
            throw .bad("HNSWIndex.add", "\(vectors.count) floats is not a multiple of the dimension \(dimension)")
        }
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let rc = vectors.withUnsafeBufferPointer { engram_faiss_hnsw_add(box.ptr, Int64(vectors.count / dimension), $0.baseAddress) }
            try Self.check(rc, "HNSWIndex.add")
        }
    }

    /// The `k` nearest labels to one query, best first (squared L2 or inner product, as FAISS reports).
    package func search(_ query: [Float], k: Int) throws(FaissError) -> [(label: Int64, distance: Float)] {
        guard query.count == dimension, k > 0 else {
            throw .bad("HNSWIndex.search", "query has \(query.count) components (dimension \(dimension)), k = \(k)")
        }
        var distances = [Float](repeating: 0, count: k)
        var labels = [Int64](repeating: -1, count: k)
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let rc = query.withUnsafeBufferPointer { q in
                distances.withUnsafeMutableBufferPointer { d in
                    labels.withUnsafeMutableBufferPointer { engram_faiss_hnsw_search(box.ptr, 1, q.baseAddress, Int64(k), d.baseAddress, $0.baseAddress) }
                }
            }
            try Self.check(rc, "HNSWIndex.search")
        }
        return (0..<k).compactMap { labels[$0] == -1 ? nil : (label: labels[$0], distance: distances[$0]) }
    }

    private static func check(_ rc: Int32, _ op: @autoclosure () -> String) throws(FaissError) {
        guard rc != 0 else { return }
        throw FaissError(code: rc, operation: op(), detail: String(cString: engram_faiss_last_error()))
    }
}
