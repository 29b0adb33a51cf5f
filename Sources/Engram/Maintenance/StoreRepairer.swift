import EngramIO
import EngramJSON

/// `engram repair`: fixes what `verify` finds, from the records. Records are the truth: what cannot be read is
/// moved to `quarantine/` with a note of why (never deleted); what can be salvaged is adopted (a hand-edited
/// record gets its hash recomputed); the index and the vector tier are rebuilt from the records.
///
/// Crash-safe by construction: every step is an atomic rename or an atomic rewrite, and every step is
/// idempotent, so running repair again after it was killed finishes the job.
public struct StoreRepairer: Sendable {
    public let layout: StoreLayout
    public var configuration: StoreConfiguration
    /// The parameters of a graph rebuild (when verify found the L2 graph damaged, foreign or stale).
    public var graphOptions = GraphBuildOptions()
    public var progress: (@Sendable (String, Int, Int) -> Void)?

    public init(layout: StoreLayout, configuration: StoreConfiguration = StoreConfiguration()) {
        self.layout = layout
        self.configuration = configuration
        self.configuration.readOnly = false
    }

    private var verifier: StoreVerifier {
        var verifier = StoreVerifier(layout: layout)
        verifier.progress = progress
        return verifier
    }

    /// What repair would do, changing nothing (`--dry-run`).
    public func plan() async throws -> RepairReport {
        let verifier = self.verifier
        let before = try await configuration.eventLoop.run { try verifier.run() }
        return RepairReport(before: before, dryRun: true)
    }

    public func run() async throws -> RepairReport {
        let loop = configuration.eventLoop
        let verifier = self.verifier
        let before = try await loop.run { try verifier.run() }
        var report = RepairReport(before: before)
        if StoreVerifier.writerActive(layout) {
            throw EngramError(code: .locked, message: "a writer has the store open", operation: "repair", path: layout.lockPath,
                              remedy: "stop the writer first; `engram verify` works beside it")
        }

        // 1. What open recovers by itself: journal replay, roll-forward of committed writes, stale temp files,
        //    a missing or unreadable index. An index path that is not a file is set aside first.
        let quarantine = Quarantine(layout: layout)
        if let type = Sys.fileType(layout.indexPath), type != .file {
            try await loop.run { try quarantine.move("memory_index.json", reason: "memory_index.json is not a regular file") }
            report.actions.append("quarantined memory_index.json (not a regular file)")
        }
        var recoverConfiguration = configuration
        recoverConfiguration.autoRepair = true
        let recovering = try await MemoryStore.open(at: layout.root, configuration: recoverConfiguration)
        try? await recovering.waitForVectorTier()
        report.recovery = await recovering.recovery
        try await recovering.close()
        // The open replayed the journal: the index now follows the record files, and the line promising what
        // never reached the disk is gone with the checkpoint. Say what was lost, since repair cannot bring it back.
        for problem in before.problems where problem.kind == .journalWriteLost {
            report.actions.append("\(problem.path ?? problem.id ?? "store"): the index follows the record file as it is (journal_write_lost: \(problem.detail)); restore the lost version from a backup if you have one")
        }

        // 2. The records, under the writer lock.
        // When open recovered nothing, the store is as `before` saw it (no writer can run: checked above).
        let problems = report.recovery?.didSomething == false ? before.problems : try await loop.run { try verifier.run().problems }
        let lock = try StoreLock(path: layout.lockPath)
        do {
            let actions = try await loop.run { try StoreRepairer.fixFiles(problems, layout: layout, quarantine: quarantine) }
            report.actions.append(contentsOf: actions)
        } catch {
            lock.release()
            throw error
        }
        lock.release()
        if quarantine.used { report.quarantineDirectory = quarantine.relativeDirectory }

        // 3. Everything derived, rebuilt from the records (index, journal emptied, vector tier), then checked.
        var rebuildConfiguration = configuration
        rebuildConfiguration.rebuildDerivedData = true
        let rebuilt = try await MemoryStore.open(at: layout.root, configuration: rebuildConfiguration)
        let memories = await rebuilt.statistics().memoryCount
        try await rebuilt.close()
        report.actions.append("rebuilt memory_index.json, the vector index and the keyword index from \(memories) memories")
        if before.problems.contains(where: { $0.kind == .indexMissing || $0.kind == .indexUnreadable }),
           let note = try? await loop.run({ StoreRepairer.compareNewestBackup(layout) }) {
            report.actions.append(note)
        }
        // 4. The L2 graph, when verify found it damaged, foreign or stale: rebuilt from the records (dropped when
        //    no memory has an embedding). Searches were exact over L1 meanwhile.
        if let problem = before.problems.first(where: { [.graphDamaged, .graphForeign, .graphStale].contains($0.kind) }) {
            let built = try await GraphIndexBuilder.build(store: layout.root, options: graphOptions, configuration: configuration)
            if let directory = built.directory {
                report.actions.append("rebuilt the graph (\(problem.kind.rawValue)) from \(built.nodes) memories: \(directory)")
            } else {
                try await loop.run { try GraphDirectory(layout: layout).removeAll() }
                report.actions.append("removed the graph (\(problem.kind.rawValue)): no memory has an embedding")
            }
        }
        report.after = try await loop.run { try verifier.run() }
        return report
    }

