import EngramIO
import EngramVector

/// How vectors are compared. `cosine` stores L2-normalised vectors in an inner-product index.
public enum DistanceMetric: String, Sendable, CaseIterable {
    /// Squared Euclidean distance (what FAISS's `IndexFlatL2` reports), smaller is nearer.
    case l2
    /// Cosine similarity, larger is nearer (vectors and queries are normalised).
    case cosine
    /// Dot product, larger is nearer.
    case innerProduct = "inner_product"

    var faissMetric: VectorMetric { self == .l2 ? .l2 : .innerProduct }
    var normalises: Bool { self == .cosine }
    /// Whether a larger score is a better match.
    public var higherIsCloser: Bool { self != .l2 }
}
