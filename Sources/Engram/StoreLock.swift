import EngramIO

#if canImport(Glibc)
import Glibc
#endif

/// The writer lock: an exclusive `flock` on `<store>/.lock`, held while the store is open for writing.
///
/// `flock` locks vanish with the process, so a writer killed with SIGKILL never leaves a stale lock. The file
/// holds the writer's pid, to name it in the error a second writer gets.
final class StoreLock: Sendable {
    private let fd: Int32
    let path: String

    init(path: String) throws(EngramError) {
        self.path = path
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o644, operation: "lock store")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var holder = ""
            if let bytes = try? Sys.readFile(path, maxSize: 64), let text = String(validating: bytes, as: UTF8.self) {
                let pid = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !pid.isEmpty { holder = " (pid \(pid))" }
            }
            Sys.close(fd)
            if e == EWOULDBLOCK {
                throw EngramError(code: .locked, message: "another process\(holder) has this store open for writing", operation: "open store",
                                  path: path, errno: e,
                                  remedy: "stop the other writer, or open this store read-only (`readOnly: true`); only one writer process per store")
            }
            throw EngramError.system("flock", errno: e, path: path, operation: "lock store")
        }
        self.fd = fd
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    func release() {
        _ = flock(fd, LOCK_UN)
        Sys.close(fd)
    }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

private extension Set where Element == Character {
    static let whitespacesAndNewlines: Set<Character> = [" ", "\n", "\t", "\r"]
}
