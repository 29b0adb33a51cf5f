import EngramIO
import EngramJSON

/// The state of a store before `engram migrate --upgrade` changed it: `backups/pre-upgrade-<UTC time>/` holding
/// `memories/`, `assemblies/`, `memory_index.json` (and the journal, if any) as they were, plus
/// `pre-upgrade.json` saying from which version, when, and how to restore. Kept until the user removes it.
///
/// Every file is a copy of its own — a copy-on-write clone where the file system supports it, else a copy — never
/// a hard link: the snapshot must keep the old bytes even if a record is later modified in place (a hand edit,
/// a tool, bit rot), not only when the migration replaces it by rename. The copies are made durable together
/// with one `syncfs`, not file by file. The index and journal are copied. The snapshot is assembled under a `.incomplete` name and renamed when
/// complete, so a directory named `pre-upgrade-<time>` is always a whole snapshot.
enum PreUpgradeSnapshot {
    static let prefix = "pre-upgrade-"
    static let manifestName = "pre-upgrade.json"
    static let operation = "snapshot before upgrade"

    /// The path a snapshot taken now would get.
    static func path(for layout: StoreLayout, at time: Timestamp) -> String {
        layout.backupsDirectory + "/" + prefix + String(time.description.map { $0 == ":" ? "_" : $0 })
    }

    /// Takes the snapshot; returns its path. Run with the writer lock held (nothing changes meanwhile).
    static func take(_ layout: StoreLayout, fromVersion: String, toVersion: String, steps: [String]) throws(EngramError) -> String {
        let op = operation
        let now = Timestamp.now()
        let final = path(for: layout, at: now)
        let building = final + ".incomplete"
        try MigrationFileSystem.makeDirectories(layout.backupsDirectory, operation: op)
        if Sys.fileType(final) != nil {
            throw EngramError(code: .alreadyExists, message: "a snapshot of this name exists", operation: op, path: final, remedy: "run the upgrade again")
        }
        try MigrationFileSystem.removeTree(building, operation: op)
        try Sys.mkdir(building, operation: op)
        var files = 0
        for kind in RecordKind.allCases {
            let source = layout.directory(of: kind)
            let target = building + "/" + kind.directoryName
            try Sys.mkdir(target, operation: op)
            if Sys.fileType(source) == .directory {
                for name in try Sys.listDirectory(source, operation: op).sorted() where !Sys.isTemporaryName(name) && Sys.fileType(source + "/" + name) == .file {
                    if Sys.fileType(target + "/" + name) == nil { _ = try Sys.copyFile(source + "/" + name, to: target + "/" + name, operation: op) }
                    files += 1
                }
            }
        }
        // Every copy durable at once (a writeback error of any of them fails the upgrade before it starts), then
        // the directories that name them.
        try Sys.syncFileSystem(of: building, operation: op)
        for kind in RecordKind.allCases { try Sys.fsyncDirectory(building + "/" + kind.directoryName, operation: op) }
        var copied: [String] = []
        for path in [layout.indexPath, layout.journalPath] where Sys.fileType(path) == .file {
            let name = MigrationFileSystem.baseName(of: path)
            _ = try MigrationFileSystem.copyFile(path, toDirectory: building, name: name, operation: op)
            copied.append(name)
        }
        let manifest: JSONValue = .object([
            "from_version": .string(fromVersion),
            "to_version": .string(toVersion),
            "created_at": .string(now.description),
            "steps": .array(steps.map { .string($0) }),
            "record_files": .int(Int64(files)),
            "copied": .array(copied.map { .string($0) }),
            "restore": .string("stop every writer, then replace the store's memories/, assemblies/ and memory_index.json with the ones here, and delete memory_index.journal and vector_index/ (rebuilt at open); see docs/MIGRATION.md"),
        ])
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: building, name: manifestName, bytes: JSONWriter.pretty(manifest)), operation: op)
        try Sys.fsyncDirectory(building, operation: op)
        try Sys.rename(building, final, operation: op)
        try Sys.fsyncDirectory(layout.backupsDirectory, operation: op)
        return final
    }
}
