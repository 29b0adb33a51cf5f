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
                precondition(!record.contains(0x09) && !record.contains(0x0A), "a journaled record must be minified JSON")
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
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            lines.append(bytes[start..<i])
            start = i + 1
        }
        let trailing = start < bytes.count
        for (number, line) in lines.enumerated() {
            if let value = decode(line) {
                contents.entries.append(value)
                contents.validByteCount = line.endIndex + 1
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

    private static func decode(_ line: ArraySlice<UInt8>) -> Entry? {
        guard line.count > 17, line[line.startIndex + 16] == 0x20 else { return nil }
        let checksum = String(decoding: line.prefix(16), as: UTF8.self)
        let payload = line.dropFirst(17)
        guard payload.withUnsafeBytes({ ContentHash.checksum($0) }) == checksum else { return nil }
        guard let tab = payload.firstIndex(of: 0x09) else {
            return (try? JSONReader.parse(Array(payload))).map { Entry(json: $0) }
        }
        guard let json = try? JSONReader.parse(Array(payload[..<tab])) else { return nil }
        let records = payload[payload.index(after: tab)...].split(separator: 0x09, omittingEmptySubsequences: false).map { Array($0) }
        return Entry(json: json, records: records)
    }
}
