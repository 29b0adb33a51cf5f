import Dispatch
import EngramFaultSuite
import Foundation
import Synchronization

/// Fault 1b: two and four writer processes on one store, each killed with SIGKILL at its own random moment —
/// one of them, most likely, while it holds the commit lock. Then the same audit as for one writer, over every
/// process's acknowledgements: each acknowledged write there at its version, index = files, verify clean, the
/// vector and keyword tiers in step, a second open with nothing left to recover.
struct SharedWritersKillScenario {
    let iterations: Int
    let writer: String
    let workspace: Workspace

    func run(_ results: Results) async {
        for writers in [2, 4] {
            let modes = ["single", "concurrent"]
            var failures: [String] = []
            var acknowledged = 0
            for i in 0..<iterations {
                let mode = modes[i % modes.count]
                let directory = workspace.directory("shared-kill-\(writers)-\(i)")
                let store = directory + "/store"
                let lines = Mutex<[String]>([])
                let errors = Mutex<[String]>([])
                let writer = self.writer
                // The first run creates the store; the others open it as it is being written.
                DispatchQueue.concurrentPerform(iterations: writers) { w in
                    var generator = SystemRandomNumberGenerator()
                    do {
                        let printed = try CrashWriter.run(executable: writer, store: store, mode: mode, seed: UInt64(1000 * writers + 10 * i + w),
                                                          delayMicros: UInt32.random(in: 20_000...400_000, using: &generator), prefix: ["wa", "wb", "wc", "wd"][w] + "-")
                        lines.withLock { $0 += printed }
                    } catch {
                        errors.withLock { $0.append("writer \(w): \(error)") }
                    }
                }
                failures += errors.withLock { $0 }.map { "#\(i) \(writers) writers: \($0)" }
                let acks = AckLog(lines: lines.withLock { $0 })
                acknowledged += acks.count
                do {
                    failures += try await StoreAudit.audit(store: store, acks: acks, mode: mode).map { "#\(i) \(writers) writers, \(mode): \($0)" }
                } catch {
                    failures.append("#\(i) \(writers) writers, \(mode): \(error)")
                }
                try? FileManager.default.removeItem(atPath: directory)
            }
            if acknowledged < iterations * writers { failures.append("only \(acknowledged) acknowledgements: the kills proved nothing") }
            results.check("kill -9 of \(writers) writer processes on one store", failures,
                          detail: "\(iterations) runs, \(acknowledged) acknowledged operations checked")
        }
    }
}
