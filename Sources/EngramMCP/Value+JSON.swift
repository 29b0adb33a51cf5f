import EngramJSON
import MCP

/// Conversions between the SDK's `Value` (what arrives in a tool call) and Engram's `JSONValue` (what records,
/// statistics and reports are written in), so each side keeps its own type and the tools convert once.
extension Value {
    /// The SDK's form of an Engram JSON value. Objects lose their key order here (`Value` holds a dictionary);
    /// the text content of a tool result is written from the `JSONValue` itself and keeps it.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = Int(exactly: i).map(Value.int) ?? .double(Double(i))
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(Value.init(json:)))
        case .object(let object): self = .object(Dictionary(object.map { ($0.key, Value(json: $0.value)) }, uniquingKeysWith: { _, last in last }))
        }
    }

    /// Engram's form of this value. Object keys come out sorted: the protocol's objects are unordered by the time
    /// the SDK hands them over, and a stored record should not depend on a dictionary's iteration order.
    /// A string the SDK took for a `data:` URL is turned back into that string.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(Int64(i))
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .data(let mimeType, let data): .string(data.dataURLEncoded(mimeType: mimeType))
        case .array(let items): .array(items.map(\.json))
        case .object(let object): .object(JSONObject(uniqueKeysWithValues: object.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) }))
        }
    }
}