    /// The file-level fixes (blocking; the caller holds the writer lock).
    static func fixFiles(_ problems: [VerifyProblem], layout: StoreLayout, quarantine: Quarantine) throws -> [String] {
        var actions: [String] = []
        var assembliesToFix = Set<String>()
        // Quarantine and removal first, so that assembly fixes see the final set of memories.
        for problem in problems {
            guard let path = problem.path else { continue }
            switch problem.kind {
            case _ where problem.kind.quarantinesRecord,
                 .foreignFile, .symbolicLink, .backupChecksumFailed, .backupChecksumMissing:
                if problem.kind == .symbolicLink, !path.contains("/") { continue }  // a linked store directory: by hand
                guard Sys.fileType(layout.root + "/" + path) != nil else { continue }
                try quarantine.move(path, reason: "\(problem.kind.rawValue): \(problem.detail)")
                if problem.kind == .backupChecksumFailed || problem.kind == .backupChecksumMissing {
                    if Sys.fileType(layout.root + "/" + path + ".xxh3") != nil { try quarantine.move(path + ".xxh3", reason: "the checksum of a quarantined backup") }
                }
                actions.append("quarantined \(path) (\(problem.kind.rawValue))")
            case .temporaryFile:
                if try Sys.unlink(layout.root + "/" + path, operation: "repair") {
                    actions.append("removed \(path) (a temp file of a write that was never acknowledged)")
                }
            default:
                break
            }
        }
        for directory in [layout.root, layout.memoriesDirectory, layout.assembliesDirectory, layout.backupsDirectory] where Sys.fileType(directory) == .directory {
            try Sys.fsyncDirectory(directory, operation: "repair")
        }
        // Adopt hand edits: the content is the truth, the hash follows it; a new updated_at invalidates every
        // derived copy (index entry, cached record, vector version).
        for problem in problems where problem.kind == .recordHashMismatch {
            guard let id = problem.id else { continue }
            let path = layout.path(of: .memory, id: id)
            guard let bytes = try? Sys.readFile(path, operation: "repair"), let value = try? JSONReader.parse(bytes),
                  var memory = try? MemoryEntry(json: value, source: path, strict: true, operation: "repair") else { continue }
            memory.contentHash = ContentHash.of(memory.content)
            memory.updatedAt = Timestamp.now()
            try FileEngine.writeAtomicallyBlocking(PendingFile(directory: layout.memoriesDirectory, name: id + ".json", bytes: memory.jsonBytes()), operation: "repair")
            actions.append("adopted the hand edit of memories/\(id).json (content_hash recomputed)")
            assembliesToFix.formUnion(assembliesListing(id, layout: layout))
        }
        for problem in problems where problem.kind == .assemblyMissingMember || problem.kind == .assemblyCompositeStale {
            if let id = problem.id { assembliesToFix.insert(id) }
        }
        // Memories quarantined above may be members of assemblies.
        let quarantinedMemories = problems.filter { $0.kind.quarantinesRecord && $0.path?.hasPrefix("memories/") == true }.compactMap(\.id)
        for id in quarantinedMemories { assembliesToFix.formUnion(assembliesListing(id, layout: layout)) }
        for id in assembliesToFix.sorted() {
            let path = layout.path(of: .assembly, id: id)
            guard let bytes = try? Sys.readFile(path, operation: "repair"), var assembly = try? MemoryAssembly.decodeFile(bytes, path: path, expectedID: id) else { continue }
            var vectors: [[Float]] = []
            var kept: [String] = []
            for member in assembly.memoryIds {
                let memberPath = layout.path(of: .memory, id: member)
                guard let memberBytes = try? Sys.readFile(memberPath), let memory = try? MemoryEntry.decodeFile(memberBytes, path: memberPath, expectedID: member) else { continue }
                kept.append(member)
                if let v = memory.embedding { vectors.append(v) }
            }
            let dropped = assembly.memoryIds.count - kept.count
            assembly.memoryIds = kept
            assembly.compositeEmbedding = StoreVerifier.mean(vectors)
            assembly.updatedAt = Timestamp.now()
            try FileEngine.writeAtomicallyBlocking(PendingFile(directory: layout.assembliesDirectory, name: id + ".json", bytes: assembly.jsonBytes()), operation: "repair")
            actions.append("rewrote assemblies/\(id).json (\(dropped) missing members removed, composite recomputed)")
        }
        return actions
    }

