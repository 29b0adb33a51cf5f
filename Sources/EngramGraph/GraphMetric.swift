/// The distance a graph answers in, following FAISS so the store can merge L1 and L2 results:
/// ``l2`` is the squared Euclidean distance (smaller is closer), ``innerProduct`` the dot product (larger is
/// closer). The store's cosine is normalized vectors + ``innerProduct``.
///
/// The graph itself is always built on L2 geometry (RobustPrune needs a metric); for normalized vectors that
/// orders neighbours exactly as the inner product does.
package enum GraphMetric: String, Sendable {
    case l2
    case innerProduct

    /// The code in the node file's header.
    var code: UInt32 {
        switch self {
        case .l2: 0
        case .innerProduct: 1
        }
    }

    init?(code: UInt32) {
        switch code {
        case 0: self = .l2
        case 1: self = .innerProduct
        default: return nil
        }
    }
}
