import CEngramSys

#if canImport(Glibc)
import Glibc
#endif

extension Sys {
    /// Creates `to` (`O_CREAT|O_EXCL|O_NOFOLLOW`: never through a planted link, never over an existing file)
    /// holding the bytes of the regular file `from` (opened `O_NOFOLLOW`): a copy-on-write clone where the file
    /// system can make one, else an in-kernel `copy_file_range`, else read/write. Either way `to` is a new inode,
    /// independent of `from`. The source is read through one descriptor, so a rename over `from` meanwhile does
    /// not mix two versions.
    ///
    /// Nothing is fsynced here: a snapshot of many files makes them durable together with ``syncFileSystem(of:operation:)``
    /// (or the caller fsyncs `to`). On failure `to` is removed. Returns how, and the size of what was copied.
    package static func copyFile(_ from: String, to: String, mode: mode_t = 0o644, operation: String? = nil) throws(EngramError)
        -> (method: CopyMethod, bytes: Int)
    {
        let input = try open(from, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { close(input) }
        _ = try regularFileSize(input, path: from, operation: operation ?? "copy")
        let output = try open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode, operation: operation)
        do {
            let method = try copyContents(input, output, from: from, to: to, operation: operation)
            // What actually landed (the source may have grown while it was read).
            let bytes = try regularFileSize(output, path: to, operation: operation ?? "copy")
            close(output)
            return (method, bytes)
        } catch {
            close(output)
            _ = Glibc.unlink(to)
            throw error
        }
    }

    private static func copyContents(_ input: Int32, _ output: Int32, from: String, to: String,
                                     operation: String?) throws(EngramError) -> CopyMethod {
        if let injected = FaultInjector.shared.check(.write, path: to) {
            throw EngramError.system("write", errno: injected, path: to, operation: operation)
        }
        if engram_clone_file(output, input) == 0 { return .cloned }
        // Not cloneable here (ext4, tmpfs, across file systems): copy. copy_file_range stays in the kernel; where
        // it is refused (EXDEV on old kernels, ENOSYS, EINVAL on some file systems) read and write instead.
        var copied: Int64 = 0
        while true {
            let n = engram_copy_range(input, output, 1 << 30)
            if n > 0 {
                copied += n
                continue
            }
            if n == 0 { return .copied }
            let e = Glibc.errno
            guard copied == 0, [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EPERM].contains(e) else {
                throw EngramError.system("copy_file_range", errno: e, path: to, operation: operation)
            }
            break
        }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(input, buffer.baseAddress, chunk)
            if n < 0 {
                let e = Glibc.errno
                if e == EINTR { continue }
                throw EngramError.system("read", errno: e, path: from, operation: operation)
            }
            if n == 0 { return .copied }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: to, operation: operation)
        }
    }

    /// `syncfs(2)` on the file system holding `path`: every file written there becomes durable in one call.
    /// An error fails the caller's operation (the data may not be on disk); it is never retried and ignored.
    package static func syncFileSystem(of path: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.fsync, path: path) {
            throw EngramError.system("syncfs", errno: injected, path: path, operation: operation)
        }
        let fd = try open(path, O_RDONLY | O_DIRECTORY, operation: operation)
        defer { close(fd) }
        try syncFileSystem(fd: fd, path: path, operation: operation)
    }

    /// `syncfs(2)` through a descriptor already open. A writeback error is reported once per open file, to
    /// files open since before it happened (or to the first that looks): a descriptor held since the data was
    /// written sees it even when another process's `syncfs` saw it first. `path` names the file system in errors.
    package static func syncFileSystem(fd: Int32, path: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.fsync, path: path) {
            throw EngramError.system("syncfs", errno: injected, path: path, operation: operation)
        }
        while engram_syncfs(fd) != 0 {
            if Glibc.errno == EINTR { continue }
            throw EngramError.system("syncfs", errno: Glibc.errno, path: path, operation: operation)
        }
    }
}
