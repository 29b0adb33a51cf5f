import Engram
import EngramJSON
import EngramMCP
import EngramTestSupport
import Foundation
import MCP
import Testing

/// The server in this process, driven through the SDK's own `Client` over `InMemoryTransport`.
@Suite("EngramMCPServer in process")
struct InProcessTests {
    /// A connected client and the server task; `body` runs with both, then both are shut down and the store closed.
    static func withClient(limits: MCPServerLimits = MCPServerLimits(), _ body: (Client, MemoryStore) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        var configuration = StoreConfiguration()
        configuration.createIfMissing = true
        let store = try await MemoryStore.open(at: dir.store, configuration: configuration)
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        let server = EngramMCPServer(store: store, limits: limits)
        let serving = Task { try await server.serve(transport: serverTransport) }
        let client = Client(name: "engram-tests", version: "1")
        _ = try await client.connect(transport: clientTransport)
        do {
            try await body(client, store)
        } catch {
            await client.disconnect()
            serving.cancel()
            try? await store.close()
            throw error
        }
        await client.disconnect()
        await serverTransport.disconnect()
        _ = await serving.result
        try await store.close()
    }

    /// The full result of a tool call (the SDK's `callTool` drops `structuredContent`).
    static func call(_ client: Client, _ tool: String, _ arguments: [String: Value] = [:]) async throws -> CallTool.Result {
        try await client.send(CallTool.request(.init(name: tool, arguments: arguments))).value
    }

    @Test("tools/list, a save, a read, a search and an error through the SDK's client")
    func roundTrip() async throws {
        try await InProcessTests.withClient { client, store in
            let (tools, _) = try await client.listTools()
            #expect(tools.count == 14)
            #expect(tools.first { $0.name == "memory_get" }?.annotations.readOnlyHint == true)
            #expect(tools.first { $0.name == "memory_delete" }?.annotations.destructiveHint == true)
            #expect(tools.first { $0.name == "memory_delete" }?.annotations.idempotentHint == true)

            let saved = try await InProcessTests.call(client, "memory_save", ["id": "tea", "content": "The user drinks green tea", "metadata": ["b": 1, "a": 2]])
            #expect(saved.isError == false)
            #expect(saved.structuredContent?.objectValue?["id"] == "tea")
            // Saved through the library's API, durable: the store sees it, metadata keys sorted.
            let memory = try await store.memory("tea")
            #expect(memory?.content == "The user drinks green tea")
            #expect(memory?.metadata.keys == ["a", "b"])

            let found = try await InProcessTests.call(client, "memory_search", ["query": "tea"])
            #expect(found.structuredContent?.objectValue?["results"]?.arrayValue?.first?.objectValue?["id"] == "tea")

            let missing = try await InProcessTests.call(client, "memory_get", ["id": "coffee"])
            #expect(missing.isError == true)
            guard case .text(let text, _, _)? = missing.content.first else { Issue.record("no text content"); return }
            #expect(text.contains("no such memory") && text.contains("Remedy:"))

            let wrongType = try await InProcessTests.call(client, "memory_recent", ["limit": "ten"])
            #expect(wrongType.isError == true)

            let resources = try await client.listResources()
            #expect(resources.resources.map(\.uri) == ["engram://memory/tea"])
            let contents = try await client.readResource(uri: "engram://memory/tea")
            #expect(contents.first?.text == String(decoding: memory!.jsonBytes(), as: UTF8.self))
        }
    }

    @Test("a page stops at the character budget and its cursor continues; one huge record is cut and says so")
    func characterBudget() async throws {
        var limits = MCPServerLimits()
        limits.characterBudget = 1_000
        limits.resourcesPerPage = 2
        try await InProcessTests.withClient(limits: limits) { client, store in
            for i in 0..<6 {
                _ = try await store.save(MemoryEntry(id: "n\(i)", content: String(repeating: "word\(i) ", count: 40)))
            }
            var seen: [String] = []
            var cursor: Value?
            repeat {
                var arguments: [String: Value] = ["limit": 100]
                if let cursor { arguments["cursor"] = cursor }
                let result = try await InProcessTests.call(client, "memory_recent", arguments)
                guard case .text(let text, _, _)? = result.content.first else { Issue.record("no text"); return }
                #expect(text.utf8.count <= 1_100, "a page of \(text.utf8.count) characters")
                let page = result.structuredContent?.objectValue
                seen += page?["memories"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } ?? []
                cursor = page?["next_cursor"]
            } while cursor != nil && seen.count < 20
            #expect(seen == (0..<6).reversed().map { "n\($0)" })

            _ = try await store.save(MemoryEntry(id: "huge", content: String(repeating: "x", count: 50_000)))
            let huge = try await InProcessTests.call(client, "memory_get", ["id": "huge"])
            let object = huge.structuredContent?.objectValue
            #expect(object?["truncated"] == true && object?["content_length"] == 50_000)
            #expect((object?["content"]?.stringValue?.count ?? .max) < 1_000)

            var uris: [String] = []
            var next: String?
            repeat {
                let page = try await client.listResources(cursor: next)
                #expect(page.resources.count <= 2)
                uris += page.resources.map(\.uri)
                next = page.nextCursor
            } while next != nil && uris.count < 20
            #expect(uris.count == 7 && Set(uris).count == 7)
        }
    }

    @Test("docs/MCP.md has a section for every tool")
    func documented() async throws {
        let docs = try String(contentsOfFile: BuiltExecutable.packageRoot + "/docs/MCP.md", encoding: .utf8)
        try await InProcessTests.withClient { client, _ in
            for tool in try await client.listTools().tools {
                #expect(docs.contains("### `\(tool.name)`"), "docs/MCP.md does not document \(tool.name)")
            }
        }
    }
}
