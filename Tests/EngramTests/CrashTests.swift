import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import EngramFaultSuite
import Foundation
import Testing

/// Kills a writer process with SIGKILL at random moments and checks what it acknowledged survived.
/// (`engram-faults` runs the same audit hundreds of times, and under power cuts.)
@Suite("Crash recovery (kill -9)", .enabled(if: BuiltExecutable.path("engram-crash-writer") != nil, "engram-crash-writer is not built"))
struct CrashTests {
    /// Kills per mode; `ENGRAM_CRASH_ITERATIONS` raises it for long local runs.
    static let iterations = Int(ProcessInfo.processInfo.environment["ENGRAM_CRASH_ITERATIONS"] ?? "") ?? 6

    @Test("kill -9 during writes: every acknowledged write survives, nothing torn", arguments: ["single", "batch", "concurrent", "mixed"])
    func killNine(mode: String) async throws {
        var generator = SystemRandomNumberGenerator()
        var totalAcks = 0
        for iteration in 0..<CrashTests.iterations {
            let dir = TemporaryDirectory("crash-\(mode)-\(iteration)")
            let lines = try CrashWriter.run(
                executable: BuiltExecutable.path("engram-crash-writer")!, store: dir.store, mode: mode, seed: UInt64(iteration + 1),
                delayMicros: UInt32.random(in: 5_000...250_000, using: &generator))
            let acks = AckLog(lines: lines)
            totalAcks += acks.count
            let failures = try await StoreAudit.audit(store: dir.store, acks: acks, mode: mode)
            #expect(failures.isEmpty, "\(mode) #\(iteration): \(failures)")
        }
        #expect(totalAcks > CrashTests.iterations, "the writer acknowledged almost nothing: the test proved nothing")
    }
}
