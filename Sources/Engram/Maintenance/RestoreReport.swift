import EngramIO
import EngramJSON
import Foundation

/// What a restore did.
public struct RestoreReport: Sendable {
    public var store: String
    public var snapshot: String
    /// Where the store's previous content was kept (nil when there was none, or it was discarded).
    public var previous: String?
    public var memories = 0
    public var assemblies = 0
    /// Whether the swap was one atomic `renameat2(RENAME_EXCHANGE)` (otherwise two renames).
    public var atomicSwap = false

    public var json: JSONValue {
        .object([
            "store": .string(store), "snapshot": .string(snapshot), "previous": previous.map { .string($0) } ?? .null,
            "memories": .int(Int64(memories)), "assemblies": .int(Int64(assemblies)), "atomic_swap": .bool(atomicSwap),
        ])
    }
}
