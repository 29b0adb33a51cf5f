import EngramJSON

/// A snapshot of a store's state (`engram stats`).
public struct StoreStatistics: Sendable, Equatable {
    public var memoryCount: Int
    public var assemblyCount: Int
    public var embeddingDimension: Int?
    /// Memories that have an embedding (the vectors the vector tier holds).
    public var vectorCount: Int
    /// Assemblies with a composite embedding.
    public var assemblyVectorCount: Int
    /// Vectors the loaded FAISS tier holds (nil when the store was opened without it).
    public var indexedVectors: Int?
    public var cachedMemories: Int
    public var cacheHits: Int
    public var cacheMisses: Int
    public var changesSinceCheckpoint: Int
    public var journalSequence: Int64
    public var readOnly: Bool
    public var path: String
    /// The L2 graph (nil when the store has none).
    public var graph: GraphStatistics? = nil

    /// As JSON, the keys SPEC §4 names first.
    public var json: JSONValue {
        .object([
            "memory_count": .int(Int64(memoryCount)),
            "assembly_count": .int(Int64(assemblyCount)),
            "embedding_dim": embeddingDimension.map { .int(Int64($0)) } ?? .null,
            "vector_count": .int(Int64(vectorCount)),
            "assembly_vector_count": .int(Int64(assemblyVectorCount)),
            "indexed_vectors": indexedVectors.map { .int(Int64($0)) } ?? .null,
            "cached_memories": .int(Int64(cachedMemories)),
            "cache_hits": .int(Int64(cacheHits)),
            "cache_misses": .int(Int64(cacheMisses)),
            "changes_since_checkpoint": .int(Int64(changesSinceCheckpoint)),
            "journal_seq": .int(journalSequence),
            "read_only": .bool(readOnly),
            "store": .string(path),
            "graph": graph?.json ?? .null,
        ])
    }
}
