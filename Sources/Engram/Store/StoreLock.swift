import CEngramSys
import EngramIO
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<store>/.lock` taken without waiting and kept: what repair, restore and upgrade hold
/// for their whole run (writers take the same lock per commit through ``WriterLock``). Also the graph builder's
/// lock on `graph_index/.build.lock`.
///
/// `flock` locks vanish with the process, so a writer killed with SIGKILL never leaves a stale lock. The file
/// holds the writer's pid, to name it in the error a second writer gets.
///
/// `release()` is idempotent and `deinit` calls it: a store dropped without `close()` (a test that threw, a
/// host program's early return) gives the lock back when the last reference goes, instead of keeping it —
/// and the store's descriptor — for the rest of the process.
package final class StoreLock: Sendable {
    private let fd: Int32
    private let released = Mutex(false)
    let path: String

    package init(path: String) throws(EngramError) {
        self.path = path
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o644, operation: "lock store")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var holder = ""
            if let bytes = try? Sys.readFile(path, maxSize: 64), let text = String(validating: bytes, as: UTF8.self) {
                let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !line.isEmpty { holder = " (\(line))" }
            }
            Sys.close(fd)
            if e == EWOULDBLOCK {
                throw EngramError(code: .locked, message: "another process\(holder) holds the lock", operation: "lock store",
                                  path: path, errno: e,
                                  remedy: "retry when it is done (a commit takes milliseconds; repair, restore and upgrade hold it throughout)")
            }
            throw EngramError.system("flock", errno: e, path: path, operation: "lock store")
        }
        self.fd = fd
        // Who holds it, for the error of a writer that waited its whole busy timeout (see WriterLock).
        let pid = Array("pid \(getpid()), an exclusive operation (\(path.hasSuffix("/.lock") ? "repair, restore or upgrade" : "graph build")), since \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    package func release() {
        // Exactly once: a second close could close a descriptor number another thread has since reused.
        guard released.withLock({ done in defer { done = true }; return !done }) else { return }
        let mark = Array("\(WriterLock.releasedMark) by pid \(getpid()) at \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = mark.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = flock(fd, LOCK_UN)
        Sys.close(fd)
    }

    var isReleased: Bool { released.withLock { $0 } }

    deinit { release() }

    /// The byte of `.lock` that gates checkpoints against a backup running in another process.
    static let checkpointGateOffset: Int64 = 1

    /// Takes the checkpoint gate shared. Without `wait`, returns false at once if a backup holds it.
    func enterCheckpointGate(wait: Bool) -> Bool {
        engram_range_lock(fd, 0, wait ? 1 : 0, StoreLock.checkpointGateOffset) == 0
    }

    func leaveCheckpointGate() {
        _ = engram_range_unlock(fd, StoreLock.checkpointGateOffset)
    }

    /// Held by a backup for the duration of its pass: no checkpoint (index rewrite + journal reset) can start,
    /// so the journal it copies at the end names every change made since the index it linked at the start.
    /// Waits for a checkpoint in progress. Nil when `.lock` cannot be opened for writing (then the backup
    /// retries passes that a checkpoint interrupted instead).
    static func holdCheckpointGate(of layout: StoreLayout) -> CheckpointGate? {
        // O_CREAT: a writer that is still starting may not have created `.lock` yet; it opens this same file.
        let fd = Glibc.open(layout.lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { return nil }
        guard engram_range_lock(fd, 1, 1, checkpointGateOffset) == 0 else {
            Glibc.close(fd)
            return nil
        }
        return CheckpointGate(fd: fd)
    }
}
