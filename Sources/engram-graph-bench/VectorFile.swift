import EngramIO

/// TEXMEX `.fvecs` / `.ivecs` files: per row an int32 dimension, then the row.
enum VectorFile {
    static func fvecs(_ path: String) throws(EngramError) -> (dimension: Int, rows: [Float]) {
        let bytes = try Sys.readFile(path, maxSize: 4 << 30, operation: "read fvecs")
        return bytes.withUnsafeBytes { raw in
            guard raw.count >= 4 else { return (0, []) }
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            var out = [Float](repeating: 0, count: n * d)
            for i in 0..<n {
                for c in 0..<d { out[i * d + c] = raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Float.self) }
            }
            return (d, out)
        }
    }

    static func ivecs(_ path: String) throws(EngramError) -> [[Int]] {
        let bytes = try Sys.readFile(path, maxSize: 1 << 30, operation: "read ivecs")
        return bytes.withUnsafeBytes { raw in
            guard raw.count >= 4 else { return [] }
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            return (0..<n).map { i in (0..<d).map { c in Int(raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Int32.self)) } }
        }
    }
}
