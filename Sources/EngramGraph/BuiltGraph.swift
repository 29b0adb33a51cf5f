import EngramIO
import EngramJSON

/// A graph built in memory by ``GraphBuilder``, ready to be written with ``write(to:metadata:)``.
package struct BuiltGraph: Sendable {
    package let dimension: Int
    package let metric: GraphMetric
    package let parameters: GraphParameters
    /// The entry point of every search.
    package let medoid: Int32
    let vectors: [Float]
    let keys: [String]
    let versions: [String]
    /// `count × degree`, unused slots -1.
    let adjacency: [Int32]
    let degrees: [Int32]
    package let pqSubQuantizers: Int
    let pqCentroids: [Float]
    let pqCodes: [UInt8]

    package var count: Int { keys.count }
    package var degree: Int { parameters.degree }

    /// The out-neighbours of a node (for tests and statistics).
    package func neighbours(of node: Int32) -> [Int32] {
        let start = Int(node) * degree
        return Array(adjacency[start..<start + Int(degrees[Int(node)])])
    }

    /// Mean out-degree.
    package var averageDegree: Double {
        count == 0 ? 0 : Double(degrees.reduce(0) { $0 + Int($1) }) / Double(count)
    }
}
