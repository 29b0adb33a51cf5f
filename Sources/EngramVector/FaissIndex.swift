import CFaissShim
import Synchronization

/// An exact (brute-force) FAISS vector index with caller-chosen `Int64` ids:
/// `IndexIDMap2` over `IndexFlatL2` or `IndexFlatIP`.
///
/// - Thread safety: every operation takes an internal mutex, so one instance can be
///   shared across tasks and threads; operations on one instance run one at a time.
/// - Ids: any `Int64` except `-1` (FAISS's "no result" label). An id can be stored only
///   once; to replace a vector, ``remove(ids:)`` it first.
/// - Distances: ``VectorMetric/l2`` reports the *squared* L2 distance (ascending);
///   ``VectorMetric/innerProduct`` reports the dot product (descending).
/// - Threads: FAISS uses ``threadCount`` OpenMP/OpenBLAS threads (default 1), see
///   ``setThreadCount(_:)``.
/// - Persistence: ``serialized()`` gives the bytes of `faiss.write_index`, so the caller
///   can store them with its own atomic write protocol; ``write(toPath:)`` is a
///   convenience that is neither atomic nor fsync'ed. Files are interchangeable with
///   Python's `faiss.read_index` / `faiss.write_index`.
public final class FaissIndex: Sendable {
    /// The `engram_faiss_index *`, owned by this instance; only used under `handle`'s lock.
    private struct Handle: @unchecked Sendable {
        let ptr: OpaquePointer
    }

    private let handle: Mutex<Handle>

    /// Number of components per vector.
    public let dimension: Int
    /// The distance of this index.
    public let metric: VectorMetric

    /// One search hit.
    public typealias Neighbor = (id: Int64, distance: Float)

    // MARK: - Creating

    /// Creates an empty index.
    public init(dimension: Int, metric: VectorMetric = .l2) throws(FaissError) {
        let op = "init(dimension: \(dimension), metric: .\(metric))"
        guard dimension > 0, dimension <= Int(Int32.max) else {
            throw .bad(op, "dimension must be in 1...\(Int32.max), got \(dimension)")
        }
        var raw: OpaquePointer?
        try Self.check(engram_faiss_new(Int64(dimension), metric.cValue, &raw), op)
        guard let raw else { throw FaissError(code: FaissError.unknownException, operation: op, detail: "no handle returned") }
        self.handle = Mutex(Handle(ptr: raw))
        self.dimension = dimension
        self.metric = metric
    }

    /// Loads an index from the bytes of ``serialized()`` (or of Python's
    /// `faiss.serialize_index`). Accepted: an `IndexIDMap2` or `IndexIDMap` over a flat
    /// L2 or inner-product index; an `IndexIDMap` is converted to an `IndexIDMap2`.
    /// Anything else, truncated or corrupt bytes throw (code ``FaissError/formatError``).
    public convenience init(serialized bytes: [UInt8]) throws(FaissError) {
        let op = "init(serialized: \(bytes.count) bytes)"
        var raw: OpaquePointer?
        let rc = bytes.withUnsafeBufferPointer { buf in
            engram_faiss_deserialize(buf.baseAddress, buf.count, &raw)
        }
        try Self.check(rc, op)
        try self.init(adopting: raw, op)
    }

    /// Reads an index file written by ``write(toPath:)`` or by Python's
    /// `faiss.write_index`. Same accepted types as ``init(serialized:)``; a missing or
    /// unreadable file throws ``FaissError/ioError``.
    public convenience init(readingPath path: String) throws(FaissError) {
        let op = "init(readingPath: \"\(path)\")"
        var raw: OpaquePointer?
        let rc = path.withCString { engram_faiss_read_file($0, &raw) }
        try Self.check(rc, op)
        try self.init(adopting: raw, op)
    }

