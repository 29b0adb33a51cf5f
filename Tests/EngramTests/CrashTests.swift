import Engram
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Locates executables built beside the tests (`swift test` builds every product into the same folder).
enum BuiltProducts {
    static func path(_ name: String) -> String? {
        var candidates: [String] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        candidates.append(runner + "/" + name)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().path + "/" + name)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        candidates.append(root + "/.build/debug/" + name)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Kills a writer process with SIGKILL at random moments and checks what it acknowledged survived.
@Suite("Crash recovery (kill -9)", .enabled(if: BuiltProducts.path("engram-crash-writer") != nil, "engram-crash-writer is not built"))
struct CrashTests {
    /// How many kills per mode; `ENGRAM_CRASH_ITERATIONS` raises it for long local runs.
    static let iterations = Int(ProcessInfo.processInfo.environment["ENGRAM_CRASH_ITERATIONS"] ?? "") ?? 6

    struct Run {
        var lines: [String]
    }

    /// Starts the writer, lets it acknowledge for a random while, kills it, returns its stdout lines.
    func runAndKill(store: String, mode: String, seed: UInt64, delayMicros: UInt32) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("engram-crash-writer")!)
        process.arguments = [store, mode, "1000000", String(seed)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let output = Mutex(Data())
        let ready = DispatchSemaphore(value: 0)
        let signalled = Mutex(false)
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            output.withLock { $0.append(chunk) }
            if String(decoding: output.withLock { $0 }, as: UTF8.self).contains("READY") {
                if !signalled.withLock({ let was = $0; $0 = true; return was }) { ready.signal() }
            }
        }
        try process.run()
        _ = ready.wait(timeout: .now() + 30)
        usleep(delayMicros)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let all = output.withLock { $0 } + rest
        #expect(process.terminationReason == .uncaughtSignal, "the writer must have been killed, not have finished")
        // A line cut by the kill (no newline) was not a complete acknowledgement.
        var text = String(decoding: all, as: UTF8.self)
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") { text = String(text[...cut]) }
        return text.split(separator: "\n").map(String.init)
    }

    /// Opens the store as a user would and checks it against the acknowledgements.
    func verify(store path: String, acks: [String], mode: String) async throws {
        var lastSave: [String: Timestamp] = [:]
        var deleted: Set<String> = []
        var latestAck = Timestamp(microseconds: 0)
        // The delete in flight at the kill (announced, not acknowledged) may or may not have happened.
        var inFlightDelete: String?
        for line in acks {
            let parts = line.split(separator: " ").map(String.init)
            switch parts.first {
            case "ACK", "ACKASM":
                inFlightDelete = nil
                if parts[0] == "ACKASM" { continue }
                let ts = try #require(Timestamp(parsing: parts[2]))
                lastSave[parts[1]] = ts
                deleted.remove(parts[1])
                latestAck = max(latestAck, ts)
            case "ACKDEL":
                deleted.insert(parts[1])
                lastSave[parts[1]] = nil
                inFlightDelete = nil
            case "START":
                inFlightDelete = parts[2]
            default: break
            }
        }
        let store = try await MemoryStore.open(at: path)
        let layout = StoreLayout(root: path)
        // No temp file survives open, every file parses, and the index lists exactly the files.
        let names = try FileManager.default.contentsOfDirectory(atPath: layout.memoriesDirectory)
        #expect(names.allSatisfy { !$0.hasSuffix(".tmp") }, "stale temp files after open: \(names.filter { $0.hasSuffix(".tmp") })")
        let files = Set(names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        let ids = Set(await store.memoryIDs())
        #expect(ids == files, "index and files disagree: only in index \(ids.subtracting(files)), only files \(files.subtracting(ids))")
        var contents: [String: String] = [:]
        for id in files {
            let memory = try #require(try await store.memory(id), "\(id) is listed but cannot be read")
            #expect(memory.contentHash == ContentHash.of(memory.content))
            #expect(await store.indexEntry(forMemory: id)?.updatedAt == memory.updatedAt, "index entry of \(id) is stale")
            contents[id] = memory.content
            if let acked = lastSave[id], id != inFlightDelete {
                #expect(memory.updatedAt >= acked, "\(id): acknowledged version \(acked) lost, found \(memory.updatedAt)")
            }
        }
        for (id, acked) in lastSave where id != inFlightDelete {
            #expect(files.contains(id), "\(id) was acknowledged at \(acked) but is missing")
        }
        // The vector tier agrees with the records: every memory is found by its own vector, nothing else is indexed.
        #expect(store.vectors?.count(.memory) == files.count)
        for id in files.sorted().prefix(60) {
            let memory = try #require(try await store.memory(id))
            guard let embedding = memory.embedding else { continue }
            let hit = try await store.search(vector: embedding, k: 1).first
            #expect(hit?.id == id && hit?.distance == 0, "\(id) is not found by its own vector after recovery (got \(hit?.id ?? "nothing"))")
        }
        for id in deleted where files.contains(id) {
            // Only an unacknowledged save in flight at the kill may have brought it back.
            let memory = try #require(try await store.memory(id))
            #expect(memory.updatedAt > latestAck, "\(id): acknowledged delete undone")
        }
        if mode == "batch" {
            // All or nothing: the batch in flight at the kill is either wholly there or not at all.
            let numbers = contents.values.compactMap { Int($0.split(separator: " ")[1]) }
            var perBatch: [Int: Int] = [:]
            for n in numbers { perBatch[n / 50, default: 0] += 1 }
            let lastAcked = acks.compactMap { line -> Int? in
                guard line.hasPrefix("ACK ") else { return nil }  // batch mode prints only ACK lines
                return 0
            }.count / 50
            if let inFlight = perBatch[lastAcked] {
                #expect(inFlight == 50 || inFlight == 0, "batch \(lastAcked) is partly present: \(inFlight) of 50")
            }
        }
        try await store.close()
        // And after recovery the store verifies clean against its own files on a second open.
        let again = try await MemoryStore.open(at: path)
        let recovery = await again.recovery
        #expect(recovery.didSomething == false, "a second open still had to recover: \(recovery.summary)")
        try await again.close()
    }

    @Test("kill -9 during writes: every acknowledged write survives, nothing torn", arguments: ["single", "batch", "concurrent", "mixed"])
    func killNine(mode: String) async throws {
        var generator = SystemRandomNumberGenerator()
        var totalAcks = 0
        for iteration in 0..<CrashTests.iterations {
            let dir = TemporaryDirectory("crash-\(mode)-\(iteration)")
            let delay = UInt32.random(in: 5_000...250_000, using: &generator)
            let lines = try runAndKill(store: dir.store, mode: mode, seed: UInt64(iteration + 1), delayMicros: delay)
            let acks = lines.filter { $0.hasPrefix("ACK") || $0.hasPrefix("START") }
            totalAcks += acks.count
            try await verify(store: dir.store, acks: acks, mode: mode)
        }
        #expect(totalAcks > CrashTests.iterations, "the writer never acknowledged anything: the test proved nothing")
    }
}
