import EngramIO
import EngramJSON

/// The blocking part of opening a store, run on a pool thread: create, lock, load the index, replay the
/// journal, clean up. Kept apart from the actor so that open does no actor hops per record.
struct StoreOpener {
    let layout: StoreLayout
    let configuration: StoreConfiguration
    var report = RecoveryReport()

    init(layout: StoreLayout, configuration: StoreConfiguration) {
        self.layout = layout
        self.configuration = configuration
    }

    var writer: Bool { !configuration.readOnly }

    /// Creates, locks (the commit lock, held until the store finishes opening), loads and recovers.
    mutating func prepare() throws -> (CentralIndex, WriterLock?, RecoveryReport, Bool) {
        // A store being created is created under the commit lock: several processes opening a new store at once
        // (four `engram put` on a fresh path) must not write its files over each other, nor sweep each other's
        // temp files. Only the root directory is made before the lock, which lives in it.
        let creating = writer && configuration.createIfMissing && mayCreate
        if creating {
            if Sys.fileType(layout.root) == nil, try Sys.mkdir(layout.root, operation: "create store") {
                try Sys.fsyncDirectory(StoreOpener.parentDirectory(of: layout.root), operation: "create store")
            }
        } else {
            try createIfNeeded()
        }
        try layout.checkNoSymlinks()
        let lock = writer ? try WriterLock(path: layout.lockPath) : nil
        do {
            try lock?.acquireBlocking(operation: "open store", timeout: configuration.busyTimeout)
            if creating { try createIfNeeded() }
            if writer {
                for directory in layout.directories where Sys.fileType(directory) == nil {
                    try Sys.mkdir(directory, operation: "open store")
                    try Sys.fsyncDirectory(layout.root, operation: "open store")
                }
            }
            var (index, needsCheckpoint) = try loadIndex()
            if writer {
                if try StoreOpener.consumeCleanShutdownMark(layout) {
                    report.trustedCleanShutdown = true
                } else {
                    // Under the commit lock no record temp file is live; derived tiers' files are written outside
                    // it, so their directory is left alone while another writer is open.
                    try removeStaleTemporaryFiles(derivedToo: !(lock?.othersPresent() ?? false))
                }
            }
            if let dim = configuration.embeddingDimension {
                if let existing = index.embeddingDimension, existing != dim {
                    throw EngramError(code: .dimensionMismatch, message: "the store's embeddings have dimension \(existing), the configuration says \(dim)",
                                      operation: "open store", path: layout.indexPath,
                                      remedy: "open with embeddingDimension \(existing) (or nil), or migrate the store")
                }
                if index.embeddingDimension == nil { index.embeddingDimension = dim; needsCheckpoint = needsCheckpoint || writer }
            }
            return (index, lock, report, needsCheckpoint && writer)
        } catch {
            lock?.close()
            throw error
        }
    }

    /// The index as another process's checkpoint left it, with its journal replayed (committed writes rolled
    /// forward): what a writer process loads when it finds `memory_index.json` replaced. Holding the lock.
    mutating func reloadIndex() throws -> CentralIndex {
        try loadIndex().0
    }

    // MARK: Creation

    /// Whether this open may create the store: its root is missing, or a directory holding nothing yet (a
    /// volume's `lost+found`, or the `.lock` of another process creating it at this moment).
    private var mayCreate: Bool {
        switch Sys.fileType(layout.root) {
        case nil: return true
        case .directory: return !layout.looksLikeStore && (try? unusedEntries())?.isEmpty == true
        default: return false
        }
    }

    /// What the root holds besides file-system entries and `.lock`.
    private func unusedEntries() throws(EngramError) -> [String] {
        try Sys.listDirectory(layout.root, operation: "open store").filter { !StoreLayout.isFileSystemEntry($0, in: layout.root) && $0 != ".lock" }
    }

