#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Drains an embedder child's stderr on a thread of its own, copying it to our stderr and remembering the last
/// line, so that a child writing warnings never blocks on a full pipe and a crash report can quote its last words.
final class EmbedderStderr: @unchecked Sendable {
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var tail: [UInt8] = []
    private var lastLine = ""
    private var finished = false

    /// Starts draining `fd` (the read end of the child's stderr pipe); closes it at end of file.
    init(fd: Int32) {
        let thread = Thread { [self] in drain(fd) }
        thread.name = "engram-embedder-stderr"
        thread.start()
    }

    private func drain(_ fd: Int32) {
        // Our stderr may be a pipe whose reader is gone (`engram put … 2>&1 | head`): fail the write, not the process.
        EmbedderProcess.blockPipeSignalOnThisThread()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                while offset < n {
                    let written = write(STDERR_FILENO, raw.baseAddress! + offset, n - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
            remember(buffer[0..<n])
        }
        close(fd)
        lock.lock()
        finished = true
        lock.broadcast()
        lock.unlock()
    }

    private func remember(_ bytes: ArraySlice<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        tail.append(contentsOf: bytes)
        // Keep only the unfinished line (bounded) and the last complete non-empty one.
        while let newline = tail.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: tail[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if !line.isEmpty { lastLine = line }
            tail.removeSubrange(...newline)
        }
        if tail.count > 4096 { tail.removeFirst(tail.count - 4096) }
    }

    /// The last non-empty line the child wrote, once its stderr is closed or `wait` seconds have passed (a
    /// grandchild may keep the pipe open after the child died).
    func lastLine(wait: Double) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date(timeIntervalSinceNow: wait)
        while !finished, lock.wait(until: deadline) {}
        let pending = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let line = pending.isEmpty ? lastLine : pending
        return line.isEmpty ? nil : String(line.prefix(500))
    }
}
