#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The baseline for durable saves: the same atomic-replacement protocol as the store, written as plainly as
/// POSIX allows, one file at a time, in the calling thread. No event loop, no journal, no index, no
/// group commit: `open(O_CREAT|O_EXCL|O_WRONLY)` → `write` loop → `fsync` → `close` → `rename` →
/// `open` the directory → `fsync` it → `close`.
final class RawWriter {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let path: String
        let errno: Int32
        var description: String { "raw writer: \(call) \(path): \(String(cString: strerror(errno)))" }
    }

    /// The directory the files go to (`<root>/memories`, the store's layout).
    let directory: String
    private var counter: UInt64 = 0

    init(root: String) throws {
        directory = root + "/memories"
        for path in [root, directory] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Failure(call: "mkdir", path: path, errno: errno)
        }
    }

    /// Writes `bytes` to `<directory>/<name>` durably, directory entry included.
    func save(name: String, bytes: [UInt8]) throws {
        counter += 1
        let target = directory + "/" + name
        let temporary = directory + "/." + name + "." + String(counter, radix: 16) + ".tmp"

        let fd = try retrying("open", temporary) { open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644) }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                offset += try retrying("write", temporary) { write(fd, raw.baseAddress! + offset, raw.count - offset) }
            }
        }
        _ = try retrying("fsync", temporary) { fsync(fd) }
        close(fd)
        _ = try retrying("rename", target) { rename(temporary, target) }

        let directoryFD = try retrying("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        _ = try retrying("fsync", directory) { fsync(directoryFD) }
        close(directoryFD)
    }

    /// Runs a call that returns -1 and sets errno on failure, retrying `EINTR`.
    private func retrying<Result: BinaryInteger>(_ call: String, _ path: String, _ body: () -> Result) throws -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw Failure(call: call, path: path, errno: errno)
        }
    }
}
