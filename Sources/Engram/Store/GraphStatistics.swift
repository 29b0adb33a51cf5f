import EngramJSON

/// The L2 graph as `engram stats` shows it (the `graph` object).
public struct GraphStatistics: Sendable, Equatable {
    /// Nodes in the graph (memories it was built from).
    public var nodes = 0
    /// R, the most neighbours a node has.
    public var degree = 0
    public var builtAt: String?
    /// The journal sequence of the store state it was built from.
    public var journalSequence: Int64?
    /// Its generation directory in `graph_index/` (`g-<n>`).
    public var generation = ""
    /// Nodes whose record was deleted or written again since the build (never returned by search).
    public var staleNodes = 0
    /// Memories L1 holds because the graph does not (written since the build).
    public var deltaSize = 0
    public var bytesOnDisk = 0
    /// Heap the graph keeps for search (PQ codes and tables, key tables); node records stay in the page cache.
    public var residentBytes = 0
    /// Why `graph_index/` holds a graph that is not used (damaged, another dimension or metric).
    public var problem: String?

    public init(problem: String? = nil) { self.problem = problem }

    public var json: JSONValue {
        var o: JSONObject = [
            "nodes": .int(Int64(nodes)), "degree": .int(Int64(degree)), "built_at": builtAt.map { .string($0) } ?? .null,
            "journal_seq": journalSequence.map { .int($0) } ?? .null, "generation": .string(generation),
            "stale_nodes": .int(Int64(staleNodes)), "delta_size": .int(Int64(deltaSize)),
            "bytes_on_disk": .int(Int64(bytesOnDisk)), "resident_bytes": .int(Int64(residentBytes)),
        ]
        if let problem { o["problem"] = .string(problem) }
        return .object(o)
    }
}
