/// How a search uses the L2 graph (when the store has one: `engram-graph build`). L1 — the exact FAISS tier,
/// which holds what the graph does not — is always searched in full.
public struct SearchOptions: Sendable, Equatable {
    /// L, the graph search's candidate list: larger finds more of the true nearest neighbours, slower.
    /// Default 100 (recall@10 ≥ 0.95 on the dev set: see the README's figures).
    public var listSize: Int
    /// W, how many candidates each round of the graph search expands (reads) at once. Default 4.
    public var beamWidth: Int
    /// "Deep search" only when needed: when set, the graph is searched only if L1's k-th result is farther than
    /// this (in the store's metric: a squared L2 distance, or a similarity for cosine and inner product, where
    /// "farther" means lower). Nil (default): always search both tiers.
    public var deepSearchThreshold: Float?

    public init(listSize: Int = 100, beamWidth: Int = 4, deepSearchThreshold: Float? = nil) {
        self.listSize = listSize
        self.beamWidth = beamWidth
        self.deepSearchThreshold = deepSearchThreshold
    }
}
