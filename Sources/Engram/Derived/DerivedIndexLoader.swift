import EngramIO

/// Brings a derived index up to date at open, on a pool thread: load its directory if its files are sound,
/// otherwise start empty (rebuild); then re-read only the records it holds at another version than the central
/// index says (their `updated_at` differs) and drop entries of records that are gone. After a clean close that
/// is nothing; after a crash, the changes since its last checkpoint; after damage, every record.
struct DerivedIndexLoader<Index: DerivedIndex> {
    let layout: StoreLayout
    let context: DerivedIndexContext
    let index: CentralIndex
    /// Ignore the files and rebuild from the records (repair).
    var rebuild = false
    /// A read-only open's committed temp files, read instead of their record files (the batch seen whole).
    var committed = CommittedRecords()
    /// The store's live instance, which prepares the loaded one (see ``DerivedIndex/prepare(_:)``).
    var live: Index?

    struct Outcome: Sendable {
        var loaded: Index
        var rebuiltReason: String?
        var resynced = 0
        var unreadable: [String] = []
        var changed: Bool { rebuiltReason != nil || resynced > 0 }
    }

    init(layout: StoreLayout, context: DerivedIndexContext, index: CentralIndex, rebuild: Bool = false,
         committed: CommittedRecords = CommittedRecords(), live: Index? = nil) {
        self.live = live
        self.layout = layout
        self.context = context
        self.index = index
        self.rebuild = rebuild
        self.committed = committed
    }

    func load() throws -> Outcome {
        let hasRecords = !index.memories.isEmpty || !index.assemblies.isEmpty
        let (loaded, problem) = rebuild
            ? (nil, "a rebuild was requested (repair)")
            : Index.load(directory: layout.root + "/" + Index.directoryName, context: context)
        var outcome: Outcome
        if let loaded {
            outcome = Outcome(loaded: loaded)
        } else {
            outcome = Outcome(loaded: Index.empty(context))
            if hasRecords { outcome.rebuiltReason = problem }
        }
        live?.prepare(outcome.loaded)
        let differences = outcome.loaded.differences(from: index)
        if outcome.rebuiltReason != nil, differences.reload.isEmpty { outcome.rebuiltReason = nil }  // nothing it would hold
        var changes = DerivedChanges(removals: differences.remove)
        changes.upserts.reserveCapacity(min(differences.reload.count, 4096))
        var applied = 0
        for (kind, id) in differences.reload {
            do {
                changes.upserts.append(try read(kind, id: id))
            } catch {
                // A missing file is the index's problem (reported by verify), not an unreadable record.
                if error.code != .notFound { outcome.unreadable.append("\(kind.directoryName)/\(id).json") }
                changes.remove(kind, id)
            }
            // Apply in slices so a rebuild of a large store does not hold every record twice.
            if changes.upserts.count >= 4096 {
                try outcome.loaded.apply(changes)
                applied += changes.count
                changes = DerivedChanges()
            }
        }
        try outcome.loaded.apply(changes)
        applied += changes.count
        outcome.resynced = outcome.rebuiltReason == nil ? applied : 0
        return outcome
    }

    /// One record as the index needs it; a vector of another dimension than the store's is left out (the
    /// record is reported by verify, never indexed).
    private func read(_ kind: RecordKind, id: String) throws(EngramError) -> DerivedChanges.Upsert {
        let (bytes, path) = try committed.read(kind, id: id, layout: layout, operation: "rebuild \(Index.directoryName)")
        var upsert: DerivedChanges.Upsert
        switch kind {
        case .memory:
            let memory = try MemoryEntry.decodeFile(bytes, path: path, expectedID: id)
            upsert = DerivedChanges.Upsert(kind: .memory, id: id, version: memory.updatedAt, vector: memory.embedding, memory: memory)
        case .assembly:
            let assembly = try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id)
            upsert = DerivedChanges.Upsert(kind: .assembly, id: id, version: assembly.updatedAt, vector: assembly.compositeEmbedding, assembly: assembly)
        }
        if let v = upsert.vector, v.count != index.embeddingDimension ?? v.count { upsert.vector = nil }
        return upsert
    }
}
