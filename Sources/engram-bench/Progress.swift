#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress lines on standard error, so that standard output holds only the report.
enum Progress {
    /// When the program started (the first use of `Progress`, in practice).
    static let start = ContinuousClock.now

    /// A line of its own, stamped with the seconds since the start.
    static func say(_ text: String) {
        emit("engram-bench [" + stamp() + "] " + text + "\n")
    }

    /// A line that the next `update` or `say` overwrites when stderr is a terminal; else a line of its own.
    static func update(_ text: String) {
        guard isatty(2) != 0 else { return say(text) }
        emit("\r\u{1B}[Kengram-bench [" + stamp() + "] " + text)
    }

    /// Ends a run of `update`s.
    static func finishUpdates() {
        guard isatty(2) != 0 else { return }
        emit("\r\u{1B}[K")
    }

    private static func stamp() -> String {
        Format.pad(Format.fixed((ContinuousClock.now - start).seconds, 1) + "s", 6, right: true)
    }

    private static func emit(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var offset = 0
            while offset < utf8.count {
                let n = write(2, utf8.baseAddress! + offset, utf8.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
