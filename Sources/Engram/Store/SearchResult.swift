import EngramIO
import EngramJSON
import EngramVector

/// One search hit, hydrated: the record itself and its distance (squared L2 for `.l2`; similarity, larger is
/// closer, for `.cosine` and `.innerProduct`).
public struct SearchResult: Sendable {
    public var kind: RecordKind
    public var id: String
    public var distance: Float
    public var memory: MemoryEntry?
    public var assembly: MemoryAssembly?

    /// The text shown for the hit: a memory's content, an assembly's name.
    public var content: String { memory?.content ?? assembly?.name ?? "" }
}
