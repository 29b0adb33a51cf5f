import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

/// The append-only log of index changes since the last checkpoint (`memory_index.journal`).
///
/// Keeping `memory_index.json` current by rewriting it on every save would cost O(store size) per write.
/// Instead each change appends one line here — `<16 hex XXH3 of the JSON> <compact JSON>\n` — and the index is
/// rewritten only at checkpoints. Open replays the lines after the checkpoint's sequence number, so recovery
/// costs O(changes since the checkpoint).
///
/// The file itself is an ``AppendOnlyFile`` (group-committed appends).
enum Journal {
    /// Formats one journal line: checksum, space, compact JSON, newline.
    static func line(_ value: JSONValue) -> [UInt8] {
        let json = JSONWriter.compact(value)
        var out = Array(ContentHash.checksum(json).utf8)
        out.append(0x20)
        out.append(contentsOf: json)
        out.append(0x0A)
        return out
    }

    // MARK: Reading

    /// The result of reading a journal file.
    struct Contents {
        var entries: [JSONValue] = []
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

    private static func decode(_ line: ArraySlice<UInt8>) -> JSONValue? {
        guard line.count > 17, line[line.startIndex + 16] == 0x20 else { return nil }
        let checksum = String(decoding: line.prefix(16), as: UTF8.self)
        let json = Array(line.dropFirst(17))
        guard ContentHash.checksum(json) == checksum else { return nil }
        return try? JSONReader.parse(json)
    }
}