    private func createIfNeeded() throws(EngramError) {
        let root = layout.root
        switch Sys.fileType(root) {
        case nil:
            guard configuration.createIfMissing, writer else {
                throw EngramError(code: .notFound, message: "no store here", operation: "open store", path: root,
                                  remedy: "create it with `engram init` (or open with createIfMissing)")
            }
            try StoreOpener.create(layout)
        case .directory:
            if layout.looksLikeStore { return }
            // A volume dedicated to the store has `lost+found` at its root (mke2fs makes it): that is still empty.
            let names = try unusedEntries()
            if names.isEmpty, configuration.createIfMissing, writer {
                try StoreOpener.create(layout)
                return
            }
            throw EngramError(code: .notAStore, message: names.isEmpty ? "the directory is empty, not a store" : "the directory is not empty and is not an Engram store (no memory_index.json, no memories/)",
                              operation: "open store", path: root,
                              remedy: "point --store at an Engram store, run `engram init` on an empty directory, or `engram migrate --from-synthians` for a Synthians store")
        case .symlink:
            // The store root itself may be a link (e.g. ./storage -> /data/engram); what is inside may not.
            guard Sys.fileType(root + "/.") == .directory else { fallthrough }
            if !layout.looksLikeStore {
                throw EngramError(code: .notAStore, message: "not an Engram store", operation: "open store", path: root,
                                  remedy: "run `engram init` first")
            }
        default:
            throw EngramError(code: .notAStore, message: "not a directory", operation: "open store", path: root,
                              remedy: "point --store at a directory")
        }
    }

