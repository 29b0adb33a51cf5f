import CEngramSys
import Dispatch
import EngramFaultSuite
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Fault 2: a power cut, not just process death. The store lives on a loop-mounted ext4 image; at a random
/// moment `FS_IOC_SHUTDOWN` with "no log flush" drops everything not yet durable (as a power cut would: the
/// page cache survives kill -9, so only this shows a missing fsync); then unmount, remount, audit.
///
/// With several writer processes on one store (`writers` > 1), each waits its own random time and the first to
/// get there cuts the power — for every process at once — then each is killed; the audit covers every process's
/// acknowledgements. With one fsync per commit, the record files of the last commits are not durable yet and
/// must come back from the journal.
struct PowerCutScenario {
    let iterations: Int
    let writers: Int
    let writer: String
    let workspace: Workspace

    var name: String {
        writers == 1 ? "power cut (ext4 loop image + FS_IOC_SHUTDOWN no-log-flush)" : "power cut under \(writers) writer processes on one store"
    }

    func run(_ results: Results) async {
        guard let disk = LoopImage.prepare(for: name, in: workspace.directory("powercut-\(writers)"), size: "256M", mounted: false, results: results)
        else { return }
        let mountpoint = disk.mountpoint
        // One writer runs every mode; several share a store in the modes where each commits alone or many at once.
        let modes = writers == 1 ? ["single", "batch", "concurrent", "mixed"] : ["single", "concurrent"]
        var failures: [String] = []
        var acknowledged = 0
        var shutdowns = 0
        for i in 0..<iterations {
            let mode = modes[i % modes.count]
            guard disk.mount() == nil else { failures.append("#\(i): mount failed"); break }
            let store = mountpoint + "/store-\(i)"
            let lines = Mutex<[String]>([])
            let errors = Mutex<[String]>([])
            let cut = Mutex(false)
            let executable = writer, writers = self.writers
            DispatchQueue.concurrentPerform(iterations: writers) { w in
                var generator = SystemRandomNumberGenerator()
                let delay = writers == 1 ? UInt32.random(in: 2_000...250_000, using: &generator) : UInt32.random(in: 50_000...400_000, using: &generator)
                do {
                    let printed = try CrashWriter.run(
                        executable: executable, store: store, mode: mode, seed: UInt64(1000 + 7000 * (writers - 1) + 10 * i + w), delayMicros: delay,
                        prefix: writers == 1 ? "" : ["wa", "wb", "wc", "wd"][w] + "-"
                    ) {
                        cut.withLock { done in
                            guard !done else { return }
                            done = engram_fs_shutdown(mountpoint, 2) == 0
                        }
                    }
                    lines.withLock { $0 += printed }
                } catch {
                    errors.withLock { $0.append(writers == 1 ? "\(error)" : "writer \(w): \(error)") }
                }
            }
            if cut.withLock({ $0 }) { shutdowns += 1 }
            failures += errors.withLock { $0 }.map { "#\(i) \(mode): \($0)" }
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
        if writers > 1, acknowledged < iterations * writers { failures.append("only \(acknowledged) acknowledgements: the power cuts proved nothing") }
        results.check(name, failures, detail: "\(iterations) power cuts, \(acknowledged) acknowledged operations checked")
    }
}
