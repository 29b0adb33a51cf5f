import EngramJSON

/// What `engram migrate --upgrade` found and did (or, with `dryRun`, would do).
public struct FormatUpgradeReport: Sendable {
    public var store: String
    /// The store's format version before the upgrade.
    public var fromVersion: String
    /// The version this Engram writes.
    public var toVersion: String
    public var dryRun: Bool
    /// One entry per step, in order. In a dry run only the first step can be surveyed (later ones read what
    /// earlier ones write), so later steps carry their description only.
    public var steps: [FormatMigrationStepReport] = []
    /// `backups/pre-upgrade-<time>/` (in a dry run: where it would go). Nil when there was nothing to do.
    public var snapshotPath: String?
    /// After the upgrade: what the store, opened read-only without repair, holds; every record was read back.
    public var memoryCount = 0
    public var assemblyCount = 0
    public var recordsReadBack = 0
    public var seconds: Double = 0

    public init(store: String, fromVersion: String, toVersion: String, dryRun: Bool) {
        self.store = store
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.dryRun = dryRun
    }

    /// The store was already at the current version.
    public var nothingToDo: Bool { fromVersion == toVersion }

    public var json: JSONValue {
        .object([
            "store": .string(store),
            "from_version": .string(fromVersion),
            "to_version": .string(toVersion),
            "dry_run": .bool(dryRun),
            "nothing_to_do": .bool(nothingToDo),
            "steps": .array(steps.map(\.json)),
            "snapshot": snapshotPath.map { .string($0) } ?? .null,
            "memory_count": .int(Int64(memoryCount)),
            "assembly_count": .int(Int64(assemblyCount)),
            "records_read_back": .int(Int64(recordsReadBack)),
            "seconds": .double((seconds * 1000).rounded() / 1000),
        ])
    }
}
