import EngramIO
import EngramVector

/// Builds a Vamana graph with PQ navigation codes from a set of vectors, in memory.
package enum GraphBuilder {
    /// Progress: `(phase, done, total)`, called from the building thread.
    package typealias Progress = @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void

    /// Builds the graph. Throws `invalidVector` / `dimensionMismatch` for bad input, `io`-free otherwise
    /// (the result lives in memory until ``BuiltGraph/write(to:metadata:)``).
    package static func build(_ input: GraphBuildInput, parameters: GraphParameters, progress: Progress?) throws(EngramError) -> BuiltGraph {
        let op = "build graph"
        let n = input.count, d = input.dimension
        guard d > 0, d <= 65536 else {
            throw EngramError(code: .dimensionMismatch, message: "dimension \(d) is outside 1...65536", operation: op)
        }
        guard input.vectors.count == n * d, input.versions.count == n else {
            throw EngramError(code: .dimensionMismatch,
                              message: "\(input.vectors.count) floats, \(n) keys and \(input.versions.count) versions do not describe \(n) rows of dimension \(d)",
                              operation: op)
        }
        guard n < Int(Int32.max) else {
            throw EngramError(code: .invalidVector, message: "\(n) vectors is more than a graph holds (\(Int32.max - 1))", operation: op)
        }
        guard parameters.degree >= 2, parameters.degree <= 1024, parameters.complexity >= 1, parameters.alpha >= 1,
              parameters.passes == 1 || parameters.passes == 2 else {
            throw EngramError(code: .usage, message: "parameters out of range: degree \(parameters.degree) (2...1024), complexity \(parameters.complexity) (≥ 1), alpha \(parameters.alpha) (≥ 1), passes \(parameters.passes) (1 or 2)",
                              operation: op, remedy: "use --degree 2...1024, --complexity ≥ 1, --alpha ≥ 1")
        }
        if let bad = input.vectors.firstIndex(where: { !$0.isFinite }) {
            throw EngramError(code: .invalidVector, message: "row \(bad / d) component \(bad % d) is not finite", operation: op,
                              id: input.keys[bad / d], remedy: "fix or delete the record; a graph holds only finite vectors")
        }
        let workers = parameters.threads > 0 ? parameters.threads : Parallel.cores
        let m = pqSubQuantizers(dimension: d, requested: parameters.pqBytes)

        // 1. Product quantizer: trained on a seeded sample, then every vector encoded.
        progress?("pq train", 0, 1)
        let pq: ProductQuantizer
        let centroids: [Float]
        var codes = [UInt8](repeating: 0, count: n * m)
        do {
            pq = try ProductQuantizer(dimension: d, subQuantizers: m)
            if n > 0 {
                let sample = trainingSample(input.vectors, count: n, dimension: d, limit: 10_000, seed: parameters.seed)
                try sample.withUnsafeBufferPointer { (s) throws(FaissError) in try pq.train(s, iterations: 10, seed: Int64(parameters.seed & 0x7FFF_FFFF), threads: workers) }
                progress?("pq train", 1, 1)
                progress?("pq encode", 0, n)
                try input.vectors.withUnsafeBufferPointer { (v) throws(FaissError) in
                    try codes.withUnsafeMutableBufferPointer { (c) throws(FaissError) in try pq.encode(v, into: c, threads: workers) }
                }
                progress?("pq encode", n, n)
                centroids = try pq.centroids()
            } else {
                centroids = [Float](repeating: 0, count: m * 256 * (d / m))
            }
        } catch {
            throw EngramError(code: .io, message: "product quantizer: \(error.message)", operation: op,
                              remedy: "check memory and the FAISS installation, then retry the build")
        }

        // 2. The graph.
        var adjacency = [Int32](repeating: -1, count: n * parameters.degree)
        var degrees = [Int32](repeating: 0, count: n)
        var medoid: Int32 = 0
        if n > 0 {
            input.vectors.withUnsafeBufferPointer { v in
                let builder = VamanaBuilder(data: v.baseAddress!, count: n, dimension: d, degree: parameters.degree,
                                            complexity: parameters.complexity, workers: workers)
                progress?("medoid", 0, 1)
                builder.computeMedoid()
                progress?("medoid", 1, 1)
                medoid = builder.medoid
                var rng = SplitMix64(seed: parameters.seed)
                var order = (0..<Int32(n)).map { $0 }
                order.shuffle(using: &rng)
                let alphas: [Float] = parameters.passes == 2 ? [1, parameters.alpha] : [parameters.alpha]
                for (i, alpha) in alphas.enumerated() {
                    let phase = alphas.count == 1 ? "insert" : "insert pass \(i + 1)/\(alphas.count)"
                    progress?(phase, 0, n)
                    builder.pass(order: order, alpha: alpha) { done in progress?(phase, done, n) }
                }
                adjacency.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: builder.neighbours, count: n * parameters.degree) }
                degrees.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: builder.degrees, count: n) }
            }
            // Unused slots: -1, so the file never carries stale ids.
            for i in 0..<n {
                for e in Int(degrees[i])..<parameters.degree { adjacency[i * parameters.degree + e] = -1 }
            }
        }
        return BuiltGraph(dimension: d, metric: input.metric, parameters: parameters, medoid: medoid,
                          vectors: input.vectors, keys: input.keys, versions: input.versions,
                          adjacency: adjacency, degrees: degrees, pqSubQuantizers: m, pqCentroids: centroids, pqCodes: codes)
    }

    /// M: the requested byte count if it divides the dimension, else the nearest divisor below it;
    /// automatic = dimension / 8 (48 for 384-d: 48 bytes per vector in RAM).
    static func pqSubQuantizers(dimension d: Int, requested: Int) -> Int {
        var m = requested > 0 ? min(requested, d) : max(1, d / 8)
        while m > 1 && d % m != 0 { m -= 1 }
        return max(1, m)
    }

    /// Up to `limit` rows chosen by a seeded shuffle (k-means needs a sample, not all 100k).
    static func trainingSample(_ vectors: [Float], count n: Int, dimension d: Int, limit: Int, seed: UInt64) -> [Float] {
        if n <= limit { return vectors }
        var rng = SplitMix64(seed: seed ^ 0x9A11)
        var rows = Array(0..<n)
        rows.shuffle(using: &rng)
        var sample = [Float]()
        sample.reserveCapacity(limit * d)
        for r in rows.prefix(limit) { sample.append(contentsOf: vectors[r * d..<(r + 1) * d]) }
        return sample
    }
}