    private init(adopting raw: OpaquePointer?, _ op: String) throws(FaissError) {
        guard let raw else { throw FaissError(code: FaissError.unknownException, operation: op, detail: "no handle returned") }
        let d = engram_faiss_dimension(raw)
        guard let metric = VectorMetric(cValue: engram_faiss_metric(raw)), d > 0, d <= Int64(Int32.max) else {
            engram_faiss_free(raw)
            throw FaissError(code: FaissError.formatError, operation: op, detail: "unsupported metric or dimension in loaded index")
        }
        self.handle = Mutex(Handle(ptr: raw))
        self.dimension = Int(d)
        self.metric = metric
    }

    deinit {
        handle.withLock { engram_faiss_free($0.ptr) }
    }

    // MARK: - Reading state

    /// Number of vectors in the index.
    public var count: Int {
        handle.withLock { Int(engram_faiss_count($0.ptr)) }
    }

    /// Whether a vector is stored under `id`.
    public func contains(id: Int64) -> Bool {
        handle.withLock { engram_faiss_contains($0.ptr, id) == 1 }
    }

    // MARK: - Mutating

    /// Adds `ids.count` vectors given as one flat array of `ids.count * dimension` floats
    /// (vector `i` is `vectors[i*dimension ..< (i+1)*dimension]`).
    ///
    /// Throws ``FaissError/badArgument`` (and adds nothing) if the length does not match,
    /// a value is NaN or infinite, an id is `-1`, repeated in `ids`, or already stored.
    public func add(vectors: [Float], ids: [Int64]) throws(FaissError) {
        let op = "add"
        guard vectors.count % dimension == 0 else {
            throw .bad(op, "vectors has \(vectors.count) floats, not a multiple of the dimension \(dimension)")
        }
        guard vectors.count / dimension == ids.count else {
            throw .bad(op, "vectors holds \(vectors.count / dimension) vectors of dimension \(dimension) but \(ids.count) ids were given")
        }
        try Self.checkFinite(vectors, dimension: dimension, what: "vectors", op)
        var seen = Set<Int64>(minimumCapacity: ids.count)
        for (i, id) in ids.enumerated() {
            guard id != -1 else { throw .bad(op, "ids[\(i)] is -1, which FAISS reserves for 'no result'") }
            guard seen.insert(id).inserted else { throw .bad(op, "id \(id) appears more than once in ids (again at ids[\(i)])") }
        }
        if ids.isEmpty { return }
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let h = box.ptr
            for (i, id) in ids.enumerated() where engram_faiss_contains(h, id) == 1 {
                throw .bad(op, "id \(id) (ids[\(i)]) is already in the index; remove it first")
            }
            let rc = vectors.withUnsafeBufferPointer { v in
                ids.withUnsafeBufferPointer { engram_faiss_add(h, Int64($0.count), v.baseAddress, $0.baseAddress) }
            }
            try Self.check(rc, op)
        }
    }

    /// Adds vectors given as one array of `dimension` floats per vector; same checks as
    /// the flat-array variant.
    public func add(vectors: [[Float]], ids: [Int64]) throws(FaissError) {
        guard vectors.count == ids.count else {
            throw .bad("add", "\(vectors.count) vectors but \(ids.count) ids were given")
        }
        var flat = [Float]()
        flat.reserveCapacity(vectors.count * dimension)
        for (i, v) in vectors.enumerated() {
            guard v.count == dimension else {
                throw .bad("add", "vectors[\(i)] has \(v.count) components, expected the dimension \(dimension)")
            }
            flat.append(contentsOf: v)
        }
        try add(vectors: flat, ids: ids)
    }

    /// Removes the vectors stored under `ids` (unknown ids are ignored) and returns how
    /// many were removed. Cost is O(``count``): the flat storage is compacted.
    @discardableResult
    public func remove(ids: [Int64]) throws(FaissError) -> Int {
        if ids.isEmpty { return 0 }
        return try handle.withLock { (box: inout Handle) throws(FaissError) -> Int in
            let h = box.ptr
            var removed: Int64 = 0
            let rc = ids.withUnsafeBufferPointer { engram_faiss_remove(h, Int64($0.count), $0.baseAddress, &removed) }
            try Self.check(rc, "remove")
            return Int(removed)
        }
    }

    // MARK: - Searching

    /// The `k` nearest vectors to `query` (`dimension` floats), best first. Fewer than `k`
    /// results when the index holds fewer than `k` vectors.
    public func search(query: [Float], k: Int) throws(FaissError) -> [Neighbor] {
        let op = "search"
        guard query.count == dimension else {
            throw .bad(op, "query has \(query.count) components, expected the dimension \(dimension)")
        }
        return try searchFlat(query, nq: 1, k: k, op)[0]
    }

    /// Batch search: one result list per query, in order. Uses up to ``threadCount``
    /// threads.
    public func search(queries: [[Float]], k: Int) throws(FaissError) -> [[Neighbor]] {
        let op = "search"
        var flat = [Float]()
        flat.reserveCapacity(queries.count * dimension)
        for (i, q) in queries.enumerated() {
            guard q.count == dimension else {
                throw .bad(op, "queries[\(i)] has \(q.count) components, expected the dimension \(dimension)")
            }
            flat.append(contentsOf: q)
        }
        return try searchFlat(flat, nq: queries.count, k: k, op)
    }

    private func searchFlat(_ x: [Float], nq: Int, k: Int, _ op: String) throws(FaissError) -> [[Neighbor]] {
        guard k > 0 else { throw .bad(op, "k must be > 0, got \(k)") }
        try Self.checkFinite(x, dimension: dimension, what: nq == 1 ? "query" : "queries", op, single: nq == 1)
        if nq == 0 { return [] }
        return try handle.withLock { (box: inout Handle) throws(FaissError) -> [[Neighbor]] in
            let h = box.ptr
            // Results past count are always -1, so never ask FAISS for more than count.
            let kk = min(k, Int(engram_faiss_count(h)))
            if kk == 0 { return Array(repeating: [], count: nq) }
            var distances = [Float](repeating: 0, count: nq * kk)
            var labels = [Int64](repeating: -1, count: nq * kk)
            let rc = x.withUnsafeBufferPointer { xp in
                distances.withUnsafeMutableBufferPointer { dp in
                    labels.withUnsafeMutableBufferPointer { lp in
                        engram_faiss_search(h, Int64(nq), xp.baseAddress, Int64(kk), dp.baseAddress, lp.baseAddress)
                    }
                }
            }
            try Self.check(rc, op)
            var out = [[Neighbor]]()
            out.reserveCapacity(nq)
            for q in 0..<nq {
                var row = [Neighbor]()
                row.reserveCapacity(kk)
                for j in q * kk..<(q + 1) * kk where labels[j] != -1 {
                    row.append((id: labels[j], distance: distances[j]))
                }
                out.append(row)
            }
            return out
        }
    }

    /// The vector stored under `id`, or nil if there is none.
    public func reconstruct(id: Int64) throws(FaissError) -> [Float]? {
        try handle.withLock { (box: inout Handle) throws(FaissError) -> [Float]? in
            let h = box.ptr
            var found: Int32 = 0
            var v = [Float](repeating: 0, count: dimension)
            let rc = v.withUnsafeMutableBufferPointer { engram_faiss_reconstruct(h, id, $0.baseAddress, &found) }
            try Self.check(rc, "reconstruct(id: \(id))")
            return found == 1 ? v : nil
        }
    }

    // MARK: - Persistence

    /// The index in FAISS's `write_index` format (what Python's
    /// `faiss.serialize_index` returns).
    public func serialized() throws(FaissError) -> [UInt8] {
        try handle.withLock { (box: inout Handle) throws(FaissError) -> [UInt8] in
            let h = box.ptr
            var data: UnsafeMutablePointer<UInt8>?
            var size = 0
            try Self.check(engram_faiss_serialize(h, &data, &size), "serialized()")
            defer { engram_faiss_buffer_free(data) }
            guard let data else { return [] }
            return Array(UnsafeBufferPointer(start: data, count: size))
        }
    }

    /// Writes ``serialized()`` to `path` (created or truncated). Not atomic and not
    /// fsync'ed; for durable storage write ``serialized()`` with an atomic protocol.
    public func write(toPath path: String) throws(FaissError) {
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let h = box.ptr
            let rc = path.withCString { engram_faiss_write_file(h, $0) }
            try Self.check(rc, "write(toPath: \"\(path)\")")
        }
    }

    // MARK: - Process-wide

    /// Sets how many threads FAISS may use (OpenMP, and OpenBLAS for batches of >= 20
    /// queries), for all indexes in the process. Default 1: FAISS's OpenMP threads
    /// busy-wait, so more threads than free cores hurts. A single query uses one thread
    /// regardless; batch searches and large adds use up to `n`.
    public static func setThreadCount(_ n: Int) throws(FaissError) {
        guard n >= 1, n <= Int(Int32.max) else { throw .bad("setThreadCount(\(n))", "thread count must be >= 1, got \(n)") }
        try check(engram_faiss_set_num_threads(Int32(n)), "setThreadCount(\(n))")
    }

    /// The thread count set by ``setThreadCount(_:)`` (default 1).
    public static var threadCount: Int { Int(engram_faiss_get_num_threads()) }

    /// Number of FAISS index handles alive in the process (for leak checks).
    public static var liveHandleCount: Int { Int(engram_faiss_live_handles()) }

    /// Handles created minus handles freed on the calling thread: what a leak check on one thread reads, unmoved
    /// by indexes other threads (other tests' stores) create and free meanwhile.
    public static var liveHandleCountOnThisThread: Int { Int(engram_faiss_live_handles_this_thread()) }

    /// `v` scaled to unit L2 norm, for cosine similarity with ``VectorMetric/innerProduct``
    /// (normalise both stored vectors and queries). A zero vector is returned unchanged.
    public static func normalized(_ v: [Float]) -> [Float] {
        var sum: Double = 0
        for x in v { sum += Double(x) * Double(x) }
        guard sum > 0, sum.isFinite else { return v }
        let inv = 1 / sum.squareRoot()
        return v.map { Float(Double($0) * inv) }
    }

    // MARK: - Helpers

    private static func check(_ rc: Int32, _ op: @autoclosure () -> String) throws(FaissError) {
        guard rc != 0 else { return }
        throw FaissError(code: rc, operation: op(), detail: String(cString: engram_faiss_last_error()))
    }

    private static func checkFinite(_ x: [Float], dimension: Int, what: String, _ op: String, single: Bool = false) throws(FaissError) {
        for (i, value) in x.enumerated() where !value.isFinite {
            let kind = value.isNaN ? "NaN" : "infinite (\(value))"
            let place = single ? "\(what)[\(i)]" : "\(what)[\(i / dimension)][\(i % dimension)] (flat position \(i))"
            throw .bad(op, "\(place) is \(kind); only finite values are allowed")
        }
    }
}

extension FaissIndex {
    /// Runs `body` with read-only views of the vectors (row-major, `count × dimension`) and their FAISS ids, under
    /// the index's lock: for an exact scan with Engram's own SIMD kernels (Debian's libfaiss is built without
    /// AVX2). Nil when the index is not a flat one.
    package func withFlatView<R>(_ body: (_ vectors: UnsafePointer<Float>, _ ids: UnsafePointer<Int64>, _ count: Int) -> R) -> R? {
        handle.withLock { box -> R? in
            var vectors: UnsafePointer<Float>?
            var ids: UnsafePointer<Int64>?
            var count: Int64 = 0
            guard engram_faiss_flat_view(box.ptr, &vectors, &ids, &count) == 0 else { return nil }
            guard count > 0, let vectors, let ids else { return nil }
            return body(vectors, ids, Int(count))
        }
    }
}
