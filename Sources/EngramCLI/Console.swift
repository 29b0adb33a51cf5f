import Foundation
import Synchronization

/// Where commands write: data to `out` (stdout), diagnostics and progress to `err` (stderr).
///
/// A task-local, so that tests can run commands in-process and capture both streams.
public final class Console: Sendable {
    public enum Stream: Sendable { case out, err }

    private let sink: @Sendable (Stream, String) -> Void
    /// Whether progress lines should be drawn (stderr is a terminal).
    public let interactive: Bool

    public init(interactive: Bool = false, sink: @escaping @Sendable (Stream, String) -> Void) {
        self.sink = sink
        self.interactive = interactive
    }

    /// The process's real stdout and stderr.
    public static let standard = Console(interactive: isatty(2) == 1) { stream, text in
        let handle = stream == .out ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }

    @TaskLocal public static var current: Console = .standard

    public func out(_ line: String) { sink(.out, line + "\n") }
    public func err(_ line: String) { sink(.err, line + "\n") }
    public func outBytes(_ bytes: [UInt8]) { sink(.out, String(decoding: bytes, as: UTF8.self)) }

    /// A progress line on stderr, redrawn in place; only when stderr is a terminal.
    public func progress(_ label: String, _ done: Int, of total: Int?) {
        guard interactive else { return }
        let text = total.map { "\r\(label): \(done)/\($0)" } ?? "\r\(label): \(done)"
        sink(.err, text + (total == done ? "\n" : ""))
    }
}
