import EngramGraph
import EngramIO
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `graph_index/`: complete graphs in generation directories `g-<n>/`, and `CURRENT`, a one-line pointer file
/// naming the one in use. A builder writes a new graph into `.build-<random>/` (every file fsynced, the manifest
/// last), renames it to the next `g-<n>`, fsyncs `graph_index/`, then replaces `CURRENT` atomically (temp file,
/// fsync, rename, directory fsync). A crash at any point leaves `CURRENT` naming the old graph or the new one,
/// each complete; leftovers (`.build-*`, generations nothing names) are removed by the next build.
///
/// Readers resolve `CURRENT` and open the generation it names; a process that has a graph open keeps using its
/// files after a newer one replaced it (an unlinked, mapped file stays valid), and notices the swap by the
/// identity of `CURRENT` (``identity()``), which changes with every publish.
struct GraphDirectory: Sendable {
    let layout: StoreLayout
    static let pointerName = "CURRENT"
    static let generationPrefix = "g-"
    static let stagingPrefix = ".build-"
    static let buildLockName = ".build.lock"

    var root: String { layout.graphIndexDirectory }
    var pointerPath: String { root + "/" + GraphDirectory.pointerName }

    /// The generation directory `CURRENT` names, or nil when there is none (or it names nothing valid).
    func current() -> String? {
        guard Sys.fileType(pointerPath) == .file, let bytes = try? Sys.readFile(pointerPath, maxSize: 4096) else { return nil }
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard GraphDirectory.generationNumber(name) != nil, Sys.fileType(root + "/" + name) == .directory else { return nil }
        return root + "/" + name
    }

    /// Which `CURRENT` is in place (inode, modification time): changes with every publish.
    func identity() -> [Int] {
        var st = stat()
        guard lstat(pointerPath, &st) == 0 else { return [] }
        return [Int(st.st_ino), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec), Int(st.st_size)]
    }

    /// Opens the current graph. Nil (and why) when there is none or it cannot be used. Retries when a builder
    /// replaced the generation between reading `CURRENT` and opening it.
    func open(verifyChecksums: Bool = false) -> (DiskGraph?, String?) {
        var problem: String?
        for _ in 0..<3 {
            guard let directory = current() else { return (nil, Sys.fileType(pointerPath) == nil ? nil : "graph_index/CURRENT names no graph") }
            do {
                return (try DiskGraph.open(directory: directory, verifyChecksums: verifyChecksums), nil)
            } catch {
                problem = error.message
                if current() == directory { break }  // not a race with a publish: the graph itself is unusable
            }
        }
        return (nil, problem)
    }

    static func generationNumber(_ name: String) -> Int? {
        guard name.hasPrefix(generationPrefix) else { return nil }
        return Int(name.dropFirst(generationPrefix.count)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Creates a fresh staging directory for a build.
    func makeStaging() throws(EngramError) -> String {
        try Sys.mkdir(root, operation: "build graph")
        var generator = SystemRandomNumberGenerator()
        let path = root + "/" + GraphDirectory.stagingPrefix + String(generator.next() as UInt64, radix: 16)
        try Sys.mkdir(path, operation: "build graph")
        return path
    }

    /// Makes the complete graph in `staging` the current one (see the type's documentation); returns its path.
    func publish(staging: String) throws(EngramError) -> String {
        let op = "publish graph"
        let names = try Sys.listDirectory(root, operation: op)
        let next = (names.compactMap(GraphDirectory.generationNumber).max() ?? 0) + 1
        let name = GraphDirectory.generationPrefix + String(next)
        try Sys.rename(staging, root + "/" + name, operation: op)
        try Sys.fsyncDirectory(root, operation: op)
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: root, name: GraphDirectory.pointerName, bytes: Array((name + "\n").utf8)), operation: op)
        return root + "/" + name
    }

    /// Removes what no reader can reach any more: generations `CURRENT` does not name and staging directories
    /// of builds that are not running (the caller holds the build lock). Readers with a graph open keep it.
    func removeLeftovers() {
        let current = current().map { String($0.dropFirst(root.count + 1)) }
        for name in (try? Sys.listDirectory(root)) ?? [] where name != current {
            if GraphDirectory.generationNumber(name) != nil || name.hasPrefix(GraphDirectory.stagingPrefix) {
                try? MigrationFileSystem.removeTree(root + "/" + name, operation: "remove old graph")
            }
        }
    }

    /// Removes the graph altogether (repair of a store without vectors).
    func removeAll() throws(EngramError) {
        if Sys.fileType(pointerPath) != nil {
            try Sys.unlink(pointerPath, operation: "remove graph")
            try Sys.fsyncDirectory(root, operation: "remove graph")
        }
        removeLeftovers()
    }

    /// One builder at a time per store: an exclusive `flock` on `graph_index/.build.lock` (gone with the process).
    func lockBuild() throws(EngramError) -> StoreLock {
        try Sys.mkdir(root, operation: "build graph")
        do {
            return try StoreLock(path: root + "/" + GraphDirectory.buildLockName)
        } catch {
            guard error.code == .locked else { throw error }
            throw EngramError(code: .locked, message: "another graph build is running for this store", operation: "build graph",
                              path: root + "/" + GraphDirectory.buildLockName, remedy: "wait for it to finish; it publishes its graph when done")
        }
    }
}
