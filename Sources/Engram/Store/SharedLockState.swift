import EngramIO

/// This process's holding of the commit lock: concurrent commits of one process share a holding (so they still
/// share their journal fsyncs), and a holding that has lasted a while stops admitting new commits so that other
/// processes get their turn.
struct SharedLockState {
    var holders = 0
    var acquiring = false
    /// When this holding began; nil: no limit (open's recovery).
    var since: ContinuousClock.Instant?
    var waiters: [CheckedContinuation<Void, Never>] = []
    /// Other processes' changes the derived tiers have not been fed yet: fed after the lock is released (reading
    /// their records takes time other writers should not wait for), and before any search.
    var foreignTouched: [(kind: RecordKind, id: String)] = []
    var foreignRemoved: [(kind: RecordKind, id: String)] = []
    /// The feed started when the lock was released (a search waits for it).
    var feeding: Task<Void, Never>?
}
