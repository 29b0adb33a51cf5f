import EngramIO
import EngramVector

extension MemoryStore {
    /// Starts loading the vector tier in the background: open returns as soon as the index is ready (the
    /// tier's files are 4 × dimension bytes per vector, hundreds of MB for a large store). Searches wait for it;
    /// writes made meanwhile are caught up from the records when it finishes (by their versions).
    func startVectorLoad(index snapshot: CentralIndex) {
        let layout = self.layout
        let configuration = self.configuration
        let committed = recovery.committedTemporaryFiles
        vectorLoad = Task {
            do {
                try? FaissIndex.setThreadCount(configuration.searchThreads)
                let outcome = try await configuration.eventLoop.run {
                    try VectorTierLoader(layout: layout, metric: configuration.metric, index: snapshot,
                                         rebuild: configuration.rebuildDerivedData && !configuration.readOnly, committed: committed).load()
                }
                try await self.finishVectorLoad(outcome)
            } catch {
                self.failVectorLoad(error)
            }
        }
    }

    private func finishVectorLoad(_ outcome: VectorTierLoader.Outcome) async throws {
        guard let vectors else { return }
        vectors.adopt(outcome.tier)
        recovery.rebuiltVectorIndexReason = outcome.rebuiltReason
        recovery.resyncedVectors = outcome.resynced
        for path in outcome.unreadable where !recovery.unreadableRecords.contains(path) { recovery.unreadableRecords.append(path) }
        var changed = outcome.changed
        // Catch up with the writes made while loading, until a diff (computed without suspending) is empty.
        for _ in 0..<100 {
            let (reload, remove) = vectors.differences(from: index)
            if reload.isEmpty && remove.isEmpty { break }
            var upserts: [(kind: RecordKind, id: String, vector: [Float], version: Timestamp)] = []
            var removals: [(kind: RecordKind, id: String)] = remove.map { (kind: $0.0, id: $0.1) }
            for (kind, id) in reload {
                switch kind {
                case .memory:
                    if let memory = try? await memory(id), let v = memory.embedding { upserts.append((.memory, id, v, memory.updatedAt)) } else { removals.append((.memory, id)) }
                case .assembly:
                    if let assembly = try? await assembly(id), let v = assembly.compositeEmbedding { upserts.append((.assembly, id, v, assembly.updatedAt)) } else { removals.append((.assembly, id)) }
                }
            }
            try vectors.apply(upserts: upserts, removals: removals)
            changed = true
        }
        if vectors.differences(from: index).reload.isEmpty {
            vectorTierReady = true
            if changed && !configuration.readOnly { vectorTierNeedsWrite = true }
        } else {
            failVectorLoad(EngramError(code: .io, message: "the vector index could not catch up with the writes made while it loaded", operation: "load vector index",
                                       path: layout.vectorIndexDirectory, remedy: "reopen the store"))
        }
        if recovery.rebuiltVectorIndexReason != nil || recovery.resyncedVectors > 0 {
            logger.notice("engram: vector index of \(layout.root): \(recovery.summary)")
        }
    }

    private func failVectorLoad(_ error: any Error) {
        let failure = (error as? EngramError) ?? EngramError(code: .io, message: "\(error)", operation: "load vector index", path: layout.vectorIndexDirectory,
                                                               remedy: "reopen the store; `engram repair` rebuilds the vector index")
        vectorLoadError = failure
        vectorTierBroken = true
        logger.error("engram: the vector index could not be loaded: \(failure)")
    }

    /// Waits until the vector tier (loaded in the background since open) is ready; throws if it failed.
    /// ``recovery`` includes what loading it found once this returns.
    public func waitForVectorTier() async throws {
        if let load = vectorLoad { await load.value }
        if let vectorLoadError { throw vectorLoadError }
        guard vectors != nil else {
            throw EngramError(code: .usage, message: "the store was opened without its vector tier", operation: "search", path: layout.root,
                              remedy: "open it with loadVectorTier: true")
        }
    }
}
