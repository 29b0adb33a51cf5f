#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads JSON text strictly as RFC 8259 defines it.
///
/// Records are the durable truth of the store, so anything that is not exactly JSON is refused
/// with a precise error instead of being guessed at: NaN/Infinity, leading zeros or `+`, trailing
/// commas, comments, single quotes, raw control characters in strings, invalid UTF-8, unpaired
/// surrogate escapes, duplicate keys and excessive nesting. Whatever is accepted here is accepted
/// by every conforming JSON tool (jq, Python's `json`, browsers), which keeps record files portable.
///
/// Where RFC 8259 leaves a choice to the implementation, the reader decides (pinned by
/// `ConformanceTests`, whose `i_` cases are these):
/// - duplicate keys are refused, including keys that differ only in Unicode normalization (`é` and
///   `e` + U+0301): keys are Swift Strings, equal by canonical equivalence, so one would be unreachable;
/// - a byte order mark is refused (RFC 8259 §8.1: JSON text must not begin with one);
/// - escapes of lone or reversed UTF-16 surrogates (`\uD800`, `\uDC00\uD800`) are refused, since they
///   cannot become a Swift String without being altered;
/// - numbers: an integer literal that fits `Int64` is `.int` (`-0` is the integer 0), any other number is
///   the nearest `Double` (so big integers are rounded); a literal that rounds to infinity (`1e309`) is
///   refused like NaN, one that underflows (`1e-400`) is 0;
/// - nesting is limited to `maxDepth` (default 512) arrays and objects;
/// - only space, tab, LF and CR are whitespace (not form feed, NBSP or U+2028).
///
/// Parsing works directly on bytes without building intermediate Strings for numbers, since
/// loading tens of thousands of records per second is a requirement.
public struct JSONReader: Sendable {
    private init() {}

    /// Parses exactly one JSON value; whitespace around it is allowed, anything else is an error.
    ///
    /// - Parameter maxDepth: how many arrays/objects may be nested; deeper input is rejected with
    ///   `.tooDeeplyNested` rather than risking the stack (the parser itself never recurses).
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        guard let start = bytes.baseAddress, bytes.count > 0 else {
            throw JSONParseError(reason: .unexpectedEndOfInput, offset: 0, line: 1, column: 1)
        }
        var parser = JSONParser(base: start.assumingMemoryBound(to: UInt8.self), count: bytes.count, maxDepth: maxDepth)
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.pos < parser.end {
            throw parser.fail(.trailingCharacters, parser.pos)
        }
        return value
    }

    /// Parses exactly one JSON value from an array of bytes (for example a file's contents).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from a string's UTF-8.
    public static func parse(_ string: String, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(JSONParseError) -> JSONValue in try parse(UnsafeRawBufferPointer(utf8), maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses a stream of values separated by whitespace: JSON Lines, one pretty-printed value
    /// spread over many lines, or several values one after another.
    ///
    /// Calls `body` with each value and the 1-based line on which it starts, so that a caller
    /// loading a log can say which entry is bad. Stops at the first syntax error, which is thrown
    /// as a `JSONParseError` carrying the line and column; errors thrown by `body` are passed on
    /// unchanged and also stop the stream. Empty or all-whitespace input yields no values.
    ///
    /// A number or `true`/`false`/`null` must be followed by whitespace or the end of input
    /// (`1 2` is two values, `1x` is an error); strings, arrays and objects delimit themselves.
    public static func parseSequence(
        _ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512, _ body: (JSONValue, Int) throws -> Void
    ) throws {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return }
        let base = start.assumingMemoryBound(to: UInt8.self)
        var parser = JSONParser(base: base, count: bytes.count, maxDepth: maxDepth)
        var line = 1
        var linesCountedTo = 0
        while true {
            parser.skipWhitespace()
            let valueStart = parser.pos
            if valueStart >= parser.end { return }
            line += countNewlines(base + linesCountedTo, valueStart - linesCountedTo)
            linesCountedTo = valueStart
            let value = try parser.parseValue()
            let last = base[parser.pos - 1]
            if parser.pos < parser.end,
                last != UInt8(ascii: "\""), last != UInt8(ascii: "]"), last != UInt8(ascii: "}"),
                !JSONParser.isWhitespace(base[parser.pos])
            {
                throw parser.fail(.unexpectedCharacter(base[parser.pos]), parser.pos)
            }
            try body(value, line)
        }
    }

    private static func countNewlines(_ start: UnsafePointer<UInt8>, _ count: Int) -> Int {
        var lines = 0
        var p = UnsafeRawPointer(start)
        var remaining = count
        while remaining > 0, let hit = memchr(p, 0x0A, remaining) {
            lines += 1
            let consumed = UnsafeRawPointer(hit) - p + 1
            p += consumed
            remaining -= consumed
        }
        return lines
    }
}
