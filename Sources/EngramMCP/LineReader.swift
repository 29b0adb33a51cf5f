import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads newline-delimited messages from a file descriptor with blocking reads, until end of input.
///
/// Only the bytes of each read are scanned for the newline. A line that grows past `maxBytes` stops being kept:
/// its first 64 KiB stay (to find the request's id for the error), the rest is counted and dropped up to its
/// newline, so a client sending gigabytes costs no memory.
struct LineReader: Sendable {
    let fd: Int32
    let guardian: MessageGuard
    let maxBytes: Int

    static let keptPrefix = 64 << 10

    /// `deliver` gets each line and the guard's verdict on it; `answer` gets the error response for a refused one.
    func run(deliver: (ArraySlice<UInt8>, MessageGuard.Verdict) -> Void, answer: ([UInt8]) -> Void) {
        var line: [UInt8] = []  // the current line's bytes, or its first keptPrefix bytes once it is too long
        var length = 0  // the current line's length so far
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        func complete() {
            defer { line.removeAll(keepingCapacity: line.count < 1 << 20); length = 0 }
            if length > maxBytes {
                answer(guardian.oversized(prefix: line[...], length: length))
                return
            }
            var body = line[...]
            while let last = body.last, last == 0x0D || last == 0x20 || last == 0x09 { body = body.dropLast() }
            guard body.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
            let verdict = guardian.check(body)
            switch verdict {
            case .deliver: deliver(body, verdict)
            case .reject(let response): answer(response)
            }
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break
            }
            if n == 0 { break }
            var start = 0
            while start < n {
                let newline = chunk[start..<n].firstIndex(of: 0x0A)
                let end = newline ?? n
                let piece = chunk[start..<end]
                length += piece.count
                if length <= maxBytes {
                    line.append(contentsOf: piece)
                } else {
                    if line.count > LineReader.keptPrefix { line.removeSubrange(LineReader.keptPrefix...) }
                    line.append(contentsOf: piece.prefix(max(0, LineReader.keptPrefix - line.count)))
                }
                if newline != nil { complete() }
                start = end + 1
            }
        }
        if length > 0 { complete() }  // a last message without its newline
    }
}
