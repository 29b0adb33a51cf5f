/// When a writer rebuilds its L2 graph in the background: it launches `engram-graph build` as a child process
/// once L1's delta (memories written since the graph's build, or every memory when there is no graph yet) passes
/// `deltaCount` or `deltaFraction` of the memories — never blocking writes or searches, one build at a time per
/// store — and adopts the new graph when it lands. A failed build is logged with its stderr and retried after a
/// backoff that doubles each time (from `retryAfter` seconds, at most an hour).
public struct GraphRebuildPolicy: Sendable, Equatable {
    /// Launch builds at all. Default: `true`.
    public var enabled = true
    /// Stores with fewer embedded memories than this are served by L1 alone (exact, and small). Default: 20,000.
    public var minimumMemories = 20_000
    /// Rebuild once L1's delta holds this many memories… Default: 50,000.
    public var deltaCount = 50_000
    /// …or this fraction of all embedded memories. Default: 0.1.
    public var deltaFraction = 0.1
    /// The builder executable. Nil: `engram-graph` next to this process's executable, else on `PATH`.
    public var executable: String?
    /// The build's parameters.
    public var options = GraphBuildOptions()
    /// Seconds before the first retry of a failed build. Default: 30.
    public var retryAfter = 30.0

    public init() {}
}
