import EngramIO

/// The store's bookkeeping for one derived tier: whether it has finished loading, whether it has changes to
/// persist, and whether it broke (an update failed: it is never written again by this process, and the next
/// open rebuilds it from the records).
struct DerivedTierSlot {
    let index: any DerivedIndex
    /// Loaded and caught up: fed every write from now on (before, the load catches writes up from the records).
    var ready = false
    /// Changes applied since it was last persisted.
    var needsWrite = false
    var broken = false
    /// The background load started at open.
    var load: Task<Void, Never>?
    var loadError: EngramError?

    var name: String { index.name }
    var directoryName: String { type(of: index).directoryName }
}
