/// A group of memories that say the same thing: equal content (`exact`), or embeddings at least as similar as
/// the threshold asked for. Found by ``MemoryStore/duplicateClusters(threshold:neighbours:progress:)``; nothing
/// is ever deleted — which copy to keep is the caller's decision.
public struct DuplicateCluster: Sendable, Equatable {
    /// The members, sorted.
    public var ids: [String]
    /// Every member has the same `content_hash`.
    public var exact: Bool
    /// The lowest cosine similarity of the pairs that joined the cluster (1 for exact duplicates).
    public var similarity: Double

    public init(ids: [String], exact: Bool, similarity: Double) {
        self.ids = ids
        self.exact = exact
        self.similarity = similarity
    }
}
