import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// MARK: Helpers (file-private: other suites define their own)

/// Every file under `root` (relative path → bytes), and its modification time, to prove a tree unchanged.
private struct TreeState: Equatable {
    var files: [String: Data] = [:]
    var mtimes: [String: Date] = [:]
    var directories: Set<String> = []

    init(_ root: String, excluding excluded: Set<String> = []) {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root) else { return }
        while let path = walker.nextObject() as? String {
            if excluded.contains(path) { continue }
            let full = root + "/" + path
            let attributes = try? fm.attributesOfItem(atPath: full)
            if attributes?[.type] as? FileAttributeType == .typeDirectory {
                directories.insert(path)
            } else {
                files[path] = fm.contents(atPath: full)
                mtimes[path] = attributes?[.modificationDate] as? Date
            }
        }
    }
}

private func readJSON(_ path: String) throws -> JSONValue {
    try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
}

private func writeText(_ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
}

/// A store with memories (some without embedding), two assemblies and a deleted record, cleanly closed.
private func makeStore(_ path: String, memories count: Int = 30) async throws {
    let store = try await MemoryStore.open(at: path)
    try await store.saveBatch((0..<count).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: $0 % 7 == 3 ? nil : vector($0), metadata: ["n": .int(Int64($0))]) })
    try await store.save(MemoryAssembly(id: "asm:one", name: "one", memoryIds: ["m1", "m2", "m3"], keywords: ["k"], tags: ["t"]))
    try await store.save(MemoryAssembly(id: "two", name: "two", memoryIds: ["m4"]))
    try await store.deleteMemory("m0")
    try await store.close()
}

private func openReadOnly(_ path: String, repair: Bool = false) async throws -> MemoryStore {
    try await MemoryStore.open(at: path, configuration: config {
        $0.readOnly = true
        $0.autoRepair = repair
        $0.createIfMissing = false
    })
}

/// The package root, from this file's path (Tests/EngramTests/MigrationTests.swift).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
/// The real Synthians store shared with the project; never copied into the repository.
private let synthiansFixture = packageRoot + "/../shared/fixtures/synthians-store"
private let synthiansFixtureExists = FileManager.default.fileExists(atPath: synthiansFixture + "/memory_index.json")

// MARK: migrate --to

