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
    private var pending: [(bytes: [UInt8], files: [PendingFile], continuation: CheckedContinuation<Void, any Error>)] = []
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

    /// A line appended and made durable (its change committed) whose files could not all be renamed into place.
    package struct NotPlaced: Error {
        package let underlying: any Error
    }

    /// Appends a line durably. Throws if the write or the fdatasync fails; then the line is not in the journal
    /// (the file is truncated back to its last committed length).
    ///
    /// `placing`: files that go with the line, in the same thread-pool job as the group's write and fdatasync —
    /// each written to its temp file before (no fsync: the line carries its content), renamed into place after.
    /// One job per group of commits instead of three hops per commit, and a group's temp files created one
    /// after another instead of all at once in one directory (whose lock they would fight over). If a temp file
    /// cannot be written, that line is left out of the group and its error thrown (nothing committed); if a
    /// rename fails after the fdatasync, ``NotPlaced`` is thrown: committed, not complete.
    package func append(_ line: [UInt8], placing files: [PendingFile] = []) async throws {
        stats.withLock { $0.appends += 1 }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute { loopPointer in
                if let poisoned = self.poisoned {
                    continuation.resume(throwing: poisoned)
                    return
                }
                self.pending.append((line, files, continuation))
                if !self.inFlight { self.startCommit(loopPointer) }
            }
        }
    }

    private func startCommit(_ loopPointer: UnsafeMutablePointer<uv_loop_t>) {
        let batch = pending
        pending = []
        inFlight = true
        let fd = self.fd
        let path = self.path
        let committed = committedLength
        // Per line: nil (committed and placed) or its error. Written by the job, read in `done`.
        let outcomes = ResultSlot<[(any Error)?]>()
        let appended = ResultSlot<Int>()
        let poisonSlot = ResultSlot<Void>()
        let request = WorkRequest(
            body: {
                var errors = [(any Error)?](repeating: nil, count: batch.count)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
                var included: [Int] = []
                for (i, item) in batch.enumerated() {
                    var staged = 0
                    do {
                        for file in item.files {
                            try FileEngine.stage(file, sync: false, operation: "write record")
                            staged += 1
                        }
                        bytes.append(contentsOf: item.bytes)
                        included.append(i)
                    } catch {
                        for file in item.files.prefix(staged) { _ = try? Sys.unlink(file.temporaryPath) }
                        errors[i] = error
                    }
                }
                var written = 0
                if !bytes.isEmpty {
                    do {
                        try Sys.writeAll(fd, bytes, path: path, operation: "append to \(path)")
                        if let injected = FaultInjector.shared.check(.fsync, path: path) {
                            throw EngramError.system("fdatasync", errno: injected, path: path, operation: "append to \(path)")
                        }
                        while fdatasync(fd) != 0 {
                            if errno == EINTR { continue }
                            throw EngramError.system("fdatasync", errno: errno, path: path, operation: "append to \(path)")
                        }
                        written = bytes.count
                    } catch {
                        for i in included {
                            errors[i] = error
                            for file in batch[i].files { _ = try? Sys.unlink(file.temporaryPath) }
                        }
                        included = []
                        // Cut off whatever part of the failed lines reached the file, so later lines follow the last
                        // committed one. If even that fails, the journal can no longer be trusted: poison it.
                        if ftruncate(fd, off_t(committed)) != 0 || fdatasync(fd) != 0 {
                            poisonSlot.value = .failure(EngramError(
                                code: .io, message: "the log could not be restored after a failed append", operation: "append to \(path)",
                                path: path, errno: errno, remedy: "close and reopen the store: open replays the journal and repairs the index"))
                        }
                    }
                }
                // After the fdatasync: the lines are committed; their files go into place, in line order.
                for i in included {
                    for (n, file) in batch[i].files.enumerated() {
                        do {
                            try Sys.rename(file.temporaryPath, file.path, operation: "write record")
                        } catch {
                            for rest in batch[i].files.dropFirst(n) { _ = try? Sys.unlink(rest.temporaryPath) }
                            errors[i] = NotPlaced(underlying: error)
                            break
                        }
                    }
                }
                appended.value = .success(written)
                outcomes.value = .success(errors)
            },
            done: { status in
                let refused = EngramError(code: .io, message: "libuv refused the write", operation: "append to \(path)", path: path)
                if status == 0, case .success(let written)? = appended.value, case .success(let errors)? = outcomes.value {
                    self.committedLength = committed + written
                    for (item, error) in zip(batch, errors) {
                        if let error { item.continuation.resume(throwing: error) } else { item.continuation.resume() }
                    }
                } else {
                    for item in batch { item.continuation.resume(throwing: refused) }
                }
                if case .failure(let error as EngramError) = poisonSlot.value { self.poisoned = error }
                self.stats.withLock { $0.syncs += 1 }
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
