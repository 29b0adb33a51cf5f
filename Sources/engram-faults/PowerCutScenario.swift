import CEngramSys
import EngramFaultSuite
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fault 2: a power cut, not just process death. The store lives on a loop-mounted ext4 image; at a random
/// moment `FS_IOC_SHUTDOWN` with "no log flush" drops everything not yet durable (as a power cut would: the
/// page cache survives kill -9, so only this shows a missing fsync); then unmount, remount, audit.
struct PowerCutScenario {
    let iterations: Int
    let writer: String
    let workspace: Workspace

    func run(_ results: Results) async {
        let name = "power cut (ext4 loop image + FS_IOC_SHUTDOWN no-log-flush)"
        guard let disk = LoopImage.prepare(for: name, in: workspace.directory("powercut"), size: "256M", mounted: false, results: results) else { return }
        let mountpoint = disk.mountpoint
        let modes = ["single", "batch", "concurrent", "mixed"]
        var generator = SystemRandomNumberGenerator()
        var failures: [String] = []
        var acknowledged = 0
        var shutdowns = 0
        for i in 0..<iterations {
            let mode = modes[i % modes.count]
            guard disk.mount() == nil else { failures.append("#\(i): mount failed"); break }
            let store = mountpoint + "/store-\(i)"
            do {
                let lines = try CrashWriter.run(executable: writer, store: store, mode: mode, seed: UInt64(1000 + i),
                                                delayMicros: UInt32.random(in: 2_000...250_000, using: &generator)) {
                    if engram_fs_shutdown(mountpoint, 2) == 0 { shutdowns += 1 }
                }
                guard disk.unmount() else { failures.append("#\(i): unmount after the power cut failed"); break }
                guard disk.mount() == nil else { failures.append("#\(i): remount failed"); break }
                let acks = AckLog(lines: lines)
                acknowledged += acks.count
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
        results.check(name, failures, detail: "\(iterations) power cuts, \(acknowledged) acknowledged operations checked")
    }
}
