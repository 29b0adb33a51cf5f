import EngramIO
import EngramJSON
import EngramVector
import Synchronization

/// The L1 vector tier: every memory's embedding and every assembly's composite in exact FAISS indexes, kept in
/// sync with the records on every write, persisted in `vector_index/` at checkpoints.
///
/// It is derived data: at open it is loaded from its files, checked against the central index, and brought up
/// to date from the records (see ``VectorTierLoader``). Thread-safe (one mutex), so searches run outside the
/// store's actor.
package final class VectorTier: Sendable {
    struct State {
        var memories: VectorSet
        var assemblies: VectorSet
        /// The next FAISS id; ids are never reused, so a stale id can never name another record.
        var nextID: Int64 = 1
        var generation: Int64 = 0
        var changesSincePersist = 0

        subscript(kind: RecordKind) -> VectorSet {
            get { kind == .memory ? memories : assemblies }
            set { if kind == .memory { memories = newValue } else { assemblies = newValue } }
        }

        /// Mutates one kind's set in place. Not through the subscript: its get-then-set hands the mutation a
        /// second reference to the set's dictionaries, so every change copied them whole — O(vectors) per save,
        /// O(n²) for a catch-up that drops the records a new graph covers.
        mutating func update<R>(_ kind: RecordKind, _ body: (inout VectorSet) throws(FaissError) -> R) throws(FaissError) -> R {
            switch kind {
            case .memory: try body(&memories)
            case .assembly: try body(&assemblies)
            }
        }
    }

    let metric: DistanceMetric
    let state: Mutex<State>
    /// The L2 graph this tier sits on: memories it holds at their current version need no vector here, so L1
    /// shrinks to the delta (what was written since the graph's build) once a graph is in place.
    let lower = Mutex<GraphTier?>(nil)

    /// Makes this tier hold only what `graph` does not (nil: everything again).
    func layer(over graph: GraphTier?) { lower.withLock { $0 = graph } }

    required init(metric: DistanceMetric) {
        self.metric = metric
        state = Mutex(State(memories: VectorSet(kind: .memory, metric: metric), assemblies: VectorSet(kind: .assembly, metric: metric)))
    }

    init(metric: DistanceMetric, restored: State) {
        self.metric = metric
        state = Mutex(restored)
    }

    /// Takes over the state of a tier loaded elsewhere (the background load at open).
    func adopt(_ other: VectorTier) {
        let loaded = other.state.withLock { $0 }
        state.withLock { $0 = loaded }
    }

    /// Live vectors of a kind.
    package func count(_ kind: RecordKind) -> Int { state.withLock { $0[kind].count } }

    package var dimension: Int? { state.withLock { $0.memories.dimension ?? $0.assemblies.dimension } }

    var changesSincePersist: Int { state.withLock { $0.changesSincePersist } }

    /// Adds or replaces vectors and removes others, in one pass per kind.
    func apply(upserts: [(kind: RecordKind, id: String, vector: [Float], version: Timestamp)], removals: [(kind: RecordKind, id: String)]) throws(FaissError) {
        guard !upserts.isEmpty || !removals.isEmpty else { return }
        try state.withLock { (state: inout State) throws(FaissError) in
            for removal in removals { _ = try state.update(removal.kind) { (set: inout VectorSet) throws(FaissError) in set.remove(removal.id) } }
            for kind in RecordKind.allCases {
                let items = upserts.filter { $0.kind == kind }.map { (id: $0.id, vector: $0.vector, version: $0.version) }
                guard !items.isEmpty else { continue }
                var nextID = state.nextID
                try state.update(kind) { (set: inout VectorSet) throws(FaissError) in try set.upsert(items, nextID: &nextID) }
                state.nextID = nextID
            }
            for kind in RecordKind.allCases {
                try state.update(kind) { (set: inout VectorSet) throws(FaissError) in try set.compact(force: false) }
            }
            state.changesSincePersist += upserts.count + removals.count
        }
    }

    /// The `k` nearest records of a kind.
    func search(_ query: [Float], k: Int, kind: RecordKind) throws(FaissError) -> [(id: String, score: Float)] {
        try state.withLock { (state: inout State) throws(FaissError) in try state[kind].search(query, k: k) }
    }

    func search(_ queries: [[Float]], k: Int, kind: RecordKind) throws(FaissError) -> [[(id: String, score: Float)]] {
        try state.withLock { (state: inout State) throws(FaissError) in try state[kind].search(queries, k: k) }
    }

    func version(of id: String, kind: RecordKind) -> Timestamp? { state.withLock { $0[kind].version(of: id) } }

    /// The ids of the records of a kind that have a vector.
    func ids(_ kind: RecordKind) -> [String] { state.withLock { Array($0[kind].ids.keys) } }

    /// The stored vector of a record (normalised when the metric is cosine).
    package func vector(of id: String, kind: RecordKind) -> [Float]? { state.withLock { $0[kind].vector(of: id) } }

    /// Which records' vectors are missing or stale against the central index, and which vectors belong to no
    /// live record. O(records) in memory, no I/O.
    func vectorDifferences(from index: CentralIndex) -> (reload: [(RecordKind, String)], remove: [(RecordKind, String)]) {
        let graph = lower.withLock { $0 }
        return state.withLock { state in
            var reload: [(RecordKind, String)] = []
            var remove: [(RecordKind, String)] = []
            for (id, entry) in index.memories where entry.dimension != nil {
                if let graph, graph.covers(id, version: entry.updatedAt) {
                    if state.memories.version(of: id) != nil { remove.append((.memory, id)) }
                    continue
                }
                if state.memories.version(of: id) != entry.updatedAt { reload.append((.memory, id)) }
            }
            for id in state.memories.ids.keys where index.memories[id]?.dimension == nil { remove.append((.memory, id)) }
            for (id, entry) in index.assemblies where entry.dimension != nil {
                if state.assemblies.version(of: id) != entry.updatedAt { reload.append((.assembly, id)) }
            }
            for id in state.assemblies.ids.keys where index.assemblies[id]?.dimension == nil { remove.append((.assembly, id)) }
            return (reload, remove)
        }
    }
}
