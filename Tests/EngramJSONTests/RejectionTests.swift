import EngramJSON
import Testing

/// One input the reader must refuse, with the exact reason and position expected.
struct RejectionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var reason: JSONParseError.Reason
    var line: Int
    var column: Int
    var offset: Int

    init(_ name: String, _ input: String, _ reason: JSONParseError.Reason, line: Int = 1, column: Int, offset: Int? = nil) {
        self.init(name, Array(input.utf8), reason, line: line, column: column, offset: offset)
    }

    init(_ name: String, _ input: [UInt8], _ reason: JSONParseError.Reason, line: Int = 1, column: Int, offset: Int? = nil) {
        self.name = name
        self.input = input
        self.reason = reason
        self.line = line
        self.column = column
        // For single-line ASCII inputs the offset is column - 1.
        self.offset = offset ?? (column - 1)
    }

    var testDescription: String { name }
}

@Suite("JSONReader rejects everything RFC 8259 does not allow")
struct RejectionTests {
    static let cases: [RejectionCase] = [
        // Non-finite numbers get their own reason.
        RejectionCase("NaN", "NaN", .nonFiniteNumber, column: 1),
        RejectionCase("Infinity", "[1, Infinity]", .nonFiniteNumber, column: 5),
        RejectionCase("-Infinity", "-Infinity", .nonFiniteNumber, column: 1),
        RejectionCase("+Infinity", "+Infinity", .nonFiniteNumber, column: 1),
        RejectionCase("lowercase nan", #"{"x": nan}"#, .nonFiniteNumber, column: 7),
        RejectionCase("inf", "[inf]", .nonFiniteNumber, column: 2),
        RejectionCase("-inf", "-inf", .nonFiniteNumber, column: 1),
        RejectionCase("1e999 overflows", "1e999", .nonFiniteNumber, column: 1),
        RejectionCase("-1e999 overflows", "[0, -1e999]", .nonFiniteNumber, column: 5),
        RejectionCase("long overflowing mantissa", "1" + String(repeating: "0", count: 400), .nonFiniteNumber, column: 1),
        RejectionCase("NaN on line 3", "{\n  \"a\": 1,\n  \"b\": NaN\n}", .nonFiniteNumber, line: 3, column: 8, offset: 19),

        // Number grammar.
        RejectionCase("leading zero", "[01]", .invalidNumber, column: 2),
        RejectionCase("leading zero negative", "-012", .invalidNumber, column: 1),
        RejectionCase("leading plus", "+1", .invalidNumber, column: 1),
        RejectionCase("leading dot", ".5", .invalidNumber, column: 1),
        RejectionCase("trailing dot", "[1.]", .invalidNumber, column: 2),
        RejectionCase("dot before exponent", "1.e5", .invalidNumber, column: 1),
        RejectionCase("bare minus", "-", .invalidNumber, column: 1),
        RejectionCase("minus letter", "[-x]", .invalidNumber, column: 2),
        RejectionCase("empty exponent", "1e", .invalidNumber, column: 1),
        RejectionCase("signed empty exponent", "1e+", .invalidNumber, column: 1),
        RejectionCase("hex", "0x10", .trailingCharacters, column: 2),

        // Structure.
        RejectionCase("trailing comma in array", "[1, 2,]", .unexpectedCharacter(UInt8(ascii: "]")), column: 7),
        RejectionCase("trailing comma in object", #"{"a": 1,}"#, .unexpectedCharacter(UInt8(ascii: "}")), column: 9),
        RejectionCase("leading comma", "[,1]", .unexpectedCharacter(UInt8(ascii: ",")), column: 2),
        RejectionCase("missing comma", "[1 2]", .unexpectedCharacter(UInt8(ascii: "2")), column: 4),
        RejectionCase("missing colon", #"{"a" 1}"#, .unexpectedCharacter(UInt8(ascii: "1")), column: 6),
        RejectionCase("unquoted key", "{a: 1}", .unexpectedCharacter(UInt8(ascii: "a")), column: 2),
        RejectionCase("single quotes", "{'a': 1}", .unexpectedCharacter(UInt8(ascii: "'")), column: 2),
        RejectionCase("single-quoted value", "['a']", .unexpectedCharacter(UInt8(ascii: "'")), column: 2),
        RejectionCase("line comment", "// note\n1", .unexpectedCharacter(UInt8(ascii: "/")), column: 1),
        RejectionCase("block comment in array", "[1, /* two */ 2]", .unexpectedCharacter(UInt8(ascii: "/")), column: 5),
        RejectionCase("comment after value", "[1] // note", .trailingCharacters, column: 5),
        RejectionCase("second value", "1 2", .trailingCharacters, column: 3),
        RejectionCase("capitalised literal", "True", .unexpectedCharacter(UInt8(ascii: "T")), column: 1),
        RejectionCase("misspelled literal", "[nul]", .unexpectedCharacter(UInt8(ascii: "]")), column: 5),
        RejectionCase("literal with suffix", "nullx", .trailingCharacters, column: 5),
        RejectionCase("byte order mark", [0xEF, 0xBB, 0xBF, 0x31], .unexpectedCharacter(0xEF), column: 1),
        RejectionCase("mismatched bracket", "[1}", .unexpectedCharacter(UInt8(ascii: "}")), column: 3),

        // End of input.
        RejectionCase("empty", "", .unexpectedEndOfInput, column: 1),
        RejectionCase("only whitespace", "  \n ", .unexpectedEndOfInput, line: 2, column: 2, offset: 4),
        RejectionCase("unclosed array", "[1,", .unexpectedEndOfInput, column: 4),
        RejectionCase("unclosed object", #"{"a": 1"#, .unexpectedEndOfInput, column: 8),
        RejectionCase("key without value", #"{"a":"#, .unexpectedEndOfInput, column: 6),
        RejectionCase("unterminated string", #""abc"#, .unexpectedEndOfInput, column: 5),
        RejectionCase("truncated literal", "tru", .unexpectedEndOfInput, column: 4),
        RejectionCase("truncated escape", #""\u12"#, .unexpectedEndOfInput, column: 6),

        // Strings.
        RejectionCase("raw tab in string", "\"a\tb\"", .controlCharacterInString, column: 3),
        RejectionCase("raw newline in string", "[\"a\nb\"]", .controlCharacterInString, column: 4),
        RejectionCase("raw NUL after escape", [0x22, 0x5C, 0x6E, 0x00, 0x22], .controlCharacterInString, column: 4),
        RejectionCase("unknown escape", #""a\x""#, .invalidEscape, column: 3),
        RejectionCase("escaped single quote", #""\'""#, .invalidEscape, column: 2),
        RejectionCase("bad hex in \\u", #""\u12G4""#, .invalidEscape, column: 2),
        RejectionCase("lone high surrogate", #""\uD800""#, .loneSurrogate, column: 2),
        RejectionCase("lone low surrogate", #""ab\uDC00""#, .loneSurrogate, column: 4),
        RejectionCase("high surrogate then text", #""\uD83Dx""#, .loneSurrogate, column: 2),
        RejectionCase("high surrogate then non-surrogate", #""\uD83D\u0041""#, .loneSurrogate, column: 2),
        RejectionCase("two high surrogates", #""\uD83D\uD83D""#, .loneSurrogate, column: 2),
        RejectionCase("invalid byte FF", [0x22, 0x61, 0xFF, 0x22], .invalidUTF8, column: 3),
        RejectionCase("lone continuation byte", [0x22, 0x80, 0x22], .invalidUTF8, column: 2),
        RejectionCase("overlong slash", [0x22, 0xC0, 0xAF, 0x22], .invalidUTF8, column: 2),
        RejectionCase("overlong 3-byte", [0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8, column: 2),
        RejectionCase("encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, column: 2),
        RejectionCase("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, column: 2),
        RejectionCase("truncated sequence", [0x22, 0xE2, 0x82, 0x22], .invalidUTF8, column: 2),
        RejectionCase("truncated at end", [0x22, 0xE2, 0x82], .invalidUTF8, column: 2),
        RejectionCase("invalid UTF-8 in a key", [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D], .invalidUTF8, column: 3),
        RejectionCase("invalid UTF-8 after escape", [0x22, 0x5C, 0x6E, 0xFE, 0x22], .invalidUTF8, column: 4),

        // Duplicate keys.
        RejectionCase("duplicate key", #"{"a":1,"a":2}"#, .duplicateKey("a"), column: 8),
        RejectionCase("duplicate key nested", #"{"a":{"b":1,"c":2,"b":3}}"#, .duplicateKey("b"), column: 19),
        RejectionCase("duplicate escaped key", #"{"ab":1,"a\u0062":2}"#, .duplicateKey("ab"), column: 9),

        // Position counts Unicode scalars, not bytes.
        RejectionCase("column after non-ASCII", "[\"é😀\", x]", .unexpectedCharacter(UInt8(ascii: "x")), column: 8, offset: 11),
    ]

    @Test(arguments: cases)
    func rejects(_ c: RejectionCase) throws {
        let error = try #require(parseError(c.input))
        #expect(error.reason == c.reason)
        #expect(error.line == c.line)
        #expect(error.column == c.column)
        #expect(error.offset == c.offset)
    }

    @Test func duplicateKeyInLargeObject() throws {
        var members = (0..<40).map { "\"k\($0)\": \($0)" }
        members.append("\"k25\": 0")
        let error = try #require(parseError("{" + members.joined(separator: ", ") + "}"))
        #expect(error.reason == .duplicateKey("k25"))
        // Keys that are merely similar are fine.
        let distinct = (0..<40).map { "\"k\($0)\": \($0)" } + ["\"k25 \": 0", "\"K25\": 0"]
        #expect(parseError("{" + distinct.joined(separator: ", ") + "}") == nil)
    }

    @Test func hundredThousandOpenBracketsDoNotOverflowTheStack() throws {
        let input = String(repeating: "[", count: 100_000)
        let error = try #require(parseError(input))
        #expect(error.reason == .tooDeeplyNested(512))
        #expect(error.offset == 512)
        #expect(error.column == 513)
        // Even with the limit lifted the parser does not recurse; it runs out of input instead.
        let unlimited = try #require(parseError(input, maxDepth: Int.max))
        #expect(unlimited.reason == .unexpectedEndOfInput)
        #expect(unlimited.offset == 100_000)
    }

    @Test func depthLimitIsExact() throws {
        #expect(parseError("[[[1]]]", maxDepth: 3) == nil)
        #expect(parseError("[[[[1]]]]", maxDepth: 3)?.reason == .tooDeeplyNested(3))
        #expect(parseError(#"{"a":{"b":[{}]}}"#, maxDepth: 4) == nil)
        #expect(parseError(#"{"a":{"b":[{"c":1}]}}"#, maxDepth: 3)?.reason == .tooDeeplyNested(3))
        #expect(parseError("1", maxDepth: 0) == nil)
        #expect(parseError("[]", maxDepth: 0)?.reason == .tooDeeplyNested(0))
    }

    @Test func errorDescriptionNamesThePlaceAndTheProblem() throws {
        let error = try #require(parseError("{\n  \"a\": 1,\n  \"b\": NaN\n}"))
        #expect(error.description.hasPrefix("line 3, column 8: NaN"))
        #expect(error.description.contains("must be finite"))
        let dup = try #require(parseError(#"{"id":1,"id":2}"#))
        #expect(dup.description == #"line 1, column 9: duplicate key "id" in object"#)
        let bad = try #require(parseError("[1,]"))
        #expect(bad.description == "line 1, column 4: unexpected character ']'")
        let control = try #require(parseError([0x5B, 0x01]))
        #expect(control.description == "line 1, column 2: unexpected character 0x01")
    }
}
