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
        guard getuid() == 0 else { return results.skip(name, "needs root to mount a loop device (run the suite as root)") }
        guard Shell.has("mkfs.ext4"), Shell.has("mount"), FileManager.default.fileExists(atPath: "/dev/loop-control") else {
            return results.skip(name, "needs mkfs.ext4 (e2fsprogs), mount and /dev/loop-control")
        }
        let base = workspace.directory("powercut")
        let image = base + "/fs.img", mountpoint = base + "/mnt"
        try? FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        guard Shell.run(["truncate", "-s", "256M", image]).status == 0, Shell.run(["mkfs.ext4", "-q", "-F", image]).status == 0 else {
            return results.fail(name, "could not create the ext4 image")
        }
        let first = Shell.run(["mount", "-o", "loop", image, mountpoint])
        guard first.status == 0 else { return results.skip(name, "mount -o loop failed here: \(first.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        guard unmount() else { return results.fail(name, "could not unmount the fresh image") }

        /// Unmounts, retrying while the file system is still busy (a process just killed may hold it a moment).
        func unmount() -> Bool {
            for _ in 0..<50 {
                if Shell.run(["umount", mountpoint]).status == 0 { return true }
                usleep(100_000)
            }
            return false
        }
        let modes = ["single", "batch", "concurrent", "mixed"]
        var generator = SystemRandomNumberGenerator()
        var failures: [String] = []
        var acknowledged = 0
        var shutdowns = 0
        for i in 0..<iterations {
            let mode = modes[i % modes.count]
            guard Shell.run(["mount", "-o", "loop", image, mountpoint]).status == 0 else { failures.append("#\(i): mount failed"); break }
            let store = mountpoint + "/store-\(i)"
            do {
                let lines = try CrashWriter.run(executable: writer, store: store, mode: mode, seed: UInt64(1000 + i),
                                                delayMicros: UInt32.random(in: 2_000...250_000, using: &generator)) {
                    if engram_fs_shutdown(mountpoint, 2) == 0 { shutdowns += 1 }
                }
                guard unmount() else { failures.append("#\(i): unmount after the power cut failed"); break }
                guard Shell.run(["mount", "-o", "loop", image, mountpoint]).status == 0 else { failures.append("#\(i): remount failed"); break }
                let acks = AckLog(lines: lines)
                acknowledged += acks.count
                failures += try await StoreAudit.audit(store: store, acks: acks, mode: mode).map { "#\(i) \(mode): \($0)" }
            } catch {
                failures.append("#\(i) \(mode): \(error)")
            }
            try? FileManager.default.removeItem(atPath: store)
            guard unmount() else {
                failures.append("#\(i): unmount after the audit failed (something still holds the file system)")
                break
            }
        }
        if shutdowns < iterations { failures.append("FS_IOC_SHUTDOWN succeeded only \(shutdowns) of \(iterations) times") }
        results.check(name, failures, detail: "\(iterations) power cuts, \(acknowledged) acknowledged operations checked")
    }
}
