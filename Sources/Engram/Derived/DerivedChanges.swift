import EngramIO

/// The changes every derived index is fed: records written (with the version they were written at) and records
/// removed. One shape for all of them, so the store sends each durable write once, the same way, whatever
/// tiers it has (the L1 vectors today; the L2 graph and the keyword index plug in the same way).
struct DerivedChanges: Sendable {
    struct Upsert: Sendable {
        var kind: RecordKind
        var id: String
        /// The record's `updated_at`: the version the derived entry is taken from, compared at open.
        var version: Timestamp
        /// The record's vector (a memory's embedding, an assembly's composite), when it has one of the store's
        /// dimension.
        var vector: [Float]?
        var memory: MemoryEntry?
        var assembly: MemoryAssembly?
    }

    var upserts: [Upsert] = []
    var removals: [(kind: RecordKind, id: String)] = []

    init(upserts: [Upsert] = [], removals: [(kind: RecordKind, id: String)] = []) {
        self.upserts = upserts
        self.removals = removals
    }

    var isEmpty: Bool { upserts.isEmpty && removals.isEmpty }
    var count: Int { upserts.count + removals.count }

    mutating func upsert(_ memory: MemoryEntry) {
        upserts.append(Upsert(kind: .memory, id: memory.id, version: memory.updatedAt, vector: memory.embedding, memory: memory))
    }

    mutating func upsert(_ assembly: MemoryAssembly) {
        upserts.append(Upsert(kind: .assembly, id: assembly.id, version: assembly.updatedAt, vector: assembly.compositeEmbedding, assembly: assembly))
    }

    mutating func remove(_ kind: RecordKind, _ id: String) { removals.append((kind, id)) }
}

/// What a derived index holds that disagrees with the central index: records to re-read (missing, or taken from
/// another version) and entries of records that are gone. Computed in memory, no I/O.
struct DerivedDifferences: Sendable {
    var reload: [(kind: RecordKind, id: String)] = []
    var remove: [(kind: RecordKind, id: String)] = []
    var isEmpty: Bool { reload.isEmpty && remove.isEmpty }
}
