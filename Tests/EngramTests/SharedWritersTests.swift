import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Many writers on one store. Each `MemoryStore` opened on the store has its own `.lock` descriptor, so two
/// stores in one test process exclude each other exactly as two processes do; real processes are used where
/// the kernel's part matters (SIGKILL, the CLI).
@Suite("Many writers on one store")
struct SharedWritersTests {
    @Test("several writers commit concurrently: every acknowledged write is there at its version, index = files, verify clean")
    func concurrentWriters() async throws {
        let dir = TemporaryDirectory()
        try await MemoryStore.open(at: dir.store).close()
        let writers = 6, each = 40
        let acknowledged = try await withThrowingTaskGroup(of: [String: Timestamp].self) { group in
            for w in 0..<writers {
                group.addTask {
                    // A generous busy timeout: this is about correctness, and the test machine may be loaded (the lock is
                    // polled, so a waiter's turn depends on its wake-ups).
                    let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.loadVectorTier = false; $0.flushThreshold = 7; $0.busyTimeout = 120 })
                    var saved: [String: Timestamp] = [:]
                    for n in 0..<each {
                        // Some batches, some single saves, some rewrites of a shared id (last writer wins, each acknowledged).
                        if n % 10 == 0 {
                            let batch = try await store.saveBatch((0..<3).map { MemoryEntry(id: "w\(w)-b\(n)-\($0)", content: "writer \(w) batch \(n) item \($0)") })
                            for memory in batch { saved[memory.id] = memory.updatedAt }
                        } else {
                            let memory = try await store.save(MemoryEntry(id: "w\(w)-\(n)", content: "writer \(w) memory \(n)", embedding: vector(w * 100 + n)))
                            saved[memory.id] = memory.updatedAt
                        }
                    }
                    try await store.close()
                    return saved
                }
            }
            return try await group.reduce(into: [String: Timestamp]()) { $0.merge($1) { a, _ in a } }
        }
        #expect(acknowledged.count == writers * (each / 10 * 3 + each - each / 10))
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems.prefix(3))")
        let store = try await MemoryStore.open(at: dir.store)
        #expect(Set(await store.memoryIDs()) == Set(acknowledged.keys))
        #expect(Set(dir.files(in: "memories").map { String($0.dropLast(5)) }) == Set(acknowledged.keys))
        for (id, version) in acknowledged { #expect(await store.indexEntry(forMemory: id)?.updatedAt == version, "\(id)") }
        #expect(try await store.search(text: "writer 3 memory 17").first?.id == "w3-17", "the keyword index saw every writer's memories")
        try await store.close()
    }

    @Test("six writers opening a store that does not exist yet, at once: it is created once, every write is kept")
    func concurrentCreation() async throws {
        for round in 0..<3 {
            let dir = TemporaryDirectory("concurrentCreation\(round)")
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for w in 0..<6 {
                    group.addTask {
                        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.loadVectorTier = false; $0.busyTimeout = 120 })
                        let saved = try await store.save(MemoryEntry(id: "w\(w)", content: "writer \(w)"))
                        try await store.close()
                        return saved.id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 6)
            let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
            #expect(report.problems.isEmpty, "\(report.problems)")
            let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
            #expect(Set(await store.memoryIDs()) == ids)
            try await store.close()
        }
    }

    @Test("readers beside a writer committing batches never see part of a batch: read-only opens, a reading writer's list and search")
    func readersNeverSeePartialBatches() async throws {
        let dir = TemporaryDirectory()
        try await MemoryStore.open(at: dir.store).close()
        let batches = 150, size = 5
        let writing = Task {
            let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.loadVectorTier = false; $0.flushThreshold = 13; $0.busyTimeout = 120 })
            for n in 0..<batches {
                _ = try await writer.saveBatch((0..<size).map { MemoryEntry(id: "b\(n)-\($0)", content: "common words batch\(n) item \($0)") })
            }
            try await writer.close()
        }
        /// The batches of which `ids` holds some but not all.
        func partial(_ ids: [String]) -> [String] {
            var counts: [String: Int] = [:]
            for id in ids { counts[String(id.prefix { $0 != "-" }), default: 0] += 1 }
            return counts.filter { $0.value != size }.map { $0.key }.sorted()
        }
        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.loadVectorTier = false; $0.busyTimeout = 120 })
        var looks = 0
        var seen = 0
        repeat {
            let snapshot = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
            let ids = await snapshot.memoryIDs()
            #expect(partial(ids).isEmpty, "a read-only open saw part of batches \(partial(ids))")
            // What the snapshot lists, it reads.
            #expect(try await snapshot.memories(ids).count == ids.count)
            try await snapshot.close()
            try await reader.refresh()
            let listed = await reader.memoryIDs()
            #expect(partial(listed).isEmpty, "a reading writer listed part of batches \(partial(listed))")
            let found = try await reader.search(text: "common words", k: batches * size).map(\.id)
            #expect(partial(found).isEmpty, "a reading writer's search found part of batches \(partial(found))")
            seen = max(seen, ids.count)
            looks += 1
        } while seen < batches * size && looks < 2_000
        try await writing.value
        try await reader.close()
        #expect(looks > 3, "the readers looked only \(looks) times: the test proved little")
    }

    @Test("an idle writer beside active ones sees their writes at its next commit, and its conflicts are real")
    func idleWriterAndConflicts() async throws {
        let dir = TemporaryDirectory()
        let idle = try await MemoryStore.open(at: dir.store)
        let active = try await MemoryStore.open(at: dir.store)
        let original = try await idle.save(MemoryEntry(id: "shared", content: "version 1", embedding: vector(1)))
        // The idle writer holds no lock: the other commits freely, many times (past a checkpoint).
        for n in 0..<30 { try await active.save(MemoryEntry(id: "a\(n)", content: "active \(n)", embedding: vector(n + 2))) }
        let changed = try await active.update("shared") { $0.content = "version 2" }
        #expect(changed.updatedAt > original.updatedAt)

        // The idle writer's stale read: its optimistic save is a conflict, not a silent overwrite.
        await #expect { try await idle.save(MemoryEntry(id: "shared", content: "version 1b"), expectedUpdatedAt: original.updatedAt) } throws: {
            ($0 as? EngramError)?.code == .conflict
        }
        // Having caught up, it sees everything: the index, the record, the vector and keyword tiers.
        #expect(try await idle.memory("shared")?.content == "version 2")
        #expect(await idle.memoryIDs().count == 31)
        #expect(try await idle.search(vector: vector(7), k: 1).first?.id == "a5")
        #expect(try await idle.search(text: "active 12").first?.id == "a12")
        // The duplicate policy sees the other writer's content too.
        #expect(try await idle.save(MemoryEntry(content: "active 3")).id == "a3")
        // A delete by one is seen by the other.
        try await active.deleteMemory("a0")
        try await idle.save(MemoryEntry(id: "after", content: "after the delete"))
        #expect(await idle.containsMemory("a0") == false)
        try await idle.close()
        try await active.close()
        #expect(try StoreVerifier(layout: StoreLayout(root: dir.store)).run().problems.isEmpty)
    }

    @Test("a writer that only reads sees the other writers' commits at its next read and search")
    func readsSeeOtherWriters() async throws {
        let dir = TemporaryDirectory()
        let reader = try await MemoryStore.open(at: dir.store)
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 5 })
        #expect(try await reader.memory("x") == nil)
        try await writer.save(MemoryEntry(id: "x", content: "written elsewhere", embedding: vector(1)))
        #expect(try await reader.memory("x")?.content == "written elsewhere")
        for n in 0..<12 { try await writer.save(MemoryEntry(id: "n\(n)", content: "note \(n) zebra", embedding: vector(n + 2))) }  // past checkpoints
        #expect(try await reader.search(text: "zebra", k: 20).count == 12)
        #expect(try await reader.search(vector: vector(5), k: 1).first?.id == "n3")
        try await writer.deleteMemory("x")
        #expect(try await reader.memory("x") == nil)
        try await writer.close()
        try await reader.close()
    }

    @Test("a write waits for the lock up to the busy timeout, then fails naming the holder")
    func busyTimeout() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.busyTimeout = 0.3 })
        try await store.save(MemoryEntry(id: "a", content: "before"))
        // An exclusive operation (what repair holds) keeps the lock.
        let holder = try StoreLock(path: dir.store + "/.lock")
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "b", content: "blocked")) }
        #expect(clock.now - start >= .milliseconds(300))
        #expect(error?.code == .locked)
        #expect(error?.message.contains("pid \(getpid())") == true, "\(String(describing: error))")
        #expect(error?.message.contains("0.3 s") == true)
        #expect(error?.remedy?.contains("--wait") == true)
        #expect(await store.containsMemory("b") == false)
        // Released within the timeout: the write waits and goes through.
        // Released by a thread of its own, not a task: on a loaded 2-core machine the cooperative pool may be busy
        // with other tests for longer than the timeout, and the release must not wait for it.
        Self.release(holder, after: .milliseconds(100))
        let waiting = try await MemoryStore.open(at: dir.store, configuration: config { $0.busyTimeout = 30 })
        let holder2 = try StoreLock(path: dir.store + "/.lock")
        Self.release(holder2, after: .milliseconds(200))
        try await waiting.save(MemoryEntry(id: "c", content: "waited"))
        #expect(await waiting.containsMemory("c"))
        try await waiting.close()
        try await store.close()
    }

    /// Releases `lock` after `delay` on a thread of its own.
    static func release(_ lock: StoreLock, after delay: Duration) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            lock.release()
        }
    }

    @Test("a writer killed with SIGKILL mid-commit: the others proceed at once, nothing acknowledged is lost",
          .enabled(if: BuiltExecutable.path("engram") != nil, "engram is not built"))
    func killedWriter() async throws {
        let dir = TemporaryDirectory()
        try await MemoryStore.open(at: dir.store).close()
        var lines = ""
        for n in 0..<3000 { lines += "{\"id\": \"child-\(n)\", \"content\": \"from the child \(n)\"}\n" }
        let input = dir.write("child.jsonl", lines)
        for round in 0..<3 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: BuiltExecutable.path("engram")!)
            child.arguments = ["--store", dir.store, "put", "--batch-size", "1", input]
            let out = Pipe()
            child.standardOutput = out
            child.standardError = FileHandle.nullDevice
            try child.run()
            let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.busyTimeout = 30; $0.loadVectorTier = false })
            var mine: [String] = []
            // Kill the child once it has committed some (the parent's catch-up at each of its commits shows them),
            // most likely in the middle of another commit: it commits one memory at a time, back to back.
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(20)
            var n = 0
            while await store.memoryIDs().filter({ $0.hasPrefix("child-") }).count < 20 + 30 * round, clock.now < deadline {
                mine.append(try await store.save(MemoryEntry(id: "parent-\(round)-\(n)", content: "from the parent \(round) \(n)")).id)
                n += 1
            }
            kill(child.processIdentifier, SIGKILL)
            for m in 0..<10 { mine.append(try await store.save(MemoryEntry(id: "parent-\(round)-x\(m)", content: "after the kill \(round) \(m)")).id) }
            child.waitUntilExit()
            let acknowledged = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").compactMap { try? JSONReader.parse(String($0))["id"]?.stringValue }
            try await store.save(MemoryEntry(id: "parent-\(round)-after", content: "after the kill"))
            let ids = Set(await store.memoryIDs())
            for id in mine + acknowledged { #expect(ids.contains(id), "round \(round): \(id) was acknowledged but is missing") }
            try await store.close()
        }
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems.prefix(3))")
    }

    @Test("engram put from six processes at once: every printed id is stored, verify is clean",
          .enabled(if: BuiltExecutable.path("engram") != nil, "engram is not built"))
    func cliWriters() async throws {
        let dir = TemporaryDirectory()
        try await MemoryStore.open(at: dir.store).close()
        var children: [ChildProcess] = []
        for w in 0..<6 {
            var lines = ""
            for n in 0..<60 { lines += "{\"id\": \"p\(w)-\(n)\", \"content\": \"process \(w) line \(n)\", \"embedding\": [\(w), \(n), 1]}\n" }
            let input = dir.write("p\(w).jsonl", lines)
            // A generous --wait: six processes take turns on the lock, and the machine may be loaded.
            let child = try ChildProcess(BuiltExecutable.path("engram")!, ["--store", dir.store, "put", "--wait", "120", "--batch-size", "\(1 + w % 3)", input])
            try child.closeInput()
            children.append(child)
        }
        var printed = Set<String>()
        for child in children {
            // Waits off the cooperative pool (ChildProcess): blocking it would stall the other tests' tasks.
            while let line = await child.nextLine(timeout: 300) {
                if let id = try JSONReader.parse(line)["id"]?.stringValue { printed.insert(id) }
            }
            let status = await child.waitForExit(timeout: 300)
            #expect(status == 0, "engram put exited \(String(describing: status)): \(child.stderr.suffix(500))")
        }
        #expect(printed.count == 360)
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(Set(await store.memoryIDs()) == printed)
        try await store.close()
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems.prefix(3))")
    }
}
