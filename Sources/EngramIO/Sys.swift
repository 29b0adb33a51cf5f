#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, blocking wrappers over the POSIX calls Engram uses, each named after its C call.
///
/// Why a layer at all: every call (1) retries `EINTR`, (2) turns a failure into an ``EngramError`` naming the
/// call, the path and the errno, and (3) consults ``FaultInjector`` in debug builds so tests can make any
/// call fail. These run on libuv's thread pool (see ``EventLoop/run(_:)``), never on the loop thread itself.
package enum Sys {
    /// `open(2)`. Always adds `O_CLOEXEC`.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644, operation: String? = nil) throws(EngramError) -> Int32 {
        if let injected = FaultInjector.shared.check(.open, path: path) {
            throw EngramError.system("open", errno: injected, path: path, operation: operation)
        }
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let e = Glibc.errno
            if e == EINTR { continue }
            throw EngramError.system("open", errno: e, path: path, operation: operation)
        }
    }

    /// `write(2)` in a loop until every byte is written (short writes are normal on full disks and pipes).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.write, path: path) {
            throw EngramError.system("write", errno: injected, path: path, operation: operation)
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                let e = Glibc.errno
                if e == EINTR { continue }
                throw EngramError.system("write", errno: e, path: path, operation: operation)
            }
            if n == 0 { throw EngramError.system("write", errno: EIO, path: path, operation: operation) }
            offset += n
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String, operation: String? = nil) throws(EngramError) {
        do {
            try bytes.withUnsafeBytes { buffer in try writeAll(fd, buffer, path: path, operation: operation) }
        } catch let error as EngramError {
            throw error
        } catch {
            fatalError("unreachable: writeAll throws only EngramError")
        }
    }

    /// `fsync(2)`. A failure here is final: the caller must not acknowledge the write, nor retry and then
    /// acknowledge (after a failed fsync the kernel may have dropped the dirty pages).
    package static func fsync(_ fd: Int32, path: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.fsync, path: path) {
            throw EngramError.system("fsync", errno: injected, path: path, operation: operation)
        }
        while Glibc.fsync(fd) != 0 {
            let e = Glibc.errno
            if e == EINTR { continue }
            throw EngramError.system("fsync", errno: e, path: path, operation: operation)
        }
    }

    /// `close(2)`; errors are ignored because the data was already made durable (or reported) by `fsync`.
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `rename(2)`: atomically replaces `to` (a symbolic link at `to` is replaced, never followed).
    package static func rename(_ from: String, _ to: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.rename, path: to) {
            throw EngramError.system("rename", errno: injected, path: to, operation: operation)
        }
        if Glibc.rename(from, to) != 0 {
            throw EngramError.system("rename", errno: Glibc.errno, path: to, operation: operation)
        }
    }

    /// `unlink(2)`. Returns false when the file did not exist.
    @discardableResult
    package static func unlink(_ path: String, operation: String? = nil) throws(EngramError) -> Bool {
        if let injected = FaultInjector.shared.check(.unlink, path: path) {
            throw EngramError.system("unlink", errno: injected, path: path, operation: operation)
        }
        if Glibc.unlink(path) != 0 {
            let e = Glibc.errno
            if e == ENOENT { return false }
            throw EngramError.system("unlink", errno: e, path: path, operation: operation)
        }
        return true
    }

    /// `mkdir(2)`. Returns false when the directory existed already.
    @discardableResult
    package static func mkdir(_ path: String, mode: mode_t = 0o755, operation: String? = nil) throws(EngramError) -> Bool {
        if let injected = FaultInjector.shared.check(.mkdir, path: path) {
            throw EngramError.system("mkdir", errno: injected, path: path, operation: operation)
        }
        if Glibc.mkdir(path, mode) != 0 {
            let e = Glibc.errno
            if e == EEXIST, fileType(path) == .directory { return false }
            throw EngramError.system("mkdir", errno: e, path: path, operation: operation)
        }
        return true
    }

    /// `link(2)`: a hard link, used for free snapshots of files that are only ever replaced by rename.
    package static func link(_ from: String, _ to: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.link, path: to) {
            throw EngramError.system("link", errno: injected, path: to, operation: operation)
        }
        if Glibc.link(from, to) != 0 {
            throw EngramError.system("link", errno: Glibc.errno, path: to, operation: operation)
        }
    }

    /// Opens a directory and `fsync`s it, making the renames and unlinks inside it durable.
    package static func fsyncDirectory(_ path: String, operation: String? = nil) throws(EngramError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY, operation: operation)
        defer { close(fd) }
        try fsync(fd, path: path, operation: operation)
    }

    /// What `lstat(2)` finds at a path (symbolic links are reported, not followed).
    package enum FileType: Sendable, Equatable { case file, directory, symlink, other }

    package static func fileType(_ path: String) -> FileType? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// Reads a whole regular file. Refuses symbolic links (`O_NOFOLLOW`) and files over `maxSize` bytes
    /// (a hostile 10 GB "record" must not exhaust memory).
    package static func readFile(_ path: String, maxSize: Int = 256 << 20, operation: String? = nil) throws(EngramError) -> [UInt8] {
        let fd = try open(path, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { close(fd) }
        let size = try regularFileSize(fd, path: path, operation: operation ?? "read")
        guard size <= maxSize else {
            throw EngramError(code: .corrupt, message: "file is \(size) bytes, over the limit of \(maxSize)", operation: operation ?? "read", path: path,
                              remedy: "`engram repair` moves oversized files to quarantine/")
        }
        if let injected = FaultInjector.shared.check(.read, path: path) {
            throw EngramError.system("read", errno: injected, path: path, operation: operation)
        }
        var buffer = [UInt8](repeating: 0, count: size)
        var offset = 0
        let readError: Int32? = buffer.withUnsafeMutableBytes { raw -> Int32? in
            while offset < size {
                let n = Glibc.read(fd, raw.baseAddress! + offset, size - offset)
                if n < 0 {
                    if Glibc.errno == EINTR { continue }
                    return Glibc.errno
                }
                if n == 0 { break }  // the file shrank under us: return what is there
                offset += n
            }
            return nil
        }
        if let readError { throw EngramError.system("read", errno: readError, path: path, operation: operation) }
        if offset < size { buffer.removeSubrange(offset...) }
        return buffer
    }

    /// The size of the regular file open as `fd`; anything else (a device, a FIFO, a directory) is refused: a
    /// store only ever holds regular files, and reading anything else could block or never end.
    package static func regularFileSize(_ fd: Int32, path: String, operation: String) throws(EngramError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.system("fstat", errno: Glibc.errno, path: path, operation: operation) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw EngramError(code: .corrupt, message: "not a regular file", operation: operation, path: path,
                              remedy: "move it out of the store; `engram repair` sets such files aside")
        }
        return Int(st.st_size)
    }

    /// The names in a directory, without `.` and `..`.
    package static func listDirectory(_ path: String, operation: String? = nil) throws(EngramError) -> [String] {
        if let injected = FaultInjector.shared.check(.opendir, path: path) {
            throw EngramError.system("opendir", errno: injected, path: path, operation: operation)
        }
        guard let dir = opendir(path) else {
            throw EngramError.system("opendir", errno: Glibc.errno, path: path, operation: operation)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// A unique temporary name in the same directory as `name`. It starts with `.` (no record id does) and
    /// ends with `.tmp`, which is how stale temp files are recognised and removed at open.
    package static func temporaryName(for name: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = String(generator.next() as UInt64, radix: 16)
        return ".\(name).\(token).tmp"
    }

    /// Whether a directory entry is an Engram temp file (see ``temporaryName(for:)``).
    package static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }
}

import CEngramSys

extension Sys {
    /// `renameat2(RENAME_EXCHANGE)`: swaps two existing paths atomically. Throws with errno ENOSYS/EINVAL where
    /// unsupported, so callers can fall back to two renames.
    package static func exchange(_ a: String, _ b: String, operation: String? = nil) throws(EngramError) {
        if let injected = FaultInjector.shared.check(.rename, path: b) {
            throw EngramError.system("renameat2", errno: injected, path: b, operation: operation)
        }
        if engram_rename_exchange(a, b) != 0 {
            throw EngramError.system("renameat2", errno: Glibc.errno, path: b, operation: operation)
        }
    }
}
