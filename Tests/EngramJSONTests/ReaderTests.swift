import EngramJSON
import EngramTestSupport
import Testing

@Suite("JSONReader accepts valid JSON")
struct ReaderTests {
    @Test func scalars() throws {
        #expect(try JSONReader.parse("null") == .null)
        #expect(try JSONReader.parse("true") == .bool(true))
        #expect(try JSONReader.parse("false") == .bool(false))
        #expect(try JSONReader.parse("\"hi\"") == .string("hi"))
        #expect(try JSONReader.parse("0") == .int(0))
        #expect(try JSONReader.parse(" \t\r\n 42 \n") == .int(42))
    }

    @Test func integersAndDoublesAreDistinguished() throws {
        #expect(try JSONReader.parse("-0") == .int(0))
        #expect(try JSONReader.parse("-17") == .int(-17))
        #expect(try JSONReader.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONReader.parse("-9223372036854775808") == .int(Int64.min))
        // One past the Int64 range becomes a double.
        #expect(try JSONReader.parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try JSONReader.parse("-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try JSONReader.parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try JSONReader.parse("1.0") == .double(1.0))
        #expect(try JSONReader.parse("1e2") == .double(100.0))
        #expect(try JSONReader.parse("1E+2") == .double(100.0))
        #expect(try JSONReader.parse("-0.0") == .double(-0.0))
        #expect(try JSONReader.parse("-0.0").doubleValue?.sign == .minus)
        #expect(try JSONReader.parse("0.1") == .double(0.1))
        #expect(try JSONReader.parse("-2.5e-3") == .double(-0.0025))
        #expect(try JSONReader.parse("1e-05") == .double(1e-05))
        #expect(try JSONReader.parse("5e+20") == .double(5e+20))
        #expect(try JSONReader.parse("0e999") == .double(0))
    }

    @Test func extremeButFiniteNumbers() throws {
        #expect(try JSONReader.parse("1.7976931348623157e308") == .double(Double.greatestFiniteMagnitude))
        #expect(try JSONReader.parse("4.9406564584124654e-324") == .double(Double.leastNonzeroMagnitude))
        #expect(try JSONReader.parse("2.2250738585072014e-308") == .double(Double.leastNormalMagnitude))
        // Underflow to zero is finite, hence accepted.
        #expect(try JSONReader.parse("1e-999") == .double(0))
        // Many digits, more than fit in 64 bits, still round correctly.
        #expect(try JSONReader.parse("0.1000000000000000055511151231257827021181583404541015625") == .double(0.1))
        #expect(try JSONReader.parse("100000000000000000000000.5e-5") == .double(1.000000000000000000000000005e18))
    }

    /// Compares the reader's conversion with Swift's own correctly rounded `Double(String)` on
    /// random literals that exercise both the exact fast path and the strtod fallback.
    @Test func numberConversionMatchesCorrectRounding() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            let digitCount = Int.random(in: 1...25, using: &rng)
            var digits = ""
            for i in 0..<digitCount {
                let d = i == 0 ? Int.random(in: 1...9, using: &rng) : Int.random(in: 0...9, using: &rng)
                digits.append(Character(String(d)))
            }
            let point = Int.random(in: 0...digitCount, using: &rng)
            var literal = Bool.random(using: &rng) ? "-" : ""
            if point == 0 {
                literal += "0." + digits
            } else if point == digitCount {
                literal += digits + ".0"
            } else {
                literal += String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            }
            if Bool.random(using: &rng) {
                literal += "e" + String(Int.random(in: -320...300, using: &rng))
            }
            let expected = try #require(Double(literal))
            guard expected.isFinite else { continue }
            let parsed = try JSONReader.parse(literal)
            #expect(parsed == .double(expected), "\(literal)")
        }
    }

    @Test func strings() throws {
        #expect(try JSONReader.parse(#""""#) == .string(""))
        #expect(try JSONReader.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        #expect(try JSONReader.parse(#""\u0041\u00e9\u65E5""#) == .string("Aé日"))
        #expect(try JSONReader.parse(#""\u0000""#) == .string("\u{0}"))
        // A surrogate pair decodes to one scalar.
        #expect(try JSONReader.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONReader.parse(#""x\ud834\udd1ey""#) == .string("x𝄞y"))
        // Raw UTF-8 of every length passes through.
        #expect(try JSONReader.parse("\"café 日本 😀 \u{10FFFF}\"") == .string("café 日本 😀 \u{10FFFF}"))
        // Long ASCII runs (the 8-bytes-at-a-time path) with a special byte at every position.
        for i in 0..<40 {
            let s = String(repeating: "a", count: i) + "é" + String(repeating: "b", count: 40 - i)
            #expect(try JSONReader.parse("\"\(s)\"") == .string(s))
            let escaped = String(repeating: "a", count: i) + "\\n" + String(repeating: "b", count: 40 - i)
            let unescaped = String(repeating: "a", count: i) + "\n" + String(repeating: "b", count: 40 - i)
            #expect(try JSONReader.parse("\"\(escaped)\"") == .string(unescaped))
        }
    }

    @Test func containersKeepOrder() throws {
        let value = try JSONReader.parse(#"{"z": 1, "a": [true, null, "x", {}], "m": {"k": []}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["z"] == .int(1))
        #expect(object["a"] == .array([.bool(true), .null, .string("x"), .object(JSONObject())]))
        #expect(object["m"]?["k"] == .array([]))
        #expect(try JSONReader.parse("[]") == .array([]))
        #expect(try JSONReader.parse("{}") == .object(JSONObject()))
        #expect(try JSONReader.parse(" [ 1 , [ 2 , [ ] ] ] ") == .array([1, [2, []]]))
    }

    @Test func largeObjectsKeepOrderAndLookup() throws {
        var rng = SeededGenerator(seed: 3)
        let keys = (0..<100).map { "key\($0)" }.shuffled(using: &rng)
        let body = keys.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ",")
        let object = try #require(try JSONReader.parse("{\(body)}").objectValue)
        #expect(object.keys == keys)
        for (i, key) in keys.enumerated() {
            #expect(object[key] == .int(Int64(i)))
        }
        #expect(object["absent"] == nil)
    }

    @Test func allInputForms() throws {
        let json = #"{"a": [1, 2.5]}"#
        let expected: JSONValue = ["a": [1, 2.5]]
        #expect(try JSONReader.parse(json) == expected)
        #expect(try JSONReader.parse(Array(json.utf8)) == expected)
        let bytes = Array(json.utf8)
        let fromPointer = try bytes.withUnsafeBytes { raw throws(JSONParseError) in try JSONReader.parse(raw) }
        #expect(fromPointer == expected)
    }

    @Test func deepNestingWithinTheLimit() throws {
        let depth = 512
        let json = String(repeating: "[", count: depth) + "7" + String(repeating: "]", count: depth)
        var value = try JSONReader.parse(json)
        for _ in 0..<depth {
            let elements = try #require(value.arrayValue)
            #expect(elements.count == 1)
            value = elements[0]
        }
        #expect(value == .int(7))
        // Objects count towards depth as well.
        let objects = String(repeating: #"{"a":"#, count: 10) + "1" + String(repeating: "}", count: 10)
        #expect(try JSONReader.parse(objects, maxDepth: 10)["a"]?["a"] != nil)
    }
}
