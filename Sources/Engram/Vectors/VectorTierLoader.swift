import EngramIO
import EngramVector

/// Brings the vector tier up to date at open, on a pool thread: load `vector_index/` if its files are sound,
/// otherwise start empty (rebuild); then re-read only the records whose vectors are missing or stale against the
/// central index (their `updated_at` differs from the version the vector was taken from) and drop vectors of
/// records that are gone. After a clean close that is nothing; after a crash, the changes since the last vector
/// checkpoint; after damage, every record with an embedding.
struct VectorTierLoader {
    let layout: StoreLayout
    let metric: DistanceMetric
    let index: CentralIndex
    /// Ignore the files and rebuild from the records (repair).
    var rebuild = false
    /// A read-only open's committed temp files, read instead of their record files (the batch seen whole).
    var committed = CommittedTemporaryFiles()

    struct Outcome: Sendable {
        var tier: VectorTier
        var rebuiltReason: String?
        var resynced = 0
        var unreadable: [String] = []
        var changed: Bool { rebuiltReason != nil || resynced > 0 }
    }

    func load() throws -> Outcome {
        let hasVectors = index.memories.values.contains { $0.dimension != nil } || index.assemblies.values.contains { $0.dimension != nil }
        let (loaded, problem) = rebuild
            ? (nil, "a rebuild was requested (repair)")
            : VectorTier.load(directory: layout.vectorIndexDirectory, metric: metric, dimension: index.embeddingDimension)
        var outcome: Outcome
        if let loaded {
            outcome = Outcome(tier: loaded)
        } else {
            outcome = Outcome(tier: VectorTier(metric: metric))
            if hasVectors { outcome.rebuiltReason = problem }
        }
        let (reload, remove) = outcome.tier.differences(from: index)
        var upserts: [(kind: RecordKind, id: String, vector: [Float], version: Timestamp)] = []
        var removals: [(kind: RecordKind, id: String)] = remove.map { (kind: $0.0, id: $0.1) }
        upserts.reserveCapacity(reload.count)
        for (kind, id) in reload {
            do {
                let (bytes, path) = try committed.read(kind, id: id, layout: layout, operation: "rebuild vector index")
                switch kind {
                case .memory:
                    let memory = try MemoryEntry.decodeFile(bytes, path: path, expectedID: id)
                    if let v = memory.embedding, v.count == index.embeddingDimension ?? v.count {
                        upserts.append((.memory, id, v, memory.updatedAt))
                    } else {
                        removals.append((.memory, id))
                    }
                case .assembly:
                    let assembly = try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id)
                    if let v = assembly.compositeEmbedding, v.count == index.embeddingDimension ?? v.count {
                        upserts.append((.assembly, id, v, assembly.updatedAt))
                    } else {
                        removals.append((.assembly, id))
                    }
                }
            } catch {
                // A missing file is the index's problem (reported by verify), not an unreadable record.
                if error.code != .notFound { outcome.unreadable.append("\(kind.directoryName)/\(id).json") }
                removals.append((kind, id))
            }
            // Add in slices so a rebuild of a large store does not hold every vector twice.
            if upserts.count >= 4096 {
                try outcome.tier.apply(upserts: upserts, removals: removals)
                outcome.resynced += upserts.count
                upserts.removeAll(keepingCapacity: true)
                removals.removeAll()
            }
        }
        try outcome.tier.apply(upserts: upserts, removals: removals)
        outcome.resynced += upserts.count + removals.count
        if outcome.rebuiltReason != nil { outcome.resynced = 0 }
        return outcome
    }
}