@Suite("migrate --to: copy a store and verify the copy")
struct StoreCopyTests {
    static let notCopied: Set<String> = [".lock", "memory_index.bin", ".clean_shutdown"]
    @Test("copies every file byte for byte, verifies it, and leaves the source untouched")
    func copiesAndVerifies() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store)
        let before = TreeState(dir.store)
        let destination = dir.path + "/elsewhere/copy"  // a missing parent is created

        let report = try await StoreCopier(source: dir.store, destination: destination).copy()

        #expect(TreeState(dir.store) == before, "the source must not change, not even a modification time")
        let copy = TreeState(destination)
        // Not copied: the lock, and what only holds for the source's own files (memory_index.bin is tagged with
        // the source JSON's inode; .clean_shutdown vouches for the source's temp files).
        #expect(copy.files == before.files.filter { !Self.notCopied.contains($0.key) }, "every file, byte for byte, and nothing else")
        #expect(copy.directories == before.directories)
        #expect(report.filesCopied == copy.files.count)
        #expect(report.bytesCopied == Int64(copy.files.values.reduce(0) { $0 + $1.count }))
        #expect(report.recordsVerified == 29 + 2)
        #expect(report.filesVerified == copy.files.count)
        #expect(report.memoryCount == 29 && report.assemblyCount == 2)
        #expect(report.passes == 1 && report.indexReconciledReason == nil && !report.removedLeftoverPartial)
        #expect(!FileManager.default.fileExists(atPath: destination + StoreCopier.partialSuffix))

        // The copy is a store in its own right: opens without repair, same records, searchable.
        let source = try await openReadOnly(dir.store)
        let store = try await openReadOnly(destination)
        #expect(await store.memoryIDs() == source.memoryIDs())
        #expect(await store.assemblyIDs() == ["asm:one", "two"])
        #expect(try await store.memories(await store.memoryIDs()) == source.memories(await source.memoryIDs()))
        #expect(try await store.assembly("asm:one") == source.assembly("asm:one"))
        #expect(try await store.search(vector: vector(5), k: 1).first?.id == "m5")
        #expect(await store.recovery.didSomething == false)
        try await store.close()
        try await source.close()
    }

    @Test("beside an open writer with a non-empty journal: the copy holds the journal and opens to the same records")
    func besideAnIdleWriter() async throws {
        let dir = TemporaryDirectory()
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 10_000 })
        try await writer.saveBatch((0..<10).map { MemoryEntry(id: "w\($0)", content: "w \($0)", embedding: vector($0)) })
        try await writer.save(MemoryEntry(id: "late", content: "only in the journal so far", embedding: vector(99)))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.store + "/memory_index.journal")).count > 0)

        let report = try await StoreCopier(source: dir.store, destination: dir.path + "/copy").copy()
        #expect(report.indexReconciledReason == nil)
        #expect(report.memoryCount == 11)
        let copy = try await openReadOnly(dir.path + "/copy")
        #expect(try await copy.memory("late")?.content == "only in the journal so far")
        try await copy.close()
        try await writer.close()
    }

    @Test("beside a writer saving all the time: the copy opens without repair and every record in it reads back")
    func besideABusyWriter() async throws {
        let dir = TemporaryDirectory()
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 5 })
        try await writer.saveBatch((0..<50).map { MemoryEntry(id: "b\($0)", content: "b \($0)", embedding: vector($0)) })
        let busy = Task {
            var n = 50
            while !Task.isCancelled {
                try await writer.save(MemoryEntry(id: "b\(n % 120)", content: "b \(n)", embedding: vector(n)))
                n += 1
            }
        }
        var copier = StoreCopier(source: dir.store, destination: dir.path + "/copy")
        copier.maxPasses = 2
        let report = try await copier.copy()
        busy.cancel()
        _ = await busy.result
        try await writer.close()

        #expect(report.memoryCount >= 50)
        let copy = try await openReadOnly(dir.path + "/copy")
        let ids = await copy.memoryIDs()
        #expect(ids.count == report.memoryCount)
        let records = try await copy.memories(ids)
        #expect(records.count == ids.count)
        // Whether the copy is an exact snapshot or its index was rebuilt, the index lists exactly the record files.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/copy/memories").filter { $0.hasSuffix(".json") }
        #expect(Set(files.map { String($0.dropLast(5)) }) == Set(ids))
        for record in records { #expect(record.contentHash == ContentHash.of(record.content)) }
        try await copy.close()
    }

    @Test("beside a writer saving batches all the time: no batch is ever in the copy in part")
    func batchesStayWhole() async throws {
        let dir = TemporaryDirectory()
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 8 })
        let pairs = 150
        try await writer.saveBatch((0..<pairs).flatMap { [MemoryEntry(id: "p\($0)a", content: "gen 0"), MemoryEntry(id: "p\($0)b", content: "gen 0")] })
        let busy = Task {
            var generation = 1
            while !Task.isCancelled {
                let pair = generation % pairs
                // Each batch writes both halves of a pair with the same generation: all or nothing.
                try await writer.saveBatch([MemoryEntry(id: "p\(pair)a", content: "gen \(generation)"), MemoryEntry(id: "p\(pair)b", content: "gen \(generation)")])
                generation += 1
            }
        }
        var copier = StoreCopier(source: dir.store, destination: dir.path + "/copy")
        copier.maxPasses = 2
        _ = try await copier.copy()
        busy.cancel()
        _ = await busy.result
        try await writer.close()

        let copy = try await openReadOnly(dir.path + "/copy")
        for pair in 0..<pairs {
            let a = try await copy.memory("p\(pair)a")?.content
            let b = try await copy.memory("p\(pair)b")?.content
            #expect(a != nil && a == b, "pair \(pair): \(a ?? "missing") / \(b ?? "missing")")
        }
        try await copy.close()
    }

    @Test("a source whose index is damaged: copied as it is, and the copy's index rebuilt from the records")
    func damagedSource() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store, memories: 8)
        try writeText(dir.store + "/memory_index.json", "{ not json")
        let before = TreeState(dir.store)
        let report = try await StoreCopier(source: dir.store, destination: dir.path + "/copy").copy()
        #expect(TreeState(dir.store) == before)
        #expect(report.indexReconciledReason?.contains("needs repair") == true)
        #expect(report.memoryCount == 7 && report.assemblyCount == 2)
        let copy = try await openReadOnly(dir.path + "/copy")
        #expect(await copy.memoryIDs().count == 7)
        #expect(try await copy.memory("m3")?.content == "memory 3")
        try await copy.close()
    }

    @Test("an interrupted migration (a partial copy with junk left behind) is finished by running it again")
    func rerunAfterInterruption() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store)
        let destination = dir.path + "/copy"
        let partial = destination + StoreCopier.partialSuffix
        try writeText(partial + "/memories/m1.json", "{ torn")
        try writeText(partial + "/junk/deeper/file.bin", "junk")
        try FileManager.default.createSymbolicLink(atPath: partial + "/link", withDestinationPath: dir.store)

        let plan = try await StoreCopier(source: dir.store, destination: destination).plan()
        #expect(plan.leftoverPartial)
        let report = try await StoreCopier(source: dir.store, destination: destination).copy()
        #expect(report.removedLeftoverPartial)
        #expect(!FileManager.default.fileExists(atPath: partial))
        #expect(TreeState(destination).files == TreeState(dir.store, excluding: Self.notCopied).files)
        #expect(FileManager.default.fileExists(atPath: dir.store + "/memories/m1.json"), "the link in the junk was removed, not followed")
    }

    @Test("a copy that fails half way leaves DEST absent, the source intact, and a rerun succeeds",
          .enabled(if: FaultInjector.isAvailable, "fault injection is compiled into debug builds only"))
    func failureHalfWay() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store)
        let before = TreeState(dir.store)
        let destination = dir.path + "/copy"
        FaultInjector.shared.arm(.init(syscall: .rename, nth: 12, errno: EIO, pathContains: destination + StoreCopier.partialSuffix + "/memories/"))
        defer { FaultInjector.shared.disarm(scope: destination) }
        let error = await #expect(throws: EngramError.self) { try await StoreCopier(source: dir.store, destination: destination).copy() }
        #expect(error?.code == .io)
        #expect(!FileManager.default.fileExists(atPath: destination))
        #expect(FileManager.default.fileExists(atPath: destination + StoreCopier.partialSuffix))
        #expect(TreeState(dir.store) == before)

        let report = try await StoreCopier(source: dir.store, destination: destination).copy()
        #expect(report.removedLeftoverPartial && report.memoryCount == 29)
        #expect(TreeState(destination).files == before.files.filter { !Self.notCopied.contains($0.key) })
    }

    @Test("refuses a DEST that exists and is not empty, or overlaps the source; accepts an empty one")
    func refusals() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store, memories: 5)
        let occupied = dir.path + "/occupied"
        try writeText(occupied + "/precious.txt", "mine")
        let error = await #expect(throws: EngramError.self) { try await StoreCopier(source: dir.store, destination: occupied).copy() }
        #expect(error?.code == .alreadyExists)
        #expect(error?.message.contains("not empty") == true)
        #expect(TreeState(occupied).files.keys.sorted() == ["precious.txt"])
        #expect(!FileManager.default.fileExists(atPath: occupied + StoreCopier.partialSuffix))

        let inside = await #expect(throws: EngramError.self) { try await StoreCopier(source: dir.store, destination: dir.store + "/backups/copy").plan() }
        #expect(inside?.code == .usage)
        let same = await #expect(throws: EngramError.self) { try await StoreCopier(source: dir.store, destination: dir.store + "/").plan() }
        #expect(same?.code == .usage)
        let notAStore = await #expect(throws: EngramError.self) { try await StoreCopier(source: occupied, destination: dir.path + "/x").plan() }
        #expect(notAStore?.code == .notAStore)

        let empty = dir.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let report = try await StoreCopier(source: dir.store, destination: empty).copy()
        #expect(report.memoryCount == 4)
    }

    @Test("a dry run lists the files and changes nothing")
    func dryRun() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store, memories: 5)
        try writeText(dir.store + "/memories/.m1.json.0123456789abcdef.tmp", "a write in flight: copied, its journal line may commit it")
        try writeText(dir.store + "/.memory_index.json.0123456789abcdef.tmp", "an unfinished checkpoint: never needed")
        let before = TreeState(dir.path)
        let plan = try await StoreCopier(source: dir.store, destination: dir.path + "/copy").plan()
        #expect(TreeState(dir.path) == before)
        let paths = Set(plan.files.map(\.path))
        #expect(paths.contains("memory_index.json") && paths.contains("memories/m1.json") && paths.contains("assemblies/asm:one.json"))
        #expect(!paths.contains(".lock"))
        #expect(paths.contains("memories/.m1.json.0123456789abcdef.tmp"))
        #expect(plan.skipped.map(\.path) == [".memory_index.json.0123456789abcdef.tmp"])
        #expect(plan.recordCount == 4 + 2)
        #expect(plan.totalBytes == plan.files.reduce(0) { $0 + $1.size })
    }
}

