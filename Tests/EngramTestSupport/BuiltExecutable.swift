import Foundation

/// The package's executables as the tests find them: beside the test runner (`swift test`), else in
/// `.build/debug` of this package.
public enum BuiltExecutable {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The path of the built executable `name` (`engram`, `engram-graph`, `engram-crash-writer`, …), or nil.
    public static func path(_ name: String) -> String? {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        return [runner + "/" + name, packageRoot + "/.build/debug/" + name].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
