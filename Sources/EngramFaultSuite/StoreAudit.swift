import Engram
import EngramIO
import EngramJSON
import Foundation

/// Opens a store after a crash, as a user would (auto-repair on), and checks it against what the writer
/// acknowledged. Returns one message per violation (empty: the store kept every promise).
public enum StoreAudit {
    public static func audit(store path: String, acks: AckLog, mode: String) async throws -> [String] {
        var failures: [String] = []
        let store = try await MemoryStore.open(at: path)
        try await store.waitForVectorTier()
        let layout = StoreLayout(root: path)
        let names = try FileManager.default.contentsOfDirectory(atPath: layout.memoriesDirectory)
        let temps = names.filter { $0.hasSuffix(".tmp") }
        if !temps.isEmpty { failures.append("stale temp files after open: \(temps.prefix(3))") }
        let files = Set(names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        let ids = Set(await store.memoryIDs())
        if ids != files {
            failures.append("index and files disagree: only in index \(ids.subtracting(files).sorted().prefix(5)), only files \(files.subtracting(ids).sorted().prefix(5))")
        }
        var contents: [String: String] = [:]
        for id in files.sorted() {
            guard let memory = try? await store.memory(id) else {
                failures.append("\(id) is listed but cannot be read (torn?)")
                continue
            }
            if memory.contentHash != ContentHash.of(memory.content) { failures.append("\(id): content does not match its hash") }
            if await store.indexEntry(forMemory: id)?.updatedAt != memory.updatedAt { failures.append("\(id): index entry is stale") }
            contents[id] = memory.content
            if let acked = acks.lastSave[id], id != acks.inFlightDelete, memory.updatedAt < acked {
                failures.append("\(id): acknowledged version \(acked) lost, found \(memory.updatedAt)")
            }
            if acks.deleted.contains(id), memory.updatedAt <= acks.latestAck {
                failures.append("\(id): an acknowledged delete was undone")
            }
        }
        for (id, acked) in acks.lastSave where id != acks.inFlightDelete && !files.contains(id) {
            failures.append("\(id) was acknowledged at \(acked) but is missing")
        }
        if mode == "batch" {
            // All or nothing: the batch in flight at the crash is wholly there or not at all.
            var perBatch: [Int: Int] = [:]
            for content in contents.values { if let n = Int(content.split(separator: " ")[1]) { perBatch[n / 50, default: 0] += 1 } }
            let inFlight = acks.saveCount / 50
            if let count = perBatch[inFlight], count != 50 { failures.append("batch \(inFlight) is partly present: \(count) of 50") }
        }
        // The vector tier agrees with the records: every memory found by its own vector, nothing else indexed.
        if store.vectors?.count(.memory) != files.count {
            failures.append("the vector tier holds \(store.vectors?.count(.memory) ?? -1) vectors for \(files.count) memories")
        }
        for id in files.sorted().prefix(40) {
            guard let memory = try? await store.memory(id), let embedding = memory.embedding else { continue }
            let hit = try await store.search(vector: embedding, k: 1).first
            if hit?.id != id || hit?.distance != 0 { failures.append("\(id) is not found by its own vector (got \(hit?.id ?? "nothing"))") }
        }
        // The keyword index agrees with the records: every memory is the best match for its own content (each
        // holds a number no other memory's content has), and no deleted memory is found.
        for (id, content) in contents.sorted(by: { $0.key < $1.key }) {
            let hit = try await store.search(text: content, k: 1, options: SearchOptions(embedText: false)).first
            if hit?.id != id { failures.append("\(id) is not found by its own content in the keyword index (got \(hit?.id ?? "nothing"))") }
        }
        try await store.close()
        // After recovery: verify is clean, and a second open has nothing left to do.
        let report = try StoreVerifier(layout: layout).run()
        if !report.isConsistent { failures.append("verify after recovery: \(report.problems.prefix(3).map { "\($0.kind.rawValue) \($0.path ?? "")" })") }
        if !report.pending.isEmpty { failures.append("verify after recovery still sees recovery pending: \(report.pending.prefix(3).map { "\($0.kind.rawValue) \($0.path ?? "")" })") }
        let again = try await MemoryStore.open(at: path)
        try await again.waitForVectorTier()
        let recovery = await again.recovery
        if recovery.didSomething { failures.append("a second open still had to recover: \(recovery.summary)") }
        try await again.close()
        return failures
    }
}
