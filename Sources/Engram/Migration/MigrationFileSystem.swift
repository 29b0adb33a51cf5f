import CXXHash
import EngramIO

#if canImport(Glibc)
import Glibc
#endif

/// The file-system steps the migrations share, blocking (run them on a pool thread through ``EventLoop/run(_:)``).
///
/// Why not ``Sys/readFile(_:maxSize:operation:)`` and ``FileEngine``: a migration copies files of any size (a
/// vector index can be gigabytes), so it streams them through a fixed buffer and hashes them as it goes.
enum MigrationFileSystem {
    /// One directory entry found by ``walk(_:)``, relative to the walked root.
    struct Entry: Sendable, Hashable {
        var relativePath: String
        var type: Sys.FileType
        var size: Int64
    }

    /// What copying or hashing a file found: its length and XXH3-64.
    struct Digest: Sendable, Hashable {
        var size: Int64
        var hash: UInt64
        var hex: String { RecordID.hex16(hash) }
    }

    static let bufferSize = 1 << 20

    // MARK: Walking

    /// Every entry under `root`, depth first, directories before their contents, sorted by name. Symbolic links
    /// are reported as links, never followed.
    static func walk(_ root: String, operation: String) throws(EngramError) -> [Entry] {
        var out: [Entry] = []
        try walk(root, relative: "", into: &out, operation: operation)
        return out
    }

    private static func walk(_ root: String, relative: String, into out: inout [Entry], operation: String) throws(EngramError) {
        let directory = relative.isEmpty ? root : root + "/" + relative
        for name in try Sys.listDirectory(directory, operation: operation).sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + path
            var st = stat()
            guard lstat(full, &st) == 0 else {
                let e = errno
                if e == ENOENT { continue }  // removed since the listing (a writer is running): the next pass sees it
                throw EngramError.system("lstat", errno: e, path: full, operation: operation)
            }
            let type: Sys.FileType
            switch st.st_mode & S_IFMT {
            case S_IFREG: type = .file
            case S_IFDIR: type = .directory
            case S_IFLNK: type = .symlink
            default: type = .other
            }
            out.append(Entry(relativePath: path, type: type, size: Int64(st.st_size)))
            if type == .directory { try walk(root, relative: path, into: &out, operation: operation) }
        }
    }

    // MARK: Hashing and copying

    /// Streams a regular file (never through a link) and returns its size and XXH3-64.
    static func digest(of path: String, operation: String) throws(EngramError) -> Digest {
        let fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(fd) }
        try requireRegularFile(fd, path: path, operation: operation)
        return try stream(fd, path: path, operation: operation) { _ throws(EngramError) in }
    }

    /// Copies the regular file `source` to `directory/name` with the atomic protocol: a temp file created with
    /// `O_EXCL|O_NOFOLLOW`, every byte written, `fsync`, `rename`. The caller fsyncs `directory` once after all
    /// of its files (group commit), before anything depends on them.
    ///
    /// Returns the digest of the bytes read from `source`, which are exactly the bytes written.
    static func copyFile(_ source: String, toDirectory directory: String, name: String, operation: String) throws(EngramError) -> Digest {
        let input = try Sys.open(source, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(input) }
        try requireRegularFile(input, path: source, operation: operation)
        let temporaryPath = directory + "/" + Sys.temporaryName(for: name)
        let output = try Sys.open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o644, operation: operation)
        let digest: Digest
        do {
            digest = try stream(input, path: source, operation: operation) { chunk throws(EngramError) in
                try Sys.writeAll(output, chunk, path: temporaryPath, operation: operation)
            }
            try Sys.fsync(output, path: temporaryPath, operation: operation)
            Sys.close(output)
        } catch {
            Sys.close(output)
            _ = try? Sys.unlink(temporaryPath)
            throw error
        }
        do {
            try Sys.rename(temporaryPath, directory + "/" + name, operation: operation)
        } catch {
            _ = try? Sys.unlink(temporaryPath)
            throw error
        }
        return digest
    }

    /// Reads `fd` to the end through one buffer, hashing every byte and handing each chunk to `body`.
    private static func stream(
        _ fd: Int32, path: String, operation: String, _ body: (UnsafeRawBufferPointer) throws(EngramError) -> Void
    ) throws(EngramError) -> Digest {
        guard let state = XXH3_createState() else {
            throw EngramError(code: .io, message: "out of memory for a hash state", operation: operation, path: path)
        }
        defer { XXH3_freeState(state) }
        XXH3_64bits_reset(state)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, bufferSize)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw EngramError.system("read", errno: e, path: path, operation: operation)
            }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            XXH3_64bits_update(state, chunk.baseAddress, n)
            try body(chunk)
            total += Int64(n)
        }
        return Digest(size: total, hash: XXH3_64bits_digest(state))
    }

    private static func requireRegularFile(_ fd: Int32, path: String, operation: String) throws(EngramError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.system("fstat", errno: errno, path: path, operation: operation) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw EngramError(code: .corrupt, message: "not a regular file", operation: operation, path: path,
                              remedy: "move it out of the store and retry")
        }
    }

    // MARK: Directories

    /// Creates `path` (and any missing parents), each new directory made durable by fsyncing its parent.
    /// Returns whether anything was created.
    @discardableResult
    static func makeDirectories(_ path: String, operation: String) throws(EngramError) -> Bool {
        switch Sys.fileType(path) {
        case .directory: return false
        case nil: break
        default:
            throw EngramError(code: .alreadyExists, message: "exists and is not a directory", operation: operation, path: path,
                              remedy: "choose another path, or move what is there out of the way")
        }
        let parent = parentDirectory(of: path)
        if parent != path { try makeDirectories(parent, operation: operation) }
        try Sys.mkdir(path, operation: operation)
        try Sys.fsyncDirectory(parent, operation: operation)
        return true
    }

    /// Removes `path` and everything under it. Links are unlinked, never followed. The parent is fsynced.
    static func removeTree(_ path: String, operation: String) throws(EngramError) {
        try removeTreeContents(path, operation: operation)
        try Sys.fsyncDirectory(parentDirectory(of: path), operation: operation)
    }

    private static func removeTreeContents(_ path: String, operation: String) throws(EngramError) {
        guard let type = Sys.fileType(path) else { return }
        if type == .directory {
            for name in try Sys.listDirectory(path, operation: operation) {
                try removeTreeContents(path + "/" + name, operation: operation)
            }
            if rmdir(path) != 0 {
                let e = errno
                if e != ENOENT { throw EngramError.system("rmdir", errno: e, path: path, operation: operation) }
            }
        } else {
            try Sys.unlink(path, operation: operation)
        }
    }

    // MARK: Paths

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The canonical absolute path of an existing path (links resolved), or nil.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The canonical form of a path that may not exist yet: its nearest existing ancestor resolved, the rest
    /// appended as written.
    static func canonicalPath(_ path: String) -> String {
        if let real = realPath(path) { return real }
        let parent = parentDirectory(of: path)
        let base = baseName(of: path)
        if parent == path || base.isEmpty { return path }
        let resolvedParent = canonicalPath(parent)
        if base == "." { return resolvedParent }
        return (resolvedParent == "/" ? "" : resolvedParent) + "/" + base
    }

    /// The device a path is on (`st_dev`), links not followed.
    static func device(of path: String) -> UInt64? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return UInt64(st.st_dev)
    }

    /// The modification time, in nanoseconds, of a path (links not followed).
    static func modificationTime(of path: String) -> Int64? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }

    /// Seconds elapsed since `start`, as a Double.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
