/// Why a byte sequence is not accepted as JSON, and where.
///
/// The reader is strict (RFC 8259, nothing more), so a record that a lenient tool would accept can
/// still be rejected here. The error therefore says precisely *what* is wrong and *where* (byte
/// offset plus 1-based line and column) so that a person can open the file and fix it.
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The specific rule that was broken. Tests and callers match on this rather than on the text.
    public enum Reason: Sendable, Equatable {
        /// The input ended inside a value (or was empty / only whitespace).
        case unexpectedEndOfInput
        /// A byte that cannot start or continue a value here (for example a trailing comma's closing
        /// bracket, a comment's `/`, a single quote, or a missing `:`).
        case unexpectedCharacter(UInt8)
        /// A number that breaks the RFC 8259 grammar: leading zeros, a leading `+`, a bare `-`,
        /// no digits after `.` or after the exponent marker.
        case invalidNumber
        /// `NaN`, `Infinity`, `-Infinity` (and their lowercase spellings), or a number literal too
        /// large to be a finite Double such as `1e999`. JSON numbers must be finite.
        case nonFiniteNumber
        /// A backslash escape that JSON does not define, or a `\u` escape without four hex digits.
        case invalidEscape
        /// A `\u` escape that encodes half of a UTF-16 surrogate pair without its other half.
        case loneSurrogate
        /// Bytes inside a string that are not well-formed UTF-8.
        case invalidUTF8
        /// A byte below 0x20 inside a string; JSON requires those to be escaped.
        case controlCharacterInString
        /// The same key appears twice in one object; which one would win is ambiguous, so it is refused.
        case duplicateKey(String)
        /// Arrays/objects nested deeper than the limit given to the reader (the payload).
        case tooDeeplyNested(Int)
        /// Something other than whitespace follows the single value that was asked for.
        case trailingCharacters
    }

    /// What is wrong.
    public var reason: Reason
    /// Byte offset (0-based) into the input where the problem was detected.
    public var offset: Int
    /// 1-based line number of `offset` (lines end at `\n`).
    public var line: Int
    /// 1-based column of `offset`, counted in Unicode scalars from the start of the line (equal to
    /// the byte column for ASCII text).
    public var column: Int

    /// Creates an error; the reader computes `line` and `column` from `offset`.
    public init(reason: Reason, offset: Int, line: Int, column: Int) {
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// A message meant for people, for example
    /// `line 3, column 17: NaN or Infinity is not valid JSON (numbers must be finite, ...)`.
    public var description: String {
        "line \(line), column \(column): \(reason.message)"
    }
}

extension JSONParseError.Reason {
    /// The human readable part of `JSONParseError.description`.
    var message: String {
        switch self {
        case .unexpectedEndOfInput:
            return "unexpected end of input"
        case .unexpectedCharacter(let byte):
            return "unexpected character \(Self.show(byte))"
        case .invalidNumber:
            return "invalid number (JSON numbers have no leading zeros or '+', and need digits after '.' and after the exponent)"
        case .nonFiniteNumber:
            return "NaN or Infinity is not valid JSON (numbers must be finite, so NaN, Infinity and overflowing literals like 1e999 are rejected)"
        case .invalidEscape:
            return "invalid escape sequence in string"
        case .loneSurrogate:
            return "\\u escape encodes an unpaired UTF-16 surrogate"
        case .invalidUTF8:
            return "string is not valid UTF-8"
        case .controlCharacterInString:
            return "unescaped control character in string"
        case .duplicateKey(let key):
            return "duplicate key \"\(key)\" in object"
        case .tooDeeplyNested(let limit):
            return "arrays and objects are nested deeper than \(limit) levels"
        case .trailingCharacters:
            return "unexpected data after the JSON value"
        }
    }

    private static func show(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
