import CLibUV

/// A unit of blocking work for libuv's thread pool: `body` runs on a pool thread, `done` on the loop thread.
///
/// It travels through `uv_work_t.data` as a retained `Unmanaged` pointer, released exactly once: in the
/// after-work callback, or right away when `uv_queue_work` refuses the request.
final class WorkRequest: @unchecked Sendable {
    let body: () -> Void
    let done: (Int32) -> Void

    init(body: @escaping () -> Void, done: @escaping (Int32) -> Void) {
        self.body = body
        self.done = done
    }
}

/// Holds a result written on a pool thread and read on the loop thread; libuv's work queue orders the two.
final class ResultSlot<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}

private let workCallback: uv_work_cb = { req in
    let request = Unmanaged<WorkRequest>.fromOpaque(req!.pointee.data).takeUnretainedValue()
    request.body()
}

private let afterWorkCallback: uv_after_work_cb = { req, status in
    let request = Unmanaged<WorkRequest>.fromOpaque(req!.pointee.data).takeRetainedValue()
    req!.deallocate()
    request.done(status)
}

extension EventLoop {
    /// Queues `request` on libuv's thread pool. Must be called on the loop thread.
    func queueWork(_ loop: UnsafeMutablePointer<uv_loop_t>, _ request: WorkRequest) {
        let req = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        req.pointee.data = Unmanaged.passRetained(request).toOpaque()
        let rc = uv_queue_work(loop, req, workCallback, afterWorkCallback)
        if rc != 0 {
            // The callbacks will never run: release and complete here, exactly once.
            Unmanaged<WorkRequest>.fromOpaque(req.pointee.data).release()
            req.deallocate()
            request.done(rc)
        }
    }

    /// Runs blocking `body` on libuv's thread pool and resumes with its result once the loop thread has
    /// seen it complete.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let slot = ResultSlot<T>()
            let request = WorkRequest(
                body: { slot.value = Result { try body() } },
                done: { status in
                    if status != 0 {
                        continuation.resume(throwing: EngramError(
                            code: .io, message: "libuv refused the work request: \(String(cString: uv_strerror(status)))",
                            operation: "uv_queue_work"))
                    } else {
                        continuation.resume(with: slot.value!)
                    }
                })
            execute { loop in self.queueWork(loop, request) }
        }
    }
}
