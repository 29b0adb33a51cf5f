import EngramIO
import EngramJSON

extension StoreCopier {
    /// What ``catchUp(in:manifest:)`` did.
    struct CatchUp: Sendable {
        /// Files copied again (records, their temp files, the journal).
        var copied = 0
        /// The copied journal names every write the copied records hold: opening the copy completes each write
        /// it commits, whole, as after a crash.
        var converged = false
    }

    /// Rounds of catching up before giving up on a writer that keeps touching the records the journal names.
    static let catchUpRounds = 8

    /// After a pass: makes the copy agree with the journal it holds, as `engram backup` does.
    ///
    /// A writer renames a batch's records only after its journal line is durable, so the journal copied last
    /// names every write whose renames the pass saw; but the pass may have taken some of that write's records
    /// before their rename. For every record the copied journal names, the copy must hold it at the journal's
    /// version or later: if not, its temp file (when the rename is still to come) and the record as it is now
    /// are copied again. A record taken now may hold a write newer than the copied journal: then the journal is
    /// copied again and the round repeats, so a batch is never in the copy in part.
    func catchUp(in root: String, manifest: inout [String: MigrationFileSystem.Digest]) async throws -> CatchUp {
        let source = self.source
        var result = CatchUp()
        for _ in 0..<StoreCopier.catchUpRounds {
            let round = try await eventLoop.run { try StoreCopier.catchUpRound(source: source, copy: root) }
            for (path, digest) in round.copied { manifest[path] = digest }
            for path in round.removed { manifest[path] = nil }
            result.copied += round.copied.count
            guard round.journalBehind else {
                result.converged = true
                return result
            }
            let journal = try await copyFiles(["memory_index.journal"], into: root, progress: nil)
            for (path, digest) in journal { manifest[path] = digest }
            result.copied += journal.count
        }
        return result
    }

    struct CatchUpRound: Sendable {
        var copied: [(String, MigrationFileSystem.Digest)] = []
        var removed: [String] = []
        /// The copy holds a write the copied journal does not name yet.
        var journalBehind = false
    }

    /// One round of ``catchUp(in:manifest:)`` (blocking).
    static func catchUpRound(source: String, copy root: String) throws -> CatchUpRound {
        let op = operation
        let layout = StoreLayout(root: root)
        var round = CatchUpRound()
        guard Sys.fileType(layout.journalPath) == .file else { return round }
        let latest = JournalOperation.lastChanges(try Journal.read(path: layout.journalPath).entries.compactMap(\.operation))
        var touched: Set<String> = []
        for (_, entry) in latest.sorted(by: { $0.key < $1.key }) {
            let relative = "\(entry.kind.directoryName)/\(entry.id).json"
            let directory = entry.kind.directoryName
            guard let item = entry.item else {
                // Deleted: the copy may have taken the record before its unlink.
                guard Sys.fileType(root + "/" + relative) != nil else { continue }
                if Sys.fileType(source + "/" + relative) == nil {
                    try Sys.unlink(root + "/" + relative, operation: op)
                    round.removed.append(relative)
                    touched.insert(directory)
                } else {
                    round.journalBehind = true  // written again after the delete the copied journal names
                }
                continue
            }
            guard let wanted = item.memory?.updatedAt ?? item.assembly?.updatedAt else { continue }
            if let have = version(root + "/" + relative, kind: entry.kind, id: entry.id), have >= wanted {
                if have > wanted { round.journalBehind = true }
                continue
            }
            let temporary = directory + "/" + item.temporaryName
            if let digest = try copyIfPresent(source, root, temporary) {
                round.copied.append((temporary, digest))
                touched.insert(directory)
            }
            if let digest = try copyIfPresent(source, root, relative) {
                round.copied.append((relative, digest))
                touched.insert(directory)
                if let have = version(root + "/" + relative, kind: entry.kind, id: entry.id), have > wanted { round.journalBehind = true }
            } else if Sys.fileType(root + "/" + temporary) == nil {
                round.journalBehind = true  // neither the record nor its temp file: deleted after the journal was copied
            }
        }
        for directory in touched.sorted() { try Sys.fsyncDirectory(root + "/" + directory, operation: op) }
        return round
    }

    /// The `updated_at` of a record file in the copy; nil if it is missing or does not read.
    static func version(_ path: String, kind: RecordKind, id: String) -> Timestamp? {
        guard let bytes = try? Sys.readFile(path, operation: operation) else { return nil }
        switch kind {
        case .memory: return (try? MemoryEntry.decodeFile(bytes, path: path, expectedID: id))?.updatedAt
        case .assembly: return (try? MemoryAssembly.decodeFile(bytes, path: path, expectedID: id))?.updatedAt
        }
    }

    /// Copies `relative` from `source` into `root` if the source has it now.
    static func copyIfPresent(_ source: String, _ root: String, _ relative: String) throws(EngramError) -> MigrationFileSystem.Digest? {
        do throws(EngramError) {
            return try MigrationFileSystem.copyFile(source + "/" + relative, toDirectory: directory(of: relative, in: root),
                                                    name: MigrationFileSystem.baseName(of: relative), operation: operation)
        } catch {
            guard error.code == .notFound else { throw error }
            return nil
        }
    }
}
