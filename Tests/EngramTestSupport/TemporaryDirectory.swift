import Foundation

/// A fresh directory per test, removed when the test ends (as GRDB's tests do). Shared by every test target.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ name: String = #function) {
        let base = FileManager.default.temporaryDirectory.path + "/engram-tests"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = base + "/\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A store path inside the directory (not created).
    public var store: String { path + "/store" }

    /// The names in `store/<sub>`, sorted.
    public func files(in sub: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store + "/" + sub)) ?? []).sorted()
    }

    /// The size of `store/<relative>` in bytes (0 when it is missing).
    public func fileSize(_ relative: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: store + "/" + relative))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The names in the directory itself, sorted.
    public var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    /// Writes `text` to `<path>/<name>` and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The text of `<path>/<name>`, or nil.
    public func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}
