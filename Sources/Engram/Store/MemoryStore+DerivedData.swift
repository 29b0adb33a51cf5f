import EngramIO
import EngramVector

/// The store drives every derived tier the same way (see ``DerivedIndex``): loads and catches it up at open,
/// feeds it each durable write, persists it at checkpoints, and reports what loading it found.
extension MemoryStore {
    var derivedContext: DerivedIndexContext {
        DerivedIndexContext(metric: configuration.metric, dimension: index.embeddingDimension, keywords: configuration.keywords)
    }

    /// Starts loading every tier in the background: open returns as soon as the index is ready (a tier's files
    /// can be hundreds of MB). Searches wait for the tier they use; writes made meanwhile are caught up from the
    /// records when it finishes (by their versions).
    func startDerivedLoads(index snapshot: CentralIndex) {
        // One after the other, in slot order: a tier may depend on the one before (L1 on L2's coverage).
        var previous: Task<Void, Never>?
        for slot in derivedTiers.indices {
            startLoad(derivedTiers[slot].index, slot: slot, snapshot: snapshot, after: previous)
            previous = derivedTiers[slot].load
        }
    }

    private func startLoad<Index: DerivedIndex>(_ tier: Index, slot: Int, snapshot: CentralIndex, after previous: Task<Void, Never>?) {
        let layout = self.layout
        let configuration = self.configuration
        let committed = recovery.committedRecords
        let context = DerivedIndexContext(metric: configuration.metric, dimension: snapshot.embeddingDimension, keywords: configuration.keywords)
        derivedTiers[slot].load = Task {
            await previous?.value
            do {
                Index.prepareLoad(configuration)
                let outcome = try await configuration.eventLoop.run {
                    try DerivedIndexLoader<Index>(layout: layout, context: context, index: snapshot,
                                                  rebuild: configuration.rebuildDerivedData && !configuration.readOnly, committed: committed,
                                                  live: tier).load()
                }
                try await self.finishLoad(tier, slot: slot, outcome: outcome, snapshot: snapshot)
            } catch {
                self.failLoad(slot: slot, error)
            }
        }
    }

    private func finishLoad<Index: DerivedIndex>(_ tier: Index, slot: Int, outcome: DerivedIndexLoader<Index>.Outcome, snapshot: CentralIndex) async throws {
        tier.adopt(outcome.loaded)
        Index.note(rebuiltReason: outcome.rebuiltReason, resynced: outcome.resynced, in: &recovery)
        for path in outcome.unreadable where !recovery.unreadableRecords.contains(path) { recovery.unreadableRecords.append(path) }
        // Writes made while it loaded (none in a read-only store): catch up with them.
        let changed = try await (sequence != snapshot.journalSequence ? catchUp(tier, slot: slot) : false) || outcome.changed
        if sequence == snapshot.journalSequence || tier.differences(from: index).reload.isEmpty {
            derivedTiers[slot].ready = true
            if changed && !configuration.readOnly { derivedTiers[slot].needsWrite = true }
            if Index.self == VectorTier.self { considerGraphRebuild() }
        } else {
            failLoad(slot: slot, EngramError(code: .io, message: "the \(tier.name) could not catch up with the writes made while it loaded",
                                             operation: "load \(tier.name)", path: layout.root + "/" + Index.directoryName, remedy: "reopen the store"))
        }
        if outcome.changed {
            logger.notice("engram: \(tier.name) of \(layout.root): \(recovery.summary)")
        }
    }

    /// Brings a tier in line with the central index by re-reading the records it holds at another version,
    /// until a diff (computed without suspending) is empty. Returns whether anything changed.
    func catchUp<Index: DerivedIndex>(_ tier: Index, slot: Int) async throws -> Bool {
        var changed = false
        for _ in 0..<100 {
            let differences = tier.differences(from: index)
            if differences.isEmpty { break }
            try tier.apply(await currentChanges(reading: differences.reload, removing: differences.remove))
            changed = true
        }
        return changed
    }

    /// The changes that bring a tier to the records as they are now: `reading` re-read (a record gone meanwhile
    /// becomes a removal), `removing` removed.
    func currentChanges(reading: [(kind: RecordKind, id: String)], removing: [(kind: RecordKind, id: String)]) async -> DerivedChanges {
        var changes = DerivedChanges(removals: removing)
        for (kind, id) in reading {
            switch kind {
            case .memory:
                if let memory = try? await memory(id) { changes.upsert(memory) } else { changes.remove(.memory, id) }
            case .assembly:
                if let assembly = try? await assembly(id) { changes.upsert(assembly) } else { changes.remove(.assembly, id) }
            }
        }
        return changes
    }

