import EngramJSON

extension MemoryStore {
    public func statistics() -> StoreStatistics {
        // Counted by the tables as they change: iterating would read every entry of the mapped index.
        let embeddedMemories = index.memories.withDimension
        return StoreStatistics(
            memoryCount: index.memories.count,
            assemblyCount: index.assemblies.count,
            embeddingDimension: index.embeddingDimension,
            vectorCount: embeddedMemories,
            assemblyVectorCount: index.assemblies.withDimension,
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
