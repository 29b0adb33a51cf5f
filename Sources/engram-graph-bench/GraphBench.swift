import CEngramKernels
import EngramGraph
import EngramIO
import EngramJSON
import EngramVector

#if canImport(Glibc)
import Glibc
#endif

/// The graph engine's figures. Every comparison runs its baseline in the same process, same data.
struct GraphBench {
    let dataDirectory: String
    let workDirectory: String
    let threads: Int
    let scaleCount: Int
    let complexities: [Int]
    var skipHNSW = false

    // MARK: Kernels

    func kernels() {
        let d = 384, rows = 128, reps = 1000
        var rng = SplitMix64(seed: 7)
        let data = (0..<(rows * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let query = (0..<d).map { _ in Float.random(in: -1...1, using: &rng) }
        var sink: Float = 0
        func measure(_ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> Float) -> Double {
            var best = Double.infinity
            data.withUnsafeBufferPointer { x in
                query.withUnsafeBufferPointer { q in
                    for _ in 0..<5 {
                        let t0 = Clock.now()
                        for _ in 0..<reps { for r in 0..<rows { sink += body(q.baseAddress!, x.baseAddress! + r * d) } }
                        best = min(best, (Clock.now() - t0) / Double(reps * rows) * 1e9)
                    }
                }
            }
            return best
        }
        Kernels.forceScalar(false)
        let isa = Kernels.isa
        let simdL2 = measure { engram_l2sq($0, $1, d) }
        let simdIP = measure { engram_ip($0, $1, d) }
        let scalarL2 = measure { engram_l2sq_scalar($0, $1, d) }
        let plainL2 = measure { a, b in
            var s: Float = 0
            for c in 0..<d { let t = a[c] - b[c]; s += t * t }
            return s
        }
        // PQ lookup: 48 one-byte codes.
        let m = 48
        let table = (0..<(m * 256)).map { _ in Float.random(in: 0...1, using: &rng) }
        let codes = (0..<(rows * m)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        func measurePQ(_ scalar: Bool) -> Double {
            Kernels.forceScalar(scalar)
            defer { Kernels.forceScalar(false) }
            var out = [Float](repeating: 0, count: rows)
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = Clock.now()
                for _ in 0..<reps { engram_pq_distance_batch(table, codes, rows, m, &out) }
                best = min(best, (Clock.now() - t0) / Double(reps * rows) * 1e9)
                sink += out[0]
            }
            return best
        }
        let pqSimd = measurePQ(false), pqScalar = measurePQ(true)
        print("")
        print("Kernels (\(isa); ns per distance, best of 5, \(rows) rows, 192 KB: in L2 cache)")
        print(row(["kernel", "dispatched", "scalar C", "plain Swift loop", "speed-up vs plain"]))
        print(row(["L2² 384-d", f(simdL2), f(scalarL2), f(plainL2), f(plainL2 / simdL2, 1) + "×"]))
        print(row(["IP 384-d", f(simdIP), "-", "-", "-"]))
        print(row(["PQ 48-byte lookup", f(pqSimd), f(pqScalar), "-", f(pqScalar / pqSimd, 1) + "× vs scalar"]))
        if sink == .infinity { print(sink) }
    }

    // MARK: Data sets

    func dev() throws {
        let (d, base) = try VectorFile.fvecs(dataDirectory + "/dev_base.fvecs")
        let (_, queries) = try VectorFile.fvecs(dataDirectory + "/dev_query.fvecs")
        let truth = try VectorFile.ivecs(dataDirectory + "/dev_groundtruth.ivecs")
        try compare(name: "dev_base \(base.count / d) × \(d)", dimension: d, base: base, queries: queries, truth: truth)
    }

    func scale() throws {
        let (d, dev) = try VectorFile.fvecs(dataDirectory + "/dev_base.fvecs")
        let (_, queries) = try VectorFile.fvecs(dataDirectory + "/dev_query.fvecs")
        let devRows = dev.count / d
        // Tiles of dev_base, each row moved by Gaussian-ish noise of 0.02 per component (about a third of
        // the typical nearest-neighbour distance), so tiles are distinct points of the same distribution.
        var rng = SplitMix64(seed: 42)
        var base = [Float](repeating: 0, count: scaleCount * d)
        for r in 0..<scaleCount {
            let src = r % devRows
            let noise: Float = r < devRows ? 0 : 0.02
            for c in 0..<d {
                let u = Float.random(in: -1...1, using: &rng) + Float.random(in: -1...1, using: &rng) + Float.random(in: -1...1, using: &rng)
                base[r * d + c] = dev[src * d + c] + noise * u * 0.577
            }
        }
        Progress.say("exact ground truth for \(queries.count / d) queries over \(scaleCount) rows (FAISS flat)")
        try FaissIndex.setThreadCount(threads)
        let flat = try FaissIndex(dimension: d, metric: .l2)
        try flat.add(vectors: base, ids: (0..<Int64(scaleCount)).map { $0 })
        let qrows = stride(from: 0, to: queries.count, by: d).map { Array(queries[$0..<$0 + d]) }
        let truth = try flat.search(queries: qrows, k: 100).map { $0.map { Int($0.id) } }
        try compare(name: "dev tiled \(scaleCount) × \(d)", dimension: d, base: base, queries: queries, truth: truth)
    }

    // MARK: The comparison

    func compare(name: String, dimension d: Int, base: [Float], queries: [Float], truth: [[Int]]) throws {
        let n = base.count / d, nq = queries.count / d
        print("")
        print("== \(name), \(nq) queries, build threads \(threads), search 1 thread ==")
        // FAISS HNSW build.
        try FaissIndex.setThreadCount(threads)
        let hnsw = try HNSWIndex(dimension: d, links: 32, efConstruction: 200, efSearch: 64)
        Progress.say("FAISS HNSW build (M 32, efConstruction 200, \(threads) threads)")
        let (_, hnswBuild) = skipHNSW ? ((), 1.0) : try Clock.time { try hnsw.add(base) }
        // Graph build.
        Progress.say("graph build")
        let input = GraphBuildInput(dimension: d, metric: .l2, vectors: base, keys: (0..<n).map { "m\($0)" }, versions: Array(repeating: "v", count: n))
        var parameters = GraphParameters()
        parameters.threads = threads
        let buildStart = Clock.now()
        let (built, graphBuild) = try Clock.time {
            try GraphBuilder.build(input, parameters: parameters) { phase, done, total in
                if done == total || done == 0 { Progress.say("  \(phase) \(done)/\(total) at \(f(Clock.now() - buildStart, 2)) s") }
            }
        }
        let directory = workDirectory + "/graph-\(n)"
        _ = try? Sys.mkdir(workDirectory)
        let (_, writeTime) = try Clock.time { try built.write(to: directory, metadata: ["bench": "yes"]) }
        var openTimes: [Double] = []
        var graph: DiskGraph?
        for _ in 0..<5 {
            let (g, t) = try Clock.time { try DiskGraph.open(directory: directory, verifyChecksums: false) }
            openTimes.append(t)
            graph = g
        }
        let (_, verifiedOpen) = try Clock.time { try DiskGraph.open(directory: directory, verifyChecksums: true) }
        guard let graph else { return }
        try FaissIndex.setThreadCount(1)
        print(row(["build", "time", "vs FAISS HNSW"]))
        print(row(["FAISS IndexHNSWFlat M32 efC200", f(hnswBuild, 2) + " s", "1.00×"]))
        print(row(["Vamana R\(parameters.degree) L\(parameters.complexity) α\(parameters.alpha) + PQ\(built.pqSubQuantizers)", f(graphBuild, 2) + " s", f(graphBuild / hnswBuild, 2) + "× (goal ≤ 0.50×)"]))
        print(row(["write (fsync'ed)", f(writeTime, 2) + " s", ""]))
        print("open: \(f(Clock.percentile(openTimes, 0.5) * 1000, 2)) ms (median of 5, no checksums); \(f(verifiedOpen * 1000, 1)) ms with checksums")
        print("bytes on disk: \(graph.bytesOnDisk) (\(f(Double(graph.bytesOnDisk) / Double(n), 0)) per vector); resident: \(graph.residentBytes) (\(f(Double(graph.residentBytes) / Double(n), 1)) per vector; goal ≤ 100); average degree \(f(built.averageDegree, 1))")

        func recall(_ found: [Int], _ q: Int) -> Double {
            let t = Set(truth[q].prefix(10))
            return Double(found.prefix(10).filter { t.contains($0) }.count) / 10
        }
        print(row(["method", "setting", "recall@10", "median µs", "p99 µs"]))
        // Flat (exact).
        let flat = try FaissIndex(dimension: d, metric: .l2)
        try flat.add(vectors: base, ids: (0..<Int64(n)).map { $0 })
        try measure("FAISS flat", "exact", nq: nq, recall: recall) { q in try flat.search(query: Array(queries[q * d..<(q + 1) * d]), k: 10).map { Int($0.id) } }
        for ef in [16, 32, 48, 64, 96, 128, 256] {
            try hnsw.setEfSearch(ef)
            try measure("FAISS HNSW", "efSearch \(ef)", nq: nq, recall: recall) { q in try hnsw.search(Array(queries[q * d..<(q + 1) * d]), k: 10).map { Int($0.label) } }
        }
        for L in complexities.isEmpty ? [20, 30, 40, 60, 80, 100, 150, 200] : complexities {
            for W in [1, 4] {
                try measure("Engram graph", "L \(L) W \(W)", nq: nq, recall: recall) { q in
                    graph.search(Array(queries[q * d..<(q + 1) * d]), k: 10, complexity: L, beamWidth: W).map { Int($0.node) }
                }
            }
        }
    }

    private func measure(_ method: String, _ setting: String, nq: Int, recall: ([Int], Int) -> Double, _ search: (Int) throws -> [Int]) throws {
        for q in 0..<min(nq, 50) { _ = try search(q) }  // warm caches
        var times: [Double] = []
        var total = 0.0
        for q in 0..<nq {
            let t0 = Clock.now()
            let found = try search(q)
            times.append(Clock.now() - t0)
            total += recall(found, q)
        }
        print(row([method, setting, f(total / Double(nq), 4), f(Clock.percentile(times, 0.5) * 1e6, 0), f(Clock.percentile(times, 0.99) * 1e6, 0)]))
    }

    private func row(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == 0 ? c.padding(toLength: 40, withPad: " ", startingAt: 0) : c.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined()
    }

    private func f(_ v: Double, _ digits: Int = 1) -> String {
        var s = "\(Double(Int((v * pow(10, Double(digits))).rounded())) / pow(10, Double(digits)))"
        if digits == 0, s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}

enum Progress {
    static func say(_ text: String) {
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
