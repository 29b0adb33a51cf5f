/// What a graph is built from: one row per record.
package struct GraphBuildInput: Sendable {
    package var dimension: Int
    package var metric: GraphMetric
    /// `count × dimension` floats, row-major.
    package var vectors: [Float]
    /// The record id of each row.
    package var keys: [String]
    /// The record version (`updated_at` text) of each row, so the store can tell a superseded node.
    package var versions: [String]

    package init(dimension: Int, metric: GraphMetric, vectors: [Float], keys: [String], versions: [String]) {
        self.dimension = dimension
        self.metric = metric
        self.vectors = vectors
        self.keys = keys
        self.versions = versions
    }

    package var count: Int { keys.count }
}