    /// Creates an empty store (the layout of `storage-template/`): directories, an empty index, each fsynced.
    static func create(_ layout: StoreLayout) throws(EngramError) {
        if Sys.fileType(layout.root) == nil {
            try Sys.mkdir(layout.root, operation: "create store")
            let parent = parentDirectory(of: layout.root)
            try Sys.fsyncDirectory(parent, operation: "create store")
        }
        for directory in layout.directories { try Sys.mkdir(directory, operation: "create store") }
        let index = CentralIndex()
        try FileEngine.writeAtomicallyBlocking(
            PendingFile(directory: layout.root, name: CentralIndex.fileName, bytes: index.jsonBytes(lastUpdated: .now())),
            operation: "create store")
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: Index and journal

    private mutating func loadIndex() throws -> (CentralIndex, Bool) {
        var index: CentralIndex?
        var rebuildReason: String?
        switch Sys.fileType(layout.indexPath) {
        case nil:
            rebuildReason = "memory_index.json is missing"
        case .file:
            // The JSON's identity first: a binary form derived from exactly this file is used instead of parsing
            // it (one stat, one mmap, one checksum pass). Taken before the read, so a JSON replaced in between
            // leaves a binary form tagged with the old identity — stale at the next open, never wrongly trusted.
            let identity = IndexFileIdentity(path: layout.indexPath)
            if let identity, !configuration.rebuildDerivedData {
                do {
                    index = CentralIndex(mapped: try BinaryIndexFile.open(path: layout.binaryIndexPath, matching: identity))
                } catch {
                    report.binaryIndexProblem = "memory_index.bin is \(error.reason)"
                }
            }
            if index != nil { break }
            // The index of a million memories is ~340 MB: above the 256 MB limit for records, which guards against
            // hostile files. The store's own index gets 4 GiB (open without a current .bin must still work).
            let bytes = try Sys.readFile(layout.indexPath, maxSize: 1 << 32, operation: "read index")
            report.parsedIndexJSON = true
            do {
                index = try CentralIndex.decode(bytes, path: layout.indexPath)
                // Not for an empty index (a new store, the template): there is nothing to save by mapping it.
                if let parsed = index, let identity, writer, parsed.formatVersion == CentralIndex.currentVersion,
                   !parsed.memories.isEmpty || !parsed.assemblies.isEmpty {
                    // Derived data: a failure to write it costs the next open a parse, nothing more.
                    do {
                        try BinaryIndexWriter.write(parsed, source: identity, directory: layout.root)
                        report.rewroteBinaryIndex = true
                    } catch {
                        report.binaryIndexProblem = (report.binaryIndexProblem ?? "") + "; rewriting it failed: \(error.message)"
                    }
                }
            } catch {
                guard error.code == .corrupt else { throw error }
                // An index of another format version is not damage: rebuilding it would drop every record this
                // version cannot read. Refuse, and say how to upgrade.
                try CentralIndex.checkVersion(bytes, path: layout.indexPath)
                rebuildReason = "memory_index.json is unreadable: \(error.message)"
            }
            if let index, index.formatVersion != CentralIndex.currentVersion { try CentralIndex.checkVersion(bytes, path: layout.indexPath) }
        default:
            throw EngramError(code: .symlinkRefused, message: "is not a regular file", operation: "open store", path: layout.indexPath,
                              remedy: "replace it with the store's real index, or remove it so that it is rebuilt")
        }
        let contents = try Journal.read(path: layout.journalPath)
        report.tornJournalTail = contents.tornTail
        var operations: [JournalOperation] = []
        for entry in contents.entries {
            guard let op = entry.operation else {
                rebuildReason = rebuildReason ?? "the journal has a line this version cannot read"
                break
            }
            operations.append(op)
        }
        if let line = contents.corruptLine {
            rebuildReason = rebuildReason ?? "the journal is damaged at line \(line)"
        }
        if configuration.rebuildDerivedData, writer {
            rebuildReason = rebuildReason ?? "a rebuild was requested (repair)"
        }
        let checkpointSequence = index?.journalSequence ?? 0
        operations = operations.filter { $0.sequence > checkpointSequence }
        let maxSequence = operations.map(\.sequence).max() ?? checkpointSequence

        // Committed writes whose files do not say so yet are completed first, whatever else happens.
        let lastOperation = JournalOperation.lastChanges(operations)
        if writer {
            report.rolledForward = try StoreOpener.finishCommitted(lastOperation, layout: layout, operation: "recover store")
        }

        if let reason = rebuildReason {
            guard configuration.autoRepair || configuration.rebuildDerivedData else {
                throw EngramError(code: .corrupt, message: reason, operation: "open store", path: layout.indexPath,
                                  remedy: "open with autoRepair (the default) or run `engram repair` to rebuild the index from the records")
            }
            var rebuilt = try rebuildFromRecords()
            if !writer { try replayCommittedRecords(lastOperation, into: &rebuilt) }
            rebuilt.journalSequence = max(maxSequence, checkpointSequence)
            report.rebuiltIndexReason = reason
            return (rebuilt, true)
        }

        var result = index!
        for (_, change) in lastOperation {
            let (kind, id, item) = (change.kind, change.id, change.item)
            if writer, let item, item.record != nil {
                // finishCommitted made the file hold what the line commits: the line's entry is the file's.
                StoreOpener.setEntry(of: item, in: &result)
            } else if writer || item?.record == nil {
                try reconcile(kind: kind, id: id, into: &result)
            }
        }
        if !writer { try replayCommittedRecords(lastOperation, into: &result) }
        report.replayedOperations = operations.count
        report.journaledMemoryIDs = Set(lastOperation.keys.filter { $0.hasPrefix("memory/") }.map { String($0.dropFirst(7)) })
        result.journalSequence = maxSequence
        return (result, !operations.isEmpty || contents.tornTail || contents.byteCount > 0)
    }

    /// A read-only opener writes nothing, but sees a committed write whole: the record a journal line carries
    /// (or, for lines of earlier versions, the complete temp file it names) when the record file does not hold
    /// that version yet, and a record a line deletes as gone (see CommittedRecords).
    private mutating func replayCommittedRecords(_ lastOperation: [String: JournalOperation.LastChange], into index: inout CentralIndex) throws {
        for (key, change) in lastOperation {
            let (kind, id) = (change.kind, change.id)
            guard let item = change.item else {
                if Sys.fileType(layout.path(of: kind, id: id)) != nil {
                    report.committedRecords.deleted.insert(key)
                    if kind == .memory { index.memories[id] = nil } else { index.assemblies[id] = nil }
                }
                continue
            }
            if item.record != nil {
                // The line is the truth: its entry, and its record when the file does not hold it (yet).
                StoreOpener.setEntry(of: item, in: &index)
                let path = layout.path(of: kind, id: id)
                if let bytes = try? Sys.readFile(path, operation: "open store"), item.holds(bytes, path: path) { continue }
                report.committedRecords.carried[key] = try item.carriedFileBytes(layout: layout, operation: "open store")
                continue
            } else {
                guard item.completeTemporaryContent(layout: layout) != nil else { continue }
                report.committedRecords.paths[key] = layout.directory(of: kind) + "/" + item.temporaryName
            }
            try reconcile(kind: kind, id: item.id, into: &index, committed: report.committedRecords)
        }
    }

    /// Sets a record's index entry from the journal line that commits it.
    static func setEntry(of item: JournalOperation.Item, in index: inout CentralIndex) {
        switch item.kind {
        case .memory:
            index.memories[item.id] = item.memory
            if index.embeddingDimension == nil, let d = item.memory?.dimension { index.embeddingDimension = d }
        case .assembly:
            index.assemblies[item.id] = item.assembly
        }
    }

    /// Finishes committed writes on disk, durably: each record's last journaled put (`finish`: its file made to
    /// hold the committed version) and delete (its file unlinked: record files become durable only at
    /// checkpoints, so a power cut can bring a deleted one back). Returns the record files it changed.
    /// Open, and a writer catching up after a holder that died, both call this.
    /// `rewriting`: every carried record is rewritten and every directory fsynced, whatever the files say (after
    /// a failed `syncfs`, what the page cache shows may never reach the disk).
    static func finishCommitted(_ last: [String: JournalOperation.LastChange], layout: StoreLayout,
                                operation: String, rewriting: Bool = false) throws(EngramError) -> [String] {
        var changed: [String] = []
        var touchedDirectories: Set<String> = []
        for (_, change) in last.sorted(by: { $0.key < $1.key }) {
            let (kind, id, item) = (change.kind, change.id, change.item)
            let changedHere: Bool
            if let item {
                changedHere = try item.finish(layout: layout, operation: operation, rewriting: rewriting)
            } else {
                changedHere = try Sys.unlink(layout.path(of: kind, id: id), operation: operation) || rewriting
            }
            if changedHere {
                changed.append("\(kind.directoryName)/\(id).json")
                touchedDirectories.insert(layout.directory(of: kind))
            }
        }
        for directory in touchedDirectories.sorted() { try Sys.fsyncDirectory(directory, operation: operation) }
        return changed
    }

    /// Sets the index entry of one record from what its file says (the records are the truth) — or, for a
    /// read-only opener, its committed temp file.
    mutating func reconcile(kind: RecordKind, id: String, into index: inout CentralIndex, committed: CommittedRecords = CommittedRecords()) throws {
        guard !committed.deleted.contains("\(kind.rawValue)/\(id)"),
              committed.holds(kind, id: id) || Sys.fileType(layout.path(of: kind, id: id)) != nil else {
            if kind == .memory { index.memories[id] = nil } else { index.assemblies[id] = nil }
            return
        }
        do {
            let (bytes, path) = try committed.read(kind, id: id, layout: layout, operation: "recover store")
            switch kind {
            case .memory:
                let entry = try MemoryEntry.decodeFile(bytes, path: path, expectedID: id)
                index.memories[id] = MemoryIndexEntry(entry)
                if index.embeddingDimension == nil, let d = entry.embedding?.count { index.embeddingDimension = d }
            case .assembly:
                index.assemblies[id] = AssemblyIndexEntry(try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id))
            }
        } catch {
            guard [.corrupt, .invalidRecord, .invalidVector, .invalidId].contains(error.code) else { throw error }
            report.unreadableRecords.append("\(kind.directoryName)/\(id).json")
            if kind == .memory { index.memories[id] = nil } else { index.assemblies[id] = nil }
        }
    }

