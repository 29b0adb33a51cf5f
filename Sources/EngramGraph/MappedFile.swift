import EngramIO

#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only and shared: pages come from the page cache on first touch, so many
/// processes searching one graph share one copy, and opening costs no reads.
final class MappedFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    let path: String
    let base: UnsafeRawPointer
    let size: Int

    init(path: String, operation: String) throws(EngramError) {
        self.path = path
        let fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.system("fstat", errno: errno, path: path, operation: operation) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw EngramError(code: .corrupt, message: "not a regular file", operation: operation, path: path,
                              remedy: "rebuild the graph (`engram-graph build`)")
        }
        size = Int(st.st_size)
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw EngramError.system("mmap", errno: errno, path: path, operation: operation) }
        base = UnsafeRawPointer(p)
    }

    /// Tells the kernel access is random (no read-ahead of neighbouring records).
    func adviseRandom() {
        if size > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_RANDOM) }
    }

    deinit {
        if size == 0 {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }
}
