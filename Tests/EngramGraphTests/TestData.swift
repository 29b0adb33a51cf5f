import EngramGraph
import EngramIO
import Foundation

/// Shared fixtures: seeded synthetic sets, dev data when ../shared is present, temp directories.
enum TestData {
    static let dataDirectory: String = {
        let here = URL(fileURLWithPath: #filePath)  // Tests/EngramGraphTests/TestData.swift
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static var hasDevData: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/dev_base.fvecs") }

    /// Clustered Gaussian-ish vectors: `clusters` centres, points spread around them.
    static func clustered(count: Int, dimension d: Int, clusters: Int = 32, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(clusters * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        var out = [Float](repeating: 0, count: count * d)
        for i in 0..<count {
            let c = Int(rng.next() % UInt64(clusters))
            for j in 0..<d { out[i * d + j] = centres[c * d + j] + 0.3 * (Float.random(in: -1...1, using: &rng) + Float.random(in: -1...1, using: &rng)) }
        }
        return out
    }

    static func input(_ vectors: [Float], dimension d: Int, metric: GraphMetric = .l2) -> GraphBuildInput {
        let n = vectors.count / d
        return GraphBuildInput(dimension: d, metric: metric, vectors: vectors, keys: (0..<n).map { "mem-\($0)" },
                               versions: (0..<n).map { "2025-01-01T00:00:\(String(format: "%02d", $0 % 60))Z" })
    }

    /// Exact top-k rows by squared L2 (or descending inner product).
    static func exact(_ vectors: [Float], dimension d: Int, query: [Float], k: Int, metric: GraphMetric = .l2) -> [Int] {
        let n = vectors.count / d
        var scored: [(Float, Int)] = []
        for i in 0..<n {
            var s: Float = 0
            for j in 0..<d {
                if metric == .l2 { let t = vectors[i * d + j] - query[j]; s += t * t } else { s -= vectors[i * d + j] * query[j] }
            }
            scored.append((s, i))
        }
        scored.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return scored.prefix(k).map(\.1)
    }

    static func temporaryDirectory(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "engram-graph-tests-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func fvecs(_ path: String) -> (Int, [Float]) {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return data.withUnsafeBytes { raw in
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            var out = [Float](repeating: 0, count: n * d)
            for i in 0..<n { for c in 0..<d { out[i * d + c] = raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Float.self) } }
            return (d, out)
        }
    }

    static func ivecs(_ path: String) -> [[Int]] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return data.withUnsafeBytes { raw in
            let d = Int(raw.loadUnaligned(as: Int32.self))
            let n = raw.count / (4 + 4 * d)
            return (0..<n).map { i in (0..<d).map { c in Int(raw.loadUnaligned(fromByteOffset: i * (4 + 4 * d) + 4 + 4 * c, as: Int32.self)) } }
        }
    }
}
