import EngramIO
import EngramJSON
import Foundation

/// `engram restore SNAPSHOT`: replaces a store's content with a snapshot, atomically.
///
/// The snapshot is verified first; a full copy (hard links where possible) is built beside the store and made a
/// clean, verified store; then the copy and the store are swapped in one `renameat2(RENAME_EXCHANGE)`, so the
/// store path shows either the old store or the restored one, never a mix. The previous content is kept beside
/// it as `<store>.pre-restore-<time>` until the user removes it.
public enum StoreRestore {
    public static func restore(snapshot: String, into store: String, keepPrevious: Bool = true,
                               configuration: StoreConfiguration = StoreConfiguration()) async throws -> RestoreReport {
        let operation = "restore"
        let snapshotLayout = StoreLayout(root: snapshot)
        let storeLayout = StoreLayout(root: StoreRestore.absolute(store))
        let check = try await configuration.eventLoop.run { try StoreVerifier(layout: snapshotLayout).run() }
        guard check.isConsistent else {
            throw EngramError(code: .corrupt, message: "the snapshot does not verify (\(check.problems.count) problems, e.g. \(check.problems.first.map { "\($0.kind.rawValue) \($0.path ?? "")" } ?? ""))",
                              operation: operation, path: snapshot, remedy: "run `engram --store \(snapshot) verify`; restore another snapshot or repair this one first")
        }
        let exists = Sys.fileType(store) != nil
        if exists, !storeLayout.looksLikeStore, !(try Sys.listDirectory(store)).isEmpty {
            throw EngramError(code: .notAStore, message: "the target exists and is not a store", operation: operation, path: store,
                              remedy: "restore into a store, a new path or an empty directory")
        }
        // No writer process may have the store open (idle writers hold no lock, but they would keep writing
        // into the directory being swapped away); then hold the commit lock for the whole operation.
        if exists, WriterLock.writersPresent(storeLayout) {
            throw EngramError(code: .locked, message: "a process has the store open for writing", operation: operation, path: storeLayout.lockPath,
                              remedy: "close the processes writing to the store (agents, `engram mcp` servers), then restore")
        }
        let lock = exists && storeLayout.looksLikeStore ? try StoreLock(path: storeLayout.lockPath) : nil
        defer { lock?.release() }

        let stamp = Timestamp.now().fileNameForm
        let parent = StoreOpener.parentDirectory(of: storeLayout.root)
        let name = String(storeLayout.root[storeLayout.root.index(after: storeLayout.root.lastIndex(of: "/")!)...])
        guard !name.isEmpty else {
            throw EngramError(code: .usage, message: "cannot restore into the root directory", operation: operation, path: store)
        }
        let staging = parent + "/" + name + ".restore-" + stamp
        var report = RestoreReport(store: store, snapshot: snapshot)
        var backup = BackupReport(destination: staging)
        let copy = StoreSnapshot(source: snapshotLayout, destination: StoreLayout(root: staging))
        backup = try await configuration.eventLoop.run { [backup] in
            var backup = backup
            try copy.writeFiles(report: &backup)
            return backup
        }
        try await StoreSnapshot.finish(copy.destination, report: &backup, configuration: configuration)
        report.memories = backup.memories
        report.assemblies = backup.assemblies

        let previous = parent + "/" + name + ".pre-restore-" + stamp
        if Sys.fileType(storeLayout.root) == .directory, !(try Sys.listDirectory(storeLayout.root)).isEmpty {
            var exchanged = true
            do {
                try Sys.exchange(staging, storeLayout.root, operation: operation)
            } catch {
                // Not `catch where`: that pattern crashes the Swift 6.3 compiler's ownership checker.
                guard error.errno == ENOSYS || error.errno == EINVAL else { throw error }
                exchanged = false
            }
            if exchanged {
                report.atomicSwap = true
                try Sys.rename(staging, previous, operation: operation)
            } else {
                // No RENAME_EXCHANGE here: two renames. A crash between them leaves both directories, named.
                try Sys.rename(storeLayout.root, previous, operation: operation)
                try Sys.rename(staging, storeLayout.root, operation: operation)
            }
            report.previous = previous
        } else {
            if Sys.fileType(storeLayout.root) == .directory { try Sys.unlinkDirectory(storeLayout.root) }
            try Sys.rename(staging, storeLayout.root, operation: operation)
        }
        try Sys.fsyncDirectory(parent, operation: operation)
        if !keepPrevious, let previousPath = report.previous {
            try FileManager.default.removeItem(atPath: previousPath)
            report.previous = nil
        }
        return report
    }
}

extension StoreRestore {
    /// `path` made absolute against the current directory (restore works on the store's parent directory).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

extension Sys {
    /// `rmdir(2)` of an empty directory.
    static func unlinkDirectory(_ path: String) throws(EngramError) {
        if rmdir(path) != 0 { throw EngramError.system("rmdir", errno: errno, path: path, operation: "restore") }
    }
}
