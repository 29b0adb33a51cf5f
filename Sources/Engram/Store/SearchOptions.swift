/// How a search runs. For vector search: how it uses the L2 graph (when the store has one: `engram-graph build`);
/// L1 — the exact FAISS tier, which holds what the graph does not — is always searched in full. For text and
/// hybrid search: the fusion, the candidate depth and optional boosts.
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

    /// How a search with both a text and a vector merges the two lists. Default: ``SearchFusion/default``.
    public var fusion: SearchFusion
    /// Candidates taken from each side of a hybrid search (and from the keyword index for a text search with a
    /// metadata filter, before filtering): at least this many, and at least 10 × k. Enough that a match found by
    /// one side only still reaches the fusion. Default 100.
    public var candidates: Int
    /// Boost by `quickrecal_score`: `weight · quickrecal_score` is added to a keyword or hybrid result's
    /// normalised relevance (in [0, 1]) before ranking. Default 0 (off).
    public var scoreWeight: Double
    /// Boost by recency: `weight · 0.5^(age / recencyHalfLife)` (age since `updated_at`) is added to a keyword or
    /// hybrid result's normalised relevance before ranking. Default 0 (off).
    public var recencyWeight: Double
    /// The age, in seconds, at which the recency boost has halved. Default 30 days.
    public var recencyHalfLife: Double
    /// Let a text search embed its text with the store's embedder (when it has one) and run hybrid. Default `true`.
    public var embedText: Bool

    public init(listSize: Int = 100, beamWidth: Int = 4, deepSearchThreshold: Float? = nil, fusion: SearchFusion = .default,
                candidates: Int = 100, scoreWeight: Double = 0, recencyWeight: Double = 0, recencyHalfLife: Double = 30 * 86_400,
                embedText: Bool = true) {
        self.listSize = listSize
        self.beamWidth = beamWidth
        self.deepSearchThreshold = deepSearchThreshold
        self.fusion = fusion
        self.candidates = candidates
        self.scoreWeight = scoreWeight
        self.recencyWeight = recencyWeight
        self.recencyHalfLife = recencyHalfLife
        self.embedText = embedText
    }

    var boosts: Bool { scoreWeight != 0 || recencyWeight != 0 }
}