    private func failLoad(slot: Int, _ error: any Error) {
        let name = derivedTiers[slot].name
        let failure = (error as? EngramError) ?? EngramError(code: .io, message: "\(error)", operation: "load \(name)",
                                                               path: layout.root + "/" + derivedTiers[slot].directoryName,
                                                               remedy: "reopen the store; `engram repair` rebuilds the \(name)")
        derivedTiers[slot].loadError = failure
        derivedTiers[slot].broken = true
        logger.error("engram: the \(name) could not be loaded: \(failure)")
    }

    /// Feeds durable changes to every tier that has finished loading (those still loading catch up from the
    /// records). A failure here (FAISS out of memory) does not undo the durable write: the tier is marked broken,
    /// its manifest removed so the next open rebuilds it from the records.
    func applyToDerived(_ changes: DerivedChanges) {
        guard !changes.isEmpty else { return }
        for slot in derivedTiers.indices where derivedTiers[slot].ready && !derivedTiers[slot].broken {
            do {
                try derivedTiers[slot].index.apply(changes)
                derivedTiers[slot].needsWrite = true
            } catch {
                let name = derivedTiers[slot].name
                logger.error("engram: the \(name) could not be updated (\(error)); it is rebuilt from the records at the next open")
                derivedTiers[slot].broken = true
                _ = try? Sys.unlink(layout.root + "/" + derivedTiers[slot].directoryName + "/manifest.json")
            }
        }
    }

    /// Whether any tier has changes to persist.
    var derivedNeedsWrite: Bool { derivedTiers.contains { $0.needsWrite } }

    /// Persists the tiers that are due (after the index: a tier's files are checked against the index at open,
    /// never the reverse). `all`: every tier with changes (close, forced checkpoints); otherwise those with at
    /// least `interval` changes since they were last persisted (their files are large; a lagging tier costs only
    /// re-reading the changed records at open).
    func persistDerived(all: Bool, interval: Int, journalSequence: Int64) async throws {
        for slot in derivedTiers.indices {
            let tier = derivedTiers[slot]
            guard tier.needsWrite, !tier.broken, all || tier.index.changesSincePersist >= interval else { continue }
            let directory = layout.root + "/" + tier.directoryName
            let index = tier.index
            try await engine.loop.run { try index.persist(to: directory, journalSequence: journalSequence) }
            derivedTiers[slot].needsWrite = false
        }
    }

    /// Whether a persist is due (see ``persistDerived(all:interval:journalSequence:)``).
    func derivedPersistDue(all: Bool, interval: Int) -> Bool {
        derivedTiers.contains { $0.needsWrite && !$0.broken && (all || $0.index.changesSincePersist >= interval) }
    }

    /// Waits for every background load (close waits before its checkpoint).
    func waitForDerivedLoads() async {
        for slot in derivedTiers.indices { if let load = derivedTiers[slot].load { await load.value } }
    }

    /// The slot of the L1 vector tier.
    var vectorSlot: Int? { derivedTiers.firstIndex { $0.index is VectorTier } }

    /// The slot of the L2 graph tier.
    var graphSlot: Int? { derivedTiers.firstIndex { $0.index is GraphTier } }

    /// The slot of the keyword tier.
    var keywordSlot: Int? { derivedTiers.firstIndex { $0.index is KeywordTier } }

    /// Waits until the keyword tier is ready; throws if the store has none or it failed to load.
    func waitForKeywordTier(operation: String) async throws -> KeywordTier {
        guard let slot = keywordSlot, let tier = keywordTier else {
            throw EngramError(code: .usage, message: "the store was opened without its keyword index", operation: operation, path: layout.root,
                              remedy: "open it with loadKeywordTier: true")
        }
        if let load = derivedTiers[slot].load { await load.value }
        if let error = derivedTiers[slot].loadError { throw error }
        return tier
    }

    var vectorTierReady: Bool { vectorSlot.map { derivedTiers[$0].ready } ?? false }

    /// Waits until the vector tier (loaded in the background since open) is ready; throws if it failed.
    /// ``recovery`` includes what loading it found once this returns.
    public func waitForVectorTier() async throws {
        guard let slot = vectorSlot else {
            throw EngramError(code: .usage, message: "the store was opened without its vector tier", operation: "search", path: layout.root,
                              remedy: "open it with loadVectorTier: true")
        }
        if let load = derivedTiers[slot].load { await load.value }
        if let error = derivedTiers[slot].loadError { throw error }
    }
}
