import Engram
import EngramIO
import EngramJSON
import Foundation

/// A fresh directory per test, removed when the test ends (as GRDB's tests do).
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ name: String = #function) {
        let base = FileManager.default.temporaryDirectory.path + "/engram-tests"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = base + "/\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var store: String { path + "/store" }

    func files(in sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store + "/" + sub)) ?? []).sorted()
    }
}

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

/// A seeded random number generator (SplitMix64): the same numbers on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
