import Foundation

/// `../shared/data` beside the package (the dev vectors of the benchmarks and recall tests) and readers for its
/// TEXMEX files. Tests that need it skip with a clear message when it is absent.
public enum DevData {
    public static let directory: String = BuiltExecutable.packageRoot + "/../shared/data"

    public static var isPresent: Bool { FileManager.default.fileExists(atPath: directory + "/dev_base.fvecs") }

    public static let skipMessage = "the dev vectors (../shared/data/dev_*.fvecs) are not here"

    /// An `.fvecs` file: (dimension, rows × dimension floats).
    public static func fvecs(_ path: String) -> (Int, [Float]) {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return data.withUnsafeBytes { raw in
            guard raw.count >= 4 else { return (0, []) }
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            var out = [Float](repeating: 0, count: n * d)
            for i in 0..<n { for c in 0..<d { out[i * d + c] = raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Float.self) } }
            return (d, out)
        }
    }

    /// An `.ivecs` file: one row of ints per entry.
    public static func ivecs(_ path: String) -> [[Int]] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return data.withUnsafeBytes { raw in
            guard raw.count >= 4 else { return [] }
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            return (0..<n).map { i in (0..<d).map { c in Int(raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Int32.self)) } }
        }
    }
}

/// The dev texts (`dev_base.txt`, one per line, a key being its row number) and their keyword queries.
extension DevData {
    public static var hasTexts: Bool {
        FileManager.default.fileExists(atPath: directory + "/dev_base.txt")
            && FileManager.default.fileExists(atPath: directory + "/dev_text_queries.jsonl")
    }

    public static let textSkipMessage = "the dev texts (../shared/data/dev_base.txt, dev_text_queries.jsonl) are not here"

    /// The texts, with the `\n` escapes inside a line turned back into newlines.
    public static func texts() -> [String] {
        let all = (try? String(contentsOfFile: directory + "/dev_base.txt", encoding: .utf8)) ?? ""
        var lines = all.split(separator: "\n", omittingEmptySubsequences: false).map { $0.replacingOccurrences(of: "\\n", with: "\n") }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    public struct TextQuery: Sendable {
        /// "identifier", "fragment" or "semantic".
        public var kind: String
        public var text: String
        /// Rows (keys) that answer it.
        public var relevant: [Int]
    }

    public static func textQueries() -> [TextQuery] {
        let all = (try? String(contentsOfFile: directory + "/dev_text_queries.jsonl", encoding: .utf8)) ?? ""
        return all.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = object["kind"] as? String, let text = object["text"] as? String,
                  let relevant = object["relevant"] as? [Int] else { return nil }
            return TextQuery(kind: kind, text: text, relevant: relevant)
        }
    }
}
