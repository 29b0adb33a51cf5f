import Engram
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch directories: creating them, measuring them, removing them.
enum FileTree {
    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if Sys.fileType(prefix) != .directory { try Sys.mkdir(prefix, operation: "create bench directory") }
        }
    }

    /// `rm -rf`: never follows symbolic links (a link is removed, not its target).
    static func remove(_ path: String) {
        switch Sys.fileType(path) {
        case nil:
            return
        case .directory:
            for name in (try? Sys.listDirectory(path)) ?? [] { remove(path + "/" + name) }
            rmdir(path)
        default:
            unlink(path)
        }
    }

    /// Mean seconds to create one empty file (`open(O_CREAT|O_EXCL)` + `close`, no fsync) in a fresh directory.
    /// The files stay until the run's directory is removed: deleting them would itself slow later creates on
    /// a journal-less ext4, whose inode allocator steps over recently freed inodes.
    static func createProbe(in directory: String, count: Int = 200) throws -> Double {
        try makeDirectories(directory)
        return try Timing.seconds {
            for i in 0..<count {
                let fd = try Sys.open(directory + "/probe-\(i)", O_CREAT | O_EXCL | O_WRONLY, operation: "create probe")
                Sys.close(fd)
            }
        } / Double(count)
    }

    /// The bytes of the regular files under `path` (symbolic links not followed).
    static func treeSize(_ path: String) -> Int {
        switch Sys.fileType(path) {
        case .directory?: return ((try? Sys.listDirectory(path)) ?? []).reduce(0) { $0 + treeSize(path + "/" + $1) }
        case .file?: return size(path)
        default: return 0
        }
    }

    /// The size of a regular file, or 0.
    static func size(_ path: String) -> Int {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        return Int(st.st_size)
    }
}

/// The kernel's page cache, for cold-cache figures.
enum PageCache {
    /// `sync; echo 3 > /proc/sys/vm/drop_caches`. Returns whether the kernel accepted it (root, writable /proc).
    static func drop() -> Bool {
        sync()
        let fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let written = "3\n".withCString { write(fd, $0, 2) }
        return written == 2
    }
}
