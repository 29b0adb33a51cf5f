import CLibUV
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An append-only file whose appends are group-committed: lines submitted while a `write`+`fdatasync` is
/// running are written together by the next one, so concurrent writers share fsyncs. Used for the store's
/// journal. A failed append is cut off again (`ftruncate` to the last committed length) so later lines never
/// follow a torn one; if even that fails the file is "poisoned" and refuses appends until reopened.
/// All bookkeeping is confined to the event loop thread.
package final class AppendOnlyFile: @unchecked Sendable {
    package let path: String
    private let loop: EventLoop
    // Loop-confined state.
    private var fd: Int32
    private var committedLength: Int
    private var pending: [(bytes: [UInt8], continuation: CheckedContinuation<Void, any Error>)] = []
    private var inFlight = false
    private var poisoned: EngramError?

    /// Counters (any thread).
    private let stats = Mutex((appends: 0, syncs: 0))
    package var syncCount: Int { stats.withLock { $0.syncs } }

    package init(path: String, loop: EventLoop) throws(EngramError) {
        self.path = path
        self.loop = loop
        fd = try Sys.open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, mode: 0o644, operation: "open log")
        var st = stat()
        fstat(fd, &st)
        committedLength = Int(st.st_size)
    }

    /// Appends a line durably. Throws if the write or the fdatasync fails; then the line is not in the journal
    /// (the file is truncated back to its last committed length).
    package func append(_ line: [UInt8]) async throws {
        stats.withLock { $0.appends += 1 }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute { loopPointer in
                if let poisoned = self.poisoned {
                    continuation.resume(throwing: poisoned)
                    return
                }
                self.pending.append((line, continuation))
                if !self.inFlight { self.startCommit(loopPointer) }
            }
        }
    }

    private func startCommit(_ loopPointer: UnsafeMutablePointer<uv_loop_t>) {
        let batch = pending
        pending = []
        inFlight = true
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
        for item in batch { bytes.append(contentsOf: item.bytes) }
        let fd = self.fd
        let path = self.path
        let committed = committedLength
        let slot = ResultSlot<Void>()
        let poisonSlot = ResultSlot<Void>()
        let request = WorkRequest(
            body: {
                do {
                    try Sys.writeAll(fd, bytes, path: path, operation: "append to \(path)")
                    if let injected = FaultInjector.shared.check(.fsync, path: path) {
                        throw EngramError.system("fdatasync", errno: injected, path: path, operation: "append to \(path)")
                    }
                    while fdatasync(fd) != 0 {
                        if errno == EINTR { continue }
                        throw EngramError.system("fdatasync", errno: errno, path: path, operation: "append to \(path)")
                    }
                    slot.value = .success(())
                } catch {
                    slot.value = .failure(error)
                    // Cut off whatever part of the failed lines reached the file, so later lines follow the last
                    // committed one. If even that fails, the journal can no longer be trusted: poison it.
                    if ftruncate(fd, off_t(committed)) != 0 || fdatasync(fd) != 0 {
                        poisonSlot.value = .failure(EngramError(
                            code: .io, message: "the log could not be restored after a failed append", operation: "append to \(path)",
                            path: path, errno: errno, remedy: "close and reopen the store: open replays the journal and repairs the index"))
                    }
                }
            },
            done: { status in
                var result = slot.value ?? .failure(EngramError(code: .io, message: "libuv refused the write", operation: "append to \(path)", path: path))
                if status != 0 { result = .failure(EngramError(code: .io, message: "libuv refused the write", operation: "append to \(path)", path: path)) }
                if case .success = result { self.committedLength = committed + bytes.count }
                if case .failure(let error as EngramError) = poisonSlot.value { self.poisoned = error }
                self.stats.withLock { $0.syncs += 1 }
                for item in batch { item.continuation.resume(with: result) }
                self.inFlight = false
                if !self.pending.isEmpty { self.startCommit(loopPointer) }
            })
        loop.queueWork(loopPointer, request)
    }

    /// Takes the file's current length as committed: other processes appended to it (under the store's commit
    /// lock, which this process now holds), so a failed append of ours is cut back to here, not before their lines.
    package func resynchronize() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { _ in
                var st = stat()
                if fstat(self.fd, &st) == 0 { self.committedLength = Int(st.st_size) }
                continuation.resume()
            }
        }
    }

    /// Empties the journal after a checkpoint made its lines redundant. Callers ensure no append is running.
    package func reset() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute { loopPointer in
                let fd = self.fd
                let path = self.path
                let slot = ResultSlot<Void>()
                let request = WorkRequest(
                    body: {
                        slot.value = Result {
                            if ftruncate(fd, 0) != 0 { throw EngramError.system("ftruncate", errno: errno, path: path, operation: "reset \(path)") }
                            try Sys.fsync(fd, path: path, operation: "reset \(path)")
                        }
                    },
                    done: { _ in
                        if case .success = slot.value! {
                            self.committedLength = 0
                            self.poisoned = nil
                        }
                        continuation.resume(with: slot.value!)
                    })
                self.loop.queueWork(loopPointer, request)
            }
        }
    }

    /// Closes the file, returning once the descriptor is closed (on the loop thread, after any append queued
    /// before): a caller that then unmounts or removes the store must not find the file still open.
    package func close() {
        let fd = self.fd
        let closed = DispatchSemaphore(value: 0)
        loop.execute { _ in
            Sys.close(fd)
            closed.signal()
        }
        closed.wait()
    }
}
