@testable import Engram
import EngramIO
import EngramTestSupport
import Foundation
import Testing

/// `memory_index.bin`: written at checkpoints, mapped at open instead of parsing the JSON, never trusted when
/// stale or damaged, and an ``IndexTable`` over it that behaves as the dictionary it replaced.
@Suite("binary index: memory_index.bin")
struct BinaryIndexTests {
    /// A store of 40 memories (some without an embedding) and two assemblies, closed.
    static func fixture(_ dir: TemporaryDirectory) async throws {
        let store = try await MemoryStore.open(at: dir.store)
        _ = try await store.saveBatch((0..<40).map {
            MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: $0 % 7 == 0 ? nil : vector($0), metadata: ["n": .int(Int64($0))])
        })
        _ = try await store.save(MemoryAssembly(id: "asm1", name: "one", memoryIds: ["m1", "m2", "m3"]))
        _ = try await store.save(MemoryAssembly(id: "asm2", name: "two", memoryIds: ["m4"]))
        try await store.close()
    }

    /// Everything the index says, as plain values to compare two opens by.
    static func contents(_ store: MemoryStore) async -> [String] {
        var lines: [String] = []
        for id in await store.memoryIDs() {
            let e = await store.indexEntry(forMemory: id)!
            lines.append("m \(id) \(e.createdAt) \(e.updatedAt) \(e.quickrecalScore) \(e.contentHash) \(String(describing: e.dimension))")
        }
        for id in await store.assemblyIDs() { lines.append("a \(id)") }
        let s = await store.statistics()
        lines.append("counts \(s.memoryCount) \(s.assemblyCount) \(s.vectorCount) \(s.assemblyVectorCount) \(String(describing: s.embeddingDimension))")
        return lines
    }

    static func open(_ dir: TemporaryDirectory, readOnly: Bool) async throws -> MemoryStore {
        try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = readOnly; $0.loadVectorTier = false; $0.loadKeywordTier = false })
    }

    @Test("written at the checkpoint and mapped at open: the JSON is not parsed, read-only or writer")
    func mappedAtOpen() async throws {
        let dir = TemporaryDirectory()
        try await Self.fixture(dir)
        #expect(FileManager.default.fileExists(atPath: dir.store + "/memory_index.bin"))
        let expected = try await Self.contents(Self.open(dir, readOnly: true))
        for readOnly in [true, false] {
            let store = try await Self.open(dir, readOnly: readOnly)
            #expect(await !store.recovery.parsedIndexJSON)
            #expect(await store.recovery.binaryIndexProblem == nil)
            #expect(await Self.contents(store) == expected)
            #expect(try await store.memory("m5")?.content == "memory 5")
            #expect(await store.statistics().memoryCount == 40)
            try await store.close()
        }
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().isConsistent)
    }

    enum Fault: String, CaseIterable, Sendable {
        case missing, jsonEditedByHand, byteFlipInTable, byteFlipInHeader, truncated, emptied
    }

    @Test("missing, stale or damaged: open parses the JSON, gives the same answers, and a writer rewrites it", arguments: Fault.allCases)
    func fallsBack(_ fault: Fault) async throws {
        let dir = TemporaryDirectory()
        try await Self.fixture(dir)
        let expected = try await Self.contents(Self.open(dir, readOnly: true))
        let bin = dir.store + "/memory_index.bin"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: bin)))
        switch fault {
        case .missing: try FileManager.default.removeItem(atPath: bin)
        case .jsonEditedByHand:
            // Same content, rewritten as an editor would: a new identity (inode, mtime).
            let json = try Data(contentsOf: URL(fileURLWithPath: dir.store + "/memory_index.json"))
            try FileManager.default.removeItem(atPath: dir.store + "/memory_index.json")
            try json.write(to: URL(fileURLWithPath: dir.store + "/memory_index.json"))
        case .byteFlipInTable: bytes[BinaryIndexFile.headerSize + 20] ^= 0x40
        case .byteFlipInHeader: bytes[30] ^= 0x01
        case .truncated: bytes.removeLast(13)
        case .emptied: bytes = []
        }
        if [.byteFlipInTable, .byteFlipInHeader, .truncated, .emptied].contains(fault) {
            try Data(bytes).write(to: URL(fileURLWithPath: bin))
        }
        let reader = try await Self.open(dir, readOnly: true)
        #expect(await reader.recovery.parsedIndexJSON)
        #expect(await reader.recovery.binaryIndexProblem != nil)
        #expect(await Self.contents(reader) == expected)
        try await reader.close()
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().isConsistent)  // derived: not a problem

        let writer = try await Self.open(dir, readOnly: false)
        let writerRecovery = await writer.recovery
        #expect(writerRecovery.parsedIndexJSON && writerRecovery.rewroteBinaryIndex)
        #expect(await Self.contents(writer) == expected)
        try await writer.close()
        let again = try await Self.open(dir, readOnly: true)
        #expect(await !again.recovery.parsedIndexJSON)
        #expect(await Self.contents(again) == expected)
        try await again.close()
    }

    @Test("a crash between writing memory_index.json and memory_index.bin leaves a stale .bin, which is detected")
    func crashBetweenJSONAndBinary() async throws {
        let dir = TemporaryDirectory()
        try await Self.fixture(dir)
        let old = try Data(contentsOf: URL(fileURLWithPath: dir.store + "/memory_index.bin"))
        let store = try await Self.open(dir, readOnly: false)
        try await store.deleteMemory("m10")
        _ = try await store.save(MemoryEntry(id: "new", content: "added after the first checkpoint"))
        try await store.close()
        let expected = try await Self.contents(Self.open(dir, readOnly: true))
        // The new JSON is in place, its .bin is not: what a crash between the two renames leaves.
        try old.write(to: URL(fileURLWithPath: dir.store + "/memory_index.bin"))
        let reader = try await Self.open(dir, readOnly: true)
        #expect(await reader.recovery.parsedIndexJSON)
        #expect(await reader.recovery.binaryIndexProblem?.contains("stale") == true)
        #expect(await Self.contents(reader) == expected)
        #expect(await !reader.containsMemory("m10"))
        #expect(await reader.containsMemory("new"))
    }

    @Test("the journal is replayed on top of the mapped base: puts, deletes, re-puts, updates")
    func journalOverMappedBase() async throws {
        let dir = TemporaryDirectory()
        try await Self.fixture(dir)
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 100_000; $0.loadKeywordTier = false })
        try await writer.deleteMemory("m1")  // in the base and in asm1
        try await writer.deleteMemory("m20")
        _ = try await writer.save(MemoryEntry(id: "m20", content: "m20 again", embedding: vector(99)))  // re-put
        _ = try await writer.update("m30") { $0.quickrecalScore = 0.25 }
        _ = try await writer.save(MemoryEntry(id: "zz-new", content: "new"))
        _ = try await writer.save(MemoryEntry(id: "0-new", content: "first in order", embedding: vector(5)))
        try await writer.deleteMemory("zz-new")
        // A reader beside the writer maps the checkpoint and replays the journal: it sees every change.
        let reader = try await Self.open(dir, readOnly: true)
        #expect(await !reader.recovery.parsedIndexJSON)
        #expect(await reader.recovery.replayedOperations > 0)
        #expect(await Self.contents(reader) == Self.contents(writer))
        #expect(await reader.memoryIDs().first == "0-new")
        #expect(await !reader.containsMemory("m1"))
        #expect(await !reader.containsMemory("zz-new"))
        #expect(await reader.containsMemory("m20"))
        #expect(await reader.indexEntry(forMemory: "m30")?.quickrecalScore == 0.25)
        try await reader.close()
        try await writer.close()
        let after = try await Self.open(dir, readOnly: true)
        let afterRecovery = await after.recovery
        #expect(!afterRecovery.parsedIndexJSON && afterRecovery.replayedOperations == 0)
        #expect(await after.memoryIDs().count == 40)
    }

    @Test("IndexTable over a mapped base matches a dictionary under random operations (seeded)", arguments: [1, 2, 3] as [UInt64])
    func tableMatchesDictionary(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/t", withIntermediateDirectories: true)
        func entry(_ n: Int) -> MemoryIndexEntry {
            MemoryIndexEntry(createdAt: Timestamp(microseconds: Int64(n)), updatedAt: Timestamp(microseconds: Int64(n * 7)),
                             quickrecalScore: Double(n % 100) / 100, contentHash: n % 5 == 0 ? "sha:\(n)" : ContentHash.of("c\(n)"),
                             dimension: n % 3 == 0 ? nil : 384)
        }
        var model: [String: MemoryIndexEntry] = [:]
        var index = CentralIndex()
        for n in 0..<500 where Bool.random(using: &rng) {
            model["id\(n)"] = entry(n)
            index.memories["id\(n)"] = entry(n)
        }
        index.assemblies["a1"] = AssemblyIndexEntry(createdAt: Timestamp(microseconds: 1), updatedAt: Timestamp(microseconds: 2), memoryIds: ["id1", "x"], dimension: 8)
        let identity = IndexFileIdentity(size: 1, mtimeNanoseconds: 2, inode: 3)
        try BinaryIndexWriter.write(index, source: identity, directory: dir.path + "/t")
        let file = try BinaryIndexFile.open(path: dir.path + "/t/memory_index.bin", matching: identity)
        var table = IndexTable<MemoryIndexEntry>(base: file)
        #expect(CentralIndex(mapped: file).assemblies["a1"]?.memoryIds == ["id1", "x"])
        func check() {
            #expect(table.count == model.count)
            #expect(table.isEmpty == model.isEmpty)
            #expect(table.keys == model.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value) }) == model)
            #expect(table.withDimension == model.values.count { $0.dimension != nil })
        }
        check()
        let snapshot = table
        for step in 0..<2000 {
            let id = "id\(Int.random(in: 0..<700, using: &rng))"
            if Bool.random(using: &rng) {
                let value = entry(Int.random(in: 0..<10_000, using: &rng))
                table[id] = value
                model[id] = value
            } else {
                table[id] = nil
                model[id] = nil
            }
            #expect(table[id] == model[id])
            if step % 500 == 0 { check() }
        }
        check()
        // Copies are values: the snapshot taken before the operations still reads as the file.
        #expect(snapshot.count == file.memoryCount)
        var rebased = table
        try BinaryIndexWriter.write(CentralIndex(memories: table), source: identity, directory: dir.path + "/t")
        rebased.rebase(onto: try BinaryIndexFile.open(path: dir.path + "/t/memory_index.bin", matching: identity))
        #expect(rebased.overlayCount == 0 && rebased == table)
    }
}

extension CentralIndex {
    init(memories: IndexTable<MemoryIndexEntry>) {
        self.init()
        self.memories = memories
    }
}
