/// How a Vamana graph is built (DiskANN's R, L, α) and how its navigation codes are sized.
package struct GraphParameters: Sendable, Equatable {
    /// R: the most out-neighbours a node keeps. Larger: better recall per hop, bigger node records.
    package var degree = 64
    /// L: the candidate list of the greedy search that finds each node's neighbours while building.
    package var complexity = 100
    /// α of RobustPrune (≥ 1): above 1 keeps some longer edges, which shortens search paths.
    package var alpha: Float = 1.2
    /// Worker threads; 0 uses every core.
    package var threads = 0
    /// PQ code bytes per vector (sub-quantizers); 0 picks dimension / 8 (rounded to a divisor of the dimension).
    package var pqBytes = 0
    /// 1: one pass with ``alpha``; 2: DiskANN's α = 1 pass, then an α pass (better graph, twice the time).
    package var passes = 1
    /// Seeds the insertion order and PQ training, so a build is reproducible (for any thread count).
    package var seed: UInt64 = 0x5EED_6A4A

    package init(degree: Int = 64, complexity: Int = 100, alpha: Float = 1.2, threads: Int = 0, pqBytes: Int = 0, passes: Int = 1, seed: UInt64 = 0x5EED_6A4A) {
        self.degree = degree
        self.complexity = complexity
        self.alpha = alpha
        self.threads = threads
        self.pqBytes = pqBytes
        self.passes = passes
        self.seed = seed
    }
}
