/// One JSON value as read from a record file or about to be written to one.
///
/// Integers and other numbers are separate cases so that an id or a counter written as `42` comes
/// back as exactly `42` (never `42.0`), while measured values stay doubles. Only finite numbers
/// exist: the reader rejects NaN/Infinity and the writer refuses them.
///
/// `.int(1)` and `.double(1.0)` are different values (`==` is false); use `doubleValue` to compare
/// numerically.
public enum JSONValue: Sendable, Hashable {
    /// `null`
    case null
    /// `true` or `false`
    case bool(Bool)
    /// A number literal with no fraction and no exponent that fits in `Int64`.
    case int(Int64)
    /// Every other number (always finite).
    case double(Double)
    /// A string, with escapes decoded.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object, with its keys in order.
    case object(JSONObject)
}

extension JSONValue {
    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number as a Double, if this is a number (an `.int` is converted, which is exact up to 2^53).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// The integer, if this is an `.int`, or a `.double` holding an integral value that fits `Int64`.
    public var int64Value: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` if this is an object that has it, else nil. Lets callers write
    /// `record["meta"]?["source"]?.stringValue`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The elements as `Float`s if this is an array whose elements are all numbers, else nil.
    ///
    /// This is how embeddings are loaded, so it converts in one pass into an array allocated once,
    /// without intermediate arrays. Values round to the nearest Float (a value written with
    /// `JSONWriter.float`/`floatArray` comes back bit for bit); magnitudes beyond Float's range
    /// become infinity, so callers that care should check `isFinite`.
    public func floatArray() -> [Float]? {
        guard case .array(let elements) = self else { return nil }
        let n = elements.count
        var ok = true
        let result = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            var i = 0
            for element in elements {
                switch element {
                case .double(let d): buffer[i] = Float(d)
                case .int(let v): buffer[i] = Float(v)
                default:
                    ok = false
                    initialized = i
                    return
                }
                i += 1
            }
            initialized = i
        }
        return ok ? result : nil
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// `nil` is `null`, so literals read like the JSON they stand for.
    public init(nilLiteral: ()) { self = .null }
    /// `true` / `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal is an `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A float literal is a `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal is a `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal is an `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal is an `.object` with the keys in written order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(uniqueKeysWithValues: elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text, handy in test failures and logs.
    public var description: String {
        JSONWriter.debugText(self)
    }
}
