import CEngramSys
import EngramIO
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A held checkpoint gate; `release()` (or the process ending) lets checkpoints run again.
/// Released at most once; `deinit` releases a gate its holder forgot (a thrown error between take and release).
final class CheckpointGate: Sendable {
    let fd: Int32
    private let released = Mutex(false)
    init(fd: Int32) { self.fd = fd }
    func release() {
        guard released.withLock({ done in defer { done = true }; return !done }) else { return }
        _ = engram_range_unlock(fd, StoreLock.checkpointGateOffset)
        Glibc.close(fd)
    }

    deinit { release() }
}
