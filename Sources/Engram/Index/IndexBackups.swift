import EngramIO

/// The rotated copies of `memory_index.json` in `backups/`: `memory_index.<time>.json`, each with a
/// `.xxh3` file holding its checksum (`<16 hex>  <name>`, the format of `sha256sum`).
package struct IndexBackups: Sendable {
    package let layout: StoreLayout
    static let prefix = "memory_index."

    package init(layout: StoreLayout) { self.layout = layout }

    /// Backup file names, oldest first.
    package func names() -> [String] {
        let names = (try? Sys.listDirectory(layout.backupsDirectory)) ?? []
        return names.filter { $0.hasPrefix(IndexBackups.prefix) && $0.hasSuffix(".json") }.sorted()
    }

    func newestTime() -> Timestamp? {
        guard let newest = names().last else { return nil }
        let stamp = newest.dropFirst(IndexBackups.prefix.count).dropLast(5)
        return Timestamp(fileNameForm: String(stamp))
    }

    /// Keeps the current index as a backup (a hard link: the index is only ever replaced by rename, so the link
    /// is a free, consistent copy), writes its checksum, and drops the oldest beyond `count`.
    func keep(count: Int) throws(EngramError) -> Bool {
        guard Sys.fileType(layout.indexPath) == .file else { return false }
        let bytes = try Sys.readFile(layout.indexPath, operation: "back up index")
        let stamp = Timestamp.now().fileNameForm
        let name = IndexBackups.prefix + stamp + ".json"
        let directory = layout.backupsDirectory
        // The checksum first, then the backup: a crash in between leaves a checksum without a backup (ignored,
        // removed at the next rotation), never a backup without its checksum.
        let sum = Array("\(ContentHash.checksum(bytes))  \(name)\n".utf8)
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: directory, name: name + ".xxh3", bytes: sum), operation: "back up index")
        do {
            try Sys.link(layout.indexPath, directory + "/" + name, operation: "back up index")
        } catch {
            guard error.code == .alreadyExists else { throw error }
            return false
        }
        let all = names()
        if all.count > count {
            for old in all.prefix(all.count - count) {
                // The backup before its checksum, for the same reason as above.
                try Sys.unlink(directory + "/" + old, operation: "rotate index backups")
                try Sys.unlink(directory + "/" + old + ".xxh3", operation: "rotate index backups")
            }
        }
        let kept = Set(names())
        for orphan in try Sys.listDirectory(directory) where orphan.hasSuffix(".json.xxh3") && orphan.hasPrefix(IndexBackups.prefix) {
            if !kept.contains(String(orphan.dropLast(5))) { try Sys.unlink(directory + "/" + orphan, operation: "rotate index backups") }
        }
        try Sys.fsyncDirectory(directory, operation: "back up index")
        return true
    }

    /// Checks a backup against its checksum file.
    package func isIntact(_ name: String) -> Bool {
        guard let bytes = try? Sys.readFile(layout.backupsDirectory + "/" + name),
              let sum = try? Sys.readFile(layout.backupsDirectory + "/" + name + ".xxh3") else { return false }
        return String(decoding: sum, as: UTF8.self).hasPrefix(ContentHash.checksum(bytes) + "  ")
    }
}