// MARK: migrate --upgrade

/// A format 0 store (docs/FORMAT-v0.md), written by hand. Returns the bytes of every file as written.
private func makeVersion0Store(_ root: String) throws -> [String: Data] {
    let files: [String: String] = [
        "memories/m1.json": """
            {
              "id": "m1",
              "content": "the first memory",
              "embedding": [0.5, -1.25, 2],
              "timestamp": 1700000000.25,
              "quickrecal_score": 0.75,
              "metadata": {"source": "v0", "n": 1},
              "schema_version": 0,
              "access_count": 3,
              "custom_field": {"kept": true}
            }
            """,
        "memories/m2.json": """
            {"id": "m2", "content": "no embedding", "embedding": null, "timestamp": 1700000100, "quickrecal_score": 0.5, "metadata": {}, "schema_version": 0}
            """,
        "memories/m3.json": """
            {"id": "m3", "content": "time only in the index", "embedding": [1, 1, 1], "quickrecal_score": 0.1, "metadata": {}, "schema_version": 0}
            """,
        "assemblies/a1.json": """
            {"id": "a1", "name": "first two", "description": "d", "memory_ids": ["m1", "m2"], "composite_embedding": [0.5, -1.25, 2],
             "keywords": ["k"], "tags": ["t"], "metadata": {"x": 1}, "timestamp": 1700000300.5, "schema_version": 0}
            """,
        "memory_index.json": """
            {
              "memories": {
                "m1": {"filepath": "memories/m1.json", "timestamp": 1700000000.25},
                "m2": {"filepath": "memories/m2.json", "timestamp": 1700000100},
                "m3": {"filepath": "memories/m3.json", "timestamp": 1700000200.125}
              },
              "assemblies": {"a1": {"filepath": "assemblies/a1.json", "timestamp": 1700000300.5, "member_count": 2}},
              "metadata": {"version": "0", "last_updated": 1700000300.5, "memory_count": 3, "assembly_count": 1, "embedding_dim": 3}
            }
            """,
    ]
    for (path, text) in files { try writeText(root + "/" + path, text) }
    return files.mapValues { Data($0.utf8) }
}

