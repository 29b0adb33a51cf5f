import EngramJSON
import EngramTestSupport
import Foundation
import Testing

/// `engram mcp --store DIR` as a subprocess, spoken to in raw newline-delimited JSON-RPC: what an MCP client
/// does, without the SDK in between (so the tests see the exact bytes the server writes).
final class StdioSession {
    let child: ChildProcess
    private var nextID: Int64 = 1

    static var enginePath: String? { BuiltExecutable.path("engram") }

    init(store: String, environment: [String: String] = [:]) throws {
        child = try ChildProcess(StdioSession.enginePath!, ["mcp", "--store", store], environment: environment)
    }

    /// initialize, then notifications/initialized; returns the initialize result.
    @discardableResult
    func initialize() async throws -> JSONValue {
        let result = try await request("initialize", [
            "protocolVersion": "2025-06-18", "capabilities": .object([:]), "clientInfo": ["name": "engram-tests", "version": "1"],
        ])
        try await child.send(JSONValue.object(["jsonrpc": "2.0", "method": "notifications/initialized"]).compactJSON)
        return result["result"] ?? .null
    }

    /// Sends a request and returns its whole response (`result` or `error`), skipping anything else.
    func request(_ method: String, _ params: JSONObject = [:]) async throws -> JSONValue {
        let id = nextID
        nextID += 1
        try await child.send(JSONValue.object(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)]).compactJSON)
        return try await response(to: .int(id))
    }

    /// The response whose id is `id` (or, with nil, the next response of any id).
    func response(to id: JSONValue?) async throws -> JSONValue {
        while true {
            guard let line = await child.nextLine() else {
                Issue.record("no response to \(id.map { "\($0)" } ?? "the request"); stderr: \(child.stderr)")
                throw SessionError.noResponse
            }
            let message = try JSONReader.parse(line)
            guard message["method"] == nil else { continue }  // a notification from the server
            if id == nil || message["id"] == id { return message }
        }
    }

    /// A tools/call: the result object (`content`, `structuredContent`, `isError`).
    func call(_ tool: String, _ arguments: JSONObject = [:]) async throws -> JSONValue {
        let response = try await request("tools/call", ["name": .string(tool), "arguments": .object(arguments)])
        guard let result = response["result"] else {
            Issue.record("\(tool) answered with a protocol error: \(response)")
            throw SessionError.protocolError
        }
        return result
    }

    /// A tools/call that must succeed: its structured output, after checking the text content says the same.
    func ok(_ tool: String, _ arguments: JSONObject = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let result = try await call(tool, arguments)
        #expect(result["isError"] == .bool(false), "\(tool): \(result)", sourceLocation: sourceLocation)
        let structured = result["structuredContent"] ?? .null
        let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(try JSONReader.parse(text).sortedKeys == structured.sortedKeys, "\(tool): the text content is not the structured JSON", sourceLocation: sourceLocation)
        return structured
    }

    /// A tools/call that must fail as a tool error; returns the structured `error` object.
    func failing(_ tool: String, _ arguments: JSONObject = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let result = try await call(tool, arguments)
        #expect(result["isError"] == .bool(true), "\(tool) should have failed: \(result)", sourceLocation: sourceLocation)
        let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        #expect(text.hasPrefix("engram: error: "), sourceLocation: sourceLocation)
        return result["structuredContent"]?["error"] ?? .null
    }

    /// Closes stdin and returns the exit status.
    func finish() async throws -> Int32? {
        try child.closeInput()
        return await child.waitForExit()
    }

    /// `engram verify` on `store`: its exit status (0: consistent) and what it printed.
    static func verify(_ store: String) async throws -> (status: Int32?, stdout: String) {
        let child = try ChildProcess(enginePath!, ["--store", store, "verify"])
        try child.closeInput()
        var lines: [String] = []
        while let line = await child.nextLine() { lines.append(line) }
        return (await child.waitForExit(), lines.joined(separator: "\n"))
    }

    enum SessionError: Error { case noResponse, protocolError }
}

extension JSONValue {
    var compactJSON: String { String(decoding: JSONWriter.compact(self), as: UTF8.self) }

    /// The same value with every object's keys sorted and every number a double: for comparing JSON that went
    /// through the SDK's `Value`, which loses key order and may write 1.0 as 1.
    var sortedKeys: JSONValue {
        switch self {
        case .object(let object): .object(JSONObject(uniqueKeysWithValues: object.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sortedKeys) }))
        case .array(let items): .array(items.map(\.sortedKeys))
        case .int(let i): .double(Double(i))
        default: self
        }
    }
}
