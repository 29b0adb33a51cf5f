#if canImport(Glibc)
import Glibc
#endif

/// Which `memory_index.json` a `memory_index.bin` was derived from: its size, modification time (ns) and inode.
///
/// Why these three: a checkpoint replaces the JSON by rename (a new inode), an editor either renames too or
/// writes in place (a new mtime, usually a new size), so checking that the binary form is still the JSON's costs
/// one `stat` — never a read of the JSON, which is what open must avoid.
struct IndexFileIdentity: Sendable, Equatable {
    var size: UInt64
    var mtimeNanoseconds: Int64
    var inode: UInt64

    /// The identity of the file at `path` (following no link: the index is a regular file), or nil when it
    /// cannot be stat'ed.
    init?(path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        self.init(st)
    }

    /// The identity of an open file (`fstat`).
    init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        self.init(st)
    }

    init(size: UInt64, mtimeNanoseconds: Int64, inode: UInt64) {
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.inode = inode
    }

    private init(_ st: stat) {
        size = UInt64(st.st_size)
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        inode = UInt64(st.st_ino)
    }
}
