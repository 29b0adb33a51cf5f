import EngramJSON
import Testing

/// One case of the conformance table, named after nst/JSONTestSuite: `y_` must be accepted (with the value
/// given), `n_` must be rejected (RFC 8259 forbids it), `i_` is where the RFC leaves the choice to the
/// implementation and this reader's documented choice (see `JSONReader`) is pinned down.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        case accept(JSONValue)
        case reject(JSONParseError.Reason)
    }

    var name: String
    var input: [UInt8]
    var outcome: Outcome

    init(_ name: String, _ input: String, _ outcome: Outcome) {
        self.init(name, Array(input.utf8), outcome)
    }

    init(_ name: String, _ input: [UInt8], _ outcome: Outcome) {
        self.name = name
        self.input = input
        self.outcome = outcome
    }

    var testDescription: String { name }
}

/// The edge cases of the JSON grammar as one table. `RejectionTests` pins the exact error position of
/// many `n_` inputs and `ReaderTests` the exact conversion of numbers; this table adds the cases they do
/// not have so that every corner of RFC 8259 (numbers, strings, whitespace, structure, depth) is decided.
@Suite("JSON conformance (JSONTestSuite-style y_/n_/i_ table)")
struct ConformanceTests {
    static let nested512 = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
    static let nested513 = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
    static let objects513 = String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513)

    static let cases: [ConformanceCase] = [
        // MARK: Numbers
        ConformanceCase("y_number_negative_zero_is_the_integer_0", "-0", .accept(.int(0))),
        ConformanceCase("y_number_negative_zero_double", "-0e0", .accept(.double(-0.0))),
        ConformanceCase("y_number_zero_fraction", "0.0", .accept(.double(0))),
        ConformanceCase("y_number_capital_E", "1E2", .accept(.double(100))),
        ConformanceCase("y_number_capital_E_minus", "[1E-2]", .accept([.double(0.01)])),
        ConformanceCase("y_number_exponent_leading_zeros", "1e007", .accept(.double(1e7))),
        ConformanceCase("y_number_fraction_and_exponent", "-123.456e+2", .accept(.double(-12345.6))),
        ConformanceCase("y_number_int64_max", "9223372036854775807", .accept(.int(Int64.max))),
        ConformanceCase("y_number_after_space", "[ 4]", .accept([.int(4)])),
        ConformanceCase("i_number_big_integer_becomes_a_rounded_double", "18446744073709551616", .accept(.double(18446744073709551616.0))),
        ConformanceCase("i_number_huge_negative_integer", "-123456789012345678901234567890", .accept(.double(-1.2345678901234568e29))),
        ConformanceCase("i_number_underflow_is_zero", "[1e-400]", .accept([.double(0)])),
        ConformanceCase("i_number_very_big_negative_exponent", "1.5e-99999999999999999999", .accept(.double(0))),
        ConformanceCase("i_number_zero_with_huge_exponent", "0e99999999999", .accept(.double(0))),
        ConformanceCase("i_number_overflow_rejected", "[1e309]", .reject(.nonFiniteNumber)),
        ConformanceCase("i_number_huge_exponent_rejected", "0.4e0066999999999999999999999999999999999", .reject(.nonFiniteNumber)),
        ConformanceCase("i_number_negative_overflow_rejected", "-1.0e400", .reject(.nonFiniteNumber)),
        ConformanceCase("n_number_leading_zero_then_digits", "00", .reject(.invalidNumber)),
        ConformanceCase("n_number_minus_leading_zero", "[-01]", .reject(.invalidNumber)),
        ConformanceCase("n_number_minus_space", "- 1", .reject(.invalidNumber)),
        ConformanceCase("n_number_only_minus_in_array", "[-]", .reject(.invalidNumber)),
        ConformanceCase("n_number_trailing_dot", "2.", .reject(.invalidNumber)),
        ConformanceCase("n_number_dot_exponent", ".e1", .reject(.unexpectedCharacter(UInt8(ascii: ".")))),
        ConformanceCase("n_number_leading_dot", "[.5]", .reject(.invalidNumber)),
        ConformanceCase("n_number_fraction_exponent", "1e1.5", .reject(.trailingCharacters)),
        ConformanceCase("n_number_exponent_sign_only", "[1.5e-]", .reject(.invalidNumber)),
        ConformanceCase("n_number_two_signs", "--1", .reject(.invalidNumber)),
        ConformanceCase("n_number_plus_plus", "[++1]", .reject(.unexpectedCharacter(UInt8(ascii: "+")))),
        ConformanceCase("n_number_NaN", "[NaN]", .reject(.nonFiniteNumber)),
        ConformanceCase("n_number_minus_NaN", "[-NaN]", .reject(.nonFiniteNumber)),
        ConformanceCase("n_number_Infinity", "Infinity", .reject(.nonFiniteNumber)),
        ConformanceCase("n_number_minus_Infinity", "[-Infinity]", .reject(.nonFiniteNumber)),
        ConformanceCase("n_number_hex", "[0x1F]", .reject(.unexpectedCharacter(UInt8(ascii: "x")))),
        ConformanceCase("n_number_comma_decimal", "[1,5.]", .reject(.invalidNumber)),

        // MARK: Strings
        ConformanceCase("y_string_every_short_escape", #""\"\\\/\b\f\n\r\t""#, .accept(.string("\"\\/\u{08}\u{0C}\n\r\t"))),
        ConformanceCase("y_string_escaped_NUL", #""a\u0000b""#, .accept(.string("a\u{0}b"))),
        ConformanceCase("y_string_unicode_escape_lowercase_and_uppercase", #""\u00e9\u00E9""#, .accept(.string("éé"))),
        ConformanceCase("y_string_surrogate_pair", #""\uD834\uDD1E""#, .accept(.string("𝄞"))),
        ConformanceCase("y_string_escaped_U+2028", #""\u2028""#, .accept(.string("\u{2028}"))),
        ConformanceCase("y_string_raw_U+2028_and_U+2029", [0x22, 0xE2, 0x80, 0xA8, 0xE2, 0x80, 0xA9, 0x22], .accept(.string("\u{2028}\u{2029}"))),
        ConformanceCase("y_string_raw_DEL", [0x22, 0x7F, 0x22], .accept(.string("\u{7F}"))),
        ConformanceCase("y_string_raw_4_byte_UTF-8", [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22], .accept(.string("😀"))),
        ConformanceCase("y_string_U+FFFF_noncharacter", [0x22, 0xEF, 0xBF, 0xBF, 0x22], .accept(.string("\u{FFFF}"))),
        ConformanceCase("y_string_U+10FFFF", #""\uDBFF\uDFFF""#, .accept(.string("\u{10FFFF}"))),
        ConformanceCase("n_string_reversed_surrogates", #""\uDC00\uD800""#, .reject(.loneSurrogate)),
        ConformanceCase("n_string_high_surrogate_at_end", #"["\uD800"]"#, .reject(.loneSurrogate)),
        ConformanceCase("n_string_high_surrogate_then_short_escape", #""\uD800\n""#, .reject(.loneSurrogate)),
        ConformanceCase("n_string_uppercase_U_escape", #""\U0041""#, .reject(.invalidEscape)),
        ConformanceCase("n_string_short_unicode_escape", #""\u00""#, .reject(.invalidEscape)),
        ConformanceCase("n_string_escaped_space", #""\ ""#, .reject(.invalidEscape)),
        ConformanceCase("n_string_escape_x", #"["\x41"]"#, .reject(.invalidEscape)),
        ConformanceCase("n_string_backslash_at_end", "\"\\", .reject(.unexpectedEndOfInput)),
        ConformanceCase("n_string_raw_NUL", [0x22, 0x00, 0x22], .reject(.controlCharacterInString)),
        ConformanceCase("n_string_raw_U+001F", [0x22, 0x1F, 0x22], .reject(.controlCharacterInString)),
        ConformanceCase("n_string_raw_CR", "\"a\rb\"", .reject(.controlCharacterInString)),
        ConformanceCase("n_string_overlong_2_byte_NUL", [0x22, 0xC0, 0x80, 0x22], .reject(.invalidUTF8)),
        ConformanceCase("n_string_overlong_4_byte", [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], .reject(.invalidUTF8)),
        ConformanceCase("n_string_5_byte_lead", [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22], .reject(.invalidUTF8)),
        ConformanceCase("n_string_UTF-16_bytes", [0x22, 0x00, 0x61, 0x22], .reject(.controlCharacterInString)),
        ConformanceCase("n_string_continuation_in_place_of_lead_in_key", [0x7B, 0x22, 0xBF, 0x22, 0x3A, 0x31, 0x7D], .reject(.invalidUTF8)),
        ConformanceCase("n_string_single_quoted", "'a'", .reject(.unexpectedCharacter(UInt8(ascii: "'")))),

        // MARK: Whitespace (only space, tab, LF and CR)
        ConformanceCase("y_whitespace_all_four_kinds_everywhere", " \t\n\r{ \t\n\r\"a\" \t\n\r: \t\n\r[ \t\n\r1 \t\n\r, \t\n\r2 \t\n\r] \t\n\r} \t\n\r",
                        .accept(["a": [1, 2]])),
        ConformanceCase("n_whitespace_form_feed", "\u{0C}1", .reject(.unexpectedCharacter(0x0C))),
        ConformanceCase("n_whitespace_vertical_tab_inside_array", "[\u{0B}1]", .reject(.unexpectedCharacter(0x0B))),
        ConformanceCase("n_whitespace_no_break_space", [0xC2, 0xA0, 0x31], .reject(.unexpectedCharacter(0xC2))),
        ConformanceCase("n_whitespace_U+2028_between_values", [0x5B, 0x31, 0xE2, 0x80, 0xA8, 0x5D], .reject(.unexpectedCharacter(0xE2))),
        ConformanceCase("n_whitespace_trailing_form_feed", "1\u{0C}", .reject(.trailingCharacters)),
        ConformanceCase("n_whitespace_trailing_NUL", [0x31, 0x00], .reject(.trailingCharacters)),

        // MARK: Structure, trailing garbage, BOM, empty input
        ConformanceCase("y_structure_empty_containers", #"[{}, [], {"": []}]"#, .accept([[:], [], ["": []]])),
        ConformanceCase("y_structure_keys_differing_in_case", #"{"a": 1, "A": 2}"#, .accept(["a": 1, "A": 2])),
        ConformanceCase("n_structure_trailing_object_garbage", #"{"a": 1}x"#, .reject(.trailingCharacters)),
        ConformanceCase("n_structure_extra_close", "[1]]", .reject(.trailingCharacters)),
        ConformanceCase("n_structure_two_objects", "{}{}", .reject(.trailingCharacters)),
        ConformanceCase("n_structure_double_comma", "[1,,2]", .reject(.unexpectedCharacter(UInt8(ascii: ",")))),
        ConformanceCase("n_structure_object_double_comma", #"{"a":1,,"b":2}"#, .reject(.unexpectedCharacter(UInt8(ascii: ",")))),
        ConformanceCase("n_structure_nested_trailing_comma", "[[1,],2]", .reject(.unexpectedCharacter(UInt8(ascii: "]")))),
        ConformanceCase("n_structure_array_as_key", #"{[1]: 2}"#, .reject(.unexpectedCharacter(UInt8(ascii: "[")))),
        ConformanceCase("n_structure_lone_close", "]", .reject(.unexpectedCharacter(UInt8(ascii: "]")))),
        ConformanceCase("n_structure_BOM_then_object", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], .reject(.unexpectedCharacter(0xEF))),
        ConformanceCase("n_structure_UTF-8_outside_string", [0xC3, 0xA9], .reject(.unexpectedCharacter(0xC3))),
        ConformanceCase("n_structure_empty_input", [UInt8](), .reject(.unexpectedEndOfInput)),
        ConformanceCase("n_structure_unclosed_nested", "[[[", .reject(.unexpectedEndOfInput)),

        // MARK: Duplicate keys (rejected: which one would win is ambiguous)
        ConformanceCase("i_object_duplicate_key_same_value", #"{"a": 1, "a": 1}"#, .reject(.duplicateKey("a"))),
        ConformanceCase("i_object_duplicate_empty_key", #"{"": 1, "": 2}"#, .reject(.duplicateKey(""))),
        // Keys are Swift Strings, compared by canonical equivalence, so "é" precomposed and "e" + U+0301 are one
        // key to every lookup: accepting both would make one unreachable, so they count as a duplicate.
        ConformanceCase("i_object_canonically_equivalent_keys", #"{"\u00e9": 1, "e\u0301": 2}"#, .reject(.duplicateKey("\u{E9}"))),

        // MARK: Depth (the documented default limit is 512 nested arrays/objects)
        ConformanceCase("i_structure_512_nested_arrays", nested512, .accept(nestedArrays(512))),
        ConformanceCase("i_structure_513_nested_arrays", nested513, .reject(.tooDeeplyNested(512))),
        ConformanceCase("i_structure_513_nested_objects", objects513, .reject(.tooDeeplyNested(512))),
    ]

    static func nestedArrays(_ depth: Int) -> JSONValue {
        var value: JSONValue = .array([])
        for _ in 1..<depth { value = .array([value]) }
        return value
    }

    @Test(arguments: cases)
    func conforms(_ c: ConformanceCase) throws {
        switch c.outcome {
        case .accept(let expected):
            let value = try JSONReader.parse(c.input)
            #expect(value == expected)
            // Equality of doubles ignores the sign of zero; the sign is part of the value here.
            if case .double(let e) = expected, case .double(let v) = value { #expect(e.sign == v.sign) }
        case .reject(let reason):
            let error = try #require(parseError(c.input), "accepted: \(c.name)")
            #expect(error.reason == reason)
        }
    }
}
