import EngramIO
import EngramTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Event loop")
struct EventLoopTests {
    @Test("work runs on the thread pool and resumes every caller exactly once with its own result")
    func concurrentWork() async throws {
        let loop = EventLoop.shared
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<500 { group.addTask { try await loop.run { i * 2 } } }
            var all: [Int] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.sorted() == (0..<500).map { $0 * 2 })
    }

    @Test("errors thrown on the pool arrive at the caller")
    func errorsPropagate() async throws {
        do {
            try await EventLoop.shared.run { () throws -> Void in throw EngramError(code: .io, message: "boom", operation: "test") }
            Issue.record("the error was lost")
        } catch let error as EngramError {
            #expect(error.message == "boom")
        }
    }

    @Test("jobs submitted from many threads all run on the loop thread (the queue is drained, sends coalesce)")
    func submissionQueue() async throws {
        let loop = EventLoop(name: "test-loop")
        final class Tally: Sendable {
            let count = Mutex(0)
            let onLoop = Mutex(true)
        }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2000 {
                group.addTask {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        loop.execute { _ in
                            if !loop.inLoopThread { tally.onLoop.withLock { $0 = false } }
                            tally.count.withLock { $0 += 1 }
                            c.resume()
                        }
                    }
                }
            }
        }
        #expect(tally.count.withLock { $0 } == 2000)
        #expect(tally.onLoop.withLock { $0 })
        #expect(!loop.inLoopThread)
        loop.shutdown()
    }

    @Test("uv_fs_unlink: success, a missing file, and a synchronous failure each resume once")
    func unlink() async throws {
        let scratch = TemporaryDirectory()
        let file = scratch.path + "/f"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(try await EventLoop.shared.unlink(file))
        #expect(try await EventLoop.shared.unlink(file) == false)
        let dir = scratch.path + "/d"
        #expect(try await EventLoop.shared.mkdir(dir))
        #expect(try await EventLoop.shared.mkdir(dir) == false)
        let error = await #expect(throws: EngramError.self) { try await EventLoop.shared.unlink(dir) }
        #expect(error?.errno == EISDIR || error?.errno == EPERM)
        #expect(error?.path == dir)
        if FaultInjector.isAvailable {
            _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
            FaultInjector.shared.arm(.init(syscall: .unlink, errno: EIO, pathContains: scratch.path))
            let injected = await #expect(throws: EngramError.self) { try await EventLoop.shared.unlink(file) }
            FaultInjector.shared.disarm(scope: scratch.path)
            #expect(injected?.errno == EIO)
            #expect(FileManager.default.fileExists(atPath: file))
        }
    }
}
