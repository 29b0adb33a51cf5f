import EngramFaultSuite
import Foundation

/// Fault 1: the writer killed with SIGKILL at random moments, cycling through its four workloads.
struct KillNineScenario {
    let iterations: Int
    let writer: String
    let workspace: Workspace

    func run(_ results: Results) async {
        let modes = ["single", "batch", "concurrent", "mixed"]
        var generator = SystemRandomNumberGenerator()
        var failures: [String] = []
        var acknowledged = 0
        for i in 0..<iterations {
            let mode = modes[i % modes.count]
            let directory = workspace.directory("kill-\(i)")
            do {
                let lines = try CrashWriter.run(executable: writer, store: directory + "/store", mode: mode, seed: UInt64(i + 1),
                                                delayMicros: UInt32.random(in: 2_000...300_000, using: &generator))
                let acks = AckLog(lines: lines)
                acknowledged += acks.count
                failures += try await StoreAudit.audit(store: directory + "/store", acks: acks, mode: mode).map { "#\(i) \(mode): \($0)" }
            } catch {
                failures.append("#\(i) \(mode): \(error)")
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
        if acknowledged < iterations { failures.append("only \(acknowledged) acknowledgements in \(iterations) runs: the kills proved nothing") }
        results.check("kill -9 at random moments", failures, detail: "\(iterations) kills, \(acknowledged) acknowledged operations checked")
    }
}
