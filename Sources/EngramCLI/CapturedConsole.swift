import Foundation
import Synchronization

/// A console that records what commands print (for tests).
public final class CapturedConsole: Sendable {
    private let storage = Mutex<(out: String, err: String)>(("", ""))
    public init() {}
    public var console: Console {
        Console { [self] stream, text in
            self.storage.withLock { if stream == .out { $0.out += text } else { $0.err += text } }
        }
    }
    public var stdout: String { storage.withLock { $0.out } }
    public var stderr: String { storage.withLock { $0.err } }
}
