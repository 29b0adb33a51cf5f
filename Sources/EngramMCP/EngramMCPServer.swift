import Engram
import EngramIO
import EngramJSON
import Foundation
import Logging
import MCP

/// The store as a Model Context Protocol server: the tools of ``ToolCatalog`` and the records as resources
/// (`engram://memory/<id>`, `engram://assembly/<id>`).
///
/// It serves any transport (the stdio one of `engram mcp`, the SDK's in-memory one in tests) and never closes the
/// store itself: whoever opened it closes it after ``serve(transport:)`` returns. Every failure of a tool call —
/// a missing or wrong-typed argument, a hostile id, a conflict, a full disk — comes back as an `isError` result
/// carrying the store's message and remedy; the server goes on serving.
public final class EngramMCPServer: Sendable {
    public let store: MemoryStore
    public let limits: MCPServerLimits
    let logger: Logger

    public static let name = "engram"
    public static let version = "1.0.0"

    static let instructions = """
        Engram is your long-term memory: records saved here outlive this session and are shared with every other \
        session using the same store. Save facts worth keeping with memory_save; before answering from memory, look \
        with memory_search (by words or meaning) or memory_recent (what changed lately). Group related memories in \
        assemblies. Lists come in pages: pass next_cursor back to continue. A failed call says why and what to do.
        """

    public init(store: MemoryStore, limits: MCPServerLimits = MCPServerLimits(), logger: Logger? = nil) {
        self.store = store
        self.limits = limits
        self.logger = logger ?? Logger(label: "engram.mcp") { _ in SwiftLogNoOpLogHandler() }
    }

    /// The SDK server with this store's handlers registered.
    public func makeServer() async -> Server {
        let server = Server(
            name: EngramMCPServer.name, version: EngramMCPServer.version, title: "Engram memory",
            instructions: EngramMCPServer.instructions,
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        let tools = ToolCatalog.tools(limits)
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
        await server.withMethodHandler(CallTool.self) { [self] params in
            guard ToolCatalog.tool(named: params.name) != nil else {
                throw MCPError.invalidParams("Unknown tool: \(params.name). tools/list names the tools of this server")
            }
            return await call(params.name, arguments: params.arguments)
        }
        await server.withMethodHandler(ListResources.self) { [self] params in try await listResources(cursor: params.cursor) }
        await server.withMethodHandler(ReadResource.self) { [self] params in try await readResource(params.uri) }
        return server
    }

    /// Serves `transport` until it ends (for stdio: stdin reached end of file) and every request has been
    /// answered.
    public func serve(transport: any Transport) async throws {
        let server = await makeServer()
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
        await server.stop()
    }

    // MARK: Tool calls

    /// Runs one tool and turns what it returns, or throws, into the result the agent sees.
    func call(_ name: String, arguments values: [String: Value]?) async -> CallTool.Result {
        do {
            let arguments = try ToolArguments(tool: name, values: values, accepted: ToolCatalog.accepted(name))
            let output: JSONValue
            switch name {
            case "memory_save": output = try await memorySave(arguments)
            case "memory_update": output = try await memoryUpdate(arguments)
            case "memory_get": output = try await memoryGet(arguments)
            case "memory_delete": output = try await memoryDelete(arguments)
            case "memory_search": output = try await memorySearch(arguments)
            case "memory_recent": output = try await memoryRecent(arguments)
            case "assembly_save": output = try await assemblySave(arguments)
            case "assembly_get": output = try await assemblyGet(arguments)
            case "assembly_list": output = try await assemblyList(arguments)
            case "assembly_delete": output = try await assemblyDelete(arguments)
            case "assembly_add_members": output = try await assemblyChangeMembers(arguments, adding: true)
            case "assembly_remove_members": output = try await assemblyChangeMembers(arguments, adding: false)
            case "store_stats": output = try await storeStats(arguments)
            case "store_verify": output = try await storeVerify(arguments)
            default: throw EngramError(code: .usage, message: "no tool '\(name)'", operation: "call tool", remedy: "use a tool tools/list names")
            }
            return EngramMCPServer.result(output, isError: false, text: output.compactText)
        } catch let error as EngramError {
            return EngramMCPServer.errorResult(error)
        } catch {
            // Not expected (the store throws EngramError); still an answer, not a dropped request.
            return EngramMCPServer.errorResult(EngramError(code: .io, message: "\(error)", operation: name, remedy: "retry; if it persists, run `engram verify`"))
        }
    }

    /// An `isError` result: the error as `engram` prints it, and its fields as structured content.
    static func errorResult(_ error: EngramError) -> CallTool.Result {
        var fields: JSONObject = ["code": .string(error.code.rawValue), "message": .string(error.message), "operation": .string(error.operation)]
        if let id = error.id { fields["id"] = .string(id) }
        if let path = error.path { fields["path"] = .string(path) }
        if let errno = error.errno { fields["errno"] = .int(Int64(errno)) }
        if let remedy = error.remedy { fields["remedy"] = .string(remedy) }
        let output = JSONValue.object(["error": .object(fields)])
        return result(output, isError: true, text: "engram: error: \(error)")
    }

    /// The same JSON twice: as structured content for clients that read it, as text for those that do not.
    static func result(_ output: JSONValue, isError: Bool, text: String) -> CallTool.Result {
        // Typed as an optional so the initialiser taking a `Value` is chosen, not the one encoding any Codable.
        let structured: Value? = Value(json: output)
        return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: structured, isError: isError)
    }

    // MARK: Shared pieces

    /// A record as its file holds it (the JSON `engram get` prints), without the vector unless asked for.
    static func recordJSON(_ bytes: [UInt8], vectorField: String, includeEmbedding: Bool) -> JSONValue {
        guard var object = (try? JSONReader.parse(bytes))?.objectValue else { return .null }
        if !includeEmbedding { _ = object.removeValue(forKey: vectorField) }
        return .object(object)
    }

    static func memoryJSON(_ memory: MemoryEntry, includeEmbedding: Bool = false) -> JSONValue {
        recordJSON(memory.jsonBytes(), vectorField: "embedding", includeEmbedding: includeEmbedding)
    }

    static func assemblyJSON(_ assembly: MemoryAssembly, includeEmbedding: Bool = false) -> JSONValue {
        recordJSON(assembly.jsonBytes(), vectorField: "composite_embedding", includeEmbedding: includeEmbedding)
    }

    /// A single record's output, held to the character budget like a page of one.
    func bounded(_ record: JSONValue) -> JSONValue {
        record.compactText.utf8.count > limits.characterBudget ? PageBuilder.fitted(record, budget: limits.characterBudget) : record
    }

    static func notFound(_ noun: String, _ id: String, operation: String, path: String) -> EngramError {
        EngramError(code: .notFound, message: "no such \(noun)", operation: operation, path: path, id: id,
                    remedy: noun == "memory" ? "check the id (memory_search or memory_recent list memories)" : "check the id (assembly_list lists assemblies)")
    }

    /// `{"<key>": items, "next_cursor"?: …}`.
    static func page(_ key: String, _ builder: PageBuilder, next: PageCursor?) -> JSONValue {
        var object: JSONObject = [key: .array(builder.items)]
        if let next { object["next_cursor"] = .string(next.encoded) }
        return .object(object)
    }
}
