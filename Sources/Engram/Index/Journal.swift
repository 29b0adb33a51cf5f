import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

/// The append-only log of changes since the last checkpoint (`memory_index.journal`): each line is a commit.
///
/// Keeping `memory_index.json` current by rewriting it on every save would cost O(store size) per write.
/// Instead each change appends one line here and the index is rewritten only at checkpoints. Open replays the
/// lines after the checkpoint's sequence number, so recovery costs O(changes since the checkpoint).
///
/// A line is `<16 hex XXH3 of the payload> <payload>\n`. The payload is the operation's compact JSON followed,
/// for a `put`, by each record it writes: a tab, then the record file's JSON without insignificant whitespace
/// (neither can hold a raw tab or newline). Kept outside the operation's JSON so that replaying a journal reads
/// the small operations and leaves the records as bytes, decoded only when a record file must be rewritten.
///
/// The file itself is an ``AppendOnlyFile`` (group-committed appends).
enum Journal {
    /// One decoded line: the operation's JSON and the records it carries, in item order.
    struct Entry {
        var json: JSONValue
        var records: [[UInt8]] = []

        /// The operation, or nil for a line this version does not understand (treated as damage).
        var operation: JournalOperation? { JournalOperation(json: json, records: records) }
    }

    /// Formats one journal line (see the type's documentation).
    static func line(_ operation: JournalOperation) -> [UInt8] {
        var payload = JSONWriter.compact(operation.json)
        if case .put(_, let items) = operation {
            for item in items {
                guard let record = item.record else { continue }
                // Minified output of JSONWriter (control characters escaped in strings, whitespace removed) cannot hold
                // either byte; checked in debug builds only (it would cost two passes per save).
                assert(!record.contains(0x09) && !record.contains(0x0A), "a journaled record must be minified JSON")
                payload.append(0x09)
                payload.append(contentsOf: record)
            }
        }
        var out = Array(ContentHash.checksum(payload).utf8)
        out.reserveCapacity(payload.count + 18)
        out.append(0x20)
        out.append(contentsOf: payload)
        out.append(0x0A)
        return out
    }

    // MARK: Reading

    /// The result of reading a journal file.
    struct Contents {
        var entries: [Entry] = []
        /// A last line without its newline or with a bad checksum: an append that never completed (not acknowledged).
        var tornTail = false
        /// A bad line followed by good ones: the journal is damaged, and the index must be rebuilt from the records.
        var corruptLine: Int?
        /// The file's size: a journal holding only lines the checkpoint covers is still emptied at open.
        var byteCount = 0
        /// Where the last whole, valid line ends (what a torn tail is cut back to).
        var validByteCount = 0
    }

    static func read(path: String) throws(EngramError) -> Contents {
        guard Sys.fileType(path) != nil else { return Contents() }
        // Lines carry whole records, so a big batch makes a big line: the journal gets the index's limit.
        return parse(try Sys.readFile(path, maxSize: 1 << 32, operation: "read journal"))
    }

    /// Parses journal bytes (a file's, or a copy being taken of a journal still growing).
    static func parse(_ bytes: [UInt8]) -> Contents {
        var contents = Contents()
        contents.byteCount = bytes.count
        var lines: [Range<Int>] = []
        var start = 0
        // memchr, not a Swift byte loop: lines carry whole records, so a journal is megabytes.
        while let newline = offset(of: 0x0A, in: bytes, from: start) {
            lines.append(start..<newline)
            start = newline + 1
        }
        let trailing = start < bytes.count
        for (number, line) in lines.enumerated() {
            if let value = decode(bytes, line) {
                contents.entries.append(value)
                contents.validByteCount = line.upperBound + 1
            } else if number == lines.count - 1 && !trailing {
                contents.tornTail = true
            } else {
                contents.corruptLine = number + 1
                return contents
            }
        }
        if trailing { contents.tornTail = true }
        return contents
    }

    /// One line (`bytes[line]`, without its newline): nil unless its checksum matches and its JSON reads.
    private static func decode(_ bytes: [UInt8], _ line: Range<Int>) -> Entry? {
        guard line.count > 17, bytes[line.lowerBound + 16] == 0x20 else { return nil }
        let checksum = String(decoding: bytes[line.lowerBound..<line.lowerBound + 16], as: UTF8.self)
        let payload = (line.lowerBound + 17)..<line.upperBound
        guard bytes[payload].withUnsafeBytes({ ContentHash.checksum($0) }) == checksum else { return nil }
        guard let tab = offset(of: 0x09, in: bytes, from: payload.lowerBound, to: payload.upperBound) else {
            return (try? JSONReader.parse(Array(bytes[payload]))).map { Entry(json: $0) }
        }
        guard let json = try? JSONReader.parse(Array(bytes[payload.lowerBound..<tab])) else { return nil }
        var records: [[UInt8]] = []
        var start = tab + 1
        while true {
            let end = offset(of: 0x09, in: bytes, from: start, to: payload.upperBound) ?? payload.upperBound
            records.append(Array(bytes[start..<end]))
            guard end < payload.upperBound else { break }
            start = end + 1
        }
        return Entry(json: json, records: records)
    }

    /// The index of the first `byte` in `bytes[from..<to]` (to: the end), by `memchr`.
    private static func offset(of byte: UInt8, in bytes: [UInt8], from: Int, to: Int? = nil) -> Int? {
        let end = to ?? bytes.count
        guard from < end else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let found = memchr(buffer.baseAddress! + from, Int32(byte), end - from) else { return nil }
            return buffer.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }
}
