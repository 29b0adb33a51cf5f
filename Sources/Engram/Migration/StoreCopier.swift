import EngramIO
import EngramJSON

/// `engram migrate --to DEST`: copies a store to a new place (any file system) and proves the copy.
///
/// - Bytes are copied, never hard-linked, so `DEST` may be on another disk. Every file goes through the atomic
///   protocol: a temp file created with `O_EXCL|O_NOFOLLOW`, written, fsynced, renamed; each directory is
///   fsynced once after its files (group commit), and every new directory's parent is fsynced.
/// - The copy is assembled in the sibling directory `DEST.partial-migrate` and renamed to `DEST` (parent
///   fsynced) only once it is verified, so an interrupted migration never leaves a `DEST` that looks finished.
///   A rerun removes a leftover partial directory and starts again.
/// - Verification: every file of the copy is read back and its XXH3-64 compared with the source's bytes (so
///   every record and `memory_index.json`); then the copy is opened as a store (read-only, without repair) and
///   its index — every memory and assembly entry, the dimension, the journal sequence — must equal the index
///   the source itself reports.
/// - The source is only read: it is opened read-only (no writer lock, nothing written, not even a modification
///   time), so this works beside a running writer, in this process or another. `memory_index.json` is copied
///   first, then the records (with the temp files of writes in flight), then the journal, as found; the
///   records the copied journal names are brought up to it (``catchUp(in:manifest:)``), so the copy is a
///   crash image whose first open completes every committed write whole. While it runs, the source's
///   checkpoints are held off (the checkpoint gate of `.lock`, as `engram backup` does). Then the source is
///   scanned again and whatever changed meanwhile is copied again, until a pass finds no change: the copy is
///   then an exact snapshot, verified as above. If a writer keeps the source changing for `maxPasses` passes,
///   the copy of the last pass is opened with `autoRepair` so its index is reconciled (the index is rebuilt
///   from the records instead when a checkpoint could not be held off), and the report says so
///   (``StoreCopyReport/indexReconciledReason``).
/// - Not copied: the writer's `.lock` (the copy gets its own), temp files outside the record directories, and
///   symbolic links or special files (listed in the report: Engram never follows a link).
public struct StoreCopier: Sendable {
    public let source: String
    public let destination: String
    /// The loop whose thread pool does the file work. Default: ``EventLoop/shared``.
    package var eventLoop: EventLoop = .shared
    /// Copy passes at most while a writer keeps changing the source. Default: 4.
    public var maxPasses = 4

    /// The suffix of the directory the copy is assembled in, beside `DEST`.
    public static let partialSuffix = ".partial-migrate"

    /// Reports progress: the phase (`copying`, `checking source`, `verifying copy`), files done, files in the phase.
    public typealias Progress = @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void

    static let operation = "migrate --to"
    /// Files per pool job: large enough to amortise the hop to the pool, small enough to spread over its threads.
    static let chunkSize = 64
    static let concurrentJobs = 8

    public init(source: String, destination: String) {
        self.source = StoreLayout(root: source).root
        self.destination = StoreLayout(root: destination).root
    }

    /// `DEST.partial-migrate`.
    public var partialDirectory: String { destination + StoreCopier.partialSuffix }

    // MARK: Planning

    /// Checks the preconditions and lists what would be copied, changing nothing (`--dry-run`).
    public func plan() async throws -> StoreCopyPlan {
        let copier = self
        return try await eventLoop.run { try copier.planBlocking() }
    }

