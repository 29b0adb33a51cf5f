#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EngramIO
import Foundation

/// One running embedder child: its pid (also its process group id, so that a `/bin/sh -c` pipeline dies as a
/// whole), our ends of its stdin and stdout pipes, and the drain of its stderr.
///
/// Used only from the ``Embedder``'s own thread: every call may block, but never longer than the deadline given.
/// Our pipe ends are non-blocking and every wait is a `poll` with a timeout, so a child that stops reading or
/// writing cannot hold that thread past the deadline either.
final class EmbedderProcess {
    let pid: pid_t
    private var input: Int32
    private var output: Int32
    let stderr: EmbedderStderr
    /// Whether the child has answered a request yet (the first reply is allowed the startup time).
    var hasAnswered = false
    /// Bytes read after the end of the last reply line.
    private var buffered: [UInt8] = []
    private var reaped = false

    /// The longest reply line accepted (64 texts × 4,096 dimensions in long decimal notation is ~6 MB).
    static let maximumReplyBytes = 256 << 20

    /// What one exchange ended with.
    enum Outcome {
        /// One reply line, without its newline.
        case reply([UInt8])
        /// The child closed its stdout (it exited or is exiting).
        case exited
        /// The deadline passed.
        case timedOut
        /// `wake` became readable: the store is closing.
        case interrupted
        /// The reply line grew past ``maximumReplyBytes``.
        case tooLong
        /// Bytes arrived before the request was written: the child talks out of turn.
        case unrequested([UInt8])
    }

    private init(pid: pid_t, input: Int32, output: Int32, stderr: EmbedderStderr) {
        self.pid = pid
        self.input = input
        self.output = output
        self.stderr = stderr
    }

    /// Starts the child with its stdin, stdout and stderr on new pipes, in a process group of its own, with
    /// SIGPIPE at its default and no signal blocked (whatever the spawning thread blocks).
    static func spawn(_ configuration: EmbedderConfiguration, operation: String) throws(EngramError) -> EmbedderProcess {
        let name = configuration.displayName
        guard let program = configuration.command.first, !program.isEmpty else {
            throw EngramError(code: .usage, message: "the embedder command is empty", operation: operation,
                              remedy: "give the command that runs the embedder, e.g. `engram hash-embedder`")
        }
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        func closeAll() { for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) } }
        for index in 0..<3 {
            var fds: [Int32] = [-1, -1]
            if !makePipe(&fds) {
                let e = errno
                closeAll()
                throw EngramError(code: .embedder, message: "could not create a pipe for the embedder `\(name)`: \(String(cString: strerror(e)))",
                                  operation: operation, errno: e, remedy: "raise the limit of open files (ulimit -n)")
            }
            switch index {
            case 0: stdinPipe = fds
            case 1: stdoutPipe = fds
            default: stderrPipe = fds
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The originals are close-on-exec; the copies on 0, 1 and 2 are not.
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), pipeSignal = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &pipeSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment = ProcessInfo.processInfo.environment
        for (key, value) in configuration.environment { environment[key] = value }
        let argv = configuration.command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let rc = program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        if rc != 0 {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw EngramError(code: .embedder, message: "could not start the embedder `\(name)`: \(String(cString: strerror(rc)))",
                              operation: operation, path: program, errno: rc,
                              remedy: "check that `\(program)` exists, is executable and is on PATH")
        }
        for fd in [stdinPipe[1], stdoutPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return EmbedderProcess(pid: pid, input: stdinPipe[1], output: stdoutPipe[0], stderr: EmbedderStderr(fd: stderrPipe[0]))
    }

    /// Writes `request` (one line) and reads one line back, until `deadline`, giving up early when `wake`
    /// becomes readable. Reading and writing are interleaved so that a child answering a long request before
    /// reading all of it cannot deadlock us.
    func exchange(_ request: [UInt8], deadline: ContinuousClock.Instant, wake: Int32) -> Outcome {
        if let early = takeLine() { return .unrequested(early) }
        var written = 0
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return .timedOut }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var fds = [pollfd(fd: output, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            if written < request.count { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return .exited
            }
            if fds[1].revents != 0 { return .interrupted }
            if fds.count > 2, fds[2].revents != 0 {
                let n = request.withUnsafeBytes { write(input, $0.baseAddress! + written, request.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0, errno == EPIPE {
                    Self.consumePendingPipeSignal()
                    written = request.count  // the child is gone: read what it said until end of file
                } else if n < 0, errno != EAGAIN, errno != EINTR {
                    return .exited
                }
            }
            if fds[0].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if n == 0 { return .exited }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    return .exited
                }
                buffered.append(contentsOf: chunk[0..<n])
                if let line = takeLine() {
                    if written < request.count { return .unrequested(line) }
                    hasAnswered = true
                    return .reply(line)
                }
                if buffered.count > Self.maximumReplyBytes { return .tooLong }
            }
        }
    }

    /// The next complete line in `buffered` that is not blank (removed from it, without its newline). Blank lines
    /// are skipped: some scripts print one too many.
    private func takeLine() -> [UInt8]? {
        while let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(buffered[..<newline])
            buffered.removeSubrange(...newline)
            if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { return line }
        }
        return nil
    }

    /// `pipe` with both ends close-on-exec, so that no other child (an `engram-graph` build, another embedder)
    /// inherits them and keeps a pipe open after this child died. (`pipe2` would do it atomically but Swift's
    /// Glibc module does not declare it; Foundation's `Process` closes every inherited descriptor anyway.)
    static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Sends SIGKILL to the child's process group (and the child, should it have left the group).
    func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(-pid, SIGKILL)
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Closes the child's stdin (a well-behaved embedder exits at end of file) and our end of its stdout.
    func closePipes() {
        if input >= 0 { close(input); input = -1 }
        if output >= 0 { close(output); output = -1 }
    }

    /// Waits up to `grace` seconds for the child to exit, then kills its group and waits for it. Returns how it
    /// ended, in words ("exited with status 3", "was killed by signal 9 (SIGKILL)").
    @discardableResult
    func reap(grace: Double) -> String {
        closePipes()
        guard !reaped else { return "has exited" }
        let deadline = ContinuousClock.now + .milliseconds(Int64(grace * 1000))
        var status: Int32 = 0
        while true {
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid { break }
            if rc < 0, errno != EINTR {
                reaped = true
                return "has exited"
            }
            if ContinuousClock.now >= deadline {
                kill()
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                break
            }
            usleep(10_000)
        }
        reaped = true
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : signal == SIGSEGV ? " (SIGSEGV)" : signal == SIGTERM ? " (SIGTERM)" : "")"
    }

    /// A write to a closed pipe raised SIGPIPE at this thread, which blocks it: take it off the pending set.
    private static func consumePendingPipeSignal() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        _ = sigtimedwait(&set, nil, &zero)
    }

    /// Blocks SIGPIPE on the calling thread, so that writing to a child that died makes `write` fail with EPIPE
    /// instead of killing this process (the signal is then consumed, see above).
    static func blockPipeSignalOnThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }
}
