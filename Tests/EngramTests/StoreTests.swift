import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

@Suite("Store")
struct StoreTests {
    @Test("save, load, list, exists, delete — and everything survives a reopen")
    func basics() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let a = try await store.save(MemoryEntry(id: "a", content: "alpha", embedding: vector(1), metadata: ["k": "v"]))
        try await store.save(MemoryEntry(id: "b", content: "beta", embedding: vector(2)))
        #expect(a.contentHash == ContentHash.of("alpha"))
        #expect(await store.containsMemory("a"))
        #expect(await store.memoryIDs() == ["a", "b"])
        #expect(try await store.memory("a") == a)
        #expect(try await store.memory("zzz") == nil)
        #expect(try await store.deleteMemory("b"))
        #expect(try await store.deleteMemory("b") == false)
        #expect(!FileManager.default.fileExists(atPath: dir.store + "/memories/b.json"))
        try await store.close()

        let reopened = try await MemoryStore.open(at: dir.store)
        #expect(await reopened.memoryIDs() == ["a"])
        let loaded = try #require(try await reopened.memory("a"))
        #expect(loaded == a)
        #expect(loaded.metadata["k"] == "v")
        let stats = await reopened.statistics()
        #expect(stats.memoryCount == 1 && stats.embeddingDimension == 8 && stats.vectorCount == 1)
        try await reopened.close()
        // The file alone describes the store after a clean close (SPEC §3).
        let index = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.store + "/memory_index.json"))))
        #expect(index["metadata"]?["memory_count"] == .int(1))
        #expect(index["memories"]?["a"]?["filepath"] == "memories/a.json")
        #expect(index["memories"]?["a"]?["content_hash"] == .string(a.contentHash))
    }

    @Test("a batch is saved whole, with one journal line")
    func batch() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let entries = (0..<300).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: vector($0)) }
        let saved = try await store.saveBatch(entries)
        #expect(saved.count == 300)
        #expect(await store.statistics().memoryCount == 300)
        #expect(dir.files(in: "memories").count == 300)
        let loaded = try await store.memories(["m5", "nope", "m299"])
        #expect(loaded.map(\.id) == ["m5", "m299"])
        // Duplicate ids in one batch are refused before anything is written.
        let duplicate = await #expect(throws: EngramError.self) {
            try await store.saveBatch([MemoryEntry(id: "x", content: "1"), MemoryEntry(id: "x", content: "2")])
        }
        #expect(duplicate?.code == .invalidRecord)
        #expect(!(await store.containsMemory("x")))
        try await store.close()
    }

    @Test("unknown fields in a record file survive an update through the store")
    func unknownFieldsPreserved() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "alpha"))
        try await store.close()
        // A newer tool (or a person with jq) added a field.
        let path = dir.store + "/memories/a.json"
        var object = try #require(try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).objectValue)
        object["added_by_a_newer_version"] = ["x": 1]
        try Data(JSONWriter.pretty(.object(object))).write(to: URL(fileURLWithPath: path))
        let again = try await MemoryStore.open(at: dir.store)
        try await again.update("a") { $0.content = "alpha 2" }
        try await again.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"added_by_a_newer_version\""))
        #expect(text.contains("alpha 2"))
    }

    @Test("optimistic update: a stale updatedAt is a conflict and changes nothing")
    func optimisticUpdate() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let first = try await store.save(MemoryEntry(id: "a", content: "v1"))
        let second = try await store.save(MemoryEntry(id: "a", content: "v2"), expectedUpdatedAt: first.updatedAt)
        #expect(second.updatedAt > first.updatedAt)
        #expect(second.createdAt == first.createdAt)
        let error = await #expect(throws: EngramError.self) {
            try await store.save(MemoryEntry(id: "a", content: "v3"), expectedUpdatedAt: first.updatedAt)
        }
        #expect(error?.code == .conflict)
        #expect(try await store.memory("a")?.content == "v2")
        let updated = try await store.update("a") { $0.quickrecalScore = 0.9 }
        #expect(updated.quickrecalScore == 0.9 && updated.content == "v2")
        try await store.close()
    }

    @Test("NaN, ±Infinity, empty and wrong-dimension embeddings are rejected before anything is written")
    func vectorValidation() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        for bad: [Float] in [[1, .nan, 3], [.infinity, 0, 0], [-.infinity, 1, 1], []] {
            let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "bad", content: "x", embedding: bad)) }
            #expect(error?.code == .invalidVector)
            #expect(error?.id == "bad")
        }
        try await store.save(MemoryEntry(id: "ok", content: "x", embedding: [1, 2, 3]))
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "wrong", content: "x", embedding: [1, 2])) }
        #expect(error?.code == .dimensionMismatch)
        #expect(error?.message.contains("3") == true)
        #expect(dir.files(in: "memories") == ["ok.json"])
        try await store.close()
        // The dimension is part of the store.
        let again = try await MemoryStore.open(at: dir.store)
        await #expect(throws: EngramError.self) { try await again.save(MemoryEntry(id: "w2", content: "x", embedding: [1, 2, 3, 4])) }
        try await again.close()
        // A configured dimension is enforced from the first save, and must agree with the store.
        let mismatch = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.store, configuration: config { $0.embeddingDimension = 5 }) }
        #expect(mismatch?.code == .dimensionMismatch)
    }

    @Test("hostile ids are rejected and nothing is written anywhere")
    func hostileIDs() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        let before = allFiles(under: dir.path)
        for id in ["../x", "/abs", "/etc/passwd", "a/b", ".", "..", "", String(repeating: "a", count: 129), "a\u{0}b", "a\nb", ".a.json.1.tmp"] {
            let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: id, content: "evil")) }
            #expect(error?.code == .invalidId)
            await #expect(throws: EngramError.self) { try await store.memory(id) }
            await #expect(throws: EngramError.self) { try await store.deleteMemory(id) }
            await #expect(throws: EngramError.self) { try await store.save(MemoryAssembly(id: id, name: "evil")) }
        }
        #expect(allFiles(under: dir.path) == before)
        try await store.close()
    }

    @Test("a second writer shares the store (each sees the other's writes at its next commit); read-only opens work beside them")
    func writerLock() async throws {
        let dir = TemporaryDirectory()
        let writer = try await MemoryStore.open(at: dir.store)
        try await writer.save(MemoryEntry(id: "a", content: "alpha"))
        let second = try await MemoryStore.open(at: dir.store)
        #expect(try await second.memory("a")?.content == "alpha")
        try await second.save(MemoryEntry(id: "c", content: "gamma"))
        try await writer.save(MemoryEntry(id: "d", content: "delta"))
        #expect(await writer.memoryIDs() == ["a", "c", "d"], "caught up with the second writer's commit before its own")
        try await second.close()

        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(try await reader.memory("a")?.content == "alpha")  // from the journal, before any checkpoint
        let refused = await #expect(throws: EngramError.self) { try await reader.save(MemoryEntry(id: "b", content: "x")) }
        #expect(refused?.code == .readOnlyStore)
        // The writer keeps writing; a fresh reader sees it.
        try await writer.save(MemoryEntry(id: "b", content: "beta"))
        let reader2 = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(await reader2.memoryIDs() == ["a", "b", "c", "d"])
        try await reader.close()
        try await reader2.close()
        try await writer.close()
        // After close the lock is free.
        let next = try await MemoryStore.open(at: dir.store)
        try await next.close()
    }

    @Test("open is lazy: it reads the index, not the records, and the LRU cache is bounded")
    func lazyOpenAndCache() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.cacheCapacity = 10 })
        try await store.saveBatch((0..<50).map { MemoryEntry(id: "m\($0)", content: "memory \($0)") })
        try await store.close()
        // Break one record: open must not notice (it does not read records), loading it must.
        try "garbage".write(toFile: dir.store + "/memories/m7.json", atomically: false, encoding: .utf8)
        let again = try await MemoryStore.open(at: dir.store, configuration: config { $0.cacheCapacity = 10 })
        #expect(await again.statistics().memoryCount == 50)
        #expect(await again.statistics().cachedMemories == 0)
        let error = await #expect(throws: EngramError.self) { try await again.memory("m7") }
        #expect(error?.code == .corrupt)
        #expect(error?.path?.hasSuffix("memories/m7.json") == true)
        for i in 10..<40 { _ = try await again.memory("m\(i)") }
        #expect(await again.statistics().cachedMemories == 10)
        _ = try await again.memory("m39")
        #expect(await again.statistics().cacheHits >= 1)
        try await again.close()
    }

    @Test("assemblies: members must exist, composite is the mean, deleting a memory removes it everywhere")
    func assemblies() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "a", embedding: [1, 0]))
        try await store.save(MemoryEntry(id: "b", content: "b", embedding: [0, 1]))
        try await store.save(MemoryEntry(id: "c", content: "c"))
        let missing = await #expect(throws: EngramError.self) { try await store.save(MemoryAssembly(id: "x", name: "x", memoryIds: ["a", "nope"])) }
        #expect(missing?.code == .notFound)
        let asm = try await store.save(MemoryAssembly(id: "asm1", name: "pair", memoryIds: ["a", "b", "c", "a"]))
        #expect(asm.memoryIds == ["a", "b", "c"])
        #expect(asm.compositeEmbedding == [0.5, 0.5])
        #expect(await store.assemblies(containing: "a") == ["asm1"])
        // Changing a member's embedding keeps the composite the mean of the members.
        try await store.save(MemoryEntry(id: "b", content: "b", embedding: [1, 1]))
        #expect(try await store.assembly("asm1")?.compositeEmbedding == [1, 0.5])
        try await store.deleteMemory("a")
        let after = try #require(try await store.assembly("asm1"))
        #expect(after.memoryIds == ["b", "c"])
        #expect(after.compositeEmbedding == [1, 1])
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(try await again.assembly("asm1")?.memoryIds == ["b", "c"])
        #expect(await again.assemblies(containing: "b") == ["asm1"])
        #expect(try await again.deleteAssembly("asm1"))
        #expect(await again.assemblyIDs().isEmpty)
        #expect(await again.containsMemory("b"))
        try await again.close()
    }

    @Test("an assembly left naming a deleted memory (a crash between the two writes) is finished at open")
    func assembliesFinishedAtOpen() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "a", embedding: [1, 0]))
        try await store.save(MemoryEntry(id: "b", content: "b", embedding: [0, 1]))
        try await store.save(MemoryAssembly(id: "g", name: "g", memoryIds: ["a", "b"]))
        try await store.close()
        // The state a crash after the memory's delete, before its assembly's rewrite, leaves.
        try FileManager.default.removeItem(atPath: dir.store + "/memories/a.json")
        var index = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.store + "/memory_index.json")))).objectValue!
        var memories = index["memories"]!.objectValue!
        memories["a"] = nil
        index["memories"] = .object(memories)
        try Data(JSONWriter.pretty(.object(index))).write(to: URL(fileURLWithPath: dir.store + "/memory_index.json"))
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.recovery.repairedAssemblies == ["g"])
        let g = try #require(try await again.assembly("g"))
        #expect(g.memoryIds == ["b"])
        #expect(g.compositeEmbedding == [0, 1])
        try await again.close()
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().isConsistent)
    }

    @Test("checkpoints rotate index backups, each with a checksum")
    func backupsRotate() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config {
            $0.flushThreshold = 1; $0.backupInterval = 0; $0.indexBackupCount = 3
        })
        for i in 0..<8 {
            try await store.save(MemoryEntry(id: "m\(i)", content: "\(i)"))
            try await store.checkpoint()
        }
        try await store.close()
        let backups = IndexBackups(layout: StoreLayout(root: dir.store))
        let names = backups.names()
        #expect(names.count == 3)
        for name in names {
            #expect(backups.isIntact(name))
            #expect(FileManager.default.fileExists(atPath: dir.store + "/backups/" + name + ".xxh3"))
        }
        // Each backup is an earlier index: the oldest kept one has fewer memories than the final index.
        let oldest = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.store + "/backups/" + names.first!))))
        #expect((oldest["metadata"]?["memory_count"]?.int64Value ?? 99) < 8)
        // A damaged backup fails its checksum.
        let victim = dir.store + "/backups/" + names[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        try FileManager.default.removeItem(atPath: victim)  // a hard link: replace, not modify, the shared inode
        try (bytes + Data("x".utf8)).write(to: URL(fileURLWithPath: victim))
        #expect(!backups.isIntact(names[0]))
    }

    @Test("a missing or unreadable index is rebuilt from the records (autoRepair), or refused without it")
    func indexRebuild() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<20).map { MemoryEntry(id: "m\($0)", content: "\($0)", embedding: vector($0)) })
        try await store.save(MemoryAssembly(id: "g", name: "g", memoryIds: ["m1", "m2"]))
        try await store.close()
        try "{ not json".write(toFile: dir.store + "/memory_index.json", atomically: false, encoding: .utf8)
        let strict = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.store, configuration: config { $0.autoRepair = false }) }
        #expect(strict?.code == .corrupt)
        let repaired = try await MemoryStore.open(at: dir.store)
        #expect(await repaired.recovery.rebuiltIndexReason?.contains("unreadable") == true)
        #expect(await repaired.statistics().memoryCount == 20)
        #expect(await repaired.assemblies(containing: "m1") == ["g"])
        #expect(await repaired.embeddingDimension == 8)
        try await repaired.close()
        try FileManager.default.removeItem(atPath: dir.store + "/memory_index.json")
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.recovery.rebuiltIndexReason?.contains("missing") == true)
        #expect(await again.statistics().memoryCount == 20)
        try await again.close()
    }

    @Test("stale temp files are removed at open and never read as records")
    func staleTemporaryFiles() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "alpha"))
        try await store.close()
        // A clean close marks the store so that the next writer skips listing memories/ for temp files…
        #expect(FileManager.default.fileExists(atPath: dir.store + "/.clean_shutdown"))
        let clean = try await MemoryStore.open(at: dir.store)
        #expect(await clean.recovery.trustedCleanShutdown)
        #expect(!FileManager.default.fileExists(atPath: dir.store + "/.clean_shutdown"))  // consumed at open
        try await clean.close()
        // …while temp files go stale only when a writer dies mid-write, which leaves no mark: simulate that.
        try FileManager.default.removeItem(atPath: dir.store + "/.clean_shutdown")
        let stale = dir.store + "/memories/.a.json.deadbeef.tmp"
        try "{\"id\": \"a\", \"content\": \"torn".write(toFile: stale, atomically: false, encoding: .utf8)
        try "x".write(toFile: dir.store + "/.memory_index.json.1.tmp", atomically: false, encoding: .utf8)
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await !again.recovery.trustedCleanShutdown)
        #expect(await again.recovery.removedTemporaryFiles.count == 2)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try await again.memory("a")?.content == "alpha")
        #expect(await again.memoryIDs() == ["a"])
        try await again.close()
    }

    @Test("symbolic links: a planted record link is replaced, never followed; a linked memories/ is refused")
    func symlinks() async throws {
        let dir = TemporaryDirectory()
        let outside = dir.path + "/outside.json"
        try "precious".write(toFile: outside, atomically: false, encoding: .utf8)
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "alpha"))
        try await store.close()
        // A link planted where a record lives: reading refuses it, writing replaces the link itself.
        try FileManager.default.removeItem(atPath: dir.store + "/memories/a.json")
        try FileManager.default.createSymbolicLink(atPath: dir.store + "/memories/a.json", withDestinationPath: outside)
        let again = try await MemoryStore.open(at: dir.store)
        let error = await #expect(throws: EngramError.self) { try await again.memory("a") }
        #expect(error?.code == .symlinkRefused)
        try await again.save(MemoryEntry(id: "a", content: "rewritten"))
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "precious")
        #expect(try FileManager.default.attributesOfItem(atPath: dir.store + "/memories/a.json")[.type] as? FileAttributeType == .typeRegular)
        try await again.close()
        // memories/ itself a link out of the store: refused at open.
        try FileManager.default.moveItem(atPath: dir.store + "/memories", toPath: dir.path + "/elsewhere")
        try FileManager.default.createSymbolicLink(atPath: dir.store + "/memories", withDestinationPath: dir.path + "/elsewhere")
        let refused = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.store) }
        #expect(refused?.code == .symlinkRefused)
        #expect(refused?.path?.hasSuffix("memories") == true)
    }

    @Test("init refuses a non-empty directory that is not a store; the template is a valid empty store")
    func creation() async throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/notastore", withIntermediateDirectories: true)
        try "hello".write(toFile: dir.path + "/notastore/file.txt", atomically: false, encoding: .utf8)
        let error = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.path + "/notastore") }
        #expect(error?.code == .notAStore)
        let ro = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.path + "/missing", configuration: config { $0.readOnly = true }) }
        #expect(ro?.code == .notFound)
        let fresh = try await MemoryStore.open(at: dir.path + "/new")
        try await fresh.close()
        let made = allFiles(under: dir.path + "/new").filter { !$0.hasPrefix(".lock") && !$0.contains("journal") && $0 != ".clean_shutdown" }
        let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/storage-template"
        let shipped = allFiles(under: template).filter { !$0.hasSuffix(".gitkeep") }
        #expect(made == shipped)
        let copy = dir.path + "/from-template"
        try FileManager.default.copyItem(atPath: template, toPath: copy)
        let opened = try await MemoryStore.open(at: copy, configuration: config { $0.autoRepair = false })
        #expect(await opened.statistics().memoryCount == 0)
        try await opened.close()
    }

    @Test("a directory holding only lost+found (the root of a dedicated volume) becomes a store, and verify accepts it")
    func lostAndFound() async throws {
        let dir = TemporaryDirectory()
        let root = dir.path + "/volume"
        try FileManager.default.createDirectory(atPath: root + "/lost+found", withIntermediateDirectories: true)
        let store = try await MemoryStore.open(at: root)
        try await store.save(MemoryEntry(id: "a", content: "alpha"))
        try await store.close()
        #expect(FileManager.default.fileExists(atPath: root + "/lost+found"))
        let report = try StoreVerifier(layout: StoreLayout(root: root)).run()
        #expect(report.problems.map(\.kind) == [])
        // A lost+found that is a file, or anything else beside it, still makes the directory "not empty".
        let other = dir.path + "/other"
        try FileManager.default.createDirectory(atPath: other + "/lost+found", withIntermediateDirectories: true)
        try "x".write(toFile: other + "/notes.txt", atomically: false, encoding: .utf8)
        let refused = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: other) }
        #expect(refused?.code == .notAStore)
    }

    @Test("a writer dropped without close() gives its lock back when it is released")
    func lockReleasedOnDeinit() async throws {
        let dir = TemporaryDirectory()
        do {
            let dropped = try await MemoryStore.open(at: dir.store, configuration: config { $0.loadVectorTier = false })
            try await dropped.save(MemoryEntry(id: "a", content: "alpha"))
            #expect(StoreVerifier.writerActive(StoreLayout(root: dir.store)), "an open writer is present, idle or not")
        }
        // No close(): the last reference is gone; the next writer in this process gets the lock (waiting
        // briefly for tasks the store started to let go of it).
        var reopened: MemoryStore?
        for _ in 0..<100 where reopened == nil {
            reopened = try? await MemoryStore.open(at: dir.store)
            if reopened == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let store = try #require(reopened)
        #expect(try await store.memory("a")?.content == "alpha")
        try await store.close()
        for _ in 0..<100 where StoreVerifier.writerActive(StoreLayout(root: dir.store)) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!StoreVerifier.writerActive(StoreLayout(root: dir.store)), "no presence lock is left behind")
    }
}
