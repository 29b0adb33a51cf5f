import Engram
import EngramTestSupport
import EngramIO
import Foundation
import Testing

@Suite("Many writers: the keyword index")
struct SharedWritersKeywordTests {
    @Test("two writers interleaving: after both close, every memory is found by its own content")
    func interleaved() async throws {
        let dir = TemporaryDirectory()
        let a = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 7; $0.backupInterval = 0 })
        let b = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 7; $0.backupInterval = 0 })
        for n in 0..<60 {
            try await a.save(MemoryEntry(id: "p0-m\(n % 25)", content: "memory \(n) written by the crash writer p0-", embedding: vector(n)))
            try await b.save(MemoryEntry(id: "p1-m\(n % 25)", content: "memory \(n) written by the crash writer p1-", embedding: vector(n + 100)))
        }
        try await a.close()
        try await b.close()
        let store = try await MemoryStore.open(at: dir.store)
        var wrong: [String] = []
        for id in await store.memoryIDs() {
            let content = try #require(try await store.memory(id)).content
            let hit = try await store.search(text: content, k: 1, options: SearchOptions(embedText: false)).first
            if hit?.id != id { wrong.append("\(id) -> \(hit?.id ?? "nil")") }
        }
        let summary = await store.recovery.summary
        #expect(wrong.isEmpty, "\(wrong) \(summary)")
        try await store.close()
    }
}

import EngramFaultSuite
import Synchronization

@Suite("Many writers: kill -9 audit", .enabled(if: BuiltExecutable.path("engram-crash-writer") != nil, "engram-crash-writer is not built"))
struct SharedWritersKillAuditTests {
    @Test("two crash writers killed at random moments: the audit passes")
    func twoWriters() async throws {
        for i in 0..<3 {
            let dir = TemporaryDirectory("shared-kill-\(i)")
            let lines = Mutex<[String]>([])
            let writer = BuiltExecutable.path("engram-crash-writer")!
            let store = dir.store
            DispatchQueue.concurrentPerform(iterations: 2) { w in
                if let printed = try? CrashWriter.run(executable: writer, store: store, mode: "single", seed: UInt64(10 * i + w),
                                                      delayMicros: UInt32(100_000 + 50_000 * w), prefix: ["wa", "wb", "wc", "wd"][w] + "-") {
                    lines.withLock { $0 += printed }
                }
            }
            let failures = try await StoreAudit.audit(store: store, acks: AckLog(lines: lines.withLock { $0 }), mode: "single")
            #expect(failures.isEmpty, "#\(i): \(failures.prefix(4))")
        }
    }
}
