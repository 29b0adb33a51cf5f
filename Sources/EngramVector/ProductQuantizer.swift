import CFaissShim
import Synchronization

/// FAISS's `ProductQuantizer` with 8-bit codes: splits a vector into `subQuantizers` sub-vectors and
/// stores, for each, the index of its nearest of 256 trained centroids (one byte).
///
/// Why through FAISS: its k-means is tested and fast; the graph tier only needs training and encoding
/// at build time and keeps its own copy of ``centroids()`` so that search runs without FAISS.
/// Every operation takes an internal mutex (the C handle is not synchronised).
package final class ProductQuantizer: Sendable {
    private struct Handle: @unchecked Sendable { let ptr: OpaquePointer }
    private let handle: Mutex<Handle>

    package let dimension: Int
    /// M: sub-quantizers, which is also the code size in bytes.
    package let subQuantizers: Int
    /// Centroids per sub-quantizer (256).
    package let centroidsPerSubQuantizer = 256
    package var subDimension: Int { dimension / subQuantizers }

    package init(dimension: Int, subQuantizers: Int) throws(FaissError) {
        let op = "ProductQuantizer(dimension: \(dimension), subQuantizers: \(subQuantizers))"
        var raw: OpaquePointer?
        try Self.check(engram_faiss_pq_new(Int64(dimension), Int64(subQuantizers), 8, &raw), op)
        guard let raw else { throw FaissError(code: FaissError.unknownException, operation: op, detail: "no handle returned") }
        handle = Mutex(Handle(ptr: raw))
        self.dimension = dimension
        self.subQuantizers = subQuantizers
    }

    deinit { handle.withLock { engram_faiss_pq_free($0.ptr) } }

    /// Trains on `vectors` (row-major, a multiple of ``dimension`` floats) with `iterations` rounds of
    /// k-means per sub-space (0: FAISS's default), sub-spaces spread over `threads` threads (the
    /// process-wide ``FaissIndex/threadCount`` is left alone).
    package func train(_ vectors: UnsafeBufferPointer<Float>, iterations: Int = 0, seed: Int64 = 1234, threads: Int = 1) throws(FaissError) {
        let n = vectors.count / dimension
        guard n > 0, vectors.count == n * dimension else {
            throw .bad("ProductQuantizer.train", "\(vectors.count) floats is not a positive multiple of the dimension \(dimension)")
        }
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            try Self.check(engram_faiss_pq_train(box.ptr, Int64(n), vectors.baseAddress, Int32(iterations), seed, Int32(max(1, threads))), "ProductQuantizer.train")
        }
    }

    /// Encodes `vectors` into `out` (`count × subQuantizers` bytes) on `threads` OpenMP threads.
    package func encode(_ vectors: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<UInt8>, threads: Int = 1) throws(FaissError) {
        let n = vectors.count / dimension
        guard vectors.count == n * dimension, out.count >= n * subQuantizers else {
            throw .bad("ProductQuantizer.encode", "\(vectors.count) floats and room for \(out.count) code bytes do not match dimension \(dimension), M \(subQuantizers)")
        }
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            try Self.check(engram_faiss_pq_compute_codes(box.ptr, Int64(n), vectors.baseAddress, out.baseAddress, Int32(max(1, threads))), "ProductQuantizer.encode")
        }
    }

    /// Convenience: codes of a flat array of vectors.
    package func encode(_ vectors: [Float], threads: Int = 1) throws(FaissError) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: vectors.count / dimension * subQuantizers)
        try vectors.withUnsafeBufferPointer { (v) throws(FaissError) in
            try codes.withUnsafeMutableBufferPointer { (c) throws(FaissError) in try encode(v, into: c, threads: threads) }
        }
        return codes
    }

    /// The vectors the codes stand for (centroid concatenations).
    package func decode(_ codes: [UInt8]) throws(FaissError) -> [Float] {
        let n = codes.count / subQuantizers
        var out = [Float](repeating: 0, count: n * dimension)
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let rc = codes.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { engram_faiss_pq_decode(box.ptr, Int64(n), c.baseAddress, $0.baseAddress) }
            }
            try Self.check(rc, "ProductQuantizer.decode")
        }
        return out
    }

    /// `subQuantizers × 256 × subDimension` floats, laid out `[m][centroid][component]`.
    package func centroids() throws(FaissError) -> [Float] {
        var out = [Float](repeating: 0, count: subQuantizers * centroidsPerSubQuantizer * subDimension)
        try handle.withLock { (box: inout Handle) throws(FaissError) in
            let rc = out.withUnsafeMutableBufferPointer { engram_faiss_pq_get_centroids(box.ptr, $0.baseAddress, Int64($0.count)) }
            try Self.check(rc, "ProductQuantizer.centroids")
        }
        return out
    }

    private static func check(_ rc: Int32, _ op: @autoclosure () -> String) throws(FaissError) {
        guard rc != 0 else { return }
        throw FaissError(code: rc, operation: op(), detail: String(cString: engram_faiss_last_error()))
    }
}