    func planBlocking() throws(EngramError) -> StoreCopyPlan {
        let op = StoreCopier.operation
        let layout = StoreLayout(root: source)
        guard !destination.isEmpty else {
            throw EngramError(code: .usage, message: "the destination is empty", operation: op, remedy: "give --to the path of a new or empty directory")
        }
        guard Sys.fileType(source + "/.") == .directory else {
            throw EngramError(code: .notFound, message: "no store here", operation: op, path: source,
                              remedy: "point --store at the store to copy")
        }
        guard layout.looksLikeStore else {
            throw EngramError(code: .notAStore, message: "not an Engram store (no memory_index.json, no memories/)", operation: op, path: source,
                              remedy: "point --store at an Engram store; `engram migrate --from-synthians` imports a Synthians store")
        }
        try layout.checkNoSymlinks()
        guard let sourceReal = MigrationFileSystem.realPath(source) else {
            throw EngramError(code: .notFound, message: "cannot resolve the path", operation: op, path: source)
        }
        for target in [destination, partialDirectory] {
            let canonical = MigrationFileSystem.canonicalPath(target)
            if canonical == sourceReal || canonical.hasPrefix(sourceReal + "/") || sourceReal.hasPrefix(canonical + "/") {
                throw EngramError(code: .usage, message: "the destination \(canonical) overlaps the source store \(sourceReal)", operation: op, path: target,
                                  remedy: "copy to a directory outside the store (and not one containing it)")
            }
        }

        var existsEmpty = false
        switch Sys.fileType(destination) {
        case nil:
            break
        case .directory:
            let names = try Sys.listDirectory(destination, operation: op)
            guard names.isEmpty else {
                throw EngramError(code: .alreadyExists, message: "the destination exists and is not empty (\(names.count) entries)", operation: op, path: destination,
                                  remedy: "choose a new or empty directory; nothing was changed")
            }
            let parent = MigrationFileSystem.parentDirectory(of: destination)
            if let here = MigrationFileSystem.device(of: destination), let above = MigrationFileSystem.device(of: parent), here != above {
                // The copy is assembled beside DEST and renamed into place: across a mount point that rename cannot work.
                throw EngramError(code: .usage, message: "the destination is an empty mount point; the copy is assembled beside it and renamed into place, which cannot cross file systems",
                                  operation: op, path: destination, remedy: "copy to a new directory inside it, e.g. \(destination)/store")
            }
            existsEmpty = true
        default:
            throw EngramError(code: .alreadyExists, message: "the destination exists and is not a directory", operation: op, path: destination,
                              remedy: "choose a new or empty directory; nothing was changed")
        }

        var plan = StoreCopyPlan(source: source, destination: destination, partialDirectory: partialDirectory, directories: [], files: [], skipped: [],
                                 leftoverPartial: Sys.fileType(partialDirectory) != nil, destinationExistsEmpty: existsEmpty)
        for entry in try MigrationFileSystem.walk(source, operation: op) {
            switch StoreCopier.classify(entry) {
            case .copy: plan.files.append(.init(path: entry.relativePath, size: entry.size))
            case .directory: plan.directories.append(entry.relativePath)
            case .skip(let reason): plan.skipped.append(.init(path: entry.relativePath, reason: reason))
            case .ignore: break
            }
        }
        return plan
    }

    enum Classification: Equatable { case copy, directory, skip(String), ignore }

    /// What to do with one entry of the source.
    static func classify(_ entry: MigrationFileSystem.Entry) -> Classification {
        let components = entry.relativePath.split(separator: "/")
        if entry.relativePath == ".lock" { return .ignore }  // the writer's lock: the copy gets its own
        // Derived from the source's memory_index.json by its inode and mtime, which a copy never has: the copy's
        // first writer open writes its own.
        if entry.relativePath == BinaryIndexFile.fileName { return .ignore }
        // The source writer's word that it left no temp files; the copy takes record temp files along, so its
        // first writer open must look for them.
        if entry.relativePath == StoreOpener.cleanShutdownName { return .ignore }
        if let last = components.last, Sys.isTemporaryName(String(last)) {
            // A record's temp file may belong to a committed batch whose renames are not all done: the copy's first
            // open completes it from the journal, exactly as the source's would. Other temp files are never needed.
            if entry.type == .file, components.count == 2, components[0] == "memories" || components[0] == "assemblies" { return .copy }
            return .skip("a temp file of a write in progress or never acknowledged")
        }
        if components.dropLast().contains(where: { Sys.isTemporaryName(String($0)) }) { return .ignore }
        switch entry.type {
        case .file: return .copy
        case .directory: return .directory
        case .symlink: return .skip("a symbolic link: Engram never follows links out of a store")
        case .other: return .skip("not a regular file")
        }
    }

