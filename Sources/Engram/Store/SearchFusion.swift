/// How a hybrid search (text and vector) merges its two candidate lists.
///
/// The default was chosen by the evaluation in the README (`engram-bench text`, 486 labelled queries over 20,000
/// memories): the normalised convex combination keeps keyword-only matches (identifiers, error codes) and
/// semantic-only matches near the top where rank fusion lets a strong single-sided match sink.
public enum SearchFusion: Sendable, Equatable {
    /// `alpha · dense + (1 − alpha) · keyword`, each side min-max normalised over its candidates (a record missing
    /// from one side gets 0 there). `alpha` in [0, 1]; 0.5 weighs both equally.
    case convex(alpha: Double)
    /// Reciprocal Rank Fusion: Σ 1 / (k + rank) over the lists a record is in (rank from 1); `k` = 60 is the
    /// value of the original paper (Cormack et al., 2009).
    case reciprocalRank(k: Double)

    /// The default: `.convex(alpha: 0.5)`.
    public static let `default` = SearchFusion.convex(alpha: 0.5)
}
