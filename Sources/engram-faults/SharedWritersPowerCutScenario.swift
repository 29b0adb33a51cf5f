import CEngramSys
import Dispatch
import EngramFaultSuite
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Fault 2b: a power cut under two and four writer processes sharing one store on a loop-mounted ext4 image.
/// Each writer waits its own random time; the first to get there cuts the power (`FS_IOC_SHUTDOWN`, no log
/// flush: everything not yet durable is gone, for every process at once), then each is killed. After a remount,
/// the same audit as for one writer over every process's acknowledgements — with one fsync per commit, the
/// record files of the last commits are not durable yet, and must come back from the journal.
struct SharedWritersPowerCutScenario {
    let iterations: Int
    let writer: String
    let workspace: Workspace

    func run(_ results: Results) async {
        for writers in [2, 4] {
            let name = "power cut under \(writers) writer processes on one store"
            guard let disk = LoopImage.prepare(for: name, in: workspace.directory("powercut-shared-\(writers)"), size: "256M", mounted: false, results: results)
            else { continue }
            let mountpoint = disk.mountpoint
            var failures: [String] = []
            var acknowledged = 0
            var shutdowns = 0
            for i in 0..<iterations {
                let mode = ["single", "concurrent"][i % 2]
                guard disk.mount() == nil else { failures.append("#\(i): mount failed"); break }
                let store = mountpoint + "/store-\(i)"
                let lines = Mutex<[String]>([])
                let errors = Mutex<[String]>([])
                let cut = Mutex(false)
                let writer = self.writer
                DispatchQueue.concurrentPerform(iterations: writers) { w in
                    var generator = SystemRandomNumberGenerator()
                    do {
                        let printed = try CrashWriter.run(
                            executable: writer, store: store, mode: mode, seed: UInt64(7000 * writers + 10 * i + w),
                            delayMicros: UInt32.random(in: 50_000...400_000, using: &generator), prefix: ["wa", "wb", "wc", "wd"][w] + "-"
                        ) {
                            cut.withLock { done in
                                guard !done else { return }
                                done = engram_fs_shutdown(mountpoint, 2) == 0
                            }
                        }
                        lines.withLock { $0 += printed }
                    } catch {
                        errors.withLock { $0.append("writer \(w): \(error)") }
                    }
                }
                if cut.withLock({ $0 }) { shutdowns += 1 }
                failures += errors.withLock { $0 }.map { "#\(i): \($0)" }
                guard disk.unmount() else { failures.append("#\(i): unmount after the power cut failed"); break }
                guard disk.mount() == nil else { failures.append("#\(i): remount failed"); break }
                let acks = AckLog(lines: lines.withLock { $0 })
                acknowledged += acks.count
                do {
                    failures += try await StoreAudit.audit(store: store, acks: acks, mode: mode).map { "#\(i) \(mode): \($0)" }
                } catch {
                    failures.append("#\(i) \(mode): \(error)")
                }
                try? FileManager.default.removeItem(atPath: store)
                guard disk.unmount() else {
                    failures.append("#\(i): unmount after the audit failed (something still holds the file system)")
                    break
                }
            }
            if shutdowns < iterations { failures.append("FS_IOC_SHUTDOWN succeeded only \(shutdowns) of \(iterations) times") }
            if acknowledged < iterations * writers { failures.append("only \(acknowledged) acknowledgements: the power cuts proved nothing") }
            results.check(name, failures, detail: "\(iterations) power cuts, \(acknowledged) acknowledged operations checked")
        }
    }
}
