/// Okapi BM25's two knobs (docs/KEYWORDS.md): `k1` saturates term frequency, `b` normalises by document length.
///
/// They are applied at search time only (the file stores them for information), so an index written with one
/// pair can be searched with another.
public struct BM25Parameters: Sendable, Equatable {
    public var k1: Float
    public var b: Float

    public init(k1: Float = 1.2, b: Float = 0.75) {
        self.k1 = k1
        self.b = b
    }
}
