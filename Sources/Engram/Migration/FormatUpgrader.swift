import EngramIO
import EngramJSON

/// `engram migrate --upgrade`: brings a store written in an older on-disk format to the current one.
///
/// 1. Reads the store's version (`metadata.version` of `memory_index.json`) and plans the chain of
///    ``FormatMigration`` steps to the current version (``FormatMigrationRegistry/plan(from:)``). A store
///    already current has nothing to do.
/// 2. Takes the writer lock (no writer can run meanwhile) and surveys the first step: a record that cannot
///    be converted refuses the upgrade before anything changes.
/// 3. Keeps the pre-migration state restorable: `backups/pre-upgrade-<time>/` (see ``PreUpgradeSnapshot``),
///    kept until the user removes it.
/// 4. Applies the steps in order, checking after each that the store reports the step's target version.
/// 5. Opens the store read-only without repair and reads every record back.
///
/// Interrupted at any point, running it again finishes the job: each step is restartable, and the version in
/// the index changes only when a step is complete.
public struct FormatUpgrader: Sendable {
    public let layout: StoreLayout
    public var registry: FormatMigrationRegistry = .standard
    /// The loop whose thread pool does the file work. Default: ``EventLoop/shared``.
    package var eventLoop: EventLoop = .shared

    static let operation = "migrate --upgrade"
    /// Records read back per request after the upgrade.
    static let readBackChunk = 1000

    public init(store path: String) {
        layout = StoreLayout(root: path)
    }

    /// The store's format version.
    public func version() async throws -> String {
        let layout = self.layout
        return try await eventLoop.run { try FormatUpgrader.detectVersion(layout) }
    }

    /// The upgrade that would run, changing nothing (`--dry-run`).
    public func plan() async throws -> FormatUpgradeReport {
        let layout = self.layout
        let registry = self.registry
        return try await eventLoop.run { () throws -> FormatUpgradeReport in
            try FormatUpgrader.checkStore(layout)
            let version = try FormatUpgrader.detectVersion(layout)
            var report = FormatUpgradeReport(store: layout.root, fromVersion: version, toVersion: registry.currentVersion, dryRun: true)
            let steps = try registry.plan(from: version)
            for (n, step) in steps.enumerated() {
                report.steps.append(n == 0 ? try step.survey(layout) : FormatMigrationStepReport(step))
            }
            if !steps.isEmpty { report.snapshotPath = PreUpgradeSnapshot.path(for: layout, at: .now()) }
            return report
        }
    }

    /// Runs the upgrade. See the type's documentation for the order of events.
    public func upgrade() async throws -> FormatUpgradeReport {
        let start = ContinuousClock.now
        let layout = self.layout
        let registry = self.registry
        var report = try await eventLoop.run { () throws -> FormatUpgradeReport in
            try FormatUpgrader.checkStore(layout)
            // A current store is not touched at all, not even by taking the lock (which writes the lock file).
            if try FormatUpgrader.detectVersion(layout) == registry.currentVersion {
                return FormatUpgradeReport(store: layout.root, fromVersion: registry.currentVersion, toVersion: registry.currentVersion, dryRun: false)
            }
            if WriterLock.writersPresent(layout) {
                throw EngramError(code: .locked, message: "a process has the store open for writing", operation: "upgrade", path: layout.lockPath,
                                  remedy: "close the processes writing to the store, then upgrade")
            }
            let lock = try StoreLock(path: layout.lockPath)
            defer { lock.release() }
            let version = try FormatUpgrader.detectVersion(layout)
            var report = FormatUpgradeReport(store: layout.root, fromVersion: version, toVersion: registry.currentVersion, dryRun: false)
            let steps = try registry.plan(from: version)
            guard let first = steps.first else { return report }
            _ = try first.survey(layout)
            report.snapshotPath = try PreUpgradeSnapshot.take(layout, fromVersion: version, toVersion: registry.currentVersion, steps: steps.map(\.label))
            for step in steps {
                report.steps.append(try step.apply(layout))
                let reached = try FormatUpgrader.detectVersion(layout)
                guard reached == step.toVersion else {
                    throw EngramError(code: .corrupt, message: "the step \(step.label) left the store at version \(reached)", operation: FormatUpgrader.operation,
                                      path: layout.indexPath, remedy: "restore the snapshot \(report.snapshotPath ?? "in backups/") and report this")
                }
            }
            return report
        }
        if !report.nothingToDo { try await readBack(into: &report) }
        report.seconds = MigrationFileSystem.seconds(since: start)
        return report
    }

