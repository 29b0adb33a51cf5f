import CFaissShim

/// The distance used by a ``FaissIndex``.
///
/// - ``l2``: squared Euclidean distance; smaller is closer. Search results carry
///   the *squared* L2 distance, exactly as FAISS reports it.
/// - ``innerProduct``: dot product; larger is closer. For cosine similarity, store and
///   query vectors passed through ``FaissIndex/normalized(_:)``.
public enum VectorMetric: String, Sendable {
    case l2
    case innerProduct

    var cValue: Int32 {
        switch self {
        case .l2: return ENGRAM_FAISS_METRIC_L2
        case .innerProduct: return ENGRAM_FAISS_METRIC_INNER_PRODUCT
        }
    }

    init?(cValue: Int32) {
        switch cValue {
        case ENGRAM_FAISS_METRIC_L2: self = .l2
        case ENGRAM_FAISS_METRIC_INNER_PRODUCT: self = .innerProduct
        default: return nil
        }
    }
}
