import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

@Suite("Backup and restore")
struct BackupRestoreTests {
    /// Counts, per batch number found in the records' content ("batch N item M"), how many of its items a store holds.
    static func batchCounts(_ path: String) async throws -> [Int: Int] {
        let store = try await MemoryStore.open(at: path, configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
        let memories = try await store.memories(await store.memoryIDs())
        try await store.close()
        var counts: [Int: Int] = [:]
        for m in memories {
            let words = m.content.split(separator: " ")
            if words.first == "batch", let n = Int(words[1]) { counts[n, default: 0] += 1 }
        }
        return counts
    }

    @Test("an in-process backup under concurrent writes is a point-in-time, verified store; restore brings it back")
    func backupUnderWrites() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<100).map { MemoryEntry(id: "base\($0)", content: "base \($0)", embedding: vector($0 + 1000)) })
        let writer = Task {
            for batch in 0..<60 {
                try await store.saveBatch((0..<10).map { MemoryEntry(id: "b\(batch)-\($0)", content: "batch \(batch) item \($0)", embedding: vector(batch * 10 + $0)) })
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        let report = try await store.backup(to: dir.path + "/snap")
        try await writer.value
        #expect(report.verified)
        #expect(report.memories >= 100)
        #expect(report.mode == .copy && report.linked == 0)
        #expect(report.cloned + report.copied > 100)
        for (batch, count) in try await Self.batchCounts(dir.path + "/snap") { #expect(count == 10, "batch \(batch) is partial in the snapshot: \(count)") }
        let final = await store.statistics().memoryCount
        try await store.close()
        #expect(final == 700)
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.path + "/snap")).run().isConsistent)

        // Restore replaces the content atomically and keeps the previous content beside the store.
        let restored = try await StoreRestore.restore(snapshot: dir.path + "/snap", into: dir.store)
        #expect(restored.memories == report.memories)
        let previous = try #require(restored.previous)
        #expect(FileManager.default.fileExists(atPath: previous + "/memory_index.json"))
        let back = try await MemoryStore.open(at: dir.store)
        #expect(await back.statistics().memoryCount == report.memories)
        #expect(try await back.search(vector: vector(1003), k: 1).first?.id == "base3")
        try await back.close()
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().isConsistent)
        // The restored store's files are its own, not the snapshot's; and later writes leave the snapshot alone.
        #expect(inode(dir.store + "/memories/base3.json") != inode(dir.path + "/snap/memories/base3.json"))
        let after = try await MemoryStore.open(at: dir.store)
        try await after.save(MemoryEntry(id: "base3", content: "changed after restore"))
        try await after.close()
        let snapshot = try await MemoryStore.open(at: dir.path + "/snap", configuration: config { $0.readOnly = true })
        #expect(try await snapshot.memory("base3")?.content == "base 3")
        try await snapshot.close()
    }

    @Test("a backup beside a writer process includes whole batches only and verifies",
          .enabled(if: BuiltExecutable.path("engram-crash-writer") != nil, "engram-crash-writer is not built"))
    func backupBesideWriterProcess() async throws {
        for attempt in 0..<5 {
            let dir = TemporaryDirectory("beside-\(attempt)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltExecutable.path("engram-crash-writer")!)
            process.arguments = [dir.store, "batch", "100000", String(attempt)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for real records (at least three batches), so the snapshot has something to prove.
            var waited = 0
            while ((try? FileManager.default.contentsOfDirectory(atPath: dir.store + "/memories"))?.filter { $0.hasSuffix(".json") }.count ?? 0) < 150, waited < 3000 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            try await Task.sleep(for: .milliseconds(UInt64.random(in: 0...200)))
            let report = try await StoreSnapshot.backup(store: dir.store, to: dir.path + "/snap")
            process.terminate()
            process.waitUntilExit()
            #expect(report.verified)
            #expect(report.writerWasActive)
            #expect(report.checkpointGateHeld)
            #expect(report.passes == 1, "with the gate held no checkpoint can change the index: \(report.passes) passes")
            // The writer's batches are 50 memories m<n % 400> with content "memory <n> …"; each batch in the
            // snapshot is whole: for each batch number, 0 or 50 records carry its content.
            let store = try await MemoryStore.open(at: dir.path + "/snap", configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
            let memories = try await store.memories(await store.memoryIDs())
            try await store.close()
            var perBatch: [Int: Int] = [:]
            for m in memories { if let n = Int(m.content.split(separator: " ")[1]) { perBatch[n / 50, default: 0] += 1 } }
            // Ids repeat every 8 batches, so the last 8 batches cannot have been overwritten: each must be whole.
            let newest = perBatch.keys.max() ?? 0
            for batch in max(0, newest - 7)...newest {
                #expect(perBatch[batch] == 50, "batch \(batch) (newest \(newest)) is partial in the snapshot: \(perBatch[batch] ?? 0) of 50; all: \(perBatch.sorted { $0.key < $1.key })")
            }
        }
    }

    @Test("restore refuses an unverifiable snapshot and a store with a running writer; backup refuses a non-empty destination")
    func refusals() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "a"))
        let good = try await store.backup(to: dir.path + "/good")
        #expect(good.verified)
        let locked = await #expect(throws: EngramError.self) { try await StoreRestore.restore(snapshot: dir.path + "/good", into: dir.store) }
        #expect(locked?.code == .locked)
        try await store.close()
        try FileManager.default.copyItem(atPath: dir.path + "/good", toPath: dir.path + "/bad")
        try "garbage".write(toFile: dir.path + "/bad/memories/a.json", atomically: false, encoding: .utf8)
        let bad = await #expect(throws: EngramError.self) { try await StoreRestore.restore(snapshot: dir.path + "/bad", into: dir.store) }
        #expect(bad?.code == .corrupt)
        let nonEmpty = await #expect(throws: EngramError.self) { try await StoreSnapshot.backup(store: dir.store, to: dir.path + "/bad") }
        #expect(nonEmpty?.code == .alreadyExists)
        // The store is untouched by the refused restores.
        let again = try await MemoryStore.open(at: dir.store)
        #expect(try await again.memory("a")?.content == "a")
        try await again.close()
        // Restoring into a new path creates the store there.
        let fresh = try await StoreRestore.restore(snapshot: dir.path + "/good", into: dir.path + "/new")
        #expect(fresh.previous == nil && fresh.memories == 1)
    }

    @Test("a backup survives damage to the store's files: an in-place edit after the backup does not reach it")
    func backupIndependentOfStoreFiles() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<20).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: vector($0)) })
        try await store.close()
        let report = try await StoreSnapshot.backup(store: dir.store, to: dir.path + "/snap")
        #expect(report.verified && report.mode == .copy && report.linked == 0)
        #expect(report.cloned + report.copied >= 20)
        for n in 0..<20 {
            #expect(inode(dir.path + "/snap/memories/m\(n).json") != inode(dir.store + "/memories/m\(n).json"))
            #expect(linkCount(dir.store + "/memories/m\(n).json") == 1)
        }
        // The user damages a record in place (same inode): the backup still verifies and restores it.
        try overwriteInPlace(dir.store + "/memories/m7.json", with: "garbage")
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.path + "/snap")).run().isConsistent)
        let restored = try await StoreRestore.restore(snapshot: dir.path + "/snap", into: dir.store)
        #expect(restored.memories == 20)
        let back = try await MemoryStore.open(at: dir.store)
        #expect(try await back.memory("m7")?.content == "memory 7")
        try await back.close()
        // The pre-restore content is kept beside the store, damage included (nothing is thrown away).
        let previous = try #require(restored.previous)
        #expect(try String(contentsOfFile: previous + "/memories/m7.json", encoding: .utf8) == "garbage")
    }

    @Test("--link (hard links) is fast but shares files: an in-place edit reaches the backup, which then refuses to restore")
    func hardLinkBackupSharesFiles() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.saveBatch((0..<5).map { MemoryEntry(id: "m\($0)", content: "memory \($0)") })
        let report = try await store.backup(to: dir.path + "/snap", mode: .hardLink)
        try await store.close()
        #expect(report.verified && report.mode == .hardLink && report.linked >= 5)
        #expect(inode(dir.path + "/snap/memories/m2.json") == inode(dir.store + "/memories/m2.json"))
        try overwriteInPlace(dir.store + "/memories/m2.json", with: "garbage")
        let refused = await #expect(throws: EngramError.self) { try await StoreRestore.restore(snapshot: dir.path + "/snap", into: dir.store) }
        #expect(refused?.code == .corrupt)
    }
}
