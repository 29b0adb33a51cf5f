import CXXHash

#if canImport(Glibc)
import Glibc
#endif

/// Writes one file from a sequence of buffers, hashing (XXH3-64) what it writes, then fsyncs it.
///
/// Why streaming: derived files are large (a graph's node file is ~2 KB per vector, 200 MB at 100k); they are
/// produced a few MB at a time and the hash comes for free instead of a second read.
package struct HashingFileWriter {
    package let path: String
    private let operation: String
    private let fd: Int32
    private let state: OpaquePointer
    package private(set) var size = 0

    /// Opens `path` with O_CREAT | O_TRUNC | O_NOFOLLOW; `operation` names the work in errors ("write graph").
    package init(path: String, operation: String) throws(EngramError) {
        self.path = path
        self.operation = operation
        fd = try Sys.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644, operation: operation)
        guard let st = XXH3_createState() else {
            Sys.close(fd)
            throw EngramError(code: .io, message: "cannot allocate a hash state", operation: operation, path: path)
        }
        state = st
        XXH3_64bits_reset(state)
    }

    package mutating func write(_ bytes: UnsafeRawBufferPointer) throws(EngramError) {
        if bytes.isEmpty { return }
        try Sys.writeAll(fd, bytes, path: path, operation: operation)
        XXH3_64bits_update(state, bytes.baseAddress, bytes.count)
        size += bytes.count
    }

    package mutating func write(_ bytes: [UInt8]) throws(EngramError) {
        try withBytes(bytes) { (b) throws(EngramError) in try write(b) }
    }

    /// The XXH3-64 of what was written so far (a file can carry the hash of everything before its trailer).
    package var currentHash: UInt64 { XXH3_64bits_digest(state) }

    /// fsyncs and closes; returns the size and XXH3-64 of everything written.
    package consuming func finish() throws(EngramError) -> (size: Int, hash: UInt64) {
        defer { XXH3_freeState(state); Sys.close(fd) }
        try Sys.fsync(fd, path: path, operation: operation)
        return (size, XXH3_64bits_digest(state))
    }

    /// Closes without syncing after a failure (the caller reports the first error).
    package consuming func abandon() {
        XXH3_freeState(state)
        Sys.close(fd)
    }
}

/// `withUnsafeBytes` with a typed throw (the standard library's rethrows erases the type).
package func withBytes<T, R>(_ array: [T], _ body: (UnsafeRawBufferPointer) throws(EngramError) -> R) throws(EngramError) -> R {
    let result: Result<R, EngramError> = array.withUnsafeBytes { raw in
        do throws(EngramError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
