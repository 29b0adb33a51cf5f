import CLibUV
import Foundation
import Synchronization

/// A libuv event loop running on its own thread, bridged to Swift concurrency.
///
/// Only `uv_async_send` may be called from other threads, and it coalesces: several sends can wake the loop
/// once. So work is handed over through a mutex-protected submission queue that the loop drains completely
/// on every wake-up. All libuv state (requests, handles, the group-commit bookkeeping of ``FileEngine``)
/// is touched only on the loop thread.
package final class EventLoop: Sendable {
    /// The process-wide loop that stores use unless told otherwise.
    package static let shared = EventLoop(name: "engram-uv")

    /// A job run on the loop thread with the loop pointer.
    package typealias Job = @Sendable (UnsafeMutablePointer<uv_loop_t>) -> Void

    private struct Queue {
        var jobs: [Job] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    // Allocated once, freed never: the loop lives as long as the process (stores come and go).
    nonisolated(unsafe) private let loop: UnsafeMutablePointer<uv_loop_t>
    nonisolated(unsafe) private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let threadID = Mutex<pthread_t?>(nil)

    /// Creates and starts a loop thread.
    ///
    /// libuv's thread pool defaults to 4 threads; durable writes spend their time waiting in `fsync`, and the
    /// file system batches concurrent fsyncs, so Engram asks for 16 unless `UV_THREADPOOL_SIZE` is set.
    package init(name: String) {
        if getenv("UV_THREADPOOL_SIZE") == nil { setenv("UV_THREADPOOL_SIZE", "16", 0) }
        loop = .allocate(capacity: 1)
        wakeup = .allocate(capacity: 1)
        let rc = uv_loop_init(loop)
        precondition(rc == 0, "uv_loop_init failed: \(String(cString: uv_strerror(rc)))")
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let asyncRC = uv_async_init(loop, wakeup) { handle in
            let eventLoop = Unmanaged<EventLoop>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            eventLoop.drain()
        }
        precondition(asyncRC == 0, "uv_async_init failed")
        let started = DispatchSemaphore(value: 0)
        let loopPointer = UncheckedBox(loop)
        let thread = Thread { [self] in
            self.threadID.withLock { $0 = pthread_self() }
            started.signal()
            uv_run(loopPointer.value, UV_RUN_DEFAULT)
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
        started.wait()
    }

    /// Whether the caller is on this loop's thread.
    package var inLoopThread: Bool {
        threadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Runs `job` on the loop thread as soon as possible. Thread-safe.
    package func execute(_ job: @escaping Job) {
        let accepted = queue.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        precondition(accepted, "EventLoop.execute after shutdown")
        uv_async_send(wakeup)
    }

    /// Stops the loop thread after the queued jobs. Only for loops a test created; `shared` lives forever.
    package func shutdown() {
        let handle = UncheckedBox(wakeup)
        execute { loop in
            uv_close(UnsafeMutableRawPointer(handle.value).assumingMemoryBound(to: uv_handle_t.self), nil)
            uv_stop(loop)
        }
        queue.withLock { $0.stopping = true }
    }

    private func drain() {
        // Swap the whole queue out under the lock, run outside it: a job may submit more jobs.
        while true {
            let jobs = queue.withLock { state -> [Job] in
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                return jobs
            }
            if jobs.isEmpty { return }
            for job in jobs { job(loop) }
        }
    }
}

/// Moves a value the compiler cannot prove `Sendable` across a thread boundary the code has made safe.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
