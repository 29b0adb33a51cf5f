/// One step of `engram migrate --upgrade`: rewrites a store from one on-disk format version to the next.
///
/// The format version is `metadata.version` in `memory_index.json` (SPEC §3). Steps are chained by
/// ``FormatMigrationRegistry/plan(from:)`` from the store's version to the current one, and run by
/// ``FormatUpgrader`` with the writer lock held, after it has kept a snapshot of the records and the index
/// under `backups/pre-upgrade-<time>/`.
///
/// Rules for a step, because the upgrader relies on them:
/// - **Check before changing.** `apply` reads and converts everything first and throws, having changed nothing,
///   if any record cannot be converted.
/// - **Replace, never modify in place.** Every file is written with the atomic protocol (temp file, fsync,
///   rename, directory fsync). The snapshot holds hard links to the record files: writing into a file would
///   change the snapshot too.
/// - **Restartable.** After an interruption the store is a mix of converted and unconverted records under the
///   old index; running the step again must finish the job (skip what is already converted).
/// - **Index last.** Writing `memory_index.json` with `toVersion` is the step's commit point.
public protocol FormatMigration: Sendable {
    /// The format version this step reads.
    var fromVersion: String { get }
    /// The format version the store has once the step is done.
    var toVersion: String { get }
    /// What the step changes, in one sentence, for plans and reports.
    var description: String { get }

    /// What `apply` would do, without changing anything (`--dry-run`). Throws if the store cannot be migrated.
    /// Blocking: run it on a pool thread.
    func survey(_ layout: StoreLayout) throws -> FormatMigrationStepReport

    /// Rewrites the store from `fromVersion` to `toVersion`. Blocking: run it on a pool thread.
    func apply(_ layout: StoreLayout) throws -> FormatMigrationStepReport
}

extension FormatMigration {
    /// `"0 → 1"`.
    public var label: String { "\(fromVersion) → \(toVersion)" }
}
