import CEngramSys
import EngramIO
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a writer process shares the store with other writer processes: `<store>/.lock`, held per commit.
///
/// - The **commit lock** is an exclusive `flock` on `.lock`, taken for the span of a commit (or a checkpoint, or
///   open's recovery) and released at once: an idle open store holds no lock, and any number of processes can
///   have the store open for writing. `flock` locks vanish with the process, so a writer killed with SIGKILL
///   while committing blocks nobody (the next holder finishes or drops its half-written journal line).
/// - While it holds the lock, the holder writes who it is into `.lock` (pid, operation, since when), so that a
///   process that waited its whole busy timeout can name it.
/// - **Presence**: every writer holds a shared byte-range lock (OFD, byte 2) for as long as its store is open,
///   so verify and repair know whether writers are around, idle or not.
/// - The **checkpoint gate** (byte 1) lets a backup in another process hold off checkpoints.
///
/// Exclusive operations (repair, restore, upgrade) take the commit lock with ``StoreLock`` and keep it.
final class WriterLock: Sendable {
    let path: String
    private let fd: Int32
    /// `.lock`'s inode when opened: a store swapped underneath (restore) has another `.lock`.
    private let inode: UInt64
    private let state = Mutex((held: false, closed: false))

    static let presenceOffset: Int64 = 2

    init(path: String) throws(EngramError) {
        self.path = path
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode: 0o644, operation: "open store")
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Sys.close(fd)
            throw EngramError.system("fstat", errno: e, path: path, operation: "open store")
        }
        self.fd = fd
        inode = UInt64(st.st_ino)
        // Presence is shared: it never waits (only a checking verify takes it exclusively, without waiting).
        _ = engram_range_lock(fd, 0, 1, WriterLock.presenceOffset)
    }

    /// Takes the commit lock, waiting up to `timeout` seconds (polling: `flock` cannot wait with a deadline).
    /// Throws ``EngramError/Code/locked`` naming the holder when the wait runs out.
    func acquire(operation: String, timeout: Double) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(max(0, timeout) * 1000))
        var pause = 1
        while true {
            if try tryAcquire(operation: operation) { return }
            if clock.now >= deadline { throw busy(operation: operation, waited: timeout) }
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 20)
        }
    }

    /// The same, blocking the calling thread (open's recovery runs on a pool thread).
    func acquireBlocking(operation: String, timeout: Double) throws(EngramError) {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(max(0, timeout) * 1000))
        var pause: UInt32 = 1000
        while true {
            if try tryAcquire(operation: operation) { return }
            if clock.now >= deadline { throw busy(operation: operation, waited: timeout) }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    private func tryAcquire(operation: String) throws(EngramError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EWOULDBLOCK || e == EINTR { return false }
            throw EngramError.system("flock", errno: e, path: path, operation: operation)
        }
        // The store was replaced (restore swapped the directory) since this process opened it: this `.lock`
        // no longer excludes the processes that opened the new one.
        var st = stat()
        if lstat(path, &st) != 0 || UInt64(st.st_ino) != inode {
            _ = flock(fd, LOCK_UN)
            throw EngramError(code: .io, message: "the store was replaced (restored or moved) since this process opened it", operation: operation,
                              path: path, remedy: "close and reopen the store")
        }
        state.withLock { $0.held = true }
        let holder = Array("pid \(getpid()), \(operation), since \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = holder.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return true
    }

    private func busy(operation: String, waited: Double) -> EngramError {
        var holder = "another process"
        if let bytes = try? Sys.readFile(path, maxSize: 512), let text = String(validating: bytes, as: UTF8.self) {
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { holder += " (\(line))" }
        }
        let seconds = waited == waited.rounded() ? "\(Int(waited))" : "\(waited)"
        return EngramError(code: .locked, message: "\(holder) held the store's write lock for the whole busy timeout of \(seconds) s",
                           operation: operation, path: path, errno: EWOULDBLOCK,
                           remedy: "retry, or wait longer (StoreConfiguration.busyTimeout, `--wait SECONDS`); if that process is stuck, stop it")
    }

    /// Releases the commit lock (the presence lock stays until ``close()``).
    func release() {
        let wasHeld = state.withLock { state in defer { state.held = false }; return state.held && !state.closed }
        if wasHeld { _ = flock(fd, LOCK_UN) }
    }

    var isHeld: Bool { state.withLock { $0.held } }

    /// Releases everything and closes `.lock`. Idempotent; `deinit` calls it (a store dropped without `close()`).
    func close() {
        guard state.withLock({ state in defer { state.closed = true; state.held = false }; return !state.closed }) else { return }
        Sys.close(fd)  // drops the flock, the presence lock and any gate held through this descriptor
    }

    deinit { close() }

    /// Takes the checkpoint gate shared. Without `wait`, returns false at once if a backup holds it.
    func enterCheckpointGate(wait: Bool) -> Bool {
        engram_range_lock(fd, 0, wait ? 1 : 0, StoreLock.checkpointGateOffset) == 0
    }

    func leaveCheckpointGate() {
        _ = engram_range_unlock(fd, StoreLock.checkpointGateOffset)
    }

    /// Whether any process has the store open for writing (idle or not): its presence lock is held.
    static func writersPresent(_ layout: StoreLayout) -> Bool {
        // Read-only is enough to ask (verify may run without write permission).
        let fd = Glibc.open(layout.lockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        return engram_range_held(fd, presenceOffset) == 1
    }
}
