/// Writes JSON text, either pretty-printed for record files or compact for JSON Lines.
///
/// The pretty form matches Python's `json.dumps(obj, indent=2, ensure_ascii=False)` and jq's
/// default output byte for byte (2-space indent, `"key": value`, one array element per line, `[]`
/// and `{}` for empty containers), because record files are meant to be read, diffed and edited by
/// people with those tools, and rewriting an unchanged record must not produce a diff.
///
/// Strings keep non-ASCII characters as UTF-8; only `"`, `\`, control characters (as `\n`, `\t`,
/// `\r`, `\b`, `\f` or `\u00XX`) and U+2028/U+2029 (which break JavaScript string literals) are
/// escaped. `/` is not escaped.
///
/// Numbers use Swift's shortest round-trip form (`description`): `0.1` stays `0.1`, integral
/// doubles keep their `.0` (`2.0`) so they read back as doubles, and exponents look like `1e-05`
/// or `5e+20`, all valid JSON that reads back to the identical value. NaN and infinity have no JSON
/// form: writing one is a programming error and stops the program (`precondition`), so callers
/// must validate values that come from outside before writing them.
///
/// Besides the one-shot `pretty(_:)`/`compact(_:)`, the writer can be driven call by call
/// (`beginObject`, `key`, `floatArray`, ...) so that a record with a 384-float embedding is written
/// without first building 384 `JSONValue`s. Misuse of the call sequence (a value in an object
/// without a key, unbalanced ends) stops the program.
public struct JSONWriter: Sendable {
    /// The output bytes; also a `TextOutputStream` so Swift's float printing writes straight into it.
    struct Output: TextOutputStream, Sendable {
        var bytes: [UInt8] = []

        mutating func write(_ string: String) {
            var string = string
            string.withUTF8 { bytes.append(contentsOf: $0) }
        }

