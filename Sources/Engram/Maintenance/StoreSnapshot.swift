import EngramIO
import EngramJSON
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `engram backup DEST`: a consistent snapshot of a store, itself a valid store, verified after writing.
///
/// Every file of the snapshot is its own inode (``BackupMode/copy``): a copy-on-write clone where the file
/// system can make one, else a copy; nothing is fsynced file by file — one `syncfs` makes the whole snapshot
/// durable before it is settled. A snapshot must survive damage to the store it was taken from, and a hard link
/// would not survive a record modified in place; links are used only when asked for (``BackupMode/hardLink``).
/// Records are only ever replaced by rename, so a copy read through one descriptor is a consistent copy of one
/// version. Against a writer running in another process:
/// 1. the record directories are copied *with* their temp files, and a temp file renamed away meanwhile is
///    followed to its record;
/// 2. the journal is copied after the records, so every write that renamed a record during the pass (its
///    journal line precedes its rename) is named in the copy; the records it names are copied again, with
///    their temp files while they still exist (a copied temp file counts only once it is complete);
/// 3. the snapshot is opened once: its journal replay completes every committed batch from the temp files
///    (all-or-nothing, as after a crash), then its index and vector tier are rebuilt from its records — so the
///    snapshot's derived data always agree with its records — and it is verified.
/// In-process, ``MemoryStore/backup(to:)`` pauses writes instead, for an exact point in time.
public struct StoreSnapshot: Sendable {
    public let source: StoreLayout
    public let destination: StoreLayout
    public let mode: BackupMode

    public init(source: StoreLayout, destination: StoreLayout, mode: BackupMode = .copy) {
        self.source = source
        self.destination = destination
        self.mode = mode
    }

    /// Writes the files of the snapshot (blocking). The destination must not exist or be empty.
    func writeFiles(report: inout BackupReport) throws {
        report.mode = mode
        try prepareDestination()
        try place(source.indexPath, destination.indexPath, report: &report, mustExist: false)
        for kind in RecordKind.allCases {
            let from = source.directory(of: kind), to = destination.directory(of: kind)
            for name in try Sys.listDirectory(from, operation: "backup").sorted() where name != ".gitkeep" {
                let placed = try place(from + "/" + name, to + "/" + name, report: &report, mustExist: false)
                if !placed, Sys.isTemporaryName(name), let record = recordName(ofTemporary: name) {
                    // Renamed into place after the listing: take the record as it is now.
                    try place(from + "/" + record, to + "/" + record, report: &report, mustExist: false, replace: true)
                }
            }
        }
        for name in (try? Sys.listDirectory(source.vectorIndexDirectory)) ?? [] where !Sys.isTemporaryName(name) && name != ".gitkeep" {
            try place(source.vectorIndexDirectory + "/" + name, destination.vectorIndexDirectory + "/" + name, report: &report, mustExist: false)
        }
        // The journal last, copied (it is appended in place); then make the snapshot hold, for every record the
        // copy names, exactly the version its last line names — neither older (a rename the pass missed) nor
        // newer (a write after the copy: it could be half a batch the copy does not know of).
        if Sys.fileType(source.journalPath) == .file {
            var bytes: [UInt8] = []
            var last: [String: JournalOperation.LastChange] = [:]
            var pending = Set<String>()
            var settled = false
            // Rounds are incremental: each parses only the lines appended since the last one and re-checks only
            // the records they name or that were not settled yet, so it keeps up with a busy writer.
            for _ in 0..<200 {
                var current = try Sys.readFile(source.journalPath, operation: "backup")
                if let lastNewline = current.lastIndex(of: 0x0A) { current.removeSubrange((lastNewline + 1)...) } else { current = [] }
                guard current.count >= bytes.count, current.prefix(bytes.count).elementsEqual(bytes) else {
                    throw EngramError(code: .conflict, message: "the journal was rewritten during the backup (a checkpoint the backup could not hold off)",
                                      operation: "backup", path: source.journalPath,
                                      remedy: "retry; give the backup write access to \(source.lockPath), or call MemoryStore.backup(to:) in the writer process")
                }
                for (key, change) in JournalOperation.lastChanges(Journal.parse(Array(current[bytes.count...])).entries.compactMap(\.operation)) {
                    last[key] = change
                    pending.insert(key)
                }
                bytes = current
                pending = try catchUp(pending, last: last, report: &report)
                if pending.isEmpty {
                    settled = true
                    break
                }
            }
            guard settled else {
                throw EngramError(code: .conflict, message: "the writer overwrote records faster than the backup could follow its journal", operation: "backup",
                                  path: source.journalPath, remedy: "retry the backup, or call MemoryStore.backup(to:) in the writer process")
            }
            try FileEngine.writeAtomicallyBlocking(PendingFile(directory: destination.root, name: "memory_index.journal", bytes: bytes), operation: "backup")
            report.copied += 1
            report.files += 1
            report.bytesCopied += bytes.count
        }
        // Copies are not fsynced one by one: one syncfs makes every file of the snapshot durable (it reports a
        // writeback error of any of them), then the directories.
        if report.cloned + report.copied > 0 { try Sys.syncFileSystem(of: destination.root, operation: "backup") }
        for directory in [destination.root] + destination.directories where Sys.fileType(directory) == .directory {
            try Sys.fsyncDirectory(directory, operation: "backup")
        }
    }

