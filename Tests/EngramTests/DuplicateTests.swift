import Engram
import EngramTestSupport
import EngramIO
import Foundation
import Testing

@Suite("Duplicate memories")
struct DuplicateTests {
    @Test("reuse (the default): a new memory with stored content returns the stored one; an explicit id is always saved")
    func reuse() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let first = try await store.save(MemoryEntry(content: "the build needs libuv1-dev", embedding: vector(1)))
        let again = try await store.save(MemoryEntry(content: "the build needs libuv1-dev", embedding: vector(2)))
        #expect(again == first)
        #expect(again.embedding == vector(1), "the stored memory is returned unchanged")
        #expect(await store.memoryIDs() == [first.id])
        // Same text, different content: not a duplicate.
        let other = try await store.save(MemoryEntry(content: "the build needs libuv1-dev ", embedding: vector(3)))
        #expect(other.id != first.id)
        // An explicit id means that record.
        let named = try await store.save(MemoryEntry(id: "named", content: "the build needs libuv1-dev", embedding: vector(1)))
        #expect(named.id == "named")
        #expect(await store.memoryIDs().count == 3)
        try await store.close()
        #expect(dir.files(in: "memories").count == 3)
    }

    @Test("reuse within one batch and across a reopen; the stored copy follows updates and deletes")
    func reuseFollowsChanges() async throws {
        let dir = TemporaryDirectory()
        var store = try await MemoryStore.open(at: dir.store)
        let saved = try await store.saveBatch([MemoryEntry(content: "x"), MemoryEntry(content: "y"), MemoryEntry(content: "x")])
        #expect(saved[0].id == saved[2].id && saved[0].id != saved[1].id)
        #expect(await store.memoryIDs().count == 2)
        try await store.close()

        store = try await MemoryStore.open(at: dir.store)
        #expect(try await store.save(MemoryEntry(content: "x")).id == saved[0].id, "found again after a reopen")
        // Change x's content to z: "x" is new again, "z" is x's memory.
        try await store.update(saved[0].id) { $0.content = "z" }
        let newX = try await store.save(MemoryEntry(content: "x"))
        #expect(newX.id != saved[0].id)
        #expect(try await store.save(MemoryEntry(content: "z")).id == saved[0].id)
        // Deleted: saving its content stores a new memory.
        try await store.deleteMemory(saved[1].id)
        let newY = try await store.save(MemoryEntry(content: "y"))
        #expect(newY.id != saved[1].id)
        #expect(await store.memoryIDs().count == 3)
        try await store.close()
    }

    @Test("allow saves every copy; reject fails naming the stored memory and writes nothing")
    func allowAndReject() async throws {
        let dir = TemporaryDirectory()
        var store = try await MemoryStore.open(at: dir.store, configuration: config { $0.duplicates = .allow })
        let a = try await store.save(MemoryEntry(content: "same"))
        let b = try await store.save(MemoryEntry(content: "same"))
        #expect(a.id != b.id)
        try await store.close()

        store = try await MemoryStore.open(at: dir.store, configuration: config { $0.duplicates = .reject })
        let before = allFiles(under: dir.store + "/memories")
        await #expect {
            try await store.save(MemoryEntry(content: "same"))
        } throws: { error in
            let error = try #require(error as? EngramError)
            return error.code == .duplicate && (error.id == a.id || error.id == b.id) && error.remedy != nil
        }
        await #expect(throws: EngramError.self) { try await store.check(MemoryEntry(content: "same")) }
        await #expect(throws: EngramError.self) { try await store.saveBatch([MemoryEntry(content: "new"), MemoryEntry(content: "new")]) }
        #expect(allFiles(under: dir.store + "/memories") == before)
        #expect(try await store.save(MemoryEntry(content: "new")).content == "new")
        try await store.close()
    }

    @Test("concurrent saves of one new content store it once")
    func concurrentReuse() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 { group.addTask { try await store.save(MemoryEntry(content: "raced")).id } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(await store.memoryIDs().count == 1)
        try await store.close()
    }

    @Test("duplicateClusters: exact copies and near embeddings, transitively; distant memories stay out")
    func clusters() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.duplicates = .allow })
        func unit(_ values: [Float]) -> [Float] {
            let n = values.map { $0 * $0 }.reduce(0, +).squareRoot()
            return values.map { $0 / n }
        }
        try await store.save(MemoryEntry(id: "e1", content: "copy", embedding: unit([1, 0, 0, 0])))
        try await store.save(MemoryEntry(id: "e2", content: "copy", embedding: unit([0, 0, 0, 1])))
        try await store.save(MemoryEntry(id: "n1", content: "near 1", embedding: unit([0, 1, 0, 0])))
        try await store.save(MemoryEntry(id: "n2", content: "near 2", embedding: unit([0, 1, 0.2, 0])))
        try await store.save(MemoryEntry(id: "n3", content: "near 3", embedding: unit([0, 1, 0.4, 0])))
        try await store.save(MemoryEntry(id: "far", content: "far", embedding: unit([0, -1, 1, 0])))
        try await store.save(MemoryEntry(id: "text", content: "text only"))
        let clusters = try await store.duplicateClusters(threshold: 0.97)
        #expect(clusters.count == 2)
        let near = try #require(clusters.first { $0.ids.contains("n1") })
        #expect(near.ids == ["n1", "n2", "n3"], "n1~n2 and n2~n3 (0.98) join n1 and n3 (0.93) transitively")
        #expect(!near.exact)
        #expect(near.similarity >= 0.97 && near.similarity < 0.99)
        let exact = try #require(clusters.first { $0.ids.contains("e1") })
        #expect(exact == DuplicateCluster(ids: ["e1", "e2"], exact: true, similarity: 1))
        #expect(try await store.duplicateClusters(threshold: 0.999).map(\.ids) == [["e1", "e2"]])
        await #expect(throws: EngramError.self) { try await store.duplicateClusters(threshold: 0) }
        #expect(await store.memoryIDs().count == 7, "nothing deleted")
        try await store.close()
    }
}
