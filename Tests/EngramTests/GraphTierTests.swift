import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

/// The L2 graph inside a store: layered search, tombstones by version, hot swap, damage, a killed builder.
@Suite("L2 graph tier")
struct GraphTierTests {
    static let dimension = 16
    /// Small parameters: the debug build of the Vamana builder is slow, and these sets are small.
    static let options = GraphBuildOptions(degree: 16, complexity: 40, threads: 2, pqBytes: 4)

    static func randomVector(_ rng: inout SeededGenerator) -> [Float] {
        (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
    }

    /// A store of `count` memories `m<n>` with seeded random vectors; returns the vectors.
    static func makeStore(_ path: String, count: Int, seed: UInt64 = 1) async throws -> [String: [Float]] {
        var rng = SeededGenerator(seed: seed)
        var vectors: [String: [Float]] = [:]
        let store = try await MemoryStore.open(at: path)
        var batch: [MemoryEntry] = []
        for n in 0..<count {
            let v = randomVector(&rng)
            vectors["m\(n)"] = v
            batch.append(MemoryEntry(id: "m\(n)", content: "memory \(n)", embedding: v))
        }
        try await store.saveBatch(batch)
        try await store.close()
        return vectors
    }

    static func bruteForce(_ query: [Float], _ vectors: [String: [Float]], k: Int) -> [String] {
        var scored: [(id: String, distance: Float)] = []
        for (id, v) in vectors {
            var sum: Float = 0
            for i in 0..<query.count {
                let d = query[i] - v[i]
                sum += d * d
            }
            scored.append((id, sum))
        }
        scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        return scored.prefix(k).map(\.id)
    }

    @Test("with a graph in place L1 holds only the delta; search finds the newest version once and never a deleted memory")
    func layeredSearchByVersion() async throws {
        let dir = TemporaryDirectory()
        var vectors = try await Self.makeStore(dir.store, count: 400)
        let report = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        #expect(report.nodes == 400 && report.directory?.hasSuffix("/g-1") == true)

        let store = try await MemoryStore.open(at: dir.store)
        try await store.waitForVectorTier()
        var statistics = await store.statistics()
        #expect(statistics.graph?.nodes == 400)
        #expect(statistics.graph?.deltaSize == 0, "L1 should hold nothing the graph covers")
        #expect(statistics.indexedVectors == 0)

        // Change the store after the build: 20 updated, 20 deleted, 30 new.
        var rng = SeededGenerator(seed: 99)
        var oldVectors: [String: [Float]] = [:]
        for n in 0..<20 {
            let id = "m\(n)"
            oldVectors[id] = vectors[id]
            let v = Self.randomVector(&rng)
            vectors[id] = v
            try await store.save(MemoryEntry(id: id, content: "memory \(n), version 2", embedding: v))
        }
        for n in 20..<40 {
            oldVectors["m\(n)"] = vectors.removeValue(forKey: "m\(n)")
            _ = try await store.deleteMemory("m\(n)")
        }
        for n in 400..<430 {
            let v = Self.randomVector(&rng)
            vectors["m\(n)"] = v
            try await store.save(MemoryEntry(id: "m\(n)", content: "memory \(n)", embedding: v))
        }
        statistics = await store.statistics()
        #expect(statistics.graph?.staleNodes == 40)
        #expect(statistics.graph?.deltaSize == 50)

        // Updated and new memories are found by their new vectors, at their new version, exactly once.
        for n in Array(0..<20) + Array(400..<430) {
            let id = "m\(n)"
            let hits = try await store.search(vector: vectors[id]!, k: 5)
            #expect(hits.first?.id == id, "\(id) not first for its own vector")
            #expect(Set(hits.map(\.id)).count == hits.count, "duplicate ids: \(hits.map(\.id))")
            if n < 20 { #expect(hits.first?.memory?.content == "memory \(n), version 2") }
        }
        // The old vectors of deleted and updated memories never bring back what is gone.
        for (id, old) in oldVectors {
            let hits = try await store.search(vector: old, k: 10)
            for hit in hits {
                #expect(vectors[hit.id] != nil, "\(hit.id) was deleted but returned")
                #expect(Set(hits.map(\.id)).count == hits.count)
            }
            if let updated = hits.first(where: { $0.id == id }) { #expect(updated.memory?.content.hasSuffix("version 2") == true) }
        }
        // Recall@10 against brute force over what the store holds.
        var found = 0, total = 0
        var queries = SeededGenerator(seed: 5)
        for _ in 0..<50 {
            let q = Self.randomVector(&queries)
            let truth = Set(Self.bruteForce(q, vectors, k: 10))
            let got = try await store.search(vector: q, k: 10).map(\.id)
            found += got.filter(truth.contains).count
            total += 10
        }
        #expect(Double(found) / Double(total) >= 0.9, "recall@10 \(Double(found) / Double(total))")
        try await store.close()

        // A reopened store (L1 from its checkpoint + the graph) answers the same.
        let reopened = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(try await reopened.search(vector: vectors["m5"]!, k: 1).first?.memory?.content == "memory 5, version 2")
        #expect(await reopened.statistics().graph?.deltaSize == 50)
        try await reopened.close()
    }

    @Test("a graph published while a writer runs is picked up at its next search, and L1 shrinks")
    func hotSwap() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await Self.makeStore(dir.store, count: 300)
        let store = try await MemoryStore.open(at: dir.store)
        #expect(try await store.search(vector: vectors["m7"]!, k: 1).first?.id == "m7")
        #expect(await store.statistics().graph == nil)
        #expect(await store.statistics().indexedVectors == 300)
        // The builder runs beside the open writer (no writer lock), then a second time: generation 2.
        _ = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        #expect(try await store.search(vector: vectors["m8"]!, k: 1).first?.id == "m8")
        var statistics = await store.statistics()
        #expect(statistics.graph?.generation == "g-1")
        #expect(statistics.indexedVectors == 0)
        try await store.save(MemoryEntry(id: "new", content: "after the first graph", embedding: vectors["m9"]!.map { $0 + 0.001 }))
        _ = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        #expect(try await store.search(vector: vectors["m9"]!, k: 2).map(\.id).sorted() == ["m9", "new"])
        statistics = await store.statistics()
        #expect(statistics.graph?.generation == "g-2")
        #expect(statistics.graph?.nodes == 301)
        #expect(statistics.graph?.deltaSize == 0)
        try await store.close()
        // Only the current generation is left on disk.
        #expect(dir.files(in: "graph_index").filter { $0.hasPrefix("g-") } == ["g-2"])
    }

    @Test("a damaged graph is reported and ignored: search stays exact over L1")
    func damagedGraphIgnored() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await Self.makeStore(dir.store, count: 200)
        let report = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        let generation = try #require(report.directory)
        // Truncate the node file.
        let nodes = generation + "/nodes.bin"
        let size = try #require((try FileManager.default.attributesOfItem(atPath: nodes)[.size] as? NSNumber)?.intValue)
        try FileHandle(forWritingTo: URL(fileURLWithPath: nodes)).truncate(atOffset: UInt64(size / 2))
        let store = try await MemoryStore.open(at: dir.store)
        for id in ["m1", "m50", "m199"] { #expect(try await store.search(vector: vectors[id]!, k: 1).first?.id == id) }
        let statistics = await store.statistics()
        #expect(statistics.graph?.problem != nil)
        #expect(statistics.indexedVectors == 200, "L1 must hold every vector again")
        try await store.close()
        let verify = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(verify.problems.contains { $0.kind == .graphDamaged }, "\(verify.problems.map(\.kind))")
        // Repair rebuilds it; afterwards the graph serves again and verify is clean.
        var repairer = StoreRepairer(layout: StoreLayout(root: dir.store))
        repairer.graphOptions = Self.options
        let repaired = try await repairer.run()
        #expect(repaired.actions.contains { $0.contains("rebuilt the graph (graph_damaged)") }, "\(repaired.actions)")
        #expect(repaired.after?.isConsistent == true, "\(repaired.after?.problems.map(\.kind) ?? [])")
        #expect(repaired.after?.graphNodes == 200)
        let again = try await MemoryStore.open(at: dir.store)
        #expect(try await again.search(vector: vectors["m50"]!, k: 1).first?.id == "m50")
        #expect(await again.statistics().graph?.generation == "g-2")
        try await again.close()
    }

    @Test("a graph of another metric is reported as foreign and ignored")
    func foreignGraph() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await Self.makeStore(dir.store, count: 100)
        _ = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.metric = .cosine })
        #expect(try await store.search(vector: vectors["m3"]!, k: 1).first?.id == "m3")
        #expect(await store.statistics().graph?.problem?.contains("metric") == true)
        try await store.close()
    }

    @Test("a graph built from another history (a journal position the store never reached) is reported stale")
    func graphFromAnotherHistory() async throws {
        let dir = TemporaryDirectory()
        _ = try await Self.makeStore(dir.store, count: 60)
        // Back up the store, then write more and build the graph: the graph is ahead of the backup.
        _ = try await StoreSnapshot.backup(store: dir.store, to: dir.path + "/old")
        let store = try await MemoryStore.open(at: dir.store)
        for n in 0..<30 { try await store.save(MemoryEntry(id: "x\(n)", content: "later", embedding: [Float](repeating: Float(n) / 30, count: Self.dimension))) }
        try await store.close()
        let report = try await GraphIndexBuilder.build(store: dir.store, options: Self.options)
        let generation = try #require(report.directory)
        // Put that graph into the older store.
        try FileManager.default.createDirectory(atPath: dir.path + "/old/graph_index", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: generation, toPath: dir.path + "/old/graph_index/g-1")
        try "g-1\n".write(toFile: dir.path + "/old/graph_index/CURRENT", atomically: true, encoding: .utf8)
        let verify = try StoreVerifier(layout: StoreLayout(root: dir.path + "/old")).run()
        #expect(verify.problems.contains { $0.kind == .graphStale && $0.detail.contains("another history") }, "\(verify.problems.map(\.detail))")
        // Searches there stay right: the 30 later memories are tombstoned, never returned.
        let old = try await MemoryStore.open(at: dir.path + "/old", configuration: config { $0.readOnly = true })
        let hits = try await old.search(vector: [Float](repeating: 0.5, count: Self.dimension), k: 20)
        #expect(!hits.contains { $0.id.hasPrefix("x") })
        try await old.close()
    }
}
