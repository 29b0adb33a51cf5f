import EngramIO

/// The paths of a storage directory (SPEC §1).
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    public var memoriesDirectory: String { root + "/memories" }
    public var assembliesDirectory: String { root + "/assemblies" }
    public var indexPath: String { root + "/" + CentralIndex.fileName }
    public var journalPath: String { root + "/memory_index.journal" }
    /// The binary, memory-mappable form of `memory_index.json` (derived; see docs/FORMAT.md).
    public var binaryIndexPath: String { root + "/" + BinaryIndexFile.fileName }
    public var backupsDirectory: String { root + "/backups" }
    public var vectorIndexDirectory: String { root + "/vector_index" }
    public var graphIndexDirectory: String { root + "/graph_index" }
    public var keywordIndexDirectory: String { root + "/keyword_index" }
    public var quarantineDirectory: String { root + "/quarantine" }
    public var lockPath: String { root + "/.lock" }

    /// The directories every store has, in creation order.
    public var directories: [String] {
        [memoriesDirectory, assembliesDirectory, vectorIndexDirectory, graphIndexDirectory, keywordIndexDirectory, backupsDirectory, quarantineDirectory]
    }

    public func directory(of kind: RecordKind) -> String { root + "/" + kind.directoryName }

    /// The record's path. Only call with an id that passed ``RecordID/validate(_:operation:)``.
    public func path(of kind: RecordKind, id: String) -> String { directory(of: kind) + "/" + id + ".json" }

    /// Whether `root` looks like a store: it has an index or a `memories/` directory.
    public var looksLikeStore: Bool {
        Sys.fileType(indexPath) != nil || Sys.fileType(memoriesDirectory) == .directory
    }

    /// Refuses a store whose directories are symbolic links: Engram never follows a link out of the store.
    public func checkNoSymlinks() throws(EngramError) {
        for path in [root + "/"] + directories {
            if Sys.fileType(path.hasSuffix("/") ? String(path.dropLast()) : path) == .symlink, path != root + "/" {
                throw EngramError(code: .symlinkRefused, message: "is a symbolic link; Engram never follows links out of the store",
                                  operation: "open store", path: path,
                                  remedy: "replace the link with a real directory (move the linked content into the store)")
            }
        }
    }

    /// Entries a file system puts at the root of a volume (`lost+found`, a directory, made by mke2fs). A store
    /// may live at the root of a volume of its own, so these do not make a directory "not empty", and verify
    /// does not call them foreign.
    public static func isFileSystemEntry(_ name: String, in root: String) -> Bool {
        name == "lost+found" && Sys.fileType(root + "/" + name) == .directory
    }
}
