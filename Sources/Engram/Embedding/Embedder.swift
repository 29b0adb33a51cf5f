#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EngramIO
import EngramJSON
import Foundation

/// Runs the configured embedder command (see ``EmbedderConfiguration``) and talks to it.
///
/// Requests are served one at a time by a thread of its own: talking to the child blocks (bounded by the
/// timeout), and that must never happen on the store's libuv loop thread nor hold a thread of the cooperative
/// pool for the length of a request. Callers just await.
///
/// The child is started on the first request and kept. A child that exits, does not answer in time or answers
/// something that is not a valid reply is killed, the request fails with ``EngramError/Code/embedder``, and the
/// next request starts a new child: a failed request is never retried behind the caller's back.
package final class Embedder: @unchecked Sendable {
    package let configuration: EmbedderConfiguration

    private struct Request {
        var texts: [String]
        var operation: String
        var continuation: CheckedContinuation<[[Float]], any Error>
    }

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Request] = []
    private var threadStarted = false
    private var stopping = false
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    /// How many children were started (tests prove "started once").
    private var startCount = 0

    /// Written to when the store closes, to interrupt a request in progress (the thread polls its read end).
    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Used only by the embedder's thread.
    private var child: EmbedderProcess?

    /// How long a child that was asked to exit (stdin closed) has before it is killed.
    static let exitGrace = 1.0

    package init(_ configuration: EmbedderConfiguration) {
        self.configuration = configuration
        var fds: [Int32] = [-1, -1]
        if EmbedderProcess.makePipe(&fds) {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        } else {
            fds = [-1, -1]
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    /// How many times the child was started so far.
    package var processesStarted: Int {
        condition.lock()
        defer { condition.unlock() }
        return startCount
    }

    /// Embeds `texts` in requests of at most `batchSize` texts, in order. With `dimension`, every vector must have
    /// that many values (else ``EngramError/Code/dimensionMismatch``).
    package func embed(_ texts: [String], dimension: Int?, operation: String) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        let size = max(1, configuration.batchSize)
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + size, texts.count)])
            let answer = try await withCheckedThrowingContinuation { continuation in
                submit(Request(texts: batch, operation: operation, continuation: continuation))
            }
            if let dimension, let first = answer.first, first.count != dimension {
                throw EngramError(code: .dimensionMismatch,
                                  message: "the embedder `\(configuration.displayName)` returned vectors of \(first.count) values; this store's dimension is \(dimension)",
                                  operation: operation,
                                  remedy: "configure an embedder (model) that produces \(dimension)-dimensional vectors, or use a new store")
            }
            vectors += answer
            start += batch.count
        }
        return vectors
    }

    private func submit(_ request: Request) {
        condition.lock()
        if stopping {
            condition.unlock()
            request.continuation.resume(throwing: closedError(request.operation))
            return
        }
        queue.append(request)
        if !threadStarted {
            threadStarted = true
            let thread = Thread { [self] in serve() }
            thread.name = "engram-embedder"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// Stops the child: closes its stdin, gives it ``exitGrace`` to exit, then kills it; returns once it is reaped.
    /// Requests waiting or in progress fail with ``EngramError/Code/closed``. Idempotent.
    package func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            if !threadStarted || stopped {
                stopped = true
                condition.unlock()
                continuation.resume()
                return
            }
            stopWaiters.append(continuation)
            condition.signal()
            condition.unlock()
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    // MARK: The embedder's thread

    private func serve() {
        EmbedderProcess.blockPipeSignalOnThisThread()
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if stopping {
                let abandoned = queue
                queue = []
                condition.unlock()
                for request in abandoned { request.continuation.resume(throwing: closedError(request.operation)) }
                break
            }
            let request = queue.removeFirst()
            condition.unlock()
            request.continuation.resume(with: Result { try answer(request.texts, operation: request.operation) })
        }
        child?.reap(grace: Self.exitGrace)
        child = nil
        condition.lock()
        stopped = true
        let waiters = stopWaiters
        stopWaiters = []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    private func answer(_ texts: [String], operation: String) throws -> [[Float]] {
        let name = configuration.displayName
        let process: EmbedderProcess
        if let child {
            process = child
        } else {
            process = try EmbedderProcess.spawn(configuration, operation: operation)
            child = process
            condition.lock()
            startCount += 1
            condition.unlock()
        }
        var writer = JSONWriter(pretty: false)
        writer.beginObject()
        writer.key("texts")
        writer.beginArray()
        for text in texts { writer.string(text) }
        writer.endArray()
        writer.endObject()
        let request = writer.finish(trailingNewline: true)

        let allowed = configuration.timeout + (process.hasAnswered ? 0 : configuration.startupTimeout)
        let outcome = process.exchange(request, deadline: .now + .milliseconds(Int64(allowed * 1000)), wake: wakeRead)
        switch outcome {
        case .reply(let line):
            do {
                return try Self.vectors(from: line, count: texts.count)
            } catch let failure {
                if case .reported(let message) = failure {
                    // The child answered the protocol's way and keeps serving.
                    throw EngramError(code: .embedder, message: "the embedder `\(name)` reported an error: \(message)", operation: operation,
                                      remedy: "see the embedder's own message (and its stderr) for what to fix")
                }
                throw fail(process, operation: operation, "answered something that is not a valid reply (\(failure)); reply: \(Self.excerpt(line))")
            }
        case .exited:
            let how = process.reap(grace: Self.exitGrace)
            child = nil
            var message = "the embedder `\(name)` \(how) before answering a request of \(texts.count) text\(texts.count == 1 ? "" : "s")"
            if let last = process.stderr.lastLine(wait: 0.5) { message += "; its last stderr line: \(last)" }
            throw EngramError(code: .embedder, message: message, operation: operation,
                              remedy: "run the command by hand and feed it a line like {\"texts\": [\"hello\"]} to see why it stops; it is started again on the next request")
        case .timedOut:
            throw fail(process, operation: operation, "did not answer within \(Self.seconds(allowed)) (a request of \(texts.count) text\(texts.count == 1 ? "" : "s"))",
                       remedy: "check that it answers every request line with one line and flushes its output (Python: print(..., flush=True)); if the model is just slow, raise the timeout (EmbedderConfiguration.timeout)")
        case .interrupted:
            throw closedError(operation)
        case .tooLong:
            throw fail(process, operation: operation, "wrote a reply line longer than \(EmbedderProcess.maximumReplyBytes >> 20) MiB")
        case .unrequested(let line):
            throw fail(process, operation: operation, "wrote a line nobody asked for: \(Self.excerpt(line))")
        }
    }

    /// Kills a misbehaving child (the next request starts a new one) and makes the error that says what it did.
    private func fail(_ process: EmbedderProcess, operation: String, _ what: String,
                      remedy: String = "check that the command answers each {\"texts\": [...]} line with exactly one {\"vectors\": [[...], ...]} line (see docs/EMBEDDER.md)") -> EngramError {
        process.kill()
        process.reap(grace: 0)
        child = nil
        return EngramError(code: .embedder, message: "the embedder `\(configuration.displayName)` \(what); it was stopped and will be started again on the next request",
                           operation: operation, remedy: remedy)
    }

    private func closedError(_ operation: String) -> EngramError {
        EngramError(code: .closed, message: "the store closed while the embedder `\(configuration.displayName)` had work to do", operation: operation,
                    remedy: "open the store again")
    }

    // MARK: Replies

    /// Why a reply was refused.
    enum ReplyFailure: Error, CustomStringConvertible {
        case reported(String)
        case malformed(String)
        var description: String {
            switch self {
            case .reported(let message), .malformed(let message): message
            }
        }
    }

    /// The vectors of one reply line, checked: `count` of them, all of one non-zero length, all values finite.
    static func vectors(from line: [UInt8], count: Int) throws(ReplyFailure) -> [[Float]] {
        let reply: JSONValue
        do {
            reply = try JSONReader.parse(line)
        } catch {
            throw .malformed("not JSON: \(error)\(line.count >= 3 && String(decoding: line, as: UTF8.self).contains("NaN") ? "; NaN is not a JSON number" : "")")
        }
        guard reply.objectValue != nil else { throw .malformed("not a JSON object") }
        if let error = reply["error"], !error.isNull {
            throw .reported(error.stringValue ?? error.description)
        }
        guard let items = reply["vectors"]?.arrayValue else { throw .malformed("no \"vectors\" array") }
        guard items.count == count else { throw .malformed("\(items.count) vectors for \(count) text\(count == 1 ? "" : "s")") }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(count)
        for (i, item) in items.enumerated() {
            guard let vector = item.floatArray() else { throw .malformed("vector \(i) is not an array of numbers") }
            guard !vector.isEmpty else { throw .malformed("vector \(i) is empty") }
            if let first = vectors.first, vector.count != first.count {
                throw .malformed("vector \(i) has \(vector.count) values, vector 0 has \(first.count)")
            }
            if let bad = vector.firstIndex(where: { !$0.isFinite }) {
                throw .malformed("value \(bad) of vector \(i) is out of float32 range")
            }
            vectors.append(vector)
        }
        return vectors
    }

    private static func excerpt(_ line: [UInt8]) -> String {
        let text = String(decoding: line.prefix(200), as: UTF8.self)
        return line.count > 200 ? text + "…" : text
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
