#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only and shared: pages come from the page cache on first touch, so many
/// processes searching one file (a graph, a keyword index) share one copy, and opening costs no reads.
package final class MappedFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    package let path: String
    package let base: UnsafeRawPointer
    package let size: Int

    /// `remedy` is what a `.corrupt` error (not a regular file) tells the user to do; it depends on who owns the file.
    /// `populate`: map every page at once (`MAP_POPULATE`), for a file the caller reads whole right away (a
    /// checksum pass): one call into the kernel instead of a fault per few pages.
    package init(path: String, operation: String, remedy: String, populate: Bool = false) throws(EngramError) {
        self.path = path
        let fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.system("fstat", errno: errno, path: path, operation: operation) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw EngramError(code: .corrupt, message: "not a regular file", operation: operation, path: path, remedy: remedy)
        }
        size = Int(st.st_size)
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0)
        guard let p, p != MAP_FAILED else { throw EngramError.system("mmap", errno: errno, path: path, operation: operation) }
        base = UnsafeRawPointer(p)
    }

    /// The mapped bytes as a buffer (bounds-checked slicing for readers of untrusted files).
    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Tells the kernel access is random (no read-ahead of neighbouring records).
    package func adviseRandom() {
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