        /// The standard library hands its number formatting to this requirement when present,
        /// which avoids creating a String for every number (the fallback above stays correct).
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
            bytes.append(contentsOf: buffer)
        }
    }

    private struct Container: Sendable {
        var isObject: Bool
        var count: Int
    }

    private var out = Output()
    private let isPretty: Bool
    private var stack: [Container] = []
    private var afterKey = false
    private var topLevelValues = 0
    /// Only for `description`: writes NaN/infinity as Swift does instead of stopping.
    private var allowNonFinite = false

    /// A writer producing pretty (`pretty == true`) or compact JSON.
    ///
    /// Several top-level values may be written one after another; they are separated by a
    /// newline, which makes a compact writer a JSON Lines writer.
    public init(pretty: Bool) {
        isPretty = pretty
        out.bytes.reserveCapacity(1024)
    }

    /// The JSON text as Python's `json.dumps(indent=2)` prints it, followed by one newline (as jq
    /// and text files do) unless `trailingNewline` is false.
    public static func pretty(_ value: JSONValue, trailingNewline: Bool = true) -> [UInt8] {
        var writer = JSONWriter(pretty: true)
        writer.value(value)
        return writer.finish(trailingNewline: trailingNewline)
    }

    /// The JSON text on one line with no spaces (`{"a":1,"b":[1,2]}`), for JSON Lines.
    public static func compact(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter(pretty: false)
        writer.value(value)
        return writer.finish()
    }

    /// Valid JSON text with its insignificant whitespace removed (what `compact` would print for the same
    /// value, without parsing it: numbers and strings are kept as written). The store's journal carries each
    /// record file in this form, one line per commit, at the cost of one pass over the bytes.
    /// The input must be valid JSON (text this writer produced); anything else is copied unchanged in part.
    public static func minified(_ json: [UInt8]) -> [UInt8] {
        // Unsafe buffers, not `append`: this runs on every save over a whole record (~7 KB with a 384-float
        // embedding), and the checked loop showed in profiles.
        json.withUnsafeBufferPointer { input -> [UInt8] in
            [UInt8](unsafeUninitializedCapacity: input.count) { output, count in
                var n = 0
                var inString = false
                var escaped = false
                for byte in input {
                    if inString {
                        output[n] = byte
                        n += 1
                        if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                    } else if byte != 0x20 && byte != 0x0A && byte != 0x09 && byte != 0x0D {
                        if byte == 0x22 { inString = true }
                        output[n] = byte
                        n += 1
                    }
                }
                count = n
            }
        }
    }

    /// Like `compact` but tolerant of non-finite doubles; used for `description` only.
    static func debugText(_ value: JSONValue) -> String {
        var writer = JSONWriter(pretty: false)
        writer.allowNonFinite = true
        writer.value(value)
        return String(decoding: writer.out.bytes, as: UTF8.self)
    }

    /// The text written so far.
    public var bytes: [UInt8] { out.bytes }

    /// The finished text. Every array and object must have been closed.
    public consuming func finish(trailingNewline: Bool = false) -> [UInt8] {
        precondition(stack.isEmpty && !afterKey, "JSONWriter.finish: an array or object is still open")
        if trailingNewline { out.bytes.append(0x0A) }
        return out.bytes
    }

    // MARK: Streaming calls

    /// Opens an object; follow with `key`/value pairs and `endObject`.
    public mutating func beginObject() {
        beforeValue()
        out.bytes.append(UInt8(ascii: "{"))
        stack.append(Container(isObject: true, count: 0))
    }

    /// Closes the innermost object.
    public mutating func endObject() {
        precondition(stack.last?.isObject == true && !afterKey, "JSONWriter.endObject: no open object, or a key without a value")
        let container = stack.removeLast()
        if container.count > 0 { newline(depth: stack.count) }
        out.bytes.append(UInt8(ascii: "}"))
    }

    /// Opens an array; follow with values and `endArray`.
    public mutating func beginArray() {
        beforeValue()
        out.bytes.append(UInt8(ascii: "["))
        stack.append(Container(isObject: false, count: 0))
    }

    /// Closes the innermost array.
    public mutating func endArray() {
        precondition(stack.last?.isObject == false, "JSONWriter.endArray: no open array")
        let container = stack.removeLast()
        if container.count > 0 { newline(depth: stack.count) }
        out.bytes.append(UInt8(ascii: "]"))
    }

    /// Writes the next key of the innermost object; the next call must write its value. Keeping
    /// keys unique is the caller's job (the reader rejects duplicates).
    public mutating func key(_ k: String) {
        precondition(stack.last?.isObject == true && !afterKey, "JSONWriter.key: not inside an object, or the previous key has no value")
        if stack[stack.count - 1].count > 0 { out.bytes.append(UInt8(ascii: ",")) }
        stack[stack.count - 1].count += 1
        newline(depth: stack.count)
        writeString(k)
        out.bytes.append(UInt8(ascii: ":"))
        if isPretty { out.bytes.append(UInt8(ascii: " ")) }
        afterKey = true
    }

    /// Writes a whole value (nested containers are formatted like the rest of the output).
    public mutating func value(_ v: JSONValue) {
        beforeValue()
        writeValue(v, depth: stack.count)
    }

    /// Writes a string value.
    public mutating func string(_ s: String) {
        beforeValue()
        writeString(s)
    }

    /// Writes an integer value.
    public mutating func int(_ i: Int64) {
        beforeValue()
        writeInt(i)
    }

    /// Writes a double in its shortest round-trip form. `d` must be finite.
    public mutating func double(_ d: Double) {
        beforeValue()
        writeDouble(d)
    }

    /// Writes a float in its shortest round-trip form as a Float (`0.1`, not
    /// `0.10000000149011612`). `f` must be finite.
    public mutating func float(_ f: Float) {
        beforeValue()
        writeFloat(f)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ b: Bool) {
        beforeValue()
        appendLiteral(b ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        beforeValue()
        appendLiteral("null")
    }

    /// Writes an array of floats (an embedding), each in Float's shortest round-trip form, one per
    /// line when pretty. Every value must be finite.
    public mutating func floatArray(_ values: [Float]) {
        beforeValue()
        if values.isEmpty {
            appendLiteral("[]")
            return
        }
        let depth = stack.count
        out.bytes.reserveCapacity(out.bytes.count + values.count * (isPretty ? 2 * depth + 16 : 14))
        out.bytes.append(UInt8(ascii: "["))
        var first = true
        for f in values {
            if !first { out.bytes.append(UInt8(ascii: ",")) }
            first = false
            newline(depth: depth + 1)
            writeFloat(f)
        }
        newline(depth: depth)
        out.bytes.append(UInt8(ascii: "]"))
    }

    // MARK: Formatting

    /// Separators and indentation before a value, and checks that a value is allowed here.
    private mutating func beforeValue() {
        if afterKey {
            afterKey = false
            return
        }
        if stack.isEmpty {
            if topLevelValues > 0 { out.bytes.append(0x0A) }
            topLevelValues += 1
            return
        }
        let top = stack.count - 1
        precondition(!stack[top].isObject, "JSONWriter: a value inside an object needs a key first")
        if stack[top].count > 0 { out.bytes.append(UInt8(ascii: ",")) }
        stack[top].count += 1
        newline(depth: stack.count)
    }

    @inline(__always)
    private mutating func newline(depth: Int) {
        guard isPretty else { return }
        out.bytes.append(0x0A)
        for _ in 0..<(2 * depth) { out.bytes.append(0x20) }
    }

    private mutating func appendLiteral(_ text: StaticString) {
        out.bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func writeValue(_ v: JSONValue, depth: Int) {
        switch v {
        case .null:
            appendLiteral("null")
        case .bool(let b):
            appendLiteral(b ? "true" : "false")
        case .int(let i):
            writeInt(i)
        case .double(let d):
            writeDouble(d)
        case .string(let s):
            writeString(s)
        case .array(let elements):
            if elements.isEmpty {
                appendLiteral("[]")
                return
            }
            out.bytes.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { out.bytes.append(UInt8(ascii: ",")) }
                first = false
                newline(depth: depth + 1)
                writeValue(element, depth: depth + 1)
            }
            newline(depth: depth)
            out.bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                appendLiteral("{}")
                return
            }
            out.bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in object {
                if !first { out.bytes.append(UInt8(ascii: ",")) }
                first = false
                newline(depth: depth + 1)
                writeString(key)
                out.bytes.append(UInt8(ascii: ":"))
                if isPretty { out.bytes.append(UInt8(ascii: " ")) }
                writeValue(value, depth: depth + 1)
            }
            newline(depth: depth)
            out.bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func writeInt(_ i: Int64) {
        var magnitude = i.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 20
            repeat {
                n -= 1
                digits[n] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if i < 0 { out.bytes.append(UInt8(ascii: "-")) }
            out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n..<20]))
        }
    }

    private mutating func writeDouble(_ d: Double) {
        guard d.isFinite else {
            precondition(allowNonFinite, "JSONWriter: NaN and infinity have no JSON representation")
            d.write(to: &out)
            return
        }
        d.write(to: &out)
    }

    private mutating func writeFloat(_ f: Float) {
        guard f.isFinite else {
            precondition(allowNonFinite, "JSONWriter: NaN and infinity have no JSON representation")
            f.write(to: &out)
            return
        }
        f.write(to: &out)
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Writes `s` as a JSON string literal, copying runs of bytes that need no escaping at once.
    private mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            out.bytes.append(UInt8(ascii: "\""))
            var runStart = 0
            var i = 0
            let n = utf8.count
            while i < n {
                let c = utf8[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") && c != 0xE2 {
                    i += 1
                    continue
                }
                if c == 0xE2 {
                    // U+2028 / U+2029 are E2 80 A8 / E2 80 A9.
                    guard i + 2 < n, utf8[i + 1] == 0x80, utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9 else {
                        i += 1
                        continue
                    }
                    out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                    appendLiteral(utf8[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                    i += 3
                    runStart = i
                    continue
                }
                out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                switch c {
                case UInt8(ascii: "\""): appendLiteral("\\\"")
                case UInt8(ascii: "\\"): appendLiteral("\\\\")
                case 0x0A: appendLiteral("\\n")
                case 0x09: appendLiteral("\\t")
                case 0x0D: appendLiteral("\\r")
                case 0x08: appendLiteral("\\b")
                case 0x0C: appendLiteral("\\f")
                default:
                    appendLiteral("\\u00")
                    let hex = Self.hexDigits.utf8Start
                    out.bytes.append(hex[Int(c >> 4)])
                    out.bytes.append(hex[Int(c & 0xF)])
                }
                i += 1
                runStart = i
            }
            out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n]))
            out.bytes.append(UInt8(ascii: "\""))
        }
    }
}
