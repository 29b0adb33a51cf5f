import Engram
import EngramIO
import EngramJSON
import MCP

/// A tool call's arguments, read with errors an agent can act on: each names the tool, the argument and what
/// was expected. A `null` argument counts as absent (clients send it for "not given"); an argument the tool
/// does not take is refused, so a misspelt `metdata` is not silently ignored.
struct ToolArguments {
    let tool: String
    private let values: [String: Value]

    init(tool: String, values: [String: Value]?, accepted: Set<String>) throws(EngramError) {
        self.tool = tool
        self.values = (values ?? [:]).filter { !$0.value.isNull }
        let unknown = self.values.keys.filter { !accepted.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw EngramError(code: .usage, message: "\(tool) takes no argument \(unknown.map { "'\($0)'" }.joined(separator: ", "))",
                              operation: tool, remedy: "use only the arguments of its input schema: \(accepted.sorted().joined(separator: ", "))")
        }
    }

    func has(_ name: String) -> Bool { values[name] != nil }

    func failure(_ name: String, _ problem: String) -> EngramError {
        EngramError(code: .usage, message: "argument '\(name)' \(problem)", operation: tool,
                    remedy: "call \(tool) again with '\(name)' as its input schema describes (tools/list)")
    }

    private func kind(_ value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string, .data: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    func string(_ name: String, required: Bool = false) throws(EngramError) -> String? {
        guard let value = values[name] else {
            if required { throw failure(name, "is required") }
            return nil
        }
        switch value {
        case .string(let s): return s
        case .data: return value.json.stringValue
        default: throw failure(name, "must be a string, got \(kind(value))")
        }
    }

    /// An integer in `range`, or `defaultValue` when absent.
    func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(EngramError) -> Int {
        guard let value = values[name] else { return defaultValue }
        let number: Int?
        switch value {
        case .int(let i): number = i
        case .double(let d): number = d.rounded() == d ? Int(exactly: d) : nil
        default: throw failure(name, "must be an integer, got \(kind(value))")
        }
        guard let number, range.contains(number) else {
            throw failure(name, "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return number
    }

    func number(_ name: String, range: ClosedRange<Double>) throws(EngramError) -> Double? {
        guard let value = values[name] else { return nil }
        let number: Double
        switch value {
        case .int(let i): number = Double(i)
        case .double(let d): number = d
        default: throw failure(name, "must be a number, got \(kind(value))")
        }
        guard range.contains(number) else { throw failure(name, "must be in [\(range.lowerBound), \(range.upperBound)], got \(number)") }
        return number
    }

    func bool(_ name: String) throws(EngramError) -> Bool? {
        guard let value = values[name] else { return nil }
        guard case .bool(let b) = value else { throw failure(name, "must be true or false, got \(kind(value))") }
        return b
    }

    func object(_ name: String) throws(EngramError) -> JSONObject? {
        guard let value = values[name] else { return nil }
        guard case .object = value, let object = value.json.objectValue else { throw failure(name, "must be an object, got \(kind(value))") }
        return object
    }

    func strings(_ name: String, required: Bool = false) throws(EngramError) -> [String]? {
        guard let value = values[name] else {
            if required { throw failure(name, "is required") }
            return nil
        }
        guard case .array(let items) = value else { throw failure(name, "must be an array of strings, got \(kind(value))") }
        var strings: [String] = []
        for item in items {
            guard let s = item.json.stringValue else { throw failure(name, "must be an array of strings; an element is \(kind(item))") }
            strings.append(s)
        }
        return strings
    }

    /// An array of numbers as float32 (finite values and the store's dimension are the store's to check).
    func vector(_ name: String) throws(EngramError) -> [Float]? {
        guard let value = values[name] else { return nil }
        guard case .array = value, let floats = value.json.floatArray() else { throw failure(name, "must be an array of numbers, got \(kind(value))") }
        return floats
    }

    /// An ISO-8601 date-time (`2025-03-15T14:32:01Z`, fraction and offset optional).
    func timestamp(_ name: String) throws(EngramError) -> Timestamp? {
        guard let text = try string(name) else { return nil }
        guard let timestamp = Timestamp(parsing: text) else {
            throw failure(name, "must be an ISO-8601 date-time such as 2025-03-15T14:32:01Z, got '\(text.prefix(64))'")
        }
        return timestamp
    }

    /// The arguments that define a query (all but the cursor and the page size), as a stable fingerprint: a
    /// cursor is only honoured by a call asking the same question.
    func fingerprint(excluding excluded: Set<String> = ["cursor", "limit", "k", "include_embedding"]) -> String {
        let object = JSONObject(uniqueKeysWithValues: values.filter { !excluded.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })
        return ContentHash.of(JSONValue.object(object).compactText)
    }
}

extension JSONValue {
    /// One line of compact JSON.
    var compactText: String { String(decoding: JSONWriter.compact(self), as: UTF8.self) }
}
