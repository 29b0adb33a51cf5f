import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

@Suite("Keyword and hybrid search")
struct KeywordSearchTests {
    static let keywordOnly = SearchOptions(embedText: false)

    func ids(_ results: [SearchResult]) -> [String] { results.map(\.id) }

    @Test("the keyword index follows save, update and delete, visible to the next search")
    func followsWrites() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "XauGetBestAuthByAddr returned NULL for display :0"))
        try await store.save(MemoryEntry(id: "b", content: "the cat sat on the mat"))
        #expect(ids(try await store.search(text: "XauGetBestAuthByAddr")) == ["a"])
        #expect(ids(try await store.search(text: "auth")) == ["a"], "an identifier's parts find it too")
        let hit = try #require(try await store.search(text: "cat").first)
        #expect(hit.id == "b" && hit.bm25 != nil && hit.bm25! > 0 && hit.distance == nil && hit.content == "the cat sat on the mat")

        try await store.update("b") { $0.content = "the dog slept on the rug" }
        #expect(try await store.search(text: "cat").isEmpty, "the old version is gone from the index")
        #expect(ids(try await store.search(text: "dog")) == ["b"])
        try await store.deleteMemory("a")
        #expect(try await store.search(text: "XauGetBestAuthByAddr").isEmpty)
        try await store.close()
    }

    @Test("persisted at close and mapped at open: nothing rebuilt, nothing re-read; an old store gains the index")
    func persistsAndReloads() async throws {
        let dir = TemporaryDirectory()
        var store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<200).map { MemoryEntry(id: "m\($0)", content: "note \($0) about topic_\($0 % 7)") })
        try await store.close()
        let segments = dir.files(in: "keyword_index")
        #expect(segments.contains("manifest.json") && segments.contains { $0.hasSuffix(".seg") })

        store = try await MemoryStore.open(at: dir.store)
        #expect(ids(try await store.search(text: "note 42")).first == "m42")
        // "topic_3" also matches its parts ("topic", "3"), so every note is a match; the 29 whole matches lead.
        let topic = try await store.search(text: "topic_3", k: 100)
        #expect(topic.prefix(29).allSatisfy { $0.content.hasSuffix("topic_3") } && !topic.dropFirst(29).contains { $0.content.hasSuffix("topic_3") })
        let recovery = await store.recovery
        #expect(recovery.rebuiltKeywordIndexReason == nil && recovery.resyncedKeywordDocuments == 0, "\(recovery.summary)")
        try await store.close()

        // Files removed (a store from before keyword search, or damage): rebuilt from the records at open.
        try FileManager.default.removeItem(atPath: dir.store + "/keyword_index")
        store = try await MemoryStore.open(at: dir.store)
        #expect(ids(try await store.search(text: "note 42")).first == "m42")
        #expect(await store.recovery.rebuiltKeywordIndexReason != nil)
        try await store.close()
    }

    @Test("after a crash (the store never closed) the index is caught up by version, never stale")
    func catchesUpAfterCrash() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<50).map { MemoryEntry(id: "m\($0)", content: "first version \($0) alpha") })
        try await store.close()
        let live = try await MemoryStore.open(at: dir.store)
        try await live.update("m7") { $0.content = "second version seven beta" }
        try await live.deleteMemory("m8")
        try await live.save(MemoryEntry(id: "new", content: "a new gamma memory"))
        // A crash now: copy the directory as the writer left it (its keyword files are from the last close).
        let crashed = dir.path + "/crashed"
        try FileManager.default.copyItem(atPath: dir.store, toPath: crashed)
        try? FileManager.default.removeItem(atPath: crashed + "/.lock")
        try await live.close()

        let reopened = try await MemoryStore.open(at: crashed)
        #expect(ids(try await reopened.search(text: "beta")) == ["m7"])
        #expect(try await reopened.search(text: "first version 7 alpha", k: 100).allSatisfy { $0.id != "m7" || $0.bm25! < 1 } )
        #expect(try await reopened.search(text: "alpha", k: 100).count == 48, "m7 changed and m8 deleted")
        #expect(ids(try await reopened.search(text: "gamma")) == ["new"])
        #expect(await reopened.recovery.resyncedKeywordDocuments == 3)
        try await reopened.close()
    }

    @Test("damaged files: verify names them, open rebuilds, repair rebuilds")
    func damagedFiles() async throws {
        let dir = TemporaryDirectory()
        var store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<100).map { MemoryEntry(id: "m\($0)", content: "record number \($0) with token_\($0)") })
        try await store.close()
        let segment = try #require(dir.files(in: "keyword_index").first { $0.hasSuffix(".seg") })
        let path = dir.store + "/keyword_index/" + segment
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        let problem = try #require(report.problems.first { $0.kind == .keywordFilesDamaged })
        #expect(problem.path == "keyword_index" && problem.detail.contains(segment))

        let repaired = try await StoreRepairer(layout: StoreLayout(root: dir.store)).run()
        #expect(repaired.actions.contains { $0.contains("keyword index") })
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().problems.isEmpty)
        store = try await MemoryStore.open(at: dir.store)
        #expect(ids(try await store.search(text: "token_42")).first == "m42")
        try await store.close()
    }

    @Test("hybrid search keeps a keyword-only match and a vector-only match; every mode applies metadata filters")
    func hybridAndFilters() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        // The identifier's memory has a vector far from the query; the query's nearest vector has no shared word.
        try await store.save(MemoryEntry(id: "ident", content: "crash in XauGetBestAuthByAddr", embedding: [0, 0, 1, 0], metadata: ["team": "x11"]))
        try await store.save(MemoryEntry(id: "near", content: "display server authentication", embedding: [1, 0, 0, 0], metadata: ["team": "wm"]))
        for n in 0..<30 {
            try await store.save(MemoryEntry(id: "filler\(n)", content: "unrelated filler text number \(n)", embedding: [0, 1, Float(n) / 30, 0],
                                             metadata: ["team": n % 2 == 0 ? "x11" : "wm"]))
        }
        let query: [Float] = [1, 0.05, 0, 0]
        let hybrid = try await store.search(text: "XauGetBestAuthByAddr", vector: query, k: 3)
        #expect(ids(hybrid).prefix(2).sorted() == ["ident", "near"], "\(ids(hybrid))")
        let ident = try #require(hybrid.first { $0.id == "ident" })
        #expect(ident.bm25 != nil && ident.score != nil)
        #expect(hybrid.first { $0.id == "near" }?.distance != nil)
        let rrf = try await store.search(text: "XauGetBestAuthByAddr", vector: query, k: 3, options: SearchOptions(fusion: .reciprocalRank(k: 60)))
        #expect(ids(rrf).prefix(2).sorted() == ["ident", "near"])

        // Filters in each mode.
        let filter: JSONObject = ["team": "x11"]
        #expect(try await store.search(text: "filler", k: 50, metadata: filter).allSatisfy { $0.memory?.metadata["team"] == "x11" })
        #expect(try await store.search(text: "filler", k: 50, metadata: filter).count == 15)
        #expect(try await store.search(vector: query, k: 5, metadata: filter).allSatisfy { $0.memory?.metadata["team"] == "x11" })
        let filtered = try await store.search(text: "XauGetBestAuthByAddr", vector: query, k: 5, metadata: filter)
        #expect(filtered.count == 5 && filtered.allSatisfy { $0.memory?.metadata["team"] == "x11" } && filtered.first?.id == "ident")
        try await store.close()
    }

    @Test("boosts: quickrecal_score and recency reorder equal keyword matches")
    func boosts() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "low", content: "same words here", quickrecalScore: 0.1))
        try await store.save(MemoryEntry(id: "high", content: "same words here!", quickrecalScore: 0.9))
        let plain = try await store.search(text: "same words", k: 2)
        #expect(Set(ids(plain)) == ["low", "high"])
        let boosted = try await store.search(text: "same words", k: 2, options: SearchOptions(scoreWeight: 1))
        #expect(ids(boosted) == ["high", "low"])
        try await store.update("low") { $0.quickrecalScore = 0.95 }
        #expect(ids(try await store.search(text: "same words", k: 2, options: SearchOptions(scoreWeight: 1))) == ["low", "high"])
        try await store.close()
    }

    @Test("bad text queries: empty text and k < 1 are usage errors; assemblies are searchable by name")
    func badQueriesAndAssemblies() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "m1", content: "kernel panic on boot"))
        try await store.save(MemoryAssembly(id: "asm1", name: "Boot troubleshooting", memoryIds: ["m1"], keywords: ["grub"]))
        await #expect { try await store.search(text: "   ") } throws: { ($0 as? EngramError)?.code == .usage }
        await #expect { try await store.search(text: "boot", k: 0) } throws: { ($0 as? EngramError)?.code == .usage }
        #expect(ids(try await store.search(text: "grub", scope: .assemblies)) == ["asm1"])
        #expect(Set(ids(try await store.search(text: "boot", scope: .all))) == ["m1", "asm1"])
        #expect(ids(try await store.search(text: "boot")) == ["m1"], "memories only by default")
        try await store.close()
    }
}
