import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process spoken to line by line: lines (or raw bytes) written to its stdin, its stdout read as lines
/// with a timeout, its stderr kept for failure messages. For servers driven over stdio (`engram mcp`) where a
/// test must interleave writes and reads, kill the child midway, or see it exit by itself.
///
/// stdout and stderr are drained by threads of their own, so the child never blocks on a full pipe.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe(), output = Pipe(), errors = Pipe()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var outputEnded = false
    private var stderrBytes: [UInt8] = []

    /// Starts `executable` with `arguments`; `environment` adds to (or replaces in) this process's environment.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        // Writing to a child that has died (a test kills it) must fail, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.fileDescriptor, err = errors.fileHandleForReading.fileDescriptor
        Thread { [self] in drain(out) { self.received($0) } ; condition.lock(); outputEnded = true; condition.broadcast(); condition.unlock() }.start()
        Thread { [self] in drain(err) { bytes in self.condition.lock(); self.stderrBytes += bytes; self.condition.unlock() } }.start()
    }

    /// Reads `fd` to its end, handing over what each read returned.
    private func drain(_ fd: Int32, _ body: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            body(Array(buffer[0..<n]))
        }
    }

    private var partial: [UInt8] = []
    private func received(_ bytes: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        partial += bytes
        while let newline = partial.firstIndex(of: 0x0A) {
            lines.append(String(decoding: partial[..<newline], as: UTF8.self))
            partial.removeSubrange(...newline)
        }
        condition.broadcast()
    }

    /// Closes the child's stdin: end of input for it.
    public func closeInput() throws { try input.fileHandleForWriting.close() }

    /// The next line of the child's stdout, or nil if none came within `timeout` seconds or stdout ended.
    ///
    /// The wait blocks a thread of its own, never one of the few threads Swift concurrency runs tests on: a test
    /// blocking those slows every other test of the process (their tasks cannot run) on a small machine.
    public func nextLine(timeout: TimeInterval = 120) async -> String? {
        await offThePool { self.nextLineBlocking(timeout: timeout) }
    }

    /// The exit status once the child has exited within `timeout` seconds, else nil (waiting off the pool).
    public func waitForExit(timeout: TimeInterval = 120) async -> Int32? {
        await offThePool { self.waitForExitBlocking(timeout: timeout) }
    }

    /// Writes raw bytes to the child's stdin from a thread of its own (a large write blocks until the child reads).
    public func send(bytes: [UInt8]) async throws {
        try await offThePool { Result { try self.input.fileHandleForWriting.write(contentsOf: bytes) } }.get()
    }

    /// Writes `text` and a newline to the child's stdin.
    public func send(_ text: String) async throws { try await send(bytes: Array(text.utf8) + [0x0A]) }

    private func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in Thread { continuation.resume(returning: body()) }.start() }
    }

    private func nextLineBlocking(timeout: TimeInterval) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !outputEnded {
            if !condition.wait(until: deadline) { break }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }

    private func waitForExitBlocking(timeout: TimeInterval) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends `signal` to the child (SIGKILL by default).
    public func kill(_ signal: Int32 = SIGKILL) { _ = Glibc.kill(process.processIdentifier, signal) }

    /// What the child wrote to stderr so far.
    public var stderr: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stderrBytes, as: UTF8.self)
    }

    deinit {
        if process.isRunning { kill() }
    }
}
