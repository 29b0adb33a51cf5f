import CLibUV

#if canImport(Glibc)
import Glibc
#endif

/// The continuation of one `uv_fs_t` request, carried in `req->data`.
private final class FSRequest: @unchecked Sendable {
    let continuation: CheckedContinuation<Int, Never>
    init(_ continuation: CheckedContinuation<Int, Never>) { self.continuation = continuation }
}

private let fsCallback: uv_fs_cb = { req in
    let request = Unmanaged<FSRequest>.fromOpaque(req!.pointee.data).takeRetainedValue()
    let result = req!.pointee.result
    uv_fs_req_cleanup(req)
    req!.deallocate()
    request.continuation.resume(returning: result)
}

extension EventLoop {
    /// Starts a `uv_fs_*` request on the loop thread and returns its result (>= 0, or a negative errno).
    ///
    /// `start` receives the loop, the request and the callback and returns what the `uv_fs_*` call returned.
    /// When that call fails synchronously libuv never invokes the callback, so the continuation is resumed
    /// here instead — exactly once either way.
    func fileSystemRequest(
        _ start: @escaping @Sendable (UnsafeMutablePointer<uv_loop_t>, UnsafeMutablePointer<uv_fs_t>, uv_fs_cb) -> Int32
    ) async -> Int {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            execute { loop in
                let req = UnsafeMutablePointer<uv_fs_t>.allocate(capacity: 1)
                // Zeroed, so that uv_fs_req_cleanup is safe even when the uv_fs_* call never touched the request
                // (it failed before initialising it, or an injected fault skipped it): it frees only non-NULL fields.
                req.initialize(to: uv_fs_t())
                req.pointee.data = Unmanaged.passRetained(FSRequest(continuation)).toOpaque()
                let rc = start(loop, req, fsCallback)
                if rc < 0 {
                    Unmanaged<FSRequest>.fromOpaque(req.pointee.data).release()
                    uv_fs_req_cleanup(req)
                    req.deallocate()
                    continuation.resume(returning: Int(rc))
                }
            }
        }
    }

    /// `uv_fs_unlink`. Returns false when the file did not exist.
    package func unlink(_ path: String, operation: String? = nil) async throws(EngramError) -> Bool {
        let injected = FaultInjector.shared.check(.unlink, path: path)
        let result = await fileSystemRequest { loop, req, callback in
            // An injected fault takes the synchronous-failure path, which is what it simulates.
            if let injected { return -injected }
            return uv_fs_unlink(loop, req, path, callback)
        }
        if result == -Int(ENOENT) { return false }
        if result < 0 { throw EngramError.system("unlink", errno: Int32(-result), path: path, operation: operation) }
        return true
    }

    /// `uv_fs_mkdir`. Returns false when the directory existed already.
    package func mkdir(_ path: String, mode: Int32 = 0o755, operation: String? = nil) async throws(EngramError) -> Bool {
        let injected = FaultInjector.shared.check(.mkdir, path: path)
        let result = await fileSystemRequest { loop, req, callback in
            if let injected { return -injected }
            return uv_fs_mkdir(loop, req, path, mode, callback)
        }
        if result == -Int(EEXIST), Sys.fileType(path) == .directory { return false }
        if result < 0 { throw EngramError.system("mkdir", errno: Int32(-result), path: path, operation: operation) }
        return true
    }
}