private func seconds(_ value: Double) -> String { Timestamp(microseconds: Int64((value * 1e6).rounded())).description }

@Suite("migrate --upgrade: versioned format migrations")
struct FormatUpgradeTests {
    @Test("opening or repairing an older-format store is refused with the upgrade remedy, and changes nothing")
    func olderFormatRefused() async throws {
        let dir = TemporaryDirectory()
        let original = try makeVersion0Store(dir.store)
        let error = await #expect(throws: EngramError.self) { try await MemoryStore.open(at: dir.store) }
        #expect(error?.code == .unsupportedFormat)
        #expect(error?.remedy?.contains("migrate --upgrade") == true)
        let repair = await #expect(throws: EngramError.self) { try await StoreRepairer(layout: StoreLayout(root: dir.store)).run() }
        #expect(repair?.code == .unsupportedFormat)
        for (name, data) in original {
            #expect(FileManager.default.contents(atPath: dir.store + "/" + name) == data, "\(name) was changed by a refused open")
        }
        _ = try await FormatUpgrader(store: dir.store).upgrade()
        let upgraded = try await MemoryStore.open(at: dir.store)
        #expect(await upgraded.statistics().memoryCount > 0)
        try await upgraded.close()
    }

    @Test("a hand-built format 0 store: dry run changes nothing, the upgrade converts it and keeps a snapshot, a rerun has nothing to do")
    func upgradesVersion0() async throws {
        let dir = TemporaryDirectory()
        let original = try makeVersion0Store(dir.store)
        let upgrader = FormatUpgrader(store: dir.store)
        #expect(try await upgrader.version() == "0")

        let before = TreeState(dir.path)
        let plan = try await upgrader.plan()
        #expect(TreeState(dir.path) == before, "a dry run writes nothing")
        #expect(plan.dryRun && plan.fromVersion == "0" && plan.toVersion == "1" && !plan.nothingToDo)
        #expect(plan.steps.map { "\($0.fromVersion)→\($0.toVersion)" } == ["0→1"])
        #expect(plan.steps.first?.recordsRewritten == 4)
        #expect(plan.snapshotPath?.hasPrefix(dir.store + "/backups/pre-upgrade-") == true)

        let report = try await upgrader.upgrade()
        #expect(report.fromVersion == "0" && report.toVersion == "1" && !report.dryRun)
        #expect(report.steps.first?.recordsRewritten == 4)
        #expect(report.memoryCount == 3 && report.assemblyCount == 1 && report.recordsReadBack == 4)

        // The snapshot holds the old files, byte for byte.
        let snapshot = try #require(report.snapshotPath)
        #expect(snapshot.hasPrefix(dir.store + "/backups/pre-upgrade-"))
        let kept = TreeState(snapshot)
        for (path, bytes) in original { #expect(kept.files[path] == bytes, "\(path) in the snapshot") }
        #expect(try readJSON(snapshot + "/pre-upgrade.json")["from_version"] == "0")
        // …in files of its own: an edit of a record in place after the upgrade cannot reach the snapshot.
        for name in ["m1.json", "m2.json"] {
            #expect(inode(snapshot + "/memories/" + name) != inode(dir.store + "/memories/" + name))
            #expect(linkCount(snapshot + "/memories/" + name) == 1, "\(name) is hard-linked")
        }

        // Records: timestamps converted, hash added, schema 1, everything else kept.
        let m1 = try readJSON(dir.store + "/memories/m1.json")
        #expect(m1["created_at"]?.stringValue == seconds(1700000000.25))
        #expect(m1["updated_at"]?.stringValue == seconds(1700000000.25))
        #expect(m1["content_hash"]?.stringValue == ContentHash.of("the first memory"))
        #expect(m1["schema_version"] == .int(1))
        #expect(m1["timestamp"] == nil)
        #expect(m1["custom_field"]?["kept"] == .bool(true))
        #expect(m1["metadata"]?["source"] == "v0")
        #expect(try readJSON(dir.store + "/memories/m3.json")["created_at"]?.stringValue == seconds(1700000200.125), "from the index")
        let a1 = try readJSON(dir.store + "/assemblies/a1.json")
        #expect(a1["created_at"]?.stringValue == seconds(1700000300.5))
        #expect(a1["memory_ids"] == ["m1", "m2"])

        // The index is format 1.
        let index = try readJSON(dir.store + "/memory_index.json")
        #expect(index["metadata"]?["version"] == "1")
        #expect(index["metadata"]?["format"] == "engram")
        #expect(index["memories"]?["m2"]?["content_hash"]?.stringValue == ContentHash.of("no embedding"))

        // The store opens, without repair, and its records read back.
        let store = try await openReadOnly(dir.store)
        let m = try #require(try await store.memory("m1"))
        #expect(m.embedding == [0.5, -1.25, 2] && m.quickrecalScore == 0.75 && m.accessCount == 3)
        #expect(m.createdAt == Timestamp(microseconds: 1_700_000_000_250_000))
        #expect(try await store.assembly("a1")?.name == "first two")
        try await store.close()
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.autoRepair = false })
        #expect(try await writer.search(vector: [0.5, -1.25, 2], k: 1).first?.id == "m1")
        try await writer.close()

