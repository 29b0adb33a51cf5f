import EngramGraph
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

@Suite struct GraphTests {
    static let d = 32
    static let n = 3000
    static let vectors = TestData.clustered(count: n, dimension: d, seed: 11)
    static let queries = TestData.clustered(count: 60, dimension: d, seed: 12)
    static let parameters = GraphParameters(degree: 24, complexity: 48, alpha: 1.2, threads: 2, pqBytes: 8)

    /// This test's own directory (Swift Testing makes a suite instance per test), removed when it ends.
    let scratch = TemporaryDirectory()

    func query(_ q: Int) -> [Float] { Array(Self.queries[q * Self.d..<(q + 1) * Self.d]) }

    /// Builds and writes the seeded set once per test (each test owns its directory).
    func writeGraph(_ name: String, metric: GraphMetric = .l2, vectors: [Float] = GraphTests.vectors) throws -> (String, BuiltGraph) {
        let built = try GraphBuilder.build(TestData.input(vectors, dimension: Self.d, metric: metric), parameters: Self.parameters, progress: nil)
        let dir = scratch.path + "/" + name + "-graph"
        try built.write(to: dir, metadata: ["generation": 7, "built_at": "2025-01-01T00:00:00Z"])
        return (dir, built)
    }

    @Test func recallOnSeededSetIsAboveFloor() throws {
        let (dir, built) = try writeGraph("recall")
        #expect(built.averageDegree > 4)
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: true)
        var hits = 0
        for q in 0..<60 {
            let truth = Set(TestData.exact(Self.vectors, dimension: Self.d, query: query(q), k: 10))
            let found = graph.search(query(q), k: 10, complexity: 64, beamWidth: 4, accept: nil)
            #expect(found.count == 10)
            hits += found.filter { truth.contains(Int($0.node)) }.count
            // Distances are exact squared L2, ascending.
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.distance <= $1.distance })
        }
        let recall = Double(hits) / 600
        #expect(recall >= 0.9, "recall@10 \(recall) under the 0.9 floor")
    }

    @Test func innerProductReturnsDescendingDotProducts() throws {
        // Normalized rows: the store's cosine.
        var v = Self.vectors
        for i in 0..<Self.n {
            var s: Float = 0
            for j in 0..<Self.d { s += v[i * Self.d + j] * v[i * Self.d + j] }
            let inv = 1 / s.squareRoot()
            for j in 0..<Self.d { v[i * Self.d + j] *= inv }
        }
        let (dir, _) = try writeGraph("ip", metric: .innerProduct, vectors: v)
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: false)
        #expect(graph.metric == .innerProduct)
        var hits = 0
        for q in 0..<30 {
            let truth = Set(TestData.exact(v, dimension: Self.d, query: query(q), k: 10, metric: .innerProduct))
            let found = graph.search(query(q), k: 10, complexity: 64, beamWidth: 4, accept: nil)
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.distance >= $1.distance })
            hits += found.filter { truth.contains(Int($0.node)) }.count
        }
        #expect(Double(hits) / 300 >= 0.9)
    }

    @Test func buildIsDeterministicForAnyThreadCount() throws {
        let small = Array(Self.vectors.prefix(800 * Self.d))
        var p1 = Self.parameters, p2 = Self.parameters
        p1.threads = 1
        p2.threads = 2
        let a = try GraphBuilder.build(TestData.input(small, dimension: Self.d), parameters: p1, progress: nil)
        let b = try GraphBuilder.build(TestData.input(small, dimension: Self.d), parameters: p2, progress: nil)
        #expect(a.medoid == b.medoid)
        for node in Int32(0)..<800 { #expect(a.neighbours(of: node) == b.neighbours(of: node)) }
    }

    @Test func writeThenOpenGivesTheSameAnswersKeysAndMetadata() throws {
        let (dir, built) = try writeGraph("roundtrip")
        let g1 = try DiskGraph.open(directory: dir, verifyChecksums: true)
        let g2 = try DiskGraph.open(directory: dir, verifyChecksums: false)
        #expect(g1.count == Self.n && g1.dimension == Self.d && g1.degree == 24 && g1.metric == .l2)
        #expect(g1.metadata["generation"]?.int64Value == 7)
        #expect(g1.metadata["built_at"]?.stringValue == "2025-01-01T00:00:00Z")
        #expect(g1.medoid == built.medoid)
        #expect(g1.verify().isEmpty, "\(g1.verify())")
        #expect(g1.bytesOnDisk > 0 && g1.residentBytes > 0)
        for node in [Int32(0), 1, 777, Int32(Self.n - 1)] {
            #expect(g1.key(of: node) == "mem-\(node)")
            #expect(g1.version(of: node) == "2025-01-01T00:00:\(String(format: "%02d", Int(node) % 60))Z")
            #expect(g1.node(forKey: "mem-\(node)") == node)
        }
        #expect(g1.node(forKey: "absent") == nil)
        #expect(g1.key(of: -1) == "" && g1.key(of: Int32(Self.n)) == "")
        for q in 0..<20 {
            let a = g1.search(query(q), k: 10, complexity: 40, beamWidth: 2, accept: nil)
            let b = g2.search(query(q), k: 10, complexity: 40, beamWidth: 2, accept: nil)
            #expect(a.map(\.node) == b.map(\.node) && a.map(\.distance) == b.map(\.distance))
        }
    }

    @Test func acceptNeverReturnsARejectedNodeAndStillReturnsK() throws {
        let (dir, _) = try writeGraph("accept")
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: false)
        for q in 0..<20 {
            // Reject every node that an unfiltered search returns first, and every even node.
            let unfiltered = Set(graph.search(query(q), k: 10, complexity: 40, beamWidth: 4, accept: nil).map(\.node))
            let found = graph.search(query(q), k: 10, complexity: 40, beamWidth: 4) { node in node % 2 == 1 && !unfiltered.contains(node) }
            #expect(found.count == 10)
            #expect(found.allSatisfy { $0.node % 2 == 1 && !unfiltered.contains($0.node) })
        }
        // Only 3 acceptable nodes in the whole graph: all 3 come back (the list grows until found).
        let few: Set<Int32> = [5, 1500, 2999]
        let found = graph.search(query(0), k: 10, complexity: 20, beamWidth: 4) { few.contains($0) }
        #expect(Set(found.map(\.node)) == few)
    }

    @Test func missingManifestMeansNoGraph() throws {
        let (dir, _) = try writeGraph("nomanifest")
        try FileManager.default.removeItem(atPath: dir + "/manifest.json")
        #expect {
            _ = try DiskGraph.open(directory: dir, verifyChecksums: false)
        } throws: { error in
            guard let e = error as? EngramError else { return false }
            return e.code == .notFound && e.message.contains("manifest.json")
        }
        #expect(throws: EngramError.self) { _ = try DiskGraph.open(directory: dir + "/nowhere", verifyChecksums: false) }
    }

    @Test(arguments: ["nodes.bin", "pq.bin", "keys.bin"])
    func corruptedByteIsDetectedAndTheFileNamed(file: String) throws {
        let (dir, _) = try writeGraph("corrupt-\(file)")
        let path = dir + "/" + file
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        // Past every header: only the checksum can see it.
        let at = bytes.count - 3
        bytes[at] ^= 0x5A
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try DiskGraph.open(directory: dir, verifyChecksums: true)
        } throws: { error in
            (error as? EngramError)?.message.contains(file) ?? false
        }
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: false)
        let problems = graph.verify()
        #expect(problems.contains { $0.contains(file) && $0.contains("checksum") }, "\(problems)")
        // Header damage is caught even without checksums.
        bytes[9] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try DiskGraph.open(directory: dir, verifyChecksums: false)
        } throws: { error in
            (error as? EngramError)?.message.contains(file) ?? false
        }
    }

    @Test(arguments: ["nodes.bin", "pq.bin", "keys.bin"])
    func truncatedFileIsDetectedAndTheFileNamed(file: String) throws {
        let (dir, _) = try writeGraph("truncate-\(file)")
        let path = dir + "/" + file
        let bytes = FileManager.default.contents(atPath: path)!
        try bytes.prefix(bytes.count - 1).write(to: URL(fileURLWithPath: path))
        for verify in [false, true] {
            #expect {
                _ = try DiskGraph.open(directory: dir, verifyChecksums: verify)
            } throws: { error in
                guard let e = error as? EngramError else { return false }
                return e.code == .corrupt && (e.message.contains(file) || (e.path ?? "").hasSuffix(file))
            }
        }
    }

    @Test func twoInstancesSearchConcurrentlyWithIdenticalResults() async throws {
        let (dir, _) = try writeGraph("concurrent")
        let a = try DiskGraph.open(directory: dir, verifyChecksums: false)
        let b = try DiskGraph.open(directory: dir, verifyChecksums: false)
        let queries = (0..<40).map { query($0 % 60) }
        async let ra = Task.detached { queries.map { a.search($0, k: 10, complexity: 40, beamWidth: 4, accept: nil).map(\.node) } }.value
        async let rb = Task.detached { queries.map { b.search($0, k: 10, complexity: 40, beamWidth: 4, accept: nil).map(\.node) } }.value
        async let rc = Task.detached { queries.map { a.search($0, k: 10, complexity: 40, beamWidth: 4, accept: nil).map(\.node) } }.value
        let (x, y, z) = await (ra, rb, rc)
        #expect(x == y && y == z)
    }

    @Test func rewritingInPlaceReplacesTheManifestLast() throws {
        let (dir, built) = try writeGraph("rewrite")
        try built.write(to: dir, metadata: ["generation": 8])
        let graph = try DiskGraph.open(directory: dir, verifyChecksums: true)
        #expect(graph.metadata["generation"]?.int64Value == 8)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.hasPrefix(".") })
    }

    @Test func tinyAndEmptyGraphs() throws {
        for n in [0, 1, 5] {
            let v = Array(Self.vectors.prefix(n * Self.d))
            let built = try GraphBuilder.build(TestData.input(v, dimension: Self.d), parameters: Self.parameters, progress: nil)
            let dir = scratch.path + "/tiny\(n)"
            try built.write(to: dir, metadata: [:])
            let graph = try DiskGraph.open(directory: dir, verifyChecksums: true)
            #expect(graph.count == n)
            #expect(graph.verify().isEmpty)
            let found = graph.search(query(0), k: 10, complexity: 10, beamWidth: 1, accept: nil)
            #expect(found.count == n)
        }
    }

    @Test func badInputIsRejected() {
        #expect(throws: EngramError.self) {
            _ = try GraphBuilder.build(GraphBuildInput(dimension: 2, metric: .l2, vectors: [1, .nan], keys: ["a"], versions: ["v"]), parameters: GraphParameters(), progress: nil)
        }
        #expect(throws: EngramError.self) {
            _ = try GraphBuilder.build(GraphBuildInput(dimension: 2, metric: .l2, vectors: [1, 2, 3], keys: ["a"], versions: ["v"]), parameters: GraphParameters(), progress: nil)
        }
    }
}
