import EngramGraph
import EngramIO
import EngramTestSupport
import Foundation

/// Shared fixtures: seeded synthetic sets, dev data when ../shared is present, temp directories.
enum TestData {
    static var dataDirectory: String { DevData.directory }
    static var hasDevData: Bool { DevData.isPresent }

    /// Clustered Gaussian-ish vectors: `clusters` centres, points spread around them.
    static func clustered(count: Int, dimension d: Int, clusters: Int = 32, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
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
}
