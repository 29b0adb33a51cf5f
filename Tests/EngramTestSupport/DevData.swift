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
