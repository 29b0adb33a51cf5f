import EngramGraph
import EngramIO
import EngramJSON
import EngramVector

/// The L2 graph in a running store: picking up a graph a builder published (hot swap), and searching L1 and L2
/// together.
extension MemoryStore {
    /// Adopts a graph published since this store last looked (`graph_index/CURRENT` changed): opens it, tombstones
    /// its nodes whose record changed since the build, and shrinks L1 to what the new graph does not cover.
    /// One `lstat` when nothing changed, so searches call it every time.
    func refreshGraphIfChanged() async throws {
        guard let graphTier, let slot = graphSlot, derivedTiers[slot].ready else { return }
        let directory = GraphDirectory(layout: layout)
        let identity = directory.identity()
        guard identity != graphTier.identity else { return }
        let (opened, problem) = GraphTier.open(layout, context: derivedContext)
        var state = opened ?? GraphTier.State()
        state.identity = identity
        state.problem = opened == nil ? problem : nil
        graphTier.adopt(GraphTier(metric: configuration.metric, state: state))
        _ = try await catchUp(graphTier, slot: slot)
        if let vectors, let vectorSlot, derivedTiers[vectorSlot].ready {
            if try await catchUp(vectors, slot: vectorSlot), !configuration.readOnly { derivedTiers[vectorSlot].needsWrite = true }
        }
        if let problem = state.problem { logger.warning("engram: the graph in \(directory.root) is not used: \(problem)") }
    }

    /// L1 and L2 candidates for each query, merged by distance, each record once (L1 holds the newer version of
    /// anything the graph also has; the graph's node for it is tombstoned anyway).
    nonisolated func layeredSearch(_ queries: [[Float]], k: Int, kind: RecordKind, tier: VectorTier, options: SearchOptions) throws(FaissError)
        -> [[(id: String, score: Float)]]
    {
        let l1 = tier.count(kind) > 0 ? try tier.search(queries, k: k, kind: kind) : queries.map { _ in [] }
        guard kind == .memory, let graphTier, graphTier.liveCount > 0 else { return l1 }
        let higher = configuration.metric.higherIsCloser
        var merged: [[(id: String, score: Float)]] = []
        merged.reserveCapacity(queries.count)
        for (n, query) in queries.enumerated() {
            let near = l1[n]
            if let threshold = options.deepSearchThreshold, near.count >= k, let last = near.last?.score,
               higher ? last >= threshold : last <= threshold {
                merged.append(near)  // L1 alone is close enough: no deep search
                continue
            }
            let far = graphTier.search(query, k: k, listSize: options.listSize, beamWidth: options.beamWidth)
            var seen = Set<String>()
            var all = (near + far).sorted { higher ? $0.score > $1.score : $0.score < $1.score }
            all.removeAll { !seen.insert($0.id).inserted }
            merged.append(Array(all.prefix(k)))
        }
        return merged
    }

    /// What `engram stats` shows of the graph (nil without one).
    /// `embeddedMemories`: the memories with an embedding (what the graph may cover), counted by the caller.
    func graphStatistics(embeddedMemories: Int) -> GraphStatistics? {
        // Opened without the vector tier (stats, list): describe the graph on disk (opening it is cheap).
        let loaded = graphSlot.map { derivedTiers[$0].ready } == true ? graphTier : nil
        let (graph, problem): (DiskGraph?, String?) = loaded.map { ($0.graph, $0.problem) } ?? GraphDirectory(layout: layout).open()
        guard let graph else {
            return problem.map { GraphStatistics(problem: $0) }
        }
        var statistics = GraphStatistics()
        statistics.nodes = graph.count
        statistics.degree = graph.degree
        statistics.builtAt = graph.metadata["built_at"]?.stringValue
        statistics.journalSequence = graph.metadata["journal_seq"]?.int64Value
        statistics.generation = String(graph.directory.split(separator: "/").last ?? "")
        if let loaded {
            statistics.staleNodes = loaded.staleCount
            statistics.deltaSize = vectors?.count(.memory) ?? 0
        } else {
            // Without the tiers loaded: count from the index what the graph does not hold at its version (the
            // delta: every embedded memory the graph does not cover).
            let index = self.index
            let standing = GraphTier.standing(graph, versions: GraphTier.nodeVersions(graph)) { index.embeddedVersion(of: $0) }
            statistics.staleNodes = standing.stale.count
            statistics.deltaSize = embeddedMemories - standing.covered.count
        }
        statistics.bytesOnDisk = graph.bytesOnDisk
        statistics.residentBytes = graph.residentBytes
        return statistics
    }
}

extension MemoryStore {
    /// The nearest memories' ids and distances from both tiers, without reading any record: what ``search(vector:k:scope:metadata:options:)``
    /// does before hydration (benchmarks measure the two apart).
    package nonisolated func searchIDs(_ query: [Float], k: Int, options: SearchOptions = SearchOptions()) async throws -> [(id: String, score: Float)] {
        guard let tier = vectors else {
            throw EngramError(code: .usage, message: "the store was opened without its vector tier", operation: "search", path: layout.root,
                              remedy: "open it with loadVectorTier: true")
        }
        try await waitForVectorTier()
        try await refreshGraphIfChanged()
        do {
            return try layeredSearch([query], k: k, kind: .memory, tier: tier, options: options)[0]
        } catch {
            throw EngramError(code: .io, message: "the vector index failed: \(error.message)", operation: "search", path: layout.vectorIndexDirectory)
        }
    }

    /// The graph tier's heap (PQ codes and tables, key tables) and its node count, for benchmarks.
    package nonisolated var graphFootprint: (nodes: Int, residentBytes: Int)? {
        graphTier?.graph.map { ($0.count, $0.residentBytes) }
    }
}
