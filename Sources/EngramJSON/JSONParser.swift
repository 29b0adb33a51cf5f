#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parsing engine behind `JSONReader`.
///
/// It is iterative (an explicit stack of open containers instead of recursion) so that no input,
/// however deeply nested, can overflow the thread's stack; the depth limit is a plain counter check.
/// It reads straight from the caller's bytes: strings without escapes are created from the input in
/// one step, numbers are converted from the bytes without building a String.
struct JSONParser {
    /// An array or object that has been opened and not yet closed.
    struct Frame {
        var isObject: Bool
        var elements: [JSONValue] = []
        var pairs: [JSONObject.Element] = []
        /// The key whose value is being parsed (objects only).
        var key: String = ""
        /// Key to position, built once an object has many keys so duplicate checks stay O(1).
        var index: [String: Int]? = nil
    }

    let base: UnsafePointer<UInt8>
    let end: Int
    let maxDepth: Int
    var pos: Int = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []
    var frames: [Frame] = []

    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        precondition(maxDepth >= 0, "maxDepth must not be negative")
        self.base = base
        self.end = count
        self.maxDepth = maxDepth
    }

    // MARK: Errors

    /// Builds the error for `offset`, computing line and column (only on the error path).
    func fail(_ reason: JSONParseError.Reason, _ offset: Int) -> JSONParseError {
        var line = 1
        var column = 1
        var i = 0
        let stop = min(offset, end)
        while i < stop {
            let b = base[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return JSONParseError(reason: reason, offset: offset, line: line, column: column)
    }

    // MARK: Whitespace

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    @inline(__always)
    static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool {
        c &- 0x30 < 10
    }

    // MARK: Values

    /// Parses one complete value starting at `pos` (leading whitespace allowed) and leaves `pos`
    /// just after it.
    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        let baseDepth = frames.count
        skipWhitespace()
        parsing: while true {
            guard pos < end else { throw fail(.unexpectedEndOfInput, pos) }
            var value: JSONValue
            switch base[pos] {
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "["):
                guard frames.count - baseDepth < maxDepth else { throw fail(.tooDeeplyNested(maxDepth), pos) }
                pos += 1
                skipWhitespace()
                if pos < end && base[pos] == UInt8(ascii: "]") {
                    pos += 1
                    value = .array([])
                } else {
                    frames.append(Frame(isObject: false))
                    continue parsing
                }
            case UInt8(ascii: "{"):
                guard frames.count - baseDepth < maxDepth else { throw fail(.tooDeeplyNested(maxDepth), pos) }
                pos += 1
                skipWhitespace()
                if pos < end && base[pos] == UInt8(ascii: "}") {
                    pos += 1
                    value = .object(JSONObject())
                } else {
                    frames.append(Frame(isObject: true))
                    try parseKeyAndColon()
                    continue parsing
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                if pos + 4 <= end && base[pos + 1] == UInt8(ascii: "u") && base[pos + 2] == UInt8(ascii: "l")
                    && base[pos + 3] == UInt8(ascii: "l")
                {
                    pos += 4
                } else {
                    if matchesNonFiniteWord(at: pos) { throw fail(.nonFiniteNumber, pos) }
                    try expectLiteral("null")
                }
                value = .null
            case let c:
                throw badValueStart(c)
            }

            // The value is complete: hand it to the enclosing container, closing every container
            // that ends right here.
            while true {
                if frames.count == baseDepth { return value }
                skipWhitespace()
                guard pos < end else { throw fail(.unexpectedEndOfInput, pos) }
                let c = base[pos]
                let top = frames.count - 1
                if frames[top].isObject {
                    frames[top].pairs.append((key: frames[top].key, value: value))
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        try parseKeyAndColon()
                        continue parsing
                    }
                    guard c == UInt8(ascii: "}") else { throw fail(.unexpectedCharacter(c), pos) }
                    pos += 1
                    let frame = frames.removeLast()
                    value = .object(JSONObject(uncheckedPairs: frame.pairs, index: frame.index))
                } else {
                    frames[top].elements.append(value)
                    if c == UInt8(ascii: ",") {
                        pos += 1
                        skipWhitespace()
                        continue parsing
                    }
                    guard c == UInt8(ascii: "]") else { throw fail(.unexpectedCharacter(c), pos) }
                    pos += 1
                    value = .array(frames.removeLast().elements)
                }
            }
        }
    }

    /// The error for a byte that cannot start a value, recognising the usual non-JSON spellings
    /// of numbers so the message says what is actually wrong.
    func badValueStart(_ c: UInt8) -> JSONParseError {
        if matchesNonFiniteWord(at: pos) { return fail(.nonFiniteNumber, pos) }
        if c == UInt8(ascii: "+") || c == UInt8(ascii: ".") {
            if pos + 1 < end && matchesNonFiniteWord(at: pos + 1) { return fail(.nonFiniteNumber, pos) }
            if pos + 1 < end && Self.isDigit(base[pos + 1]) { return fail(.invalidNumber, pos) }
        }
        return fail(.unexpectedCharacter(c), pos)
    }

    /// Whether `NaN`, `Infinity` or `Inf` (any case, as a whole word) starts at `start`.
    func matchesNonFiniteWord(at start: Int) -> Bool {
        func matches(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard start + n <= end else { return false }
            let w = word.utf8Start
            for i in 0..<n where base[start + i] | 0x20 != w[i] {
                return false
            }
            if start + n < end {
                let next = base[start + n] | 0x20
                if (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) || Self.isDigit(base[start + n]) {
                    return false
                }
            }
            return true
        }
        return matches("nan") || matches("infinity") || matches("inf")
    }

    /// Consumes `word` (true/false/null) at `pos`.
    @inline(__always)
    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for i in 0..<n {
            guard pos + i < end else { throw fail(.unexpectedEndOfInput, pos + i) }
            let c = base[pos + i]
            guard c == w[i] else { throw fail(.unexpectedCharacter(c), pos + i) }
        }
        pos += n
    }

    /// Reads `"key"`, checks it is new in the innermost object, then reads the `:`.
    mutating func parseKeyAndColon() throws(JSONParseError) {
        guard pos < end else { throw fail(.unexpectedEndOfInput, pos) }
        let c = base[pos]
        guard c == UInt8(ascii: "\"") else { throw fail(.unexpectedCharacter(c), pos) }
        let keyOffset = pos
        let key = try parseString()
        let top = frames.count - 1
        let count = frames[top].pairs.count
        if frames[top].index != nil {
            if frames[top].index![key] != nil { throw fail(.duplicateKey(key), keyOffset) }
            frames[top].index![key] = count
        } else {
            for pair in frames[top].pairs where pair.key == key {
                throw fail(.duplicateKey(key), keyOffset)
            }
            if count >= JSONObject.indexThreshold {
                var index = JSONObject.buildIndex(frames[top].pairs)
                index[key] = count
                frames[top].index = index
            }
        }
        frames[top].key = key
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEndOfInput, pos) }
        let colon = base[pos]
        guard colon == UInt8(ascii: ":") else { throw fail(.unexpectedCharacter(colon), pos) }
        pos += 1
        skipWhitespace()
    }

    // MARK: Strings

    /// Parses a string whose opening quote is at `pos`.
    mutating func parseString() throws(JSONParseError) -> String {
        let start = pos + 1
        var p = start
        while true {
            // Skip 8 plain ASCII bytes at a time (no quote, backslash, control or non-ASCII byte).
            while p + 8 <= end {
                let x = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let high: UInt64 = 0x8080_8080_8080_8080
                let quote = x ^ (ones &* 0x22)
                let slash = x ^ (ones &* 0x5C)
                let special = (x | ((x &- ones &* 0x20) & ~x)
                    | ((quote &- ones) & ~quote)
                    | ((slash &- ones) & ~slash)) & high
                if special != 0 { break }
                p += 8
            }
            guard p < end else { throw fail(.unexpectedEndOfInput, p) }
            let c = base[p]
            if c == UInt8(ascii: "\"") {
                pos = p + 1
                return String(decoding: UnsafeBufferPointer(start: base + start, count: p - start), as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                return try parseEscapedString(start: start, firstEscape: p)
            }
            if c < 0x20 { throw fail(.controlCharacterInString, p) }
            p = c < 0x80 ? p + 1 : try validateUTF8Sequence(at: p)
        }
    }

    /// The slow path for strings with escapes: decodes into `scratch`.
    mutating func parseEscapedString(start: Int, firstEscape: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: firstEscape - start))
        var p = firstEscape
        while true {
            guard p < end else { throw fail(.unexpectedEndOfInput, p) }
            let c = base[p]
            if c == UInt8(ascii: "\"") {
                pos = p + 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") {
                guard p + 1 < end else { throw fail(.unexpectedEndOfInput, p + 1) }
                switch base[p + 1] {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    let unit = try hex4(at: p + 2, escapeAt: p)
                    var scalar = UInt32(unit)
                    var length = 6
                    if unit >= 0xDC00 && unit <= 0xDFFF {
                        throw fail(.loneSurrogate, p)
                    }
                    if unit >= 0xD800 && unit <= 0xDBFF {
                        guard p + 7 < end, base[p + 6] == UInt8(ascii: "\\"), base[p + 7] == UInt8(ascii: "u") else {
                            throw fail(.loneSurrogate, p)
                        }
                        let low = try hex4(at: p + 8, escapeAt: p + 6)
                        guard low >= 0xDC00 && low <= 0xDFFF else { throw fail(.loneSurrogate, p) }
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        length = 12
                    }
                    appendUTF8(scalar)
                    p += length
                    continue
                default:
                    throw fail(.invalidEscape, p)
                }
                p += 2
                continue
            }
            if c < 0x20 { throw fail(.controlCharacterInString, p) }
            if c < 0x80 {
                scratch.append(c)
                p += 1
            } else {
                let next = try validateUTF8Sequence(at: p)
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + p, count: next - p))
                p = next
            }
        }
    }

    /// The four hex digits of a `\u` escape starting at `at`.
    func hex4(at start: Int, escapeAt: Int) throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for i in 0..<4 {
            guard start + i < end else { throw fail(.unexpectedEndOfInput, start + i) }
            let c = base[start + i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape, escapeAt)
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Checks the multi-byte UTF-8 sequence whose lead byte is at `p` (Unicode 15 table 3-7: no
    /// overlong forms, no surrogates, nothing above U+10FFFF) and returns the offset after it.
    func validateUTF8Sequence(at p: Int) throws(JSONParseError) -> Int {
        let lead = base[p]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail(.invalidUTF8, p)
        }
        guard p + length <= end else { throw fail(.invalidUTF8, p) }
        let second = base[p + 1]
        guard second >= low && second <= high else { throw fail(.invalidUTF8, p) }
        var i = 2
        while i < length {
            guard base[p + i] & 0xC0 == 0x80 else { throw fail(.invalidUTF8, p) }
            i += 1
        }
        return p + length
    }

    // MARK: Numbers

    /// Exact powers of ten that a Double represents exactly (10^0 ... 10^22).
    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses a number at `pos` following RFC 8259's grammar exactly.
    ///
    /// Digits are accumulated into an integer while reading. Integers that fit become `.int`;
    /// decimals with at most 15-16 significant digits and a small exponent (which covers every
    /// shortest-form Float, i.e. embeddings) are converted exactly with one multiplication or
    /// division (Clinger's fast path); anything else goes to the C library's correctly rounded
    /// `strtod`, fed from a stack buffer.
    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        var p = pos
        var negative = false
        if base[p] == UInt8(ascii: "-") {
            negative = true
            p += 1
            guard p < end, Self.isDigit(base[p]) else {
                if p < end && matchesNonFiniteWord(at: p) { throw fail(.nonFiniteNumber, start) }
                throw fail(.invalidNumber, start)
            }
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        /// A nonzero digit did not fit in `mantissa`, so `mantissa * 10^exponent` is inexact.
        var truncated = false
        /// Power of ten to apply to `mantissa`.
        var exponent = 0

        let integerStart = p
        if base[p] == UInt8(ascii: "0") {
            p += 1
            if p < end && Self.isDigit(base[p]) { throw fail(.invalidNumber, start) }
        } else {
            while p < end {
                let d = base[p] &- 0x30
                guard d < 10 else { break }
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significantDigits += 1
                } else {
                    exponent += 1
                    if d != 0 { truncated = true }
                }
                p += 1
            }
        }
        let integerEnd = p

        var isInteger = true
        var fractionStart = p
        var fractionEnd = p
        if p < end && base[p] == UInt8(ascii: ".") {
            isInteger = false
            p += 1
            fractionStart = p
            while p < end {
                let d = base[p] &- 0x30
                guard d < 10 else { break }
                if mantissa == 0 && d == 0 {
                    exponent -= 1
                } else if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    significantDigits += 1
                    exponent -= 1
                } else if d != 0 {
                    truncated = true
                }
                p += 1
            }
            fractionEnd = p
            guard fractionEnd > fractionStart else { throw fail(.invalidNumber, start) }
        }

        var explicitExponent = 0
        if p < end && (base[p] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            p += 1
            var exponentNegative = false
            if p < end && (base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-")) {
                exponentNegative = base[p] == UInt8(ascii: "-")
                p += 1
            }
            let digitsStart = p
            while p < end {
                let d = base[p] &- 0x30
                guard d < 10 else { break }
                // Saturate: anything this large is 0 or infinity anyway.
                if explicitExponent < 100_000_000 { explicitExponent = explicitExponent * 10 + Int(d) }
                p += 1
            }
            guard p > digitsStart else { throw fail(.invalidNumber, start) }
            if exponentNegative { explicitExponent = -explicitExponent }
            exponent += explicitExponent
        }
        pos = p

        if isInteger && !truncated && exponent == 0 {
            if negative {
                if mantissa <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- mantissa)) }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }

        if mantissa == 0 {
            return .double(negative ? -0.0 : 0.0)
        }
        if !truncated && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var d = Double(mantissa)
            if exponent < 0 {
                d /= Self.powersOfTen[-exponent]
            } else {
                d *= Self.powersOfTen[exponent]
            }
            return .double(negative ? -d : d)
        }

        let d = Self.slowDouble(
            base: base, negative: negative,
            integerDigits: integerStart..<integerEnd, fractionDigits: fractionStart..<fractionEnd,
            exponent: explicitExponent)
        guard d.isFinite else { throw fail(.nonFiniteNumber, start) }
        return .double(d)
    }

    /// Correctly rounded conversion via `strtod`.
    ///
    /// The number is rewritten as `[-]DIGITSe<exp>` (the fraction's digits appended to the integer's,
    /// the exponent adjusted), so there is no decimal point for the C locale machinery to
    /// misinterpret when a host program has called `setlocale` with a comma-decimal locale.
    static func slowDouble(
        base: UnsafePointer<UInt8>, negative: Bool,
        integerDigits: Range<Int>, fractionDigits: Range<Int>, exponent: Int
    ) -> Double {
        let capacity = integerDigits.count + fractionDigits.count + 32
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer -> Double in
            var n = 0
            if negative {
                buffer[n] = UInt8(ascii: "-")
                n += 1
            }
            for i in integerDigits {
                buffer[n] = base[i]
                n += 1
            }
            for i in fractionDigits {
                buffer[n] = base[i]
                n += 1
            }
            buffer[n] = UInt8(ascii: "e")
            n += 1
            var e = exponent - fractionDigits.count
            if e < 0 {
                buffer[n] = UInt8(ascii: "-")
                n += 1
                e = -e
            }
            // Write the exponent's digits, most significant first.
            let digitsStart = n
            repeat {
                buffer[n] = UInt8(ascii: "0") + UInt8(e % 10)
                n += 1
                e /= 10
            } while e > 0
            var i = digitsStart
            var j = n - 1
            while i < j {
                buffer.swapAt(i, j)
                i += 1
                j -= 1
            }
            buffer[n] = 0
            return buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: n + 1) { strtod($0, nil) }
        }
    }
}