    /// Brings each record in `keys` to the version its last journal line names. Returns the keys it could not
    /// settle: versions already overwritten in the store by a write after this copy of the journal.
    private func catchUp(_ keys: Set<String>, last: [String: JournalOperation.LastChange],
                         report: inout BackupReport) throws -> Set<String> {
        var unsettled = Set<String>()
        for key in keys {
            guard let entry = last[key] else { continue }
            let from = source.directory(of: entry.kind), to = destination.directory(of: entry.kind)
            let name = entry.id + ".json"
            guard let item = entry.item else {
                if Sys.fileType(to + "/" + name) != nil { _ = try Sys.unlink(to + "/" + name, operation: "backup") }
                continue
            }
            let target = item.memory?.updatedAt ?? item.assembly?.updatedAt
            if StoreSnapshot.version(of: to + "/" + name) == target { continue }
            if StoreSnapshot.version(of: from + "/" + name) == target {
                try place(from + "/" + name, to + "/" + name, report: &report, mustExist: false, replace: true)
                if StoreSnapshot.version(of: to + "/" + name) == target { continue }
            }
            // Not renamed yet: its temp file, which opening the snapshot renames into place (roll forward). A copy
            // counts only when complete: a single save's temp file may still be being written (a hard link would
            // see the rest arrive; a copy does not) — then the next round takes it again.
            if try place(from + "/" + item.temporaryName, to + "/" + item.temporaryName, report: &report, mustExist: false, replace: true) {
                if StoreSnapshot.version(of: to + "/" + item.temporaryName) == target { continue }
                if mode == .copy { _ = try Sys.unlink(to + "/" + item.temporaryName, operation: "backup") }
            }
            if StoreSnapshot.version(of: from + "/" + name) == target {
                try place(from + "/" + name, to + "/" + name, report: &report, mustExist: false, replace: true)
                if StoreSnapshot.version(of: to + "/" + name) == target { continue }
            }
            unsettled.insert(key)
        }
        return unsettled
    }

    /// A record file's `updated_at`, or nil if it is missing or unreadable.
    static func version(of path: String) -> Timestamp? {
        guard let bytes = try? Sys.readFile(path), let value = try? JSONReader.parse(bytes) else { return nil }
        return value["updated_at"]?.stringValue.flatMap(Timestamp.init(parsing:))
    }

    private func prepareDestination() throws {
        let root = destination.root
        if Sys.fileType(root) != nil {
            guard try Sys.listDirectory(root, operation: "backup").isEmpty else {
                throw EngramError(code: .alreadyExists, message: "the destination exists and is not empty", operation: "backup", path: root,
                                  remedy: "give a new or empty directory for the snapshot")
            }
        } else {
            try Sys.mkdir(root, operation: "backup")
            try Sys.fsyncDirectory(StoreOpener.parentDirectory(of: root), operation: "backup")
        }
        for directory in destination.directories { try Sys.mkdir(directory, operation: "backup") }
    }

    /// Puts a copy of `from` at `to` (see ``BackupMode``): a clone or a copy written under a temp name and
    /// renamed (a torn copy is never left under a record's name), or a hard link in ``BackupMode/hardLink`` mode
    /// (copied across file systems). Not fsynced here: ``writeFiles(report:)`` syncs the snapshot once. Returns
    /// false when `from` does not exist (and `mustExist` is false).
    @discardableResult
    private func place(_ from: String, _ to: String, report: inout BackupReport, mustExist: Bool, replace: Bool = false) throws -> Bool {
        guard Sys.fileType(from) == .file else {
            if mustExist { throw EngramError(code: .notFound, message: "missing", operation: "backup", path: from) }
            return false
        }
        if replace, Sys.fileType(to) != nil { _ = try Sys.unlink(to, operation: "backup") } else if Sys.fileType(to) != nil { return true }
        if mode == .hardLink {
            do {
                try Sys.link(from, to, operation: "backup")
                report.linked += 1
                report.files += 1
                return true
            } catch {
                if error.code == .notFound { return false }  // replaced or removed between the check and the link
                guard error.errno == EXDEV || error.errno == EPERM || error.errno == EMLINK else { throw error }
            }
        }
        let slash = to.lastIndex(of: "/")!
        let temporary = String(to[...slash]) + Sys.temporaryName(for: String(to[to.index(after: slash)...]))
        let copy: (method: CopyMethod, bytes: Int)
        do {
            copy = try Sys.copyFile(from, to: temporary, operation: "backup")
        } catch {
            // Not `catch where`: that pattern crashes the Swift 6.3 compiler's ownership checker here.
            guard error.code == .notFound, Sys.fileType(temporary) == nil else { throw error }
            return false  // replaced or removed between the check and the open
        }
        do {
            try Sys.rename(temporary, to, operation: "backup")
        } catch {
            _ = try? Sys.unlink(temporary)
            throw error
        }
        if copy.method == .cloned { report.cloned += 1 } else { report.copied += 1 }
        report.bytesCopied += copy.bytes
        report.files += 1
        return true
    }

