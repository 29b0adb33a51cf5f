#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of Engram.
///
/// Every failure names what was being done (`operation`), on what (`path` or `id`), why (`message`,
/// and the underlying `errno` when a system call failed) and what the user can do about it (`remedy`).
/// `code` is an extensible string-backed code, like swift-nio's `FileSystemError.Code`, so callers can
/// branch on the kind of failure without parsing messages.
public struct EngramError: Error, Sendable, CustomStringConvertible, Hashable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An id that SPEC §2 does not allow; nothing touched the file system.
        public static let invalidId = Code(rawValue: "invalid_id")
        /// A record, file or directory does not exist.
        public static let notFound = Code(rawValue: "not_found")
        /// A record or file that exists already (e.g. `init` on a non-empty directory).
        public static let alreadyExists = Code(rawValue: "already_exists")
        /// The operating system refused access (EACCES, EPERM).
        public static let permissionDenied = Code(rawValue: "permission_denied")
        /// The file system is full (ENOSPC, EDQUOT); the previous state is intact.
        public static let noSpace = Code(rawValue: "no_space")
        /// The file system is mounted read-only (EROFS).
        public static let readOnlyFileSystem = Code(rawValue: "read_only_file_system")
        /// Any other I/O failure, including EIO from `fsync`.
        public static let io = Code(rawValue: "io")
        /// A file that exists but cannot be understood (bad JSON, wrong shape, checksum mismatch).
        public static let corrupt = Code(rawValue: "corrupt")
        /// Input that is well-formed JSON but not a valid record (missing field, wrong type…).
        public static let invalidRecord = Code(rawValue: "invalid_record")
        /// An embedding containing NaN or ±Infinity.
        public static let invalidVector = Code(rawValue: "invalid_vector")
        /// An embedding whose length is not the store's dimension.
        public static let dimensionMismatch = Code(rawValue: "dimension_mismatch")
        /// An optimistic update found that the record changed since it was read.
        public static let conflict = Code(rawValue: "conflict")
        /// A memory with the same content exists and the store's duplicate policy is `reject`.
        public static let duplicate = Code(rawValue: "duplicate")
        /// Another process holds the store's writer lock.
        public static let locked = Code(rawValue: "locked")
        /// A write was attempted on a store opened read-only.
        public static let readOnlyStore = Code(rawValue: "read_only_store")
        /// The store has been closed.
        public static let closed = Code(rawValue: "closed")
        /// A symbolic link where Engram needs a real file or directory.
        public static let symlinkRefused = Code(rawValue: "symlink_refused")
        /// Bad command-line usage.
        public static let usage = Code(rawValue: "usage")
        /// A path is not an Engram store.
        public static let notAStore = Code(rawValue: "not_a_store")
        /// A store in a format version this Engram does not open (older: `engram migrate --upgrade`; newer:
        /// a newer Engram). Never "repaired": that would drop what this version cannot read.
        public static let unsupportedFormat = Code(rawValue: "unsupported_format")
        /// The embedder (the command configured to turn text into vectors) failed: it could not be started,
        /// exited, did not answer in time, or answered something that is not a valid reply. Nothing was written.
        public static let embedder = Code(rawValue: "embedder")
    }

    public var code: Code
    /// What went wrong, in words.
    public var message: String
    /// What Engram was doing, e.g. `"save memory"`, `"fsync"`, `"open store"`.
    public var operation: String
    /// The file or directory concerned, if any.
    public var path: String?
    /// The record id concerned, if any.
    public var id: String?
    /// The `errno` of the failed system call, if one failed.
    public var errno: Int32?
    /// What the user can do about it.
    public var remedy: String?

    public init(
        code: Code, message: String, operation: String, path: String? = nil, id: String? = nil,
        errno: Int32? = nil, remedy: String? = nil
    ) {
        self.code = code
        self.message = message
        self.operation = operation
        self.path = path
        self.id = id
        self.errno = errno
        self.remedy = remedy
    }

    public var description: String {
        var text = "\(operation)"
        if let id { text += " '\(id)'" }
        if let path { text += " (\(path))" }
        text += ": \(message)"
        if let errno { text += " [errno \(errno): \(EngramError.errnoName(errno))]" }
        if let remedy { text += ". Remedy: \(remedy)" }
        return text
    }

    /// A system-call failure, with the code and remedy that follow from `errno`.
    public static func system(_ call: String, errno value: Int32, path: String?, operation: String? = nil) -> EngramError {
        let message = "\(call) failed: \(String(cString: strerror(value)))"
        let op = operation ?? call
        switch value {
        case EACCES, EPERM:
            return EngramError(
                code: .permissionDenied, message: message, operation: op, path: path, errno: value,
                remedy: "give the user running Engram read and write access to \(path ?? "the store") (e.g. chown or chmod), or open the store read-only")
        case ENOSPC, EDQUOT:
            return EngramError(
                code: .noSpace, message: message, operation: op, path: path, errno: value,
                remedy: "free space (or inodes) on the file system holding \(path ?? "the store") and retry; the store keeps its previous state")
        case EROFS:
            return EngramError(
                code: .readOnlyFileSystem, message: message, operation: op, path: path, errno: value,
                remedy: "remount the file system read-write, or open the store read-only")
        case ENOENT:
            return EngramError(
                code: .notFound, message: message, operation: op, path: path, errno: value,
                remedy: "check that the path exists; `engram init` creates a store")
        case EEXIST:
            return EngramError(code: .alreadyExists, message: message, operation: op, path: path, errno: value)
        case ELOOP:
            return EngramError(
                code: .symlinkRefused, message: "\(call) refused a symbolic link", operation: op, path: path, errno: value,
                remedy: "replace the symbolic link with a real file or directory inside the store")
        case EIO:
            return EngramError(
                code: .io, message: message, operation: op, path: path, errno: value,
                remedy: "the device reported an I/O error: check the disk (dmesg), then run `engram verify`; the write was not acknowledged")
        default:
            return EngramError(
                code: .io, message: message, operation: op, path: path, errno: value,
                remedy: "check the file system, then run `engram verify`")
        }
    }

    /// The symbolic name of an errno value (`ENOSPC`), for messages a person can search for.
    public static func errnoName(_ value: Int32) -> String {
        switch value {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EIO: "EIO"
        case EBADF: "EBADF"
        case EACCES: "EACCES"
        case EEXIST: "EEXIST"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ELOOP: "ELOOP"
        case EDQUOT: "EDQUOT"
        case EMFILE: "EMFILE"
        case EWOULDBLOCK: "EWOULDBLOCK"
        case ENAMETOOLONG: "ENAMETOOLONG"
        default: "errno \(value)"
        }
    }
}
