import Engram
import EngramTestSupport
import EngramFaultSuite
import EngramJSON
import Foundation
import Testing

/// `engram verify` straight after `kill -9` of a writer, with nothing in between: what the crash left is pending
/// recovery, not problems (exit 0), and a read-only `engram list` shows exactly the acknowledged state.
@Suite("verify right after kill -9", .enabled(if: BuiltExecutable.path("engram-crash-writer") != nil && BuiltExecutable.path("engram") != nil,
                                               "engram-crash-writer or engram is not built"))
struct CrashVerifyTests {
    static let kills = Int(ProcessInfo.processInfo.environment["ENGRAM_CRASH_VERIFY_KILLS"] ?? "") ?? 20

    static func engram(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.path("engram")!)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("kill -9 mid-batch at random moments, then verify: exit 0, no problems; list shows every acknowledged id and never half a batch")
    func verifyAfterKill() async throws {
        var generator = SystemRandomNumberGenerator()
        var pendingSeen = 0
        var acknowledged = 0
        for kill in 0..<CrashVerifyTests.kills {
            let dir = TemporaryDirectory("crashverify-\(kill)")
            let lines = try CrashWriter.run(
                executable: BuiltExecutable.path("engram-crash-writer")!, store: dir.store, mode: "batch", seed: UInt64(kill + 1),
                delayMicros: UInt32.random(in: 2_000...120_000, using: &generator))
            let acks = AckLog(lines: lines)
            acknowledged += acks.count

            let verify = try Self.engram(["--store", dir.store, "verify", "--format", "json"])
            let report = try JSONReader.parse(Array(verify.stdout.utf8))
            #expect(verify.status == 0, "kill \(kill): verify exited \(verify.status): \(report["problems"].map { String(decoding: JSONWriter.compact($0), as: UTF8.self) } ?? verify.stdout)")
            #expect(report["problems"]?.arrayValue?.isEmpty == true)
            pendingSeen += report["recovery_pending"]?.arrayValue?.count ?? 0

            let list = try Self.engram(["--store", dir.store, "list"])
            #expect(list.status == 0)
            let listed = Set(list.stdout.split(separator: "\n").map(String.init))
            let lost = Set(acks.lastSave.keys).subtracting(listed)
            #expect(lost.isEmpty, "kill \(kill): acknowledged but not listed: \(lost.sorted().prefix(5))")

            // Whole batches only: what a read-only open sees (ids and versions) is what the recovering writer open
            // settles on — never the renamed half of a batch without the rest.
            let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
            var seen: [String: Timestamp] = [:]
            for id in await reader.memoryIDs() { seen[id] = await reader.indexEntry(forMemory: id)?.updatedAt }
            try await reader.close()
            #expect(Set(seen.keys) == listed)
            for (id, version) in acks.lastSave { #expect(seen[id].map { $0 >= version } == true, "kill \(kill): \(id) acknowledged at \(version), seen \(seen[id].map(String.init(describing:)) ?? "nothing")") }
            let writer = try await MemoryStore.open(at: dir.store)
            var recovered: [String: Timestamp] = [:]
            for id in await writer.memoryIDs() { recovered[id] = await writer.indexEntry(forMemory: id)?.updatedAt }
            try await writer.close()
            #expect(recovered == seen, "kill \(kill): read-only saw \(seen.count) records, recovery settled on \(recovered.count) (or other versions)")
        }
        #expect(acknowledged > CrashVerifyTests.kills, "the writer acknowledged almost nothing: the test proved nothing")
        #expect(pendingSeen > 0, "no kill left anything pending: the test never caught a writer mid-write")
    }
}
