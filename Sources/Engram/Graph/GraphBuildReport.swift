import EngramJSON

/// What a graph build did.
public struct GraphBuildReport: Sendable {
    /// The generation directory now in use (`graph_index/g-<n>`), nil when nothing was published (no vectors).
    public var directory: String?
    public var nodes = 0
    public var dimension = 0
    /// The store's journal sequence the graph was built from (writes after it are L1's delta).
    public var journalSequence: Int64 = 0
    public var readSeconds = 0.0
    public var buildSeconds = 0.0
    public var writeSeconds = 0.0
    public var bytesOnDisk = 0

    public var json: JSONValue {
        .object([
            "directory": directory.map { .string($0) } ?? .null, "nodes": .int(Int64(nodes)), "dimension": .int(Int64(dimension)),
            "journal_seq": .int(journalSequence), "read_seconds": .double((readSeconds * 1000).rounded() / 1000),
            "build_seconds": .double((buildSeconds * 1000).rounded() / 1000), "write_seconds": .double((writeSeconds * 1000).rounded() / 1000),
            "bytes_on_disk": .int(Int64(bytesOnDisk)),
        ])
    }
}
