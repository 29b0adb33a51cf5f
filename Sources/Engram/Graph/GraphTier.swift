import EngramGraph
import EngramIO
import EngramVector
import Synchronization

/// The L2 tier as the store sees it: the current on-disk Vamana graph (`graph_index/`, built by `engram-graph
/// build`, never written by the store) and which of its nodes no longer stand for their record — deleted or
/// written again since the build — so that search never returns them and L1 holds those records instead.
///
/// A ``DerivedIndex`` like the others: fed every write (a write to a record the graph holds tombstones its node),
/// caught up by version at open (nodes whose record is gone or at another version are tombstoned, without reading
/// any record), and rebuilt by repair. It persists nothing itself: its files come whole from the builder.
final class GraphTier: Sendable {
    struct State {
        var graph: DiskGraph?
        /// Each node's record version (`updated_at` in microseconds), parsed once at open: comparing integers
        /// instead of formatting every index entry's timestamp keeps open O(nodes) cheap.
        var versions: [Int64] = []
        /// Nodes whose record was deleted or replaced since the build: navigated through, never returned.
        var stale = Set<Int32>()
        /// `CURRENT`'s identity when the graph was opened (a hot swap changes it).
        var identity: [Int] = []
        /// Why no graph is in use although `graph_index/` has one (damage, a foreign dimension or metric).
        var problem: String?
    }

    let metric: DistanceMetric
    let state: Mutex<State>

    init(metric: DistanceMetric) {
        self.metric = metric
        state = Mutex(State())
    }

    init(metric: DistanceMetric, state: State) {
        self.metric = metric
        self.state = Mutex(state)
    }

    var graph: DiskGraph? { state.withLock { $0.graph } }
    var problem: String? { state.withLock { $0.problem } }
    var staleCount: Int { state.withLock { $0.stale.count } }
    var identity: [Int] { state.withLock { $0.identity } }

    /// Whether the graph holds this memory at exactly this version (then L1 need not hold it).
    func covers(_ id: String, version: Timestamp) -> Bool {
        state.withLock { state in
            guard let graph = state.graph, let node = graph.node(forKey: id), !state.stale.contains(node) else { return false }
            return state.versions[Int(node)] == version.microseconds
        }
    }

    /// Live nodes (those that still stand for their record).
    var liveCount: Int { state.withLock { ($0.graph?.count ?? 0) - $0.stale.count } }

    /// The `k` nearest live nodes as (record id, distance), in FAISS's convention for the store's metric.
    func search(_ query: [Float], k: Int, listSize: Int, beamWidth: Int) -> [(id: String, score: Float)] {
        let (graph, stale) = state.withLock { ($0.graph, $0.stale) }
        guard let graph, k > 0 else { return [] }
        let q = metric == .cosine ? FaissIndex.normalized(query) : query
        let hits = graph.search(q, k: k, complexity: max(listSize, k), beamWidth: beamWidth, accept: stale.isEmpty ? nil : { !stale.contains($0) })
        return hits.map { (graph.key(of: $0.node), $0.distance) }
    }

    /// Opens the graph `CURRENT` names, checked against the store's metric and dimension.
    static func open(_ layout: StoreLayout, context: DerivedIndexContext) -> (State?, String?) {
        let directory = GraphDirectory(layout: layout)
        let identity = directory.identity()
        let (graph, problem) = directory.open()
        guard let graph else { return (nil, problem) }
        let expected: GraphMetric = context.metric == .l2 ? .l2 : .innerProduct
        guard graph.metric == expected else {
            return (nil, "the graph uses metric '\(graph.metric.rawValue)', the store '\(context.metric.rawValue)': rebuild it")
        }
        if let dimension = context.dimension, graph.dimension != dimension {
            return (nil, "the graph has dimension \(graph.dimension), the store \(dimension): rebuild it")
        }
        return (State(graph: graph, versions: nodeVersions(graph), identity: identity), nil)
    }

    /// Each node's record version (`updated_at`) in microseconds; `Int64.min` where it does not parse (it then
    /// matches no record, so the node counts as stale).
    static func nodeVersions(_ graph: DiskGraph) -> [Int64] {
        (0..<Int32(graph.count)).map { Timestamp(parsing: graph.version(of: $0))?.microseconds ?? Int64.min }
    }

    /// Which nodes still stand for their record — it exists, has an embedding, and is at the node's version —
    /// and which are stale, as record ids. `current` gives a record's version in microseconds when it has an
    /// embedding (nil otherwise); nodes in `skip` (already tombstoned) are in neither list. O(nodes).
    /// The one definition the tier, verify and `stats` share.
    static func standing(_ graph: DiskGraph, versions: [Int64], skip: Set<Int32> = [], current: (String) -> Int64?)
        -> (covered: [String], stale: [String])
    {
        var covered: [String] = [], stale: [String] = []
        covered.reserveCapacity(graph.count)
        for node in 0..<Int32(graph.count) where !skip.contains(node) {
            let id = graph.key(of: node)
            if let version = current(id), version == versions[Int(node)] { covered.append(id) } else { stale.append(id) }
        }
        return (covered, stale)
    }
}

extension GraphTier: DerivedIndex {
    var name: String { "graph index" }
    static var directoryName: String { "graph_index" }

    static func empty(_ context: DerivedIndexContext) -> GraphTier { GraphTier(metric: context.metric) }

    static func load(directory: String, context: DerivedIndexContext) -> (GraphTier?, String?) {
        let root = String(directory.dropLast(directoryName.count + 1))
        let (state, problem) = open(StoreLayout(root: root), context: context)
        guard var state else {
            // No graph at all is not a problem; an unusable one is reported (and search stays exact over L1).
            let tier = GraphTier(metric: context.metric)
            tier.state.withLock { $0.problem = problem }
            return (tier, nil)
        }
        state.problem = nil
        return (GraphTier(metric: context.metric, state: state), nil)
    }

    /// A memory written or removed that the graph holds: its node no longer stands for the record.
    func apply(_ changes: DerivedChanges) throws {
        state.withLock { state in
            guard let graph = state.graph else { return }
            for upsert in changes.upserts where upsert.kind == .memory {
                if let node = graph.node(forKey: upsert.id), state.versions[Int(node)] != upsert.version.microseconds { state.stale.insert(node) }
            }
            for removal in changes.removals where removal.kind == .memory {
                if let node = graph.node(forKey: removal.id) { state.stale.insert(node) }
            }
        }
    }

    /// Nodes whose record is gone, has no embedding, or is at another version (tombstoned as removals: nothing
    /// needs reading). O(nodes), in memory.
    func differences(from index: CentralIndex) -> DerivedDifferences {
        state.withLock { state in
            guard let graph = state.graph else { return DerivedDifferences() }
            let stale = GraphTier.standing(graph, versions: state.versions, skip: state.stale) { index.embeddedVersion(of: $0) }.stale
            return DerivedDifferences(remove: stale.map { (kind: .memory, id: $0) })
        }
    }

    var changesSincePersist: Int { 0 }

    func adopt(_ other: GraphTier) {
        let loaded = other.state.withLock { $0 }
        state.withLock { $0 = loaded }
    }

    /// The builder writes the graph's files; the store never does.
    func persist(to directory: String, journalSequence: Int64) throws {}
}

extension CentralIndex {
    /// A memory's version in microseconds when it has an embedding (what the graph may hold), else nil.
    func embeddedVersion(of id: String) -> Int64? {
        guard let entry = memories[id], entry.dimension != nil else { return nil }
        return entry.updatedAt.microseconds
    }
}