    private func recordName(ofTemporary name: String) -> String? {
        // ".<record>.json.<hex>.tmp"
        let trimmed = name.dropFirst().dropLast(4)
        guard let dot = trimmed.lastIndex(of: ".") else { return nil }
        let record = String(trimmed[..<dot])
        return record.hasSuffix(".json") && RecordID.isValid(String(record.dropLast(5))) ? record : nil
    }

    /// Which file a path names and when it last changed: a checkpoint replaces `memory_index.json` by rename.
    static func identity(of path: String) -> [Int] {
        var st = stat()
        guard lstat(path, &st) == 0 else { return [] }
        return [Int(st.st_ino), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec), Int(st.st_size)]
    }

    /// Empties a destination this backup created, for another pass.
    static func clear(_ root: String) throws {
        for name in try Sys.listDirectory(root, operation: "backup") {
            try FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// Makes the written files a clean store (journal replay, index and vectors from its records) and verifies it.
    static func finish(_ destination: StoreLayout, report: inout BackupReport, configuration: StoreConfiguration) async throws {
        var settle = configuration
        settle.readOnly = false
        settle.rebuildDerivedData = true
        settle.createIfMissing = false
        let store = try await MemoryStore.open(at: destination.root, configuration: settle)
        let statistics = await store.statistics()
        try await store.close()
        report.memories = statistics.memoryCount
        report.assemblies = statistics.assemblyCount
        let verification = try await configuration.eventLoop.run { try StoreVerifier(layout: destination).run() }
        guard verification.isConsistent else {
            throw EngramError(code: .corrupt, message: "the snapshot does not verify: \(verification.problems.prefix(3).map { "\($0.kind.rawValue) \($0.path ?? "")" })",
                              operation: "backup", path: destination.root, remedy: "run `engram verify` on the store, then back up again")
        }
        report.verified = true
        _ = try? Sys.unlink(destination.lockPath)
    }

    /// Backs up a store that may have a writer in another process (see the type's documentation).
    public static func backup(store: String, to destination: String, mode: BackupMode = .copy,
                              configuration: StoreConfiguration = StoreConfiguration()) async throws -> BackupReport {
        let started = Timestamp.now()
        let snapshot = StoreSnapshot(source: StoreLayout(root: store), destination: StoreLayout(root: destination), mode: mode)
        guard snapshot.source.looksLikeStore else {
            throw EngramError(code: .notAStore, message: "not an Engram store", operation: "backup", path: store, remedy: "point --store at a store")
        }
        var report = BackupReport(destination: destination)
        report.writerWasActive = StoreVerifier.writerActive(snapshot.source)
        report = try await configuration.eventLoop.run { [report] in
            // Keep checkpoints out of the pass (see StoreLock.holdCheckpointGate). Should one happen anyway (the
            // gate could not be taken), the index changes under the pass: start again, a few times.
            let gate = StoreLock.holdCheckpointGate(of: snapshot.source)
            defer { gate?.release() }
            var report = report
            report.checkpointGateHeld = gate != nil
            for attempt in 1...5 {
                var pass = report
                pass.passes = attempt
                let before = StoreSnapshot.identity(of: snapshot.source.indexPath)
                try snapshot.writeFiles(report: &pass)
                if StoreSnapshot.identity(of: snapshot.source.indexPath) == before { return pass }
                try StoreSnapshot.clear(snapshot.destination.root)
            }
            // Never hand back a pass a checkpoint tore: it could hold half a batch.
            throw EngramError(code: .conflict, message: "the writer rewrote memory_index.json during every pass of the backup", operation: "backup",
                              path: snapshot.source.indexPath,
                              remedy: "retry; give the backup write access to \(snapshot.source.lockPath) (it then holds checkpoints off), or call MemoryStore.backup(to:) in the writer process")
        }
        try await finish(snapshot.destination, report: &report, configuration: configuration)
        report.seconds = Double(Timestamp.now().microseconds - started.microseconds) / 1e6
        return report
    }
}

extension MemoryStore {
    /// A point-in-time snapshot of this store in `destination` (a new or empty directory): writes are paused
    /// while the files are copied (cloned where the file system can), then the snapshot is settled and verified.
    /// See ``BackupMode`` for `.hardLink`, and what it does not protect against.
    public func backup(to destination: String, mode: BackupMode = .copy) async throws -> BackupReport {
        try checkOpen("backup")
        let started = Timestamp.now()
        var report = BackupReport(destination: destination)
        let snapshot = StoreSnapshot(source: layout, destination: StoreLayout(root: destination), mode: mode)
        try await pauseWrites {
            if !self.configuration.readOnly { try await self.checkpoint(force: true, writeVectors: true) }
            report = try await self.engine.loop.run { [report] in
                var report = report
                try snapshot.writeFiles(report: &report)
                return report
            }
        }
        try await StoreSnapshot.finish(snapshot.destination, report: &report, configuration: configuration)
        report.seconds = Double(Timestamp.now().microseconds - started.microseconds) / 1e6
        return report
    }
}
