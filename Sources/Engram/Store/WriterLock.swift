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
    private let state = Mutex((held: false, closed: false, yieldUntil: ContinuousClock.Instant?.none, previousHolderDied: false))

    static let presenceOffset: Int64 = 2
    /// Byte 4: held shared by every process waiting for the commit lock. A holder that releases while someone
    /// waits lets a few milliseconds pass before it takes the lock again — `flock` is not fair, and a busy writer
    /// re-locking at once would starve pollers.
    static let waitingOffset: Int64 = 4
    static let yieldTime: Duration = .milliseconds(3)

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
        if let until = state.withLock({ $0.yieldUntil }), until > clock.now { try? await Task.sleep(until: until, clock: clock) }
        var waiting = false
        defer { if waiting { _ = engram_range_unlock(fd, WriterLock.waitingOffset) } }
        while try !turn(operation: operation, timeout: timeout, deadline: deadline, waiting: &waiting) {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// The same, blocking the calling thread (open's recovery runs on a pool thread).
    func acquireBlocking(operation: String, timeout: Double) throws(EngramError) {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(max(0, timeout) * 1000))
        var waiting = false
        defer { if waiting { _ = engram_range_unlock(fd, WriterLock.waitingOffset) } }
        while try !turn(operation: operation, timeout: timeout, deadline: deadline, waiting: &waiting) {
            usleep(1000)
        }
    }

    /// One try of a wait: true when the lock is taken; past the deadline, the `locked` error; otherwise this
    /// process is marked as waiting (byte 4) and the caller sleeps a millisecond.
    private func turn(operation: String, timeout: Double, deadline: ContinuousClock.Instant, waiting: inout Bool) throws(EngramError) -> Bool {
        if try tryAcquire(operation: operation) { return true }
        if ContinuousClock.now >= deadline { throw busy(operation: operation, waited: timeout) }
        if !waiting { waiting = engram_range_lock(fd, 0, 0, WriterLock.waitingOffset) == 0 }
        return false
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
        // A holder that let go normally wrote "released" first; anything else means it died holding the lock —
        // possibly between its journal line and its renames, which the catch-up must then check on disk.
        let released = (try? Sys.readFile(path, maxSize: 512)).map { String(decoding: $0, as: UTF8.self) }
        let died = !(released.map { $0.isEmpty || $0.hasPrefix(WriterLock.releasedMark) } ?? true)
        state.withLock {
            $0.held = true
            $0.previousHolderDied = died
        }
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
    /// What a holder writes into `.lock` as it lets go (see ``previousHolderDied``).
    static let releasedMark = "released"

    /// Whether the holder before this process's current holding died while holding the lock.
    var previousHolderDied: Bool { state.withLock { $0.previousHolderDied } }

    /// `unfinished`: this process committed a write whose record files it could not complete (see
    /// `MemoryStore.placementFailed`); the next holder is told so as if this one had died, and finishes them.
    func release(unfinished: Bool = false) {
        let wasHeld = state.withLock { state in defer { state.held = false }; return state.held && !state.closed }
        guard wasHeld else { return }
        let mark = Array("\(unfinished ? "unfinished commit left" : WriterLock.releasedMark) by pid \(getpid()) at \(Timestamp.now())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = mark.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = flock(fd, LOCK_UN)
        // Someone else is waiting: give them the lock before taking it again.
        let someoneWaits = engram_range_held(fd, WriterLock.waitingOffset) == 1
        state.withLock { $0.yieldUntil = someoneWaits ? ContinuousClock.now + WriterLock.yieldTime : nil }
    }

    var isHeld: Bool { state.withLock { $0.held } }

    /// `syncfs` of the store's file system through `.lock`'s descriptor, open as long as the store is: a
    /// writeback error since this process opened the store is reported here, even if another process's `syncfs`
    /// saw it first (a fresh descriptor would miss it). `root` names the store in errors.
    func syncFileSystem(root: String, operation: String) throws(EngramError) {
        try Sys.syncFileSystem(fd: fd, path: root, operation: operation)
    }

    /// Releases everything and closes `.lock`. Idempotent; `deinit` calls it (a store dropped without `close()`).
    func close() {
        guard state.withLock({ state in defer { state.closed = true; state.held = false }; return !state.closed }) else { return }
        Sys.close(fd)  // drops the flock, the presence lock and any gate held through this descriptor
    }

    deinit { close() }

    static let derivedFilesOffset: Int64 = 3

    /// Takes the derived-files lock (byte 3, exclusive): one process at a time writes the derived tiers' files.
    /// Polled, so the caller's thread is never blocked while another process writes large files.
    func acquireDerivedFiles() async throws {
        var pause = 1
        while engram_range_lock(fd, 1, 0, WriterLock.derivedFilesOffset) != 0 {
            let e = errno
            guard e == EAGAIN || e == EACCES || e == EINTR else {
                throw EngramError.system("fcntl(F_OFD_SETLK)", errno: e, path: path, operation: "checkpoint derived tiers")
            }
            try await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 50)
        }
    }

    func releaseDerivedFiles() { _ = engram_range_unlock(fd, WriterLock.derivedFilesOffset) }

    /// Takes the checkpoint gate shared. Without `wait`, returns false at once if a backup holds it.
    func enterCheckpointGate(wait: Bool) -> Bool {
        engram_range_lock(fd, 0, wait ? 1 : 0, StoreLock.checkpointGateOffset) == 0
    }

    func leaveCheckpointGate() {
        _ = engram_range_unlock(fd, StoreLock.checkpointGateOffset)
    }

    /// Whether another writer (another process, or another store opened in this one) has the store open.
    func othersPresent() -> Bool {
        guard !state.withLock({ $0.closed }) else { return false }
        // F_OFD_GETLK through our own descriptor reports only other descriptions' locks.
        return engram_range_held(fd, WriterLock.presenceOffset) == 1
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