        let again = try await upgrader.upgrade()
        #expect(again.nothingToDo && again.snapshotPath == nil)
        #expect(try await upgrader.plan().nothingToDo)
    }

    @Test("a record that cannot be converted refuses the upgrade before anything changes")
    func refusesBadRecords() async throws {
        let dir = TemporaryDirectory()
        _ = try makeVersion0Store(dir.store)
        try writeText(dir.store + "/memories/bad.json", #"{"id": "bad", "schema_version": 0, "timestamp": 1}"#)
        let before = TreeState(dir.path)
        let error = await #expect(throws: EngramError.self) { try await FormatUpgrader(store: dir.store).upgrade() }
        #expect(error?.code == .invalidRecord)
        #expect(error?.message.contains("memories/bad.json") == true)
        #expect(error?.message.contains("content") == true)
        var after = TreeState(dir.path)
        after.files[ "store/.lock"] = nil  // the upgrade took the writer lock
        after.mtimes["store/.lock"] = nil
        #expect(after == before)
    }

    @Test("an upgrade interrupted after some records were rewritten is finished by running it again",
          .enabled(if: FaultInjector.isAvailable, "fault injection is compiled into debug builds only"))
    func interruptedUpgrade() async throws {
        let dir = TemporaryDirectory()
        let original = try makeVersion0Store(dir.store)
        FaultInjector.shared.arm(.init(syscall: .rename, nth: 2, errno: EIO, pathContains: dir.store + "/memories/"))
        defer { FaultInjector.shared.disarm(scope: dir.store) }
        await #expect(throws: EngramError.self) { try await FormatUpgrader(store: dir.store).upgrade() }
        #expect(try await FormatUpgrader(store: dir.store).version() == "0", "the index is written last")
        #expect(try readJSON(dir.store + "/memories/m1.json")["schema_version"] == .int(1))
        #expect(try readJSON(dir.store + "/memories/m2.json")["schema_version"] == .int(0))

        let report = try await FormatUpgrader(store: dir.store).upgrade()
        #expect(report.steps.first?.recordsAlreadyCurrent == 1)
        #expect(report.steps.first?.recordsRewritten == 3)
        #expect(report.recordsReadBack == 4)
        // The first snapshot, taken before anything changed, still holds the original files.
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: dir.store + "/backups").filter { $0.hasPrefix("pre-upgrade-") }.sorted()
        #expect(snapshots.count == 2)
        #expect(TreeState(dir.store + "/backups/" + snapshots[0]).files["memories/m1.json"] == original["memories/m1.json"])
    }

    @Test("a current store has nothing to do and is not touched")
    func currentStore() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir.store, memories: 5)
        let before = TreeState(dir.store)
        let report = try await FormatUpgrader(store: dir.store).upgrade()
        #expect(report.nothingToDo && report.fromVersion == "1" && report.steps.isEmpty)
        #expect(TreeState(dir.store) == before)
    }

    /// A step that only rewrites the version, for planner tests.
    struct VersionStep: FormatMigration {
        let fromVersion: String
        let toVersion: String
        var description: String { "\(fromVersion) to \(toVersion)" }
        func survey(_ layout: StoreLayout) throws -> FormatMigrationStepReport { FormatMigrationStepReport(self) }
        func apply(_ layout: StoreLayout) throws -> FormatMigrationStepReport { FormatMigrationStepReport(self) }
    }

    @Test("the planner chains steps from any known version, and refuses unknown, newer, ambiguous or looping ones")
    func planner() throws {
        let registry = FormatMigrationRegistry(currentVersion: "3", migrations: [
            VersionStep(fromVersion: "2", toVersion: "3"), VersionStep(fromVersion: "0", toVersion: "1"), VersionStep(fromVersion: "1", toVersion: "2"),
        ])
        #expect(try registry.plan(from: "0").map(\.label) == ["0 → 1", "1 → 2", "2 → 3"])
        #expect(try registry.plan(from: "2").map(\.label) == ["2 → 3"])
        #expect(try registry.plan(from: "3").isEmpty)
        let unknown = #expect(throws: EngramError.self) { try registry.plan(from: "x") }
        #expect(unknown?.message.contains("no migration from format version x") == true)
        let newer = #expect(throws: EngramError.self) { try registry.plan(from: "4") }
        #expect(newer?.message.contains("newer than this Engram's 3") == true)
        let ambiguous = FormatMigrationRegistry(currentVersion: "1", migrations: [VersionStep(fromVersion: "0", toVersion: "1"), VersionStep(fromVersion: "0", toVersion: "1")])
        #expect(throws: EngramError.self) { try ambiguous.plan(from: "0") }
        let loop = FormatMigrationRegistry(currentVersion: "9", migrations: [VersionStep(fromVersion: "0", toVersion: "1"), VersionStep(fromVersion: "1", toVersion: "0")])
        #expect(throws: EngramError.self) { try loop.plan(from: "0") }
        #expect(try FormatMigrationRegistry.standard.plan(from: "0").map(\.label) == ["0 → 1"])
        #expect(FormatMigrationRegistry.standard.currentVersion == "1")
    }
}

