import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory for one run, world-traversable (the permission scenarios run as `nobody`).
struct Workspace {
    let root: String

    init() {
        root = "/tmp/engram-faults-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
    }

    func directory(_ name: String) -> String {
        let path = root + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Every file under a directory with its contents' hash: proof that hostile input touched nothing outside.
func treeDigest(_ path: String) -> [String: Int] {
    var digest: [String: Int] = [:]
    guard let e = FileManager.default.enumerator(atPath: path) else { return [:] }
    while let name = e.nextObject() as? String {
        digest[name] = (FileManager.default.contents(atPath: path + "/" + name) ?? Data()).hashValue
    }
    return digest
}
