import EngramJSON
import Foundation
import Logging
import MCP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The stdio transport of `engram mcp`: newline-delimited JSON-RPC on stdin and stdout, with the guards the
/// SDK's own `StdioTransport` lacks.
///
/// - Every line passes ``MessageGuard`` first: too long, too deep, not UTF-8 or not JSON is answered here with a
///   JSON-RPC error (carrying the request's id when it can be found) and never reaches the SDK's recursive
///   decoder; the next line is served as usual.
/// - Lines are cut by scanning only the bytes just read (the SDK rescans its whole buffer per 4 KiB read, which is
///   quadratic in a message's length), and a line past the size limit is dropped as it streams in, never held.
/// - At end of input it finishes the message stream only once every request read has been answered, so a save
///   in flight when the client closes stdin is still acknowledged before the server stops and the store closes.
///
/// Reading blocks a thread of its own, not one of the few threads Swift concurrency runs tasks on.
public actor GuardedStdioTransport: Transport {
    public nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let guardian: MessageGuard
    private let stream: AsyncThrowingStream<Data, Swift.Error>
    private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
    /// Requests delivered and not yet answered (by their id's JSON), and whether input has ended.
    private let state = Mutex(PendingState())
    /// Held while a line is written: the SDK's answers and the reader thread's refusals share stdout, and a
    /// pipe write longer than PIPE_BUF is not atomic.
    private let writing = Mutex(())
    private var connected = false

    struct PendingState {
        var unanswered: Set<JSONValue> = []
        var inputEnded = false
        var finished = false
    }

    /// How long, after end of input, requests still in flight may take before the stream ends anyway.
    static let drainTimeout: Duration = .seconds(60)

    public init(input: Int32 = 0, output: Int32 = 1, limits: MCPServerLimits = MCPServerLimits(), logger: Logger? = nil) {
        self.input = input
        self.output = output
        self.guardian = MessageGuard(limits: limits)
        self.logger = logger ?? Logger(label: "engram.mcp.stdio") { _ in SwiftLogNoOpLogHandler() }
        (stream, continuation) = AsyncThrowingStream.makeStream()
    }

    public func connect() async throws {
        guard !connected else { return }
        connected = true
        let reader = LineReader(fd: input, guardian: guardian, maxBytes: guardian.limits.maxMessageBytes)
        let thread = Thread { [self] in
            reader.run(deliver: { line, verdict in self.deliver(line, verdict) },
                       answer: { bytes in try? self.writeLine(bytes) })
            self.inputEnded()
        }
        thread.name = "engram-mcp-stdin"
        thread.start()
    }

    public func disconnect() async {
        connected = false
        finish()
    }

    public func send(_ data: Data) async throws {
        noteAnswers(in: data)
        try writeLine([UInt8](data))
        finishIfDrained()
    }

    public func receive() -> AsyncThrowingStream<Data, Swift.Error> { stream }

    /// Writes `bytes` and a newline to stdout, whole, before any other line.
    private nonisolated func writeLine(_ bytes: [UInt8]) throws {
        let line = bytes + [0x0A]
        try writing.withLock { _ in
            var written = 0
            while written < line.count {
                let n = line[written...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
                }
                written += n
            }
        }
    }

    // MARK: Bookkeeping (called from the reader thread and from `send`)

    private nonisolated func deliver(_ line: ArraySlice<UInt8>, _ verdict: MessageGuard.Verdict) {
        guard case .deliver(let requestID, let cancelled) = verdict else { return }
        state.withLock { state in
            if let requestID { state.unanswered.insert(requestID) }
            // A cancelled request is not answered (MCP): stop waiting for it.
            if let cancelled { state.unanswered.remove(cancelled) }
        }
        continuation.yield(Data(line))
        if cancelled != nil { finishIfDrained() }
    }

    private nonisolated func inputEnded() {
        logger.notice("end of input")
        state.withLock { $0.inputEnded = true }
        finishIfDrained()
        // A request that never completes must not keep the process alive forever.
        Task { [self] in
            try? await Task.sleep(for: GuardedStdioTransport.drainTimeout)
            finish()
        }
    }

    /// Marks the responses in an outgoing message (one, or a batch) as answered. One response's id is found by
    /// the guard's scan, not by parsing what may be a large result.
    private nonisolated func noteAnswers(in data: Data) {
        let bytes = [UInt8](data)
        var ids: [JSONValue] = []
        if bytes.first == 0x5B {
            let batch = (try? JSONReader.parse(bytes, maxDepth: 10_000))?.arrayValue ?? []
            ids = batch.filter { $0["method"] == nil }.compactMap { $0["id"] }
        } else if let id = MessageGuard.sniffID(bytes[...]) {
            ids = [id]
        }
        guard !ids.isEmpty else { return }
        state.withLock { state in
            for id in ids { state.unanswered.remove(id) }
        }
    }

    private nonisolated func finishIfDrained() {
        let drained = state.withLock { $0.inputEnded && $0.unanswered.isEmpty }
        if drained { finish() }
    }

    private nonisolated func finish() {
        let first = state.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
        if first { continuation.finish() }
    }
}
