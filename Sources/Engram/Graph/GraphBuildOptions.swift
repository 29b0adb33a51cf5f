/// The parameters of a graph build (`engram-graph build`), DiskANN's names in brackets.
public struct GraphBuildOptions: Sendable, Equatable {
    /// [R] the most neighbours a node keeps. Default 64.
    public var degree = 64
    /// [L] the candidate list of the build's greedy searches: larger builds a better graph, slower. Default 100.
    public var complexity = 100
    /// [α] RobustPrune's distance factor (> 1 keeps longer edges, fewer hops). Default 1.2.
    public var alpha: Float = 1.2
    /// Threads (0: every core).
    public var threads = 0
    /// [M] bytes of product-quantization code per vector, kept in RAM for navigation (0: dimension / 8).
    public var pqBytes = 0

    public init(degree: Int = 64, complexity: Int = 100, alpha: Float = 1.2, threads: Int = 0, pqBytes: Int = 0) {
        self.degree = degree
        self.complexity = complexity
        self.alpha = alpha
        self.threads = threads
        self.pqBytes = pqBytes
    }
}
