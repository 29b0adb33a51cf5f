import EngramIO
import EngramJSON

/// Reads typed fields out of a parsed record, with errors that name the field and the file or input line.
struct RecordFields {
    var object: JSONObject
    /// Where the record came from, for messages: a path or "input line 3".
    let source: String
    let operation: String
    /// File mode: every required field must be present. Input mode (`engram put`): optional fields are filled in.
    let strict: Bool
    private(set) var used: Set<String> = []

    init(_ value: JSONValue, source: String, operation: String, strict: Bool) throws(EngramError) {
        guard case .object(let object) = value else {
            throw EngramError(code: .invalidRecord, message: "a record must be a JSON object", operation: operation, path: source,
                              remedy: "give one JSON object per record")
        }
        self.object = object
        self.source = source
        self.operation = operation
        self.strict = strict
    }

    func failure(_ field: String, _ message: String) -> EngramError {
        EngramError(code: .invalidRecord, message: "field '\(field)': \(message)", operation: operation, path: source,
                    remedy: strict ? "fix the file by hand or run `engram repair`" : "fix the input and retry")
    }

    mutating func value(_ key: String) -> JSONValue? {
        used.insert(key)
        // Not `value.isNull ? nil : value`: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    mutating func string(_ key: String, required: Bool) throws(EngramError) -> String? {
        guard let value = value(key) else {
            if required { throw failure(key, "missing") }
            return nil
        }
        guard case .string(let s) = value else { throw failure(key, "must be a string") }
        return s
    }

    mutating func number(_ key: String) throws(EngramError) -> Double? {
        guard let value = value(key) else { return nil }
        guard let d = value.doubleValue else { throw failure(key, "must be a number") }
        return d
    }

    mutating func integer(_ key: String) throws(EngramError) -> Int64? {
        guard let value = value(key) else { return nil }
        if let i = value.int64Value { return i }
        if let d = value.doubleValue, d == d.rounded(), abs(d) < 9e15 { return Int64(d) }
        throw failure(key, "must be an integer")
    }

    mutating func timestamp(_ key: String, required: Bool) throws(EngramError) -> Timestamp? {
        guard let text = try string(key, required: required) else { return nil }
        guard let ts = Timestamp(parsing: text) else { throw failure(key, "'\(text)' is not an ISO-8601 UTC time such as 2025-03-15T14:32:01.123456Z") }
        return ts
    }

    mutating func object(_ key: String) throws(EngramError) -> JSONObject? {
        guard let value = value(key) else { return nil }
        guard case .object(let o) = value else { throw failure(key, "must be an object") }
        return o
    }

    mutating func strings(_ key: String) throws(EngramError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw failure(key, "must be an array of strings") }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { throw failure(key, "must be an array of strings") }
            out.append(s)
        }
        return out
    }

    /// An embedding: null, or an array of finite numbers (the parser already refuses NaN and Infinity).
    mutating func vector(_ key: String) throws(EngramError) -> [Float]? {
        guard let value = value(key) else { return nil }
        guard let floats = value.floatArray() else { throw failure(key, "must be an array of numbers or null") }
        if let bad = floats.firstIndex(where: { !$0.isFinite }) {
            throw EngramError(code: .invalidVector, message: "field '\(key)': value \(bad) does not fit in a float32", operation: operation, path: source,
                              remedy: "embeddings must be finite float32 values")
        }
        return floats
    }

    /// The fields no accessor asked for: preserved as they are.
    var unknown: JSONObject {
        var rest = JSONObject()
        for (key, value) in object where !used.contains(key) { rest[key] = value }
        return rest
    }
}
