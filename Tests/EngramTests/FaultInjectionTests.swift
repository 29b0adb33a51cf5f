import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Failure paths, forced through the debug-only syscall fault injector. Each rule is scoped to the test's own
/// directory so tests running in parallel do not see each other's faults.
@Suite("Fault injection", .enabled(if: FaultInjector.isAvailable, "fault injection is compiled into debug builds only"))
struct FaultInjectionTests {
    let injector = FaultInjector.shared

    @Test("EIO from the journal's fdatasync (the commit point): not acknowledged, the previous version intact, the store keeps working")
    func fsyncEIO() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        let v1 = try await store.save(MemoryEntry(id: "a", content: "version 1"))
        injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store + "/memory_index.journal"))
        defer { injector.disarm(scope: dir.store) }
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "a", content: "version 2")) }
        #expect(error?.code == .io)
        #expect(error?.errno == EIO)
        #expect(error?.remedy?.contains("not acknowledged") == true)
        #expect(try await store.memory("a") == v1)
        #expect(dir.files(in: "memories") == ["a.json"])  // the temp file written before the line is gone
        #expect(try MemoryEntry.decodeFile(Array(Data(contentsOf: URL(fileURLWithPath: dir.store + "/memories/a.json"))), path: "a", expectedID: "a") == v1)
        // The fault was one-shot: the store works again (a new write, never a retry of the failed one).
        let v3 = try await store.save(MemoryEntry(id: "a", content: "version 3"))
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(try await again.memory("a") == v3)
        try await again.close()
    }

    @Test("a save, a batch and a delete never fsync a record file or directory: the journal line is their commit point")
    func noRecordFsyncPerSave() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        // Every fsync under memories/ fails from now on: a save that made one would fail.
        injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store + "/memories", sticky: true))
        try await store.save(MemoryEntry(id: "a", content: "a"))
        try await store.saveBatch((0..<20).map { MemoryEntry(id: "b\($0)", content: "b \($0)") })
        #expect(try await store.deleteMemory("b3"))
        injector.disarm(scope: dir.store)
        #expect(await store.memoryIDs().count == 20)
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.memoryIDs().count == 20)
        #expect(!(await again.containsMemory("b3")))
        try await again.close()
    }

    @Test("ENOSPC while writing: a clear error naming the path, the previous state intact")
    func noSpace() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "kept"))
        injector.arm(.init(syscall: .write, errno: ENOSPC, pathContains: dir.store + "/memories/"))
        defer { injector.disarm(scope: dir.store) }
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "b", content: "new")) }
        #expect(error?.code == .noSpace)
        #expect(error?.path?.contains("/memories/.b.json") == true)
        #expect(error?.remedy?.contains("free space") == true)
        #expect(!(await store.containsMemory("b")))
        #expect(dir.files(in: "memories") == ["a.json"])
        try await store.save(MemoryEntry(id: "b", content: "after the disk was freed"))
        try await store.close()
    }

    @Test("a failed journal append: not acknowledged, the journal truncated back, later writes fine")
    func journalFailure() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        try await store.save(MemoryEntry(id: "a", content: "a"))
        injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store + "/memory_index.journal"))
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "b", content: "b")) }
        injector.disarm(scope: dir.store)
        #expect(error?.errno == EIO)
        #expect(!(await store.containsMemory("b")))
        #expect(dir.files(in: "memories") == ["a.json"])
        try await store.save(MemoryEntry(id: "c", content: "c"))
        // Simulate a crash (no checkpoint): the journal must hold a and c, and nothing torn.
        let journal = try String(contentsOfFile: dir.store + "/memory_index.journal", encoding: .utf8)
        #expect(journal.split(separator: "\n").count == 2)
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.memoryIDs() == ["a", "c"])
        try await again.close()
    }

    @Test("a batch that fails midway leaves none of its records and no temp files")
    func batchAllOrNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "m3", content: "old m3"))
        // The 17th temp file cannot be written (before the commit point).
        injector.arm(.init(syscall: .write, nth: 17, errno: EIO, pathContains: dir.store + "/memories/."))
        defer { injector.disarm(scope: dir.store) }
        let batch = (0..<40).map { MemoryEntry(id: "m\($0)", content: "new \($0)") }
        await #expect(throws: EngramError.self) { try await store.saveBatch(batch) }
        #expect(await store.memoryIDs() == ["m3"])
        #expect(dir.files(in: "memories") == ["m3.json"])
        #expect(try await store.memory("m3")?.content == "old m3")
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.memoryIDs() == ["m3"])
        try await again.close()
    }

    @Test("syncfs failing at a checkpoint: never retried; the journaled records are rewritten one by one, each fsynced, before the journal is emptied")
    func checkpointSyncfsFailure() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        try await store.saveBatch([MemoryEntry(id: "a", content: "a"), MemoryEntry(id: "b", content: "b")])
        try await store.save(MemoryEntry(id: "c", content: "c"))
        #expect(try await store.deleteMemory("b"))
        let syncfs = injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store, pathSuffix: "/store"))
        try await store.checkpoint()
        #expect(injector.fired(syncfs))
        injector.disarm(scope: dir.store)
        #expect(dir.fileSize("memory_index.journal") == 0)
        try await store.close()
        let again = try await MemoryStore.open(at: dir.store)
        #expect(await again.memoryIDs() == ["a", "c"])
        try await again.close()
    }

    @Test("syncfs and the fallback's fsync both failing: the checkpoint fails and the journal keeps every line (fsyncgate)")
    func checkpointFailsKeepsJournal() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        try await store.save(MemoryEntry(id: "a", content: "a"))
        try await store.save(MemoryEntry(id: "b", content: "b"))
        let journalBefore = dir.fileSize("memory_index.journal")
        #expect(journalBefore > 0)
        injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store, pathSuffix: "/store"))
        injector.arm(.init(syscall: .fsync, errno: EIO, pathContains: dir.store + "/memories/", sticky: true))
        let error = await #expect(throws: EngramError.self) { try await store.checkpoint() }
        injector.disarm(scope: dir.store)
        #expect(error?.errno == EIO)
        #expect(dir.fileSize("memory_index.journal") == journalBefore)
        // Open replays the journal: nothing acknowledged is lost.
        let again = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(await again.memoryIDs() == ["a", "b"])
        try await again.close()
        try await store.close()
    }

    @Test("a uv_fs_unlink that fails synchronously resumes its caller once with the error; the memory stays")
    func deleteFailure() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store)
        try await store.save(MemoryEntry(id: "a", content: "a"))
        injector.arm(.init(syscall: .unlink, errno: EACCES, pathContains: dir.store + "/memories/a.json"))
        let error = await #expect(throws: EngramError.self) { try await store.deleteMemory("a") }
        injector.disarm(scope: dir.store)
        #expect(error?.code == .permissionDenied)
        #expect(error?.remedy?.contains("chmod") == true)
        #expect(try await store.memory("a")?.content == "a")
        #expect(try await store.deleteMemory("a"))
        #expect(!(await store.containsMemory("a")))
        try await store.close()
    }

    @Test("every write, fsync (syncfs included), rename and open of a small workload failing once, in turn: never a lost or torn record")
    func everySyscallFailingOnce() async throws {
        // Count the calls of a fixed workload, then fail each one in turn (ENOSPC, then EIO).
        func workload(_ store: MemoryStore) async throws {
            try await store.save(MemoryEntry(id: "a", content: "a2", embedding: [1, 2]))
            try await store.saveBatch([MemoryEntry(id: "b", content: "b2"), MemoryEntry(id: "c", content: "c2", embedding: [3, 4])])
            try await store.deleteMemory("x")
            try await store.save(MemoryAssembly(id: "g", name: "g", memoryIds: ["a", "c"]))
        }
        func seed(_ path: String) async throws {
            let store = try await MemoryStore.open(at: path)
            try await store.saveBatch([MemoryEntry(id: "a", content: "a1", embedding: [0, 1]), MemoryEntry(id: "x", content: "x1")])
            try await store.close()
        }
        // Fail the n-th call of each kind for n = 1, 2, … until the fault no longer fires (n is past the
        // workload's last call of that kind).
        var failures = 0
        var runs = 0
        for call in [Syscall.write, .fsync, .rename, .open] {
            for errno in [ENOSPC, EIO] {
                var n = 1
                while n < 200 {
                    let dir = TemporaryDirectory()
                    try await seed(dir.store)
                    // The store's own path (no slash): the checkpoint's syncfs names the store root itself.
                    let token = injector.arm(.init(syscall: call, nth: n, errno: errno, pathContains: dir.store))
                    var failed = false
                    do {
                        let store = try await MemoryStore.open(at: dir.store)
                        do { try await workload(store) } catch {
                            try? await store.close()
                            throw error
                        }
                        try await store.close()
                    } catch let error as EngramError {
                        failed = true
                        #expect(error.errno == errno, "\(call) #\(n): the error must carry the injected errno: \(error)")
                    }
                    let hit = injector.fired(token)
                    injector.disarm(scope: dir.store)
                    runs += 1
                    // Reopen as a user would and check: every file parses, index == files, acknowledged data present.
                    let check = try await MemoryStore.open(at: dir.store)
                    let ids = Set(await check.memoryIDs())
                    let files = Set(dir.files(in: "memories").filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
                    #expect(ids == files, "\(call) #\(n) \(errno): index \(ids) vs files \(files)")
                    #expect(dir.files(in: "memories").allSatisfy { !$0.hasSuffix(".tmp") })
                    for id in ids { _ = try await check.memory(id) }  // parses, no torn file
                    #expect(ids.contains("a"))  // seeded and never deleted: never lost
                    if !failed {
                        #expect(ids == ["a", "b", "c"], "\(call) #\(n): the workload succeeded, so all of it must be there")
                    } else {
                        failures += 1
                    }
                    try await check.close()
                    if !failed && !hit { break }  // n is past this workload's last call of this kind
                    n += 1
                }
            }
        }
        #expect(failures > 20, "the sweep must actually inject faults (\(failures) failed runs of \(runs))")
    }
}