    /// Opens the upgraded store read-only, without repair, and reads every record.
    private func readBack(into report: inout FormatUpgradeReport) async throws {
        var configuration = StoreConfiguration()
        configuration.readOnly = true
        configuration.autoRepair = false
        configuration.createIfMissing = false
        configuration.loadVectorTier = false
        configuration.eventLoop = eventLoop
        let store = try await MemoryStore.open(at: layout.root, configuration: configuration)
        do {
            let memoryIDs = await store.memoryIDs()
            var read = 0
            for start in stride(from: 0, to: memoryIDs.count, by: FormatUpgrader.readBackChunk) {
                read += try await store.memories(Array(memoryIDs[start..<min(memoryIDs.count, start + FormatUpgrader.readBackChunk)])).count
            }
            let assemblyIDs = await store.assemblyIDs()
            for id in assemblyIDs where try await store.assembly(id) != nil { read += 1 }
            guard read == memoryIDs.count + assemblyIDs.count else {
                throw EngramError(code: .corrupt, message: "\(memoryIDs.count + assemblyIDs.count - read) records listed by the upgraded index do not read back",
                                  operation: FormatUpgrader.operation, path: layout.root,
                                  remedy: "restore the snapshot \(report.snapshotPath ?? "in backups/") and report this")
            }
            report.memoryCount = memoryIDs.count
            report.assemblyCount = assemblyIDs.count
            report.recordsReadBack = read
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func checkStore(_ layout: StoreLayout) throws(EngramError) {
        guard Sys.fileType(layout.root + "/.") == .directory, layout.looksLikeStore else {
            throw EngramError(code: .notAStore, message: "not an Engram store (no memory_index.json, no memories/)", operation: operation, path: layout.root,
                              remedy: "point --store at the store to upgrade")
        }
        try layout.checkNoSymlinks()
    }

    /// `metadata.version` of `memory_index.json` (a string; a number is accepted). An index without one is
    /// format 1 if it says `metadata.format: "engram"` (format 1 always writes both).
    static func detectVersion(_ layout: StoreLayout) throws(EngramError) -> String {
        guard Sys.fileType(layout.indexPath) == .file else {
            throw EngramError(code: .notFound, message: "memory_index.json is missing, so the format version is unknown", operation: operation, path: layout.indexPath,
                              remedy: "for a format 1 store, `engram repair` rebuilds the index from the records; for an older one, restore its index from backups/")
        }
        let bytes = try Sys.readFile(layout.indexPath, operation: operation)
        let root: JSONValue
        do { root = try JSONReader.parse(bytes) } catch {
            throw EngramError(code: .corrupt, message: "memory_index.json is not valid JSON (\(error)), so the format version is unknown", operation: operation,
                              path: layout.indexPath, remedy: "restore the index from backups/, or run `engram repair` on a format 1 store")
        }
        let metadata = root["metadata"]
        if let text = metadata?["version"]?.stringValue { return text }
        if let number = metadata?["version"]?.int64Value { return String(number) }
        if metadata?["format"]?.stringValue == "engram" { return CentralIndex().formatVersion }
        throw EngramError(code: .corrupt, message: "memory_index.json has no metadata.version", operation: operation, path: layout.indexPath,
                          remedy: "set metadata.version to the store's format version (see docs/FORMAT-v0.md), or restore the index from backups/")
    }
}
