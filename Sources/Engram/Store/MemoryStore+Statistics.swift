import EngramJSON

extension MemoryStore {
    public func statistics() -> StoreStatistics {
        let embeddedMemories = index.memories.values.reduce(0) { $0 + ($1.dimension == nil ? 0 : 1) }
        return StoreStatistics(
            memoryCount: index.memories.count,
            assemblyCount: index.assemblies.count,
            embeddingDimension: index.embeddingDimension,
            vectorCount: embeddedMemories,
            assemblyVectorCount: index.assemblies.values.reduce(0) { $0 + ($1.dimension == nil ? 0 : 1) },
            indexedVectors: vectorTierReady ? vectors.map { $0.count(.memory) + $0.count(.assembly) } : nil,
            cachedMemories: memoryCache.count,
            cacheHits: memoryCache.hits,
            cacheMisses: memoryCache.misses,
            changesSinceCheckpoint: changesSinceCheckpoint,
            journalSequence: sequence,
            readOnly: configuration.readOnly,
            path: layout.root,
            graph: graphStatistics(embeddedMemories: embeddedMemories))
    }
}