// MARK: migrate --from-synthians

@Suite("migrate --from-synthians: the Synthians Memory Core format")
struct SynthiansImportTests {
    @Test("bare NaN and ±Infinity outside strings become null; strings and other tokens are left alone")
    func sanitizer() throws {
        let text = #"{"a": NaN, "b": [1, -Infinity,Infinity], "s": "NaN and Infinity \"NaN\"", "NaN": -1.5e3}"#
        let (bytes, replaced) = SynthiansJSON.sanitize(Array(text.utf8))
        #expect(replaced == 3)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"a": null, "b": [1, null,null], "s": "NaN and Infinity \"NaN\"", "NaN": -1.5e3}"#)
        let value = try SynthiansJSON.parse(Array(text.utf8)).value
        #expect(value["s"] == #"NaN and Infinity "NaN""#)
        #expect(SynthiansJSON.sanitize(Array(#"[NaNa]"#.utf8)).replaced == 0, "not a bare token")
        #expect(SynthiansJSON.sanitize(Array("NaN".utf8)).bytes == Array("null".utf8))
    }

    @Test("the real Synthians store: every record imported, the NaN memory without its embedding, fields mapped, searchable, rerunnable",
          .enabled(if: synthiansFixtureExists, "the Synthians fixture is not at ../shared/fixtures/synthians-store (it is never copied into the repository)"))
    func fixture() async throws {
        let dir = TemporaryDirectory()
        let fixtureBefore = TreeState(synthiansFixture)
        let importer = SynthiansImporter(source: synthiansFixture)

        let plan = try await importer.plan(destination: nil)
        #expect(!FileManager.default.fileExists(atPath: dir.store), "a dry run creates nothing")
        #expect(plan.importedMemories.count == 41 && plan.importedAssemblies.count == 3 && plan.created == 44)

        let store = try await MemoryStore.open(at: dir.store)
        let report = try await importer.run(into: store)
        #expect(report.succeeded && report.failures.isEmpty)
        #expect(report.importedMemories.count == 41)
        #expect(report.importedAssemblies.count == 3)
        #expect(report.created == 44 && report.updated == 0 && report.unchanged == 0)
        #expect(report.skipped.isEmpty)
        #expect(report.memoriesFromAssemblyCopies.isEmpty)
        #expect(report.memoriesWithoutEmbedding.map(\.id) == ["mem_425138588bb0"])
        #expect(report.memoriesWithoutEmbedding.first?.reason.contains("NaN") == true)
        #expect(Set(report.ignoredFiles.map(\.id)) == ["faiss_index.bin", "faiss_index.bin.mapping.json", "id_to_index.json"])
        #expect(await store.memoryIDs().count == 41)
        #expect(await store.assemblyIDs().count == 3)
        #expect(await store.statistics().vectorCount == 40)
        #expect(try await store.memory("mem_425138588bb0")?.embedding == nil)
        #expect(try await store.memory("mem_425138588bb0")?.content == "vector with NaN written by the peer")

        // A few records against the fixture's own JSON.
        for name in ["mem_025b4e2ddf8e", "mem_9748ca2ce15b", "mem_4504b8ec6563", "mem_d35dcaa9422c"] {
            let source = try SynthiansJSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: synthiansFixture + "/memories/\(name).json")))).value
            let memory = try #require(try await store.memory(name))
            #expect(memory.content == source["content"]?.stringValue)
            #expect(.object(memory.metadata) == source["metadata"])
            #expect(memory.quickrecalScore == source["quickrecal_score"]?.doubleValue)
            #expect(memory.embedding == source["embedding"]?.floatArray())
            #expect(memory.createdAt == Timestamp(parsing: source["timestamp"]?.stringValue ?? ""))
            #expect(memory.accessCount == source["access_count"]?.int64Value)
            #expect(memory.lastAccessTime.flatMap(Timestamp.init(parsing:)) == source["last_access_time"]?.stringValue.flatMap(Timestamp.init(parsing:)))
            #expect(memory.lastAccessTime?.hasSuffix("Z") == true)
            #expect(memory.extraFields["hyperbolic_embedding"] == source["hyperbolic_embedding"])
            #expect(memory.extraFields.contains("quickrecal_updated"))
            #expect(memory.contentHash == ContentHash.of(memory.content))
            // Found by its own embedding: itself, at distance 0.
            let embedding = try #require(memory.embedding)
            let hit = try #require(try await store.search(vector: embedding, k: 1).first)
            #expect(hit.id == name && hit.distance! < 1e-4)
        }

        // Assemblies: the members are the ids of the copies the fixture embeds, in order.
        for file in try FileManager.default.contentsOfDirectory(atPath: synthiansFixture + "/assemblies") {
            let source = try SynthiansJSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: synthiansFixture + "/assemblies/" + file)))).value
            let id = try #require(source["id"]?.stringValue)
            let assembly = try #require(try await store.assembly(id))
            #expect(assembly.memoryIds == source["memories"]?.arrayValue?.compactMap { $0["id"]?.stringValue })
            #expect(assembly.name == source["name"]?.stringValue)
            #expect(assembly.keywords == source["keywords"]?.arrayValue?.compactMap(\.stringValue))
            #expect(assembly.tags == source["tags"]?.arrayValue?.compactMap(\.stringValue))
            #expect(assembly.metadata["topics"] == source["topics"])
            #expect(assembly.createdAt == Timestamp(parsing: source["creation_time"]?.stringValue ?? ""))
            #expect(assembly.extraFields["is_active"] == .bool(true))
            #expect(assembly.extraFields["memories"] == nil && assembly.extraFields["composite_embedding"] == nil)
            // Recomputed by the store: the mean of the members.
            let members = try await store.memories(assembly.memoryIds).compactMap(\.embedding)
            let composite = try #require(assembly.compositeEmbedding)
            let mean = (0..<composite.count).map { i in members.reduce(0.0) { $0 + Double($1[i]) } / Double(members.count) }
            #expect(zip(composite, mean).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        }
        try await store.close()

        // Running it again updates in place: same counts, nothing rewritten.
        let reopened = try await MemoryStore.open(at: dir.store)
        let again = try await importer.run(into: reopened)
        #expect(again.succeeded && again.importedMemories.count == 41 && again.importedAssemblies.count == 3)
        #expect(again.unchanged == 44 && again.created == 0 && again.updated == 0)
        #expect(await reopened.memoryIDs().count == 41)
        #expect(await reopened.assemblyIDs().count == 3)
        try await reopened.close()
        #expect(TreeState(synthiansFixture) == fixtureBefore, "the source is only read")
    }

    @Test("edge cases of a hand-made Synthians store: bad ids, clamped scores, members only in assembly copies, Infinity, bad files")
    func edgeCases() async throws {
        let dir = TemporaryDirectory()
        let source = dir.path + "/synthians"
        let memory = { (id: String, extra: String) in
            #"{"id": "\#(id)", "content": "text of \#(id)", "embedding": [1.0, 2.0, 3.0], "timestamp": "2025-01-02T03:04:05.5+01:00", "quickrecal_score": 0.4, "metadata": {"k": "v"}\#(extra)}"#
        }
        try writeText(source + "/memories/mem_a.json", memory("mem_a", #", "hyperbolic_embedding": [0.1], "created_at": "kept aside""#))
        try writeText(source + "/memories/mem_b.json", memory("mem_b", "").replacingOccurrences(of: "0.4", with: "1.7"))
        try writeText(source + "/memories/mem_inf.json", memory("mem_inf", "").replacingOccurrences(of: "[1.0, 2.0, 3.0]", with: "[1.0, -Infinity, 3.0]"))
        try writeText(source + "/memories/mem_dim.json", memory("mem_dim", "").replacingOccurrences(of: "[1.0, 2.0, 3.0]", with: "[1.0, 2.0]"))
        try writeText(source + "/memories/bad id.json", memory("../bad id", ""))
        try writeText(source + "/memories/torn.json", #"{"id": "mem_torn", "content": "#)
        try writeText(source + "/assemblies/asm-1.json", """
            {"id": "asm:1", "assembly_id": "asm:1", "name": "group", "keywords": ["x", 3], "tags": ["t"], "topics": ["topic"],
             "creation_time": "2025-01-01T00:00:00+00:00", "is_active": false, "composite_embedding": [9, 9, 9],
             "memories": [\(memory("mem_a", "")), \(memory("mem_only_in_copy", "")), \(memory("bad/id", "")), "mem_missing", "mem_b"]}
            """)
        try writeText(source + "/memory_index.json", """
            {"mem_a": {"path": "memories/mem_a.json", "type": "memory", "timestamp": "2025-01-02T03:04:05+00:00"},
             "mem_gone": {"path": "../../etc/passwd", "type": "memory", "timestamp": "2025-01-02T03:04:05+00:00"}}
            """)
        try writeText(source + "/faiss_index.bin", "not read")

        let store = try await MemoryStore.open(at: dir.store)
        let report = try await SynthiansImporter(source: source).run(into: store)
        #expect(report.succeeded)
        #expect(report.importedMemories == ["mem_a", "mem_b", "mem_dim", "mem_inf", "mem_only_in_copy"])
        #expect(report.importedAssemblies == ["asm:1"])
        #expect(report.memoriesFromAssemblyCopies.map(\.id) == ["mem_only_in_copy"])
        let withoutEmbedding = Dictionary(uniqueKeysWithValues: report.memoriesWithoutEmbedding.map { ($0.id, $0.reason) })
        #expect(withoutEmbedding["mem_inf"]?.contains("NaN/Infinity") == true)
        #expect(withoutEmbedding["mem_dim"]?.contains("dimension is 3") == true)
        #expect(Set(report.skipped.map(\.id)) == ["../bad id", "memories/torn.json", "mem_gone"])
        let notes = report.notes.map { "\($0.id): \($0.reason)" }
        #expect(notes.contains { $0.hasPrefix("mem_b: quickrecal_score 1.7") })
        #expect(notes.contains { $0.hasPrefix("asm:1: member dropped: invalid id") })
        #expect(notes.contains { $0.hasPrefix("asm:1: member mem_missing dropped") })
        #expect(notes.contains { $0.contains("keywords") })

        let a = try #require(try await store.memory("mem_a"))
        #expect(a.createdAt == Timestamp(parsing: "2025-01-02T02:04:05.5Z"))
        #expect(a.extraFields["hyperbolic_embedding"] == [0.1])
        #expect(a.extraFields["synthians_created_at"] == "kept aside")
        let b = try #require(try await store.memory("mem_b"))
        #expect(b.quickrecalScore == 1 && b.extraFields["quickrecal_score_unclamped"] == .double(1.7))
        let assembly = try #require(try await store.assembly("asm:1"))
        #expect(assembly.memoryIds == ["mem_a", "mem_only_in_copy", "mem_b"])
        #expect(assembly.keywords == ["x"] && assembly.metadata["topics"] == ["topic"] && assembly.extraFields["is_active"] == .bool(false))
        #expect(assembly.extraFields["assembly_id"] == nil)
        #expect(assembly.compositeEmbedding == [1, 2, 3], "recomputed from the members, not the source's [9, 9, 9]")
        try await store.close()
    }

    @Test("a directory that is not a Synthians store, or is an Engram store, is refused")
    func refusals() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.close()
        let engram = await #expect(throws: EngramError.self) { try await SynthiansImporter(source: dir.store).plan(destination: nil) }
        #expect(engram?.message.contains("Engram store") == true)
        try FileManager.default.createDirectory(atPath: dir.path + "/empty", withIntermediateDirectories: true)
        let empty = await #expect(throws: EngramError.self) { try await SynthiansImporter(source: dir.path + "/empty").plan(destination: nil) }
        #expect(empty?.code == .notAStore)
    }
}
