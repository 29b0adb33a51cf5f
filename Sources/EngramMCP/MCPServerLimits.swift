/// How much one request may bring and one answer may carry. An agent's context is the scarce resource: a list
/// tool returns at most `maxLimit` items and at most `characterBudget` characters of JSON, then a cursor.
public struct MCPServerLimits: Sendable, Equatable {
    /// Items per page when a list tool is called without `limit`.
    public var defaultLimit = 20
    /// The largest `limit` (or search `k`) a call may ask for.
    public var maxLimit = 100
    /// The most characters of JSON one tool result carries; a page stops before the item that would exceed it
    /// (a single item too large alone has its text cut, and says so).
    public var characterBudget = 20_000
    /// The longest protocol message (one line on stdin) the stdio transport accepts; longer ones are refused
    /// with a JSON-RPC error without being parsed.
    public var maxMessageBytes = 4 << 20
    /// The deepest nesting of arrays and objects a message may have; deeper ones are refused before any parser
    /// that recurses sees them.
    public var maxNestingDepth = 64
    /// Resources per page of `resources/list`.
    public var resourcesPerPage = 100

    public init() {}
}
