import EngramIO
import EngramJSON
import EngramVector

/// One search hit, hydrated: the record itself and the scores it came from.
///
/// - a vector search fills `distance`;
/// - a keyword search fills `bm25` (and `score`, equal to it unless boosts are asked for);
/// - a hybrid search fills `score` (the fused relevance, larger is better) and whichever of `distance` and
///   `bm25` the record had among each side's candidates.
public struct SearchResult: Sendable {
    public var kind: RecordKind
    public var id: String
    /// The vector distance: squared L2 for `.l2` (smaller is closer); a similarity for `.cosine` and
    /// `.innerProduct` (larger is closer). Nil when the record was not among the dense candidates.
    public var distance: Float?
    /// The BM25 score of the query's text (larger is better); nil when not among the keyword candidates.
    public var bm25: Float?
    /// The ranking score of a keyword or hybrid search (larger is better); nil for a vector search.
    public var score: Float?
    public var memory: MemoryEntry?
    public var assembly: MemoryAssembly?

    public init(kind: RecordKind, id: String, distance: Float? = nil, bm25: Float? = nil, score: Float? = nil,
                memory: MemoryEntry? = nil, assembly: MemoryAssembly? = nil) {
        self.kind = kind
        self.id = id
        self.distance = distance
        self.bm25 = bm25
        self.score = score
        self.memory = memory
        self.assembly = assembly
    }

    /// The text shown for the hit: a memory's content, an assembly's name.
    public var content: String { memory?.content ?? assembly?.name ?? "" }
}