    /// Reads every record and builds the index from them. O(store size): only when the index or journal is lost.
    mutating func rebuildFromRecords() throws -> CentralIndex {
        var index = CentralIndex()
        var dimensions: [Int: Int] = [:]
        for kind in RecordKind.allCases {
            let directory = layout.directory(of: kind)
            guard Sys.fileType(directory) == .directory else { continue }
            for name in try Sys.listDirectory(directory, operation: "rebuild index") where name.hasSuffix(".json") && !Sys.isTemporaryName(name) {
                let id = String(name.dropLast(5))
                guard RecordID.isValid(id) else {
                    report.unreadableRecords.append("\(kind.directoryName)/\(name)")
                    continue
                }
                try reconcile(kind: kind, id: id, into: &index)
                if kind == .memory, let d = index.memories[id]?.dimension { dimensions[d, default: 0] += 1 }
            }
        }
        index.embeddingDimension = configuration.embeddingDimension ?? dimensions.max(by: { $0.value < $1.value })?.key
        return index
    }

    // MARK: Stale temp files

    /// `.clean_shutdown`: written by a writer's close once every write finished (no temp file of its own left),
    /// consumed by the next writer's open.
    ///
    /// Why: finding stale temp files means listing `memories/` — O(store), the largest cost of a writer's open
    /// once the index is mapped. Temp files go stale only when a writer dies mid-write; a writer that closed
    /// cleanly left none, and no one else creates them in these directories (readers create nothing, backups
    /// write elsewhere). So the open after a clean close skips the listing; after a crash (no mark) it lists as
    /// always. The mark is removed durably (unlink + directory fsync) before this writer can create any temp
    /// file: otherwise a crash of this writer could leave temp files beside a mark that power loss brought back.
    static let cleanShutdownName = ".clean_shutdown"