    /// When the index was lost: the newest intact rotated backup, checked against the records (the index just
    /// rebuilt from them). A backup is only ever a cross-check — used as the index it would silently drop every
    /// change made after it was taken — so repair reports whether it agrees, and keeps the records' version.
    static func compareNewestBackup(_ layout: StoreLayout) -> String? {
        let backups = IndexBackups(layout: layout)
        guard let name = backups.names().reversed().first(where: { backups.isIntact($0) }),
              let backupBytes = try? Sys.readFile(layout.backupsDirectory + "/" + name),
              let backup = try? CentralIndex.decode(backupBytes, path: name),
              let currentBytes = try? Sys.readFile(layout.indexPath),
              let current = try? CentralIndex.decode(currentBytes, path: layout.indexPath)
        else { return nil }
        var differences = 0
        for id in Set(backup.memories.keys).union(current.memories.keys) {
            let a = backup.memories[id], b = current.memories[id]
            if a?.updatedAt != b?.updatedAt || a?.contentHash != b?.contentHash { differences += 1 }
        }
        for id in Set(backup.assemblies.keys).union(current.assemblies.keys) where backup.assemblies[id]?.updatedAt != current.assemblies[id]?.updatedAt {
            differences += 1
        }
        return differences == 0
            ? "checked backups/\(name) against the records: it matches the rebuilt index exactly"
            : "checked backups/\(name) against the records: it differs in \(differences) entries (older than the records), so the index was rebuilt from the records instead"
    }

    private static func assembliesListing(_ memoryID: String, layout: StoreLayout) -> [String] {
        guard let names = try? Sys.listDirectory(layout.assembliesDirectory) else { return [] }
        return names.compactMap { name -> String? in
            guard name.hasSuffix(".json"), !Sys.isTemporaryName(name) else { return nil }
            let path = layout.assembliesDirectory + "/" + name
            guard let bytes = try? Sys.readFile(path), let value = try? JSONReader.parse(bytes),
                  value["memory_ids"]?.arrayValue?.contains(.string(memoryID)) == true else { return nil }
            return String(name.dropLast(5))
        }
    }
}

/// `quarantine/<time>/`: where repair puts what it will not keep in the store — moved by rename, never deleted,
/// each with a `<name>.why.txt` saying why.
final class Quarantine: @unchecked Sendable {
    let layout: StoreLayout
    let relativeDirectory: String
    private(set) var used = false

    init(layout: StoreLayout) {
        self.layout = layout
        relativeDirectory = "quarantine/" + Timestamp.now().fileNameForm
    }

    /// Moves `relativePath` (relative to the store) into the quarantine directory, keeping its relative path.
    func move(_ relativePath: String, reason: String) throws(EngramError) {
        let target = layout.root + "/" + relativeDirectory + "/" + relativePath
        var directory = String(target[..<target.lastIndex(of: "/")!])
        var toCreate: [String] = []
        while Sys.fileType(directory) == nil {
            toCreate.append(directory)
            directory = String(directory[..<directory.lastIndex(of: "/")!])
        }
        for path in toCreate.reversed() {
            try Sys.mkdir(path, operation: "quarantine")
            try Sys.fsyncDirectory(StoreOpener.parentDirectory(of: path), operation: "quarantine")
        }
        let note = "\(relativePath)\nwhy: \(reason)\nquarantined by engram repair at \(Timestamp.now())\n"
        try FileEngine.writeAtomicallyBlocking(
            PendingFile(directory: String(target[..<target.lastIndex(of: "/")!]), name: String(target[target.index(after: target.lastIndex(of: "/")!)...]) + ".why.txt",
                        bytes: Array(note.utf8)), operation: "quarantine")
        try Sys.rename(layout.root + "/" + relativePath, target, operation: "quarantine")
        try Sys.fsyncDirectory(String(target[..<target.lastIndex(of: "/")!]), operation: "quarantine")
        used = true
    }
}
