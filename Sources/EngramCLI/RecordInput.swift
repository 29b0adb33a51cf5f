import Engram
import EngramIO
import EngramJSON
import Foundation

/// Reads JSON values from a file or stdin as they arrive: JSON Lines, one pretty-printed object, or several
/// concatenated. Values are cut out by a small scanner (tracking strings and nesting) and parsed one by one,
/// so a stream that stays open (`tail -f log | engram put -`) is imported — and acknowledged — as it comes.
struct RecordInput {
    let path: String

    /// Calls `body` with each value, its first line, and whether more input is already waiting (so the caller
    /// can fill a batch, or flush it when the producer pauses).
    func forEach(_ body: (Result<JSONValue, EngramError>, Int, Bool) async throws -> Void) async throws {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw EngramError.system("open", errno: errno, path: path, operation: "read input") }
        }
        defer { if fd != 0 { close(fd) } }
        var buffer: [UInt8] = []
        var scanner = ValueScanner()
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var finished = false
        while !finished {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw EngramError.system("read", errno: errno, path: path == "-" ? "stdin" : path, operation: "read input")
            }
            if n == 0 { finished = true } else { buffer.append(contentsOf: chunk[0..<n]) }
            let morePending = n == chunkSize
            let values = scanner.extract(from: &buffer, final: finished)
            for (index, value) in values.enumerated() {
                let parsed: Result<JSONValue, EngramError>
                do {
                    parsed = .success(try JSONReader.parse(value.bytes))
                } catch {
                    parsed = .failure(EngramError(code: .invalidRecord, message: "input line \(value.line): \(error)", operation: "read input",
                                                  path: path == "-" ? "stdin" : path, remedy: "fix the JSON on that line"))
                }
                try await body(parsed, value.line, morePending || index < values.count - 1)
            }
        }
    }
}

/// Finds where each top-level JSON value ends without parsing it.
///
/// A value that starts with `{` or `[` ends where its brackets balance, so one pretty-printed object may span
/// many lines and several values may share one. Anything else (a number, a string, or bytes that are not JSON
/// at all, like `not json`) runs to the end of its line, and a line break inside a string ends the value there
/// (JSON strings cannot contain one): a bad line is one bad value, reported once with its line number, and the
/// lines after it are read on their own.
struct ValueScanner {
    private var line = 1
    private var position = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var start: Int?
    private var startLine = 1
    private var scalar = false

    /// Removes complete values from the front of `buffer` and returns them.
    mutating func extract(from buffer: inout [UInt8], final: Bool) -> [(bytes: [UInt8], line: Int)] {
        var values: [(bytes: [UInt8], line: Int)] = []
        while position < buffer.count {
            let byte = buffer[position]
            if start == nil {
                if byte == 0x0A { line += 1 }
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1; continue }
                start = position
                startLine = line
                scalar = byte != 0x7B && byte != 0x5B
                depth = 0
            }
            if byte == 0x0A && (scalar || inString) {
                // The line ends the value (inside a string it is invalid JSON whatever follows); the newline
                // itself is counted when the loop comes back here with no value started.
                inString = false
                escaped = false
                values.append((Array(buffer[start!..<position]), startLine))
                start = nil
                continue
            }
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                position += 1
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D: depth -= 1
            case 0x0A: line += 1
            default: break
            }
            position += 1
            if !scalar && depth <= 0 {
                values.append((Array(buffer[start!..<position]), startLine))
                start = nil
            }
        }
        if final, let s = start {
            values.append((Array(buffer[s..<buffer.count]), startLine))
            start = nil
        }
        // Drop consumed bytes.
        let consumed = start ?? position
        if consumed > 0 {
            buffer.removeFirst(consumed)
            position -= consumed
            if start != nil { start = 0 }
        }
        return values
    }
}
