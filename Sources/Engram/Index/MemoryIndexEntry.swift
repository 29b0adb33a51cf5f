import EngramIO
import EngramJSON

/// What the central index knows about one memory without reading its file.
public struct MemoryIndexEntry: Sendable, Equatable {
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var quickrecalScore: Double
    public var contentHash: String
    /// The embedding's length, or nil when the memory has none.
    public var dimension: Int?

    init(_ entry: MemoryEntry) {
        createdAt = entry.createdAt
        updatedAt = entry.updatedAt
        quickrecalScore = entry.quickrecalScore
        contentHash = entry.contentHash
        dimension = entry.embedding?.count
    }

    init(createdAt: Timestamp, updatedAt: Timestamp, quickrecalScore: Double, contentHash: String, dimension: Int?) {
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.quickrecalScore = quickrecalScore
        self.contentHash = contentHash
        self.dimension = dimension
    }
}
