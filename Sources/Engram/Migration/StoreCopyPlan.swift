import EngramJSON

/// What `engram migrate --to DEST` would copy (``StoreCopier/plan()``): the preconditions were checked and
/// nothing was changed.
public struct StoreCopyPlan: Sendable {
    /// A file to copy, relative to the store root.
    public struct File: Sendable, Hashable {
        public var path: String
        public var size: Int64
    }

    /// Something in the source that is not copied, and why.
    public struct Skipped: Sendable, Hashable {
        public var path: String
        public var reason: String
    }

    public var source: String
    public var destination: String
    /// Where the copy is assembled before it is renamed to `destination`.
    public var partialDirectory: String
    /// Directories to create, relative to the store root, parents first.
    public var directories: [String]
    public var files: [File]
    public var skipped: [Skipped]
    /// A `DEST.partial-migrate` left by an interrupted run exists and will be removed first.
    public var leftoverPartial: Bool
    /// `destination` exists as an empty directory (it is replaced by the finished copy).
    public var destinationExistsEmpty: Bool

    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// The number of record files (`memories/*.json`, `assemblies/*.json`) among `files`.
    public var recordCount: Int { files.filter { StoreCopier.isRecordPath($0.path) }.count }

    public var json: JSONValue {
        .object([
            "dry_run": true,
            "source": .string(source),
            "destination": .string(destination),
            "partial_directory": .string(partialDirectory),
            "leftover_partial": .bool(leftoverPartial),
            "files": .int(Int64(files.count)),
            "bytes": .int(totalBytes),
            "records": .int(Int64(recordCount)),
            "directories": .array(directories.map { .string($0) }),
            "file_list": .array(files.map { .object(["path": .string($0.path), "size": .int($0.size)]) }),
            "skipped": .array(skipped.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
        ])
    }
}
