import EngramGraph
import EngramTestSupport
import EngramVector
import Foundation
import Testing

/// Against the real MiniLM dev set (../shared/data): skipped with a message when it is absent.
@Suite(.serialized) struct DevDataTests {
    @Test func devRecallWithDefaultsIsAtLeast095() throws {
        guard TestData.hasDevData else {
            print("skipped: \(TestData.dataDirectory)/dev_base.fvecs is absent (../shared is not beside the project)")
            return
        }
        let (d, base) = DevData.fvecs(TestData.dataDirectory + "/dev_base.fvecs")
        let (_, queries) = DevData.fvecs(TestData.dataDirectory + "/dev_query.fvecs")
        let truth = DevData.ivecs(TestData.dataDirectory + "/dev_groundtruth.ivecs")
        #if DEBUG
        // Unoptimized Swift builds the default graph (R 64, L 100) in ~12 minutes; a debug run checks a
        // lighter graph with the default search settings, `swift test -c release` checks the defaults.
        let parameters = GraphParameters(degree: 32, complexity: 50)
        #else
        let parameters = GraphParameters()
        #endif
        let built = try GraphBuilder.build(TestData.input(base, dimension: d), parameters: parameters, progress: nil)
        let scratch = TemporaryDirectory("dev")
        let dir = scratch.path + "/graph"
        try built.write(to: dir, metadata: [:])
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: true)
        let nq = queries.count / d
        var hits = 0
        for q in 0..<nq {
            let found = graph.search(Array(queries[q * d..<(q + 1) * d]), k: 10, complexity: DiskGraph.defaultComplexity,
                                     beamWidth: DiskGraph.defaultBeamWidth, accept: nil)
            let t = Set(truth[q].prefix(10))
            hits += found.filter { t.contains(Int($0.node)) }.count
        }
        let recall = Double(hits) / Double(nq * 10)
        #expect(recall >= 0.95, "recall@10 \(recall) with L \(DiskGraph.defaultComplexity), W \(DiskGraph.defaultBeamWidth)")
        #expect(Double(graph.residentBytes) / Double(graph.count) <= 100)
    }

    @Test func productQuantizerReconstructsDevVectorsSanely() throws {
        guard TestData.hasDevData else {
            print("skipped: dev data absent")
            return
        }
        let (d, base) = DevData.fvecs(TestData.dataDirectory + "/dev_base.fvecs")
        let sample = Array(base.prefix(4000 * d))
        let pq = try ProductQuantizer(dimension: d, subQuantizers: 48)
        try sample.withUnsafeBufferPointer { (s) throws(FaissError) in try pq.train(s, iterations: 8, threads: 2) }
        let test = Array(base[(10_000 * d)..<(10_500 * d)])
        let codes = try pq.encode(test, threads: 2)
        #expect(codes.count == 500 * 48)
        let back = try pq.decode(codes)
        var err = 0.0, norm = 0.0
        for i in 0..<test.count { err += Double((test[i] - back[i]) * (test[i] - back[i])); norm += Double(test[i] * test[i]) }
        // Unit vectors: relative squared error well under the 1.0 of a random guess.
        // (0.29 measured with 4,000 training rows, 8 iterations, 48 bytes.)
        #expect(err / norm < 0.4, "relative reconstruction error \(err / norm)")
        let centroids = try pq.centroids()
        #expect(centroids.count == 48 * 256 * 8)
    }

    @Test func hnswBaselineFindsDevNeighbours() throws {
        guard TestData.hasDevData else {
            print("skipped: dev data absent")
            return
        }
        let (d, base) = DevData.fvecs(TestData.dataDirectory + "/dev_base.fvecs")
        let (_, queries) = DevData.fvecs(TestData.dataDirectory + "/dev_query.fvecs")
        // A 5,000-row prefix keeps the debug-build test short; truth by brute force.
        let n = 5000
        let rows = Array(base.prefix(n * d))
        let hnsw = try HNSWIndex(dimension: d, links: 16, efConstruction: 64, efSearch: 64)
        try hnsw.add(rows)
        #expect(hnsw.count == n)
        var hits = 0
        for q in 0..<50 {
            let query = Array(queries[q * d..<(q + 1) * d])
            let truth = Set(TestData.exact(rows, dimension: d, query: query, k: 10))
            hits += try hnsw.search(query, k: 10).filter { truth.contains(Int($0.label)) }.count
        }
        #expect(Double(hits) / 500 >= 0.9)
    }
}
