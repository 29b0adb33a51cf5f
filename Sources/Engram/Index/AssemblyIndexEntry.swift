import EngramIO
import EngramJSON

/// What the central index knows about one assembly. `memory_ids` is an Engram addition to SPEC §3: it lets a
/// delete find the assemblies that list a memory without reading every assembly.
public struct AssemblyIndexEntry: Sendable, Equatable {
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var memoryIds: [String]
    /// The composite embedding's length, or nil when the assembly has none.
    public var dimension: Int?
    public var memberCount: Int { memoryIds.count }

    init(_ assembly: MemoryAssembly) {
        createdAt = assembly.createdAt
        updatedAt = assembly.updatedAt
        memoryIds = assembly.memoryIds
        dimension = assembly.compositeEmbedding?.count
    }

    init(createdAt: Timestamp, updatedAt: Timestamp, memoryIds: [String], dimension: Int?) {
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.memoryIds = memoryIds
        self.dimension = dimension
    }
}