    /// Removes the mark if present (durably). Returns whether it was there.
    static func consumeCleanShutdownMark(_ layout: StoreLayout) throws(EngramError) -> Bool {
        let path = layout.root + "/" + cleanShutdownName
        guard Sys.fileType(path) == .file else { return false }
        try Sys.unlink(path, operation: "open store")
        try Sys.fsyncDirectory(layout.root, operation: "open store")
        return true
    }

    /// Writes the mark (see ``cleanShutdownName``) and makes it durable; called by close, after the last write.
    static func markCleanShutdown(_ layout: StoreLayout) throws(EngramError) {
        let fd = try Sys.open(layout.root + "/" + cleanShutdownName, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, operation: "close store")
        Sys.close(fd)
        try Sys.fsyncDirectory(layout.root, operation: "close store")
    }

    private mutating func removeStaleTemporaryFiles(derivedToo: Bool) throws {
        var directories = [layout.root, layout.memoriesDirectory, layout.assembliesDirectory, layout.backupsDirectory]
        if derivedToo { directories += [layout.vectorIndexDirectory, layout.keywordIndexDirectory] }
        for directory in directories {
            guard Sys.fileType(directory) == .directory else { continue }
            var removed = false
            for name in try Sys.listDirectory(directory, operation: "remove stale temp files") where Sys.isTemporaryName(name) {
                try Sys.unlink(directory + "/" + name, operation: "remove stale temp file")
                report.removedTemporaryFiles.append(directory + "/" + name)
                removed = true
            }
            if removed { try Sys.fsyncDirectory(directory, operation: "remove stale temp files") }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
