import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An ext4 file system in an image file, loop-mounted, for the power-cut scenarios: `FS_IOC_SHUTDOWN` on it drops
/// everything not yet durable, then it is unmounted and mounted again.
struct LoopImage {
    let image: String
    let mountpoint: String

    /// Why this machine cannot run a power-cut scenario, or nil.
    static var unavailable: String? {
        if getuid() != 0 { return "needs root to mount a loop device (run the suite as root)" }
        if !Shell.has("mkfs.ext4") || !Shell.has("mount") || !FileManager.default.fileExists(atPath: "/dev/loop-control") {
            return "needs mkfs.ext4 (e2fsprogs), mount and /dev/loop-control"
        }
        return nil
    }

    /// Creates a fresh image of `size` (e.g. "256M") in `base`, formatted ext4; nil when that failed.
    static func create(in base: String, size: String) -> LoopImage? {
        let image = LoopImage(image: base + "/fs.img", mountpoint: base + "/mnt")
        try? FileManager.default.createDirectory(atPath: image.mountpoint, withIntermediateDirectories: true)
        guard Shell.run(["truncate", "-s", size, image.image]).status == 0, Shell.run(["mkfs.ext4", "-q", "-F", image.image]).status == 0 else { return nil }
        return image
    }

    /// A fresh image for the scenario `name`, mounted (`mounted`) or not; nil after reporting to `results` why
    /// there is none (SKIP when this machine cannot mount one, FAIL when making it failed).
    static func prepare(for name: String, in base: String, size: String, mounted: Bool, results: Results) -> LoopImage? {
        if let reason = unavailable {
            results.skip(name, reason)
            return nil
        }
        guard let disk = create(in: base, size: size) else {
            results.fail(name, "could not create the ext4 image")
            return nil
        }
        if let error = disk.mount() {
            results.skip(name, "mount -o loop failed here: \(error)")
            return nil
        }
        if !mounted, !disk.unmount() {
            results.fail(name, "could not unmount the fresh image")
            return nil
        }
        return disk
    }

    /// Mounts it; the error text when that failed.
    func mount() -> String? {
        let result = Shell.run(["mount", "-o", "loop", image, mountpoint])
        return result.status == 0 ? nil : result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Unmounts, retrying while the file system is still busy (a process just killed may hold it a moment).
    func unmount() -> Bool {
        for _ in 0..<50 {
            if Shell.run(["umount", mountpoint]).status == 0 { return true }
            usleep(100_000)
        }
        return false
    }
}
