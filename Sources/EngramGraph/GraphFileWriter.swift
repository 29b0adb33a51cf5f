import CXXHash
import EngramIO

#if canImport(Glibc)
import Glibc
#endif

/// Writes one graph file from a sequence of buffers, hashing (XXH3-64) what it writes, then fsyncs it.
///
/// Why streaming: the node file is ~2 KB per vector (200 MB at 100k); it is produced a few MB at a time.
struct GraphFileWriter {
    let path: String
    private let fd: Int32
    private let state: OpaquePointer
    private(set) var size = 0

    init(path: String) throws(EngramError) {
        self.path = path
        fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644, operation: "write graph")
        guard let st = XXH3_createState() else {
            Sys.close(fd)
            throw EngramError(code: .io, message: "cannot allocate a hash state", operation: "write graph", path: path)
        }
        state = st
        XXH3_64bits_reset(state)
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(EngramError) {
        if bytes.isEmpty { return }
        try Sys.writeAll(fd, bytes, path: path, operation: "write graph")
        XXH3_64bits_update(state, bytes.baseAddress, bytes.count)
        size += bytes.count
    }

    mutating func write(_ bytes: [UInt8]) throws(EngramError) {
        try withBytes(bytes) { (b) throws(EngramError) in try write(b) }
    }

    /// fsyncs and closes; returns the size and XXH3-64 of everything written.
    consuming func finish() throws(EngramError) -> (size: Int, hash: UInt64) {
        defer { XXH3_freeState(state); Sys.close(fd) }
        try Sys.fsync(fd, path: path, operation: "write graph")
        return (size, XXH3_64bits_digest(state))
    }

    /// Closes without syncing after a failure (the caller reports the first error).
    consuming func abandon() {
        XXH3_freeState(state)
        Sys.close(fd)
    }
}

/// `withUnsafeBytes` with a typed throw (the standard library's rethrows erases the type).
func withBytes<T, R>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws(EngramError) -> R) throws(EngramError) -> R {
    let result: Result<R, EngramError> = array.withUnsafeBytes { raw in
        do throws(EngramError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