    /// Whether a store-relative path is a record file (`memories/<id>.json`, `assemblies/<id>.json`).
    static func isRecordPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "memories" || parts[0] == "assemblies", parts[1].hasSuffix(".json") else { return false }
        return RecordID.isValid(String(parts[1].dropLast(5)))
    }

    // MARK: Copying

    /// Copies, verifies and renames into place. See the type's documentation for the guarantees.
    public func copy(progress: Progress? = nil) async throws -> StoreCopyReport {
        let start = ContinuousClock.now
        let op = StoreCopier.operation
        let plan = try await self.plan()
        var report = StoreCopyReport(source: source, destination: destination)
        report.skipped = plan.skipped
        let partial = partialDirectory
        try await eventLoop.run {
            // A leftover partial holds an unverified copy of unknown age: start again rather than trust it.
            if plan.leftoverPartial { try MigrationFileSystem.removeTree(partial, operation: op) }
            try MigrationFileSystem.makeDirectories(MigrationFileSystem.parentDirectory(of: partial), operation: op)
            try Sys.mkdir(partial, operation: op)
            try Sys.fsyncDirectory(MigrationFileSystem.parentDirectory(of: partial), operation: op)
        }
        report.removedLeftoverPartial = plan.leftoverPartial

        let sourceLayout = StoreLayout(root: source)
        report.writerWasActive = StoreVerifier.writerActive(sourceLayout)
        // Keep the source's checkpoints (index rewrite, then journal emptied) out of the copy, as `engram backup`
        // does: then the journal copied last names every change since the index copied first. Nil when `.lock`
        // cannot be opened for writing (no writer ever ran, or a read-only file system): a checkpoint during a
        // pass is then detected by the index changing, and handled below.
        let gate = try await eventLoop.run { StoreLock.holdCheckpointGate(of: sourceLayout) }
        defer { gate?.release() }

        var manifest: [String: MigrationFileSystem.Digest] = [:]
        var directories = plan.directories
        var pending = plan.files.map(\.path)
        var reference: (index: CentralIndex, damage: String?)?
        var coherent = false
        var changedInLastPass = 0
        while true {
            report.passes += 1
            try await createDirectories(directories, in: partial)
            // The index first and the journal last: a write renamed into a record before the journal is copied has
            // its line in the copy (a line always precedes its renames).
            let ordered = StoreCopier.inCopyOrder(pending)
            var copiedCount = 0
            for group in [ordered.first, ordered.middle, ordered.last] {
                let copied = try await copyFiles(group, into: partial, progress: progress)
                for (path, digest) in copied { manifest[path] = digest }
                copiedCount += copied.count
            }
            let caughtUp = try await catchUp(in: partial, manifest: &manifest)
            if report.passes > 1 { report.filesRecopied += copiedCount }
            report.filesRecopied += caughtUp.copied
            // The source's own view of its index, taken after the copy and before the check that nothing changed:
            // if that check passes, every file was the same from its copy until now, so this view is of the copy.
            let sourceIndex = try await openIndex(source, autoRepair: true)
            let scan = try await scanSource(progress: progress)
            let changed = scan.files.filter { manifest[$0.key] != $0.value }.keys.sorted()
            let removed = manifest.keys.filter { scan.files[$0] == nil }.sorted()
            if changed.isEmpty && removed.isEmpty {
                reference = (sourceIndex.index, sourceIndex.recovery.rebuiltIndexReason)
                break
            }
            // The copy is a coherent crash image when its journal covers its records and no checkpoint replaced the
            // index during the pass (the index copied first is still the source's).
            coherent = caughtUp.converged && manifest[CentralIndex.fileName] == scan.files[CentralIndex.fileName]
            changedInLastPass = changed.count + removed.count
            // The last pass is kept as it is: removing what the source removed since (a temp file renamed away, say)
            // without copying what replaced it would break the crash image.
            if report.passes >= maxPasses { break }
            try await removeFiles(removed, from: partial)
            for path in removed { manifest[path] = nil }
            pending = changed
            directories = scan.directories
        }

        try await verifyCopy(manifest, in: partial, progress: progress)
        report.filesVerified = manifest.count
        report.recordsVerified = manifest.keys.filter(StoreCopier.isRecordPath).count

        let copyIndex: CentralIndex
        if let reference, reference.damage == nil {
            copyIndex = try await openIndex(partial, autoRepair: false).index
            if let difference = StoreCopier.difference(reference.index, copyIndex) {
                throw EngramError(code: .corrupt, message: "the copy's index differs from the source's: \(difference)", operation: op, path: partial,
                                  remedy: "remove \(partial) and run the migration again; the source was not changed")
            }
        } else {
            let busy = "a writer was still changing the source after \(report.passes) copy passes (\(changedInLastPass) files changed during the last)"
            if let damage = reference?.damage {
                // The source opens only with repair: the copy, byte for byte the same, gets the repair the source needs.
                report.indexReconciledReason = "the source's index needs repair (\(damage)); the copy's index was rebuilt from its records — run `engram repair` on the source"
                try await rebuildIndex(of: partial)
            } else if coherent, try await reconcile(partial) {
                report.indexReconciledReason = "\(busy); the copy holds the store as of its last pass, opened with autoRepair: the writes its journal commits were completed (as after a crash) and its index reconciled with its records"
            } else {
                report.indexReconciledReason = "\(busy); each record is copied whole as it was found and the copy's index was rebuilt from those records"
                try await rebuildIndex(of: partial)
            }
            copyIndex = try await openIndex(partial, autoRepair: false).index
        }
        report.memoryCount = copyIndex.memories.count
        report.assemblyCount = copyIndex.assemblies.count

        let destination = self.destination
        try await eventLoop.run {
            try Sys.rename(partial, destination, operation: op)
            try Sys.fsyncDirectory(MigrationFileSystem.parentDirectory(of: destination), operation: op)
        }
        report.filesCopied = manifest.count
        report.bytesCopied = manifest.values.reduce(0) { $0 + $1.size }
        report.seconds = MigrationFileSystem.seconds(since: start)
        return report
    }

    /// `paths` split into the index, everything else, and the journal (the order a pass copies them in).
    static func inCopyOrder(_ paths: [String]) -> (first: [String], middle: [String], last: [String]) {
        let journal = "memory_index.journal"
        return (paths.filter { $0 == CentralIndex.fileName }, paths.filter { $0 != CentralIndex.fileName && $0 != journal }, paths.filter { $0 == journal })
    }

    /// Creates the directories (parents first) that do not exist yet; each new one's parent is fsynced.
    private func createDirectories(_ paths: [String], in root: String) async throws {
        guard !paths.isEmpty else { return }
        let op = StoreCopier.operation
        try await eventLoop.run {
            for path in paths {
                let full = root + "/" + path
                if try Sys.mkdir(full, operation: op) { try Sys.fsyncDirectory(MigrationFileSystem.parentDirectory(of: full), operation: op) }
            }
        }
    }

    /// Copies `paths` (store-relative) from the source into `root`, in parallel pool jobs; then fsyncs every
    /// directory that received a file. A file that vanished from the source meanwhile is left out (the next
    /// scan sees it gone).
    func copyFiles(_ paths: [String], into root: String, progress: Progress?) async throws -> [String: MigrationFileSystem.Digest] {
        let source = self.source
        let op = StoreCopier.operation
        let results = try await inChunks(paths, phase: "copying", progress: progress) { path throws(EngramError) -> MigrationFileSystem.Digest? in
            let directory = StoreCopier.directory(of: path, in: root)
            do throws(EngramError) {
                return try MigrationFileSystem.copyFile(source + "/" + path, toDirectory: directory, name: MigrationFileSystem.baseName(of: path), operation: op)
            } catch where error.code == .notFound && Sys.fileType(source + "/" + path) == nil {
                return nil
            }
        }
        let directories = Set(results.keys.map { StoreCopier.directory(of: $0, in: root) }).sorted()
        try await eventLoop.run {
            for directory in directories { try Sys.fsyncDirectory(directory, operation: op) }
        }
        return results
    }

    /// The source as it is now: its copyable files with their digests, and its directories.
    private func scanSource(progress: Progress?) async throws -> (files: [String: MigrationFileSystem.Digest], directories: [String]) {
        let source = self.source
        let op = StoreCopier.operation
        let entries = try await eventLoop.run { try MigrationFileSystem.walk(source, operation: op) }
        var files: [String] = []
        var directories: [String] = []
        for entry in entries {
            switch StoreCopier.classify(entry) {
            case .copy: files.append(entry.relativePath)
            case .directory: directories.append(entry.relativePath)
            default: break
            }
        }
        let digests = try await inChunks(files, phase: "checking source", progress: progress) { path throws(EngramError) -> MigrationFileSystem.Digest? in
            do throws(EngramError) {
                return try MigrationFileSystem.digest(of: source + "/" + path, operation: op)
            } catch where error.code == .notFound {
                return nil
            }
        }
        return (digests, directories)
    }

    /// Reads every file of the copy back and checks it against the digest of the source bytes it was copied
    /// from; the copy must hold exactly those files.
    private func verifyCopy(_ manifest: [String: MigrationFileSystem.Digest], in root: String, progress: Progress?) async throws {
        let op = StoreCopier.operation
        let entries = try await eventLoop.run { try MigrationFileSystem.walk(root, operation: op) }
        let present = Set(entries.filter { $0.type == .file }.map(\.relativePath))
        if let extra = present.subtracting(manifest.keys).sorted().first {
            throw EngramError(code: .corrupt, message: "the copy holds a file the source does not have: \(extra)", operation: op, path: root,
                              remedy: "remove \(root) and run the migration again")
        }
        if let missing = Set(manifest.keys).subtracting(present).sorted().first {
            throw EngramError(code: .corrupt, message: "the copy lacks \(missing)", operation: op, path: root,
                              remedy: "remove \(root) and run the migration again")
        }
        let digests = try await inChunks(manifest.keys.sorted(), phase: "verifying copy", progress: progress) { path throws(EngramError) in
            try MigrationFileSystem.digest(of: root + "/" + path, operation: op)
        }
        for (path, expected) in manifest where digests[path] != expected {
            let found = digests[path]
            throw EngramError(code: .corrupt,
                              message: "the copy of \(path) differs from the source: \(found.map { "\($0.size) bytes, xxh3 \($0.hex)" } ?? "unreadable") instead of \(expected.size) bytes, xxh3 \(expected.hex)",
                              operation: op, path: root + "/" + path,
                              remedy: "check the destination disk (dmesg), remove \(root) and run the migration again")
        }
    }

    private func removeFiles(_ paths: [String], from root: String) async throws {
        guard !paths.isEmpty else { return }
        let op = StoreCopier.operation
        try await eventLoop.run {
            for path in paths { try Sys.unlink(root + "/" + path, operation: op) }
            for directory in Set(paths.map { StoreCopier.directory(of: $0, in: root) }).sorted() {
                try Sys.fsyncDirectory(directory, operation: op)
            }
        }
    }

    /// The fallback when a writer never let the source settle: the index is rebuilt from the copied records.
    private func rebuildIndex(of root: String) async throws {
        let layout = StoreLayout(root: root)
        let op = StoreCopier.operation
        try await eventLoop.run {
            try Sys.unlink(layout.indexPath, operation: op)
            try Sys.unlink(layout.journalPath, operation: op)
            try Sys.fsyncDirectory(root, operation: op)
        }
        var configuration = StoreConfiguration()
        configuration.autoRepair = true
        configuration.createIfMissing = false
        configuration.eventLoop = eventLoop
        let store = try await MemoryStore.open(at: root, configuration: configuration)
        try await store.close()
    }

    /// The fallback beside a busy writer when the copy is a coherent crash image: open it as a writer with
    /// `autoRepair` (journal replayed, committed writes completed from their temp files, index reconciled) and
    /// close it (checkpoint). Returns false, leaving the rebuild to the caller, if the reconciled index does not
    /// list exactly the record files.
    private func reconcile(_ root: String) async throws -> Bool {
        var configuration = StoreConfiguration()
        configuration.autoRepair = true
        configuration.createIfMissing = false
        configuration.eventLoop = eventLoop
        let store = try await MemoryStore.open(at: root, configuration: configuration)
        try await store.close()
        let index = try await openIndex(root, autoRepair: false).index
        let layout = StoreLayout(root: root)
        let files = try await eventLoop.run { () throws -> [RecordKind: Set<String>] in
            var out: [RecordKind: Set<String>] = [:]
            for kind in RecordKind.allCases {
                let names = try Sys.listDirectory(layout.directory(of: kind), operation: StoreCopier.operation)
                out[kind] = Set(names.filter { $0.hasSuffix(".json") && !Sys.isTemporaryName($0) }.map { String($0.dropLast(5)) })
            }
            return out
        }
        return files[.memory] == Set(index.memories.keys) && files[.assembly] == Set(index.assemblies.keys)
    }

    /// Opens a store read-only, without its vector tier, and returns its index (journal replayed) and what the
    /// open had to do.
    func openIndex(_ path: String, autoRepair: Bool) async throws -> (index: CentralIndex, recovery: RecoveryReport) {
        var configuration = StoreConfiguration()
        configuration.readOnly = true
        configuration.autoRepair = autoRepair
        configuration.loadVectorTier = false
        configuration.createIfMissing = false
        configuration.eventLoop = eventLoop
        let store = try await MemoryStore.open(at: path, configuration: configuration)
        let index = await store.index
        let recovery = await store.recovery
        try await store.close()
        return (index, recovery)
    }

    /// The first difference between two indexes, in words; nil when they are equal.
    static func difference(_ a: CentralIndex, _ b: CentralIndex) -> String? {
        if a.memories.count != b.memories.count { return "\(a.memories.count) memories in the source, \(b.memories.count) in the copy" }
        if a.assemblies.count != b.assemblies.count { return "\(a.assemblies.count) assemblies in the source, \(b.assemblies.count) in the copy" }
        for id in a.memories.keys.sorted() where a.memories[id] != b.memories[id] { return "memory '\(id)'" }
        for id in a.assemblies.keys.sorted() where a.assemblies[id] != b.assemblies[id] { return "assembly '\(id)'" }
        if a.embeddingDimension != b.embeddingDimension { return "embedding dimension \(a.embeddingDimension.map(String.init) ?? "none") vs \(b.embeddingDimension.map(String.init) ?? "none")" }
        if a.journalSequence != b.journalSequence { return "journal sequence \(a.journalSequence) vs \(b.journalSequence)" }
        if a.formatVersion != b.formatVersion { return "format version \(a.formatVersion) vs \(b.formatVersion)" }
        return nil
    }

    static func directory(of path: String, in root: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return root }
        return root + "/" + path[..<slash]
    }

    /// Runs `body` for every path on the loop's thread pool, `chunkSize` paths per job, at most
    /// `concurrentJobs` jobs at a time, and collects the non-nil results by path.
    private func inChunks<T: Sendable>(
        _ paths: [String], phase: String, progress: Progress?, _ body: @escaping @Sendable (String) throws(EngramError) -> T?
    ) async throws -> [String: T] {
        guard !paths.isEmpty else { return [:] }
        let loop = eventLoop
        let chunks = stride(from: 0, to: paths.count, by: StoreCopier.chunkSize).map { Array(paths[$0..<min(paths.count, $0 + StoreCopier.chunkSize)]) }
        var results: [String: T] = [:]
        var done = 0
        try await withThrowingTaskGroup(of: (Int, [(String, T)]).self) { group in
            var next = 0
            func startNext() {
                guard next < chunks.count else { return }
                let chunk = chunks[next]
                next += 1
                group.addTask {
                    let found = try await loop.run { () throws -> [(String, T)] in
                        var out: [(String, T)] = []
                        for path in chunk { if let value = try body(path) { out.append((path, value)) } }
                        return out
                    }
                    return (chunk.count, found)
                }
            }
            for _ in 0..<StoreCopier.concurrentJobs { startNext() }
            while let (count, found) = try await group.next() {
                for (path, value) in found { results[path] = value }
                done += count
                progress?(phase, done, paths.count)
                startNext()
            }
        }
        return results
    }
}
