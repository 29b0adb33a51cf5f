import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation

/// Deterministic test vectors.
func vector(_ seed: Int, dimension: Int = 8) -> [Float] {
    (0..<dimension).map { Float(sin(Double(seed * 31 + $0))) }
}

func config(_ body: (inout StoreConfiguration) -> Void = { _ in }) -> StoreConfiguration {
    var c = StoreConfiguration()
    body(&c)
    return c
}

/// Every file under `path`, recursively (to prove hostile input wrote nothing elsewhere).
func allFiles(under path: String) -> Set<String> {
    guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
    var out = Set<String>()
    while let f = e.nextObject() as? String { out.insert(f) }
    return out
}

/// A file's inode number (links not followed), or nil.
func inode(_ path: String) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.uint64Value
}

/// How many names a file has (2 or more: it is hard-linked).
func linkCount(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.referenceCount] as? NSNumber)?.intValue
}

/// Overwrites a file *in place* (same inode, as an editor that rewrites the file or `>` redirection does).
func overwriteInPlace(_ path: String, with text: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.truncate(atOffset: 0)
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
}
