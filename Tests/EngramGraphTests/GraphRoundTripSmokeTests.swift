import EngramGraph
import EngramTestSupport
import EngramJSON
import Foundation
import Testing

/// The engine as the store uses it: build, write, open, search — on a small seeded set, every vector found by
/// itself, the metadata read back as written.
@Suite("Graph engine round trip")
struct GraphRoundTripSmokeTests {
    @Test("a small graph written and reopened finds every vector by itself, keeps keys, versions and metadata")
    func roundTrip() throws {
        let dimension = 16, count = 500
        var rng = SeededGenerator(seed: 7)
        let vectors = (0..<(count * dimension)).map { _ in Float(Double(rng.next() % 2000) / 1000 - 1) }
        let keys = (0..<count).map { "m\($0)" }
        let versions = (0..<count).map { "2026-01-01T00:00:\(String(format: "%02d", $0 % 60)).000000Z" }
        let input = GraphBuildInput(dimension: dimension, metric: .l2, vectors: vectors, keys: keys, versions: versions)
        let built = try GraphBuilder.build(input, parameters: GraphParameters(degree: 16, complexity: 40, threads: 2), progress: nil)
        let directory = FileManager.default.temporaryDirectory.path + "/engram-graph-smoke-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try built.write(to: directory, metadata: ["journal_seq": .int(42)])
        let graph = try DiskGraph.open(directory: directory, verifyChecksums: true)
        #expect(graph.count == count && graph.dimension == dimension)
        #expect(graph.metadata["journal_seq"] == .int(42))
        #expect(graph.verify().isEmpty)
        var found = 0
        for n in 0..<count {
            let query = Array(vectors[(n * dimension)..<((n + 1) * dimension)])
            guard let hit = graph.search(query, k: 1, complexity: 40, beamWidth: 4).first else { continue }
            if graph.key(of: hit.node) == keys[n] { found += 1 }
            #expect(graph.node(forKey: keys[n]).map { graph.version(of: $0) } == versions[n])
        }
        #expect(found >= count * 98 / 100, "only \(found) of \(count) vectors found themselves")
    }
}
