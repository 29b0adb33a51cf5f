import Engram
import EngramJSON

/// What `engram-fuzz` does with one input, in the libFuzzer build and in the regression runner alike.
///
/// The input is treated as a record file and as a line of `put` input, through the same entry points
/// the store and the CLI use (`JSONReader`, `MemoryEntry.decodeFile`, `MemoryEntry(json:strict:false)`,
/// the assembly equivalents). Rejecting an input is fine; what must never happen is a crash (a trap, a
/// failed precondition, an out-of-bounds read caught by ASan) or a broken promise, which `check`
/// returns as a message:
/// - whatever the reader accepts is valid UTF-8 and prints (pretty and compact) to text that reads
///   back to an equal value, and printing that again gives the same bytes;
/// - `parse`, `parse` of the same text as a String, and `parseSequence` agree on a single value;
/// - an error's position (from `parse` or `parseSequence`) lies inside the input;
/// - a record that decodes writes a file that decodes to an equal record (and the same bytes again), and whatever `put` accepts
///   writes a file that the store can read back (so nothing is acknowledged that cannot be loaded).
enum FuzzCheck {
    static func check(_ bytes: [UInt8]) -> String? {
        // The sequence reader (journal lines, JSON Lines) runs on every input, not only on accepted ones,
        // so that its error paths meet hostile bytes too.
        let sequence = readSequence(bytes)
        if case .failure(let error) = sequence, let problem = checkPosition(error, bytes) { return problem }
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            return checkPosition(error, bytes)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return "accepted input that is not valid UTF-8" }
        guard (try? JSONReader.parse(text)) == value else { return "parsing the input as a String gives a different value" }
        guard case .success(let values) = sequence, values == [value] else {
            return "parse accepted one value but parseSequence gave \(sequence)"
        }
        if let problem = checkRoundTrip(value) { return problem }
        return checkRecords(bytes, value)
    }

    private static func checkPosition(_ error: JSONParseError, _ bytes: [UInt8]) -> String? {
        guard error.offset >= 0, error.offset <= bytes.count, error.line >= 1, error.column >= 1,
            error.column <= error.offset + 1
        else {
            return "error position out of range: offset \(error.offset) of \(bytes.count), \(error)"
        }
        return nil
    }

    private static func readSequence(_ bytes: [UInt8]) -> Result<[JSONValue], JSONParseError> {
        var values: [JSONValue] = []
        do {
            try bytes.withUnsafeBytes { raw in try JSONReader.parseSequence(raw) { v, _ in values.append(v) } }
        } catch let error as JSONParseError {
            return .failure(error)
        } catch {
            fatalError("parseSequence threw \(error), which is not a JSONParseError")
        }
        return .success(values)
    }

    private static func checkRoundTrip(_ value: JSONValue) -> String? {
        let pretty = JSONWriter.pretty(value)
        let compact = JSONWriter.compact(value)
        for (name, text) in [("pretty", pretty), ("compact", compact)] {
            guard let again = try? JSONReader.parse(text) else { return "the \(name) form does not parse: \(printable(text))" }
            guard again == value else { return "the \(name) form reads back as a different value: \(value) vs \(again)" }
            let reprinted = name == "pretty" ? JSONWriter.pretty(again) : JSONWriter.compact(again)
            guard reprinted == text else { return "printing the \(name) form again changes it: \(printable(text))" }
        }
        return nil
    }

    private static func checkRecords(_ bytes: [UInt8], _ value: JSONValue) -> String? {
        if let memory = try? MemoryEntry.decodeFile(bytes, path: "fuzz", expectedID: nil) {
            let file = memory.jsonBytes()
            guard let again = try? MemoryEntry.decodeFile(file, path: "fuzz", expectedID: memory.id) else {
                return "a memory's own file does not decode: \(printable(file))"
            }
            guard again == memory, again.jsonBytes() == file else { return "a memory changes when written and read again" }
        }
        if let input = try? MemoryEntry(json: value, source: "fuzz", strict: false, operation: "put") {
            let file = input.jsonBytes()
            if (try? MemoryEntry.decodeFile(file, path: "fuzz", expectedID: input.id)) == nil {
                return "put accepts a memory whose file does not decode: \(printable(file))"
            }
        }
        if let assembly = try? MemoryAssembly.decodeFile(bytes, path: "fuzz", expectedID: nil) {
            let file = assembly.jsonBytes()
            guard let again = try? MemoryAssembly.decodeFile(file, path: "fuzz", expectedID: assembly.id) else {
                return "an assembly's own file does not decode: \(printable(file))"
            }
            guard again == assembly, again.jsonBytes() == file else { return "an assembly changes when written and read again" }
        }
        if let input = try? MemoryAssembly(json: value, source: "fuzz", strict: false, operation: "assembly put") {
            let file = input.jsonBytes()
            if (try? MemoryAssembly.decodeFile(file, path: "fuzz", expectedID: input.id)) == nil {
                return "assembly put accepts an assembly whose file does not decode: \(printable(file))"
            }
        }
        return nil
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(500), as: UTF8.self)
    }
}
