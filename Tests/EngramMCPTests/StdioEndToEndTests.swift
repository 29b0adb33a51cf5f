import Engram
import EngramJSON
import EngramTestSupport
import Foundation
import Testing

extension MCPSubprocessTests {
    /// `engram mcp` as a client runs it: a subprocess on stdin/stdout, raw JSON-RPC.
    @Suite("engram mcp over stdio", .enabled(if: StdioSession.enginePath != nil, "the engram executable is not built"))
    struct StdioEndToEndTests {
        static let toolNames = [
            "memory_save", "memory_update", "memory_get", "memory_delete", "memory_search", "memory_recent",
            "assembly_save", "assembly_get", "assembly_list", "assembly_delete", "assembly_add_members", "assembly_remove_members",
            "store_stats", "store_verify",
        ]

        @Test("initialize, tools/list, every tool's happy and error path, paging, resources, exit 0 on EOF")
        func everyTool() async throws {
            let dir = TemporaryDirectory()
            let session = try StdioSession(store: dir.store)
            let initialize = try await session.initialize()
            #expect(initialize["serverInfo"]?["name"] == "engram")
            #expect(initialize["capabilities"]?["tools"] != nil && initialize["capabilities"]?["resources"] != nil)

            // tools/list: every tool, each with a description, an object schema and its hints.
            let tools = try #require(try await session.request("tools/list")["result"]?["tools"]?.arrayValue)
            #expect(tools.compactMap { $0["name"]?.stringValue }.sorted() == StdioEndToEndTests.toolNames.sorted())
            for tool in tools {
                #expect((tool["description"]?.stringValue?.count ?? 0) > 30, "\(tool["name"]!)")
                #expect(tool["inputSchema"]?["type"] == "object")
                #expect(tool["annotations"]?["readOnlyHint"]?.boolValue != nil)
                #expect(tool["annotations"]?["idempotentHint"]?.boolValue != nil)
            }

            // memory_save: a new memory, a duplicate of it, one with an id; errors: no content, a hostile id, a wrong type.
            let tea = try await session.ok("memory_save", ["content": "The user drinks green tea every morning", "metadata": ["topic": "food"], "score": 0.75])
            let teaID = try #require(tea["id"]?.stringValue)
            #expect(tea["memory"]?["metadata"]?["topic"] == "food")
            #expect(tea["memory"]?["embedding"] == nil)
            let again = try await session.ok("memory_save", ["content": "The user drinks green tea every morning"])
            #expect(again["id"]?.stringValue == teaID && again["duplicate"] == .bool(true))
            _ = try await session.ok("memory_save", ["id": "cat", "content": "The user's cat is called Miso", "embedding": [0.1, 0.2, 0.3]])
            #expect(try await session.failing("memory_save", [:])["code"] == "usage")
            let hostile = try await session.failing("memory_save", ["id": "../../etc/passwd", "content": "x"])
            #expect(hostile["code"] == "invalid_id")
            #expect(hostile["remedy"]?.stringValue?.isEmpty == false)
            #expect(try await session.failing("memory_save", ["content": 42])["message"]?.stringValue?.contains("'content' must be a string") == true)
            #expect(try await session.failing("memory_save", ["content": "x", "embedding": [1, 2]])["code"] == "dimension_mismatch")
            #expect(try await session.failing("memory_save", ["content": "x", "metdata": [:]])["message"]?.stringValue?.contains("metdata") == true)

            // memory_get: the record as `engram get` prints it (with include_embedding); errors: missing, hostile id.
            let cat = try await session.ok("memory_get", ["id": "cat", "include_embedding": true])
            let cli = try JSONReader.parse(String(contentsOfFile: dir.store + "/memories/cat.json", encoding: .utf8))
            #expect(cat.sortedKeys == cli.sortedKeys)
            #expect(try await session.ok("memory_get", ["id": "cat"])["embedding"] == nil)
            #expect(try await session.failing("memory_get", ["id": "nope"])["code"] == "not_found")
            #expect(try await session.failing("memory_get", ["id": "a/b"])["code"] == "invalid_id")

            // memory_update: a field changed with the right expected_updated_at; a stale one is a conflict.
            let read = try #require(cat["updated_at"]?.stringValue)
            let updated = try await session.ok("memory_update", ["id": "cat", "content": "The user's cat is called Miso; she is grey", "expected_updated_at": .string(read)])
            #expect(updated["memory"]?["content"] == "The user's cat is called Miso; she is grey")
            let conflict = try await session.failing("memory_update", ["id": "cat", "score": 0.9, "expected_updated_at": .string(read)])
            #expect(conflict["code"] == "conflict")
            #expect(try await session.failing("memory_update", ["id": "cat"])["code"] == "usage")
            #expect(try await session.failing("memory_update", ["id": "ghost", "score": 0.1])["code"] == "not_found")

            // memory_search: keyword search finds the tea; metadata filter; errors: no query, bad k.
            let found = try await session.ok("memory_search", ["query": "green tea"])
            #expect(found["results"]?.arrayValue?.first?["id"]?.stringValue == teaID)
            #expect(found["results"]?.arrayValue?.first?["bm25"] != nil)
            #expect(try await session.ok("memory_search", ["query": "green tea", "metadata": ["topic": "cars"]])["results"]?.arrayValue?.isEmpty == true)
            #expect(try await session.ok("memory_search", ["vector": [0.1, 0.2, 0.3], "k": 1])["results"]?.arrayValue?.first?["id"] == "cat")
            #expect(try await session.ok("memory_search", ["query": "green tea", "until": "2000-01-01T00:00:00Z"])["results"]?.arrayValue?.isEmpty == true)
            #expect(try await session.ok("memory_search", ["query": "green tea", "since": "2000-01-01T00:00:00Z"])["results"]?.arrayValue?.first?["id"]?.stringValue == teaID)
            #expect(try await session.failing("memory_search", [:])["code"] == "usage")
            #expect(try await session.failing("memory_search", ["query": "tea", "k": 0])["message"]?.stringValue?.contains("'k'") == true)
            #expect(try await session.failing("memory_search", ["vector": [1, 2]])["code"] == "dimension_mismatch")

            // Paging: 7 more memories, memory_recent two at a time, newest first, every memory exactly once.
            for i in 0..<7 { _ = try await session.ok("memory_save", ["id": .string("m\(i)"), "content": .string("paging note number \(i) about tea")]) }
            var seen: [String] = []
            var cursor: JSONValue?
            repeat {
                var arguments: JSONObject = ["limit": 2]
                if let cursor { arguments["cursor"] = cursor }
                let page = try await session.ok("memory_recent", arguments)
                let ids = page["memories"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                #expect(ids.count <= 2 && !ids.isEmpty)
                seen += ids
                cursor = page["next_cursor"]
            } while cursor != nil && seen.count < 50
            #expect(seen.count == 9 && Set(seen).count == 9)
            #expect(Array(seen.prefix(7)) == (0..<7).reversed().map { "m\($0)" })
            // Search pages too; a cursor from one question is refused for another.
            let first = try await session.ok("memory_search", ["query": "paging tea", "k": 3])
            let next = try #require(first["next_cursor"])
            let second = try await session.ok("memory_search", ["query": "paging tea", "k": 3, "cursor": next])
            let both = (first["results"]!.arrayValue! + second["results"]!.arrayValue!).compactMap { $0["id"]?.stringValue }
            #expect(both.count == 6 && Set(both).count == 6)
            #expect(try await session.failing("memory_search", ["query": "other", "k": 3, "cursor": next])["code"] == "usage")
            #expect(try await session.failing("memory_recent", ["cursor": "garbage!"])["message"]?.stringValue?.contains("cursor") == true)
            #expect(try await session.failing("memory_recent", ["since": "yesterday"])["message"]?.stringValue?.contains("ISO-8601") == true)
            #expect(try await session.ok("memory_recent", ["since": "2999-01-01T00:00:00Z"])["memories"]?.arrayValue?.isEmpty == true)

            // Assemblies: save, get, list (paged), add and remove members, delete; errors for each.
            let saved = try await session.ok("assembly_save", ["id": "pets", "name": "Pets", "description": "The user's animals", "memory_ids": ["cat"]])
            #expect(saved["assembly"]?["memory_ids"] == ["cat"])
            #expect(try await session.failing("assembly_save", ["name": "Broken", "memory_ids": ["no-such-memory"]])["code"] != nil)
            #expect(try await session.failing("assembly_save", ["description": "no name"])["code"] == "usage")
            _ = try await session.ok("assembly_save", ["id": "drinks", "name": "Drinks", "memory_ids": .array([.string(teaID)])])
            #expect(try await session.ok("assembly_get", ["id": "pets"])["name"] == "Pets")
            #expect(try await session.failing("assembly_get", ["id": "nope"])["code"] == "not_found")
            let listed = try await session.ok("assembly_list", ["limit": 1])
            #expect(listed["assemblies"]?.arrayValue?.first?["id"] == "drinks")
            let rest = try await session.ok("assembly_list", ["limit": 1, "cursor": try #require(listed["next_cursor"])])
            #expect(rest["assemblies"]?.arrayValue?.first?["id"] == "pets" && rest["next_cursor"] == nil)
            #expect(try await session.failing("assembly_list", ["limit": 1000])["code"] == "usage")
            let added = try await session.ok("assembly_add_members", ["id": "pets", "memory_ids": ["m0", "cat"]])
            #expect(added["added"] == ["m0"] && added["assembly"]?["memory_ids"] == ["cat", "m0"])
            #expect(try await session.failing("assembly_add_members", ["id": "nope", "memory_ids": ["m0"]])["code"] == "not_found")
            let removed = try await session.ok("assembly_remove_members", ["id": "pets", "memory_ids": ["cat"]])
            #expect(removed["removed"] == ["cat"] && removed["assembly"]?["memory_ids"] == ["m0"])
            #expect(try await session.failing("assembly_remove_members", ["id": "pets"])["code"] == "usage")
            #expect(try await session.ok("assembly_delete", ["id": "drinks"]) == ["id": "drinks", "deleted": true])
            #expect(try await session.ok("assembly_delete", ["id": "drinks"])["deleted"] == false)
            #expect(try await session.failing("assembly_delete", ["id": ".."])["code"] == "invalid_id")

            // memory_delete: deleted, then not there; a hostile id is refused.
            #expect(try await session.ok("memory_delete", ["id": "m6"]) == ["id": "m6", "deleted": true])
            #expect(try await session.ok("memory_delete", ["id": "m6"])["deleted"] == false)
            #expect(try await session.failing("memory_delete", ["id": ""])["code"] == "invalid_id")

            // store_stats and store_verify: the CLI's JSON; an argument they do not take is refused.
            let stats = try await session.ok("store_stats")
            #expect(stats["memory_count"] == .int(8))
            #expect(stats["assembly_count"] == .int(1))
            #expect(try await session.failing("store_stats", ["verbose": true])["code"] == "usage")
            let verify = try await session.ok("store_verify")
            #expect(verify["consistent"] == .bool(true), "\(verify)")
            #expect(try await session.failing("store_verify", ["deep": true])["code"] == "usage")

            // An unknown tool is a protocol error, and the server goes on.
            #expect(try await session.request("tools/call", ["name": "memory_forget", "arguments": .object([:])])["error"]?["code"] == .int(-32602))

            // Resources: list in pages, read one as its file.
            var uris: [String] = []
            var resourceCursor: JSONValue?
            repeat {
                var params: JSONObject = [:]
                if let resourceCursor { params["cursor"] = resourceCursor }
                let page = try #require(try await session.request("resources/list", params)["result"])
                uris += page["resources"]?.arrayValue?.compactMap { $0["uri"]?.stringValue } ?? []
                resourceCursor = page["nextCursor"]
            } while resourceCursor != nil && uris.count < 100
            #expect(uris.contains("engram://memory/cat") && uris.contains("engram://assembly/pets") && uris.count == 9)
            let content = try #require(try await session.request("resources/read", ["uri": "engram://memory/cat"])["result"]?["contents"]?.arrayValue?.first)
            #expect(content["text"]?.stringValue == (try String(contentsOfFile: dir.store + "/memories/cat.json", encoding: .utf8)))
            #expect(try await session.request("resources/read", ["uri": "engram://memory/nope"])["error"] != nil)
            #expect(try await session.request("resources/read", ["uri": "file:///etc/passwd"])["error"] != nil)

            // End of input: exit status 0, nothing on stdout but protocol, and the store closed cleanly.
            #expect(try await session.finish() == 0, "\(session.child.stderr)")
            let report = try await StdioSession.verify(dir.store)
            #expect(report.status == 0, "\(report.stdout)")
        }

        @Test("two servers on one store see each other's writes")
        func twoServers() async throws {
            let dir = TemporaryDirectory()
            let a = try StdioSession(store: dir.store), b = try StdioSession(store: dir.store)
            try await a.initialize()
            try await b.initialize()
            _ = try await a.ok("memory_save", ["id": "from-a", "content": "written by server A about sailing"])
            #expect(try await b.ok("memory_get", ["id": "from-a"])["content"] == "written by server A about sailing")
            #expect(try await b.ok("memory_search", ["query": "sailing"])["results"]?.arrayValue?.first?["id"] == "from-a")
            _ = try await b.ok("memory_save", ["id": "from-b", "content": "written by server B about climbing"])
            let recent = try await a.ok("memory_recent")["memories"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(recent == ["from-b", "from-a"])
            #expect(try await a.ok("memory_search", ["query": "climbing"])["results"]?.arrayValue?.first?["id"] == "from-b")
            #expect(try await a.ok("store_stats")["memory_count"] == .int(2))
            // An update from A after B changed the record is a conflict, not a lost write.
            let seenByA = try #require(try await a.ok("memory_get", ["id": "from-b"])["updated_at"])
            _ = try await b.ok("memory_update", ["id": "from-b", "score": 0.9])
            #expect(try await a.failing("memory_update", ["id": "from-b", "score": 0.1, "expected_updated_at": seenByA])["code"] == "conflict")
            #expect(try await a.finish() == 0)
            #expect(try await b.finish() == 0)
            #expect(try await StdioSession.verify(dir.store).status == 0)
        }
    }
}



extension MCPSubprocessTests.StdioEndToEndTests {
    @Test("requests still in flight when stdin closes are answered before the server exits with status 0")
    func answersBeforeExit() async throws {
        let dir = TemporaryDirectory()
        let session = try StdioSession(store: dir.store)
        try await session.initialize()
        for i in 0..<20 {
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": .int(Int64(500 + i)), "method": "tools/call",
                "params": ["name": "memory_save", "arguments": ["id": .string("late\(i)"), "content": .string("saved as stdin closed \(i)")]],
            ]
            try await session.child.send(request.compactJSON)
        }
        try session.child.closeInput()
        var answered = Set<Int64>()
        while let line = await session.child.nextLine() {
            if let id = try JSONReader.parse(line)["id"]?.int64Value { answered.insert(id) }
        }
        #expect(answered == Set((0..<20).map { Int64(500 + $0) }))
        #expect(await session.child.waitForExit() == 0, "\(session.child.stderr)")
        #expect(try await StdioSession.verify(dir.store).status == 0)
    }
}

extension MCPSubprocessTests.StdioEndToEndTests {
    @Test("four servers started at once on a store that does not exist yet all open it and share it")
    func startTogether() async throws {
        let dir = TemporaryDirectory()
        let sessions = try (0..<4).map { _ in try StdioSession(store: dir.store) }
        for (i, session) in sessions.enumerated() {
            try await session.initialize()
            _ = try await session.ok("memory_save", ["id": .string("s\(i)"), "content": .string("saved by server \(i)")])
        }
        for session in sessions {
            #expect(try await session.ok("store_stats")["memory_count"] == .int(4))
            #expect(try await session.finish() == 0, "\(session.child.stderr)")
        }
        #expect(try await StdioSession.verify(dir.store).status == 0)
        #expect(dir.names == ["store"], "a staging directory was left behind: \(dir.names)")
    }
}

extension MCPSubprocessTests.StdioEndToEndTests {
    @Test("with an embedder (ENGRAM_EMBEDDER), saves are embedded, a changed content is embedded again, search is hybrid")
    func withEmbedder() async throws {
        let dir = TemporaryDirectory()
        let embedder = "'\(StdioSession.enginePath!)' hash-embedder --dimension 32"
        let session = try StdioSession(store: dir.store, environment: ["ENGRAM_EMBEDDER": embedder])
        try await session.initialize()
        _ = try await session.ok("memory_save", ["id": "tea", "content": "The user drinks green tea every morning"])
        _ = try await session.ok("memory_save", ["id": "bike", "content": "The user rides a red bicycle to work"])
        let tea = try await session.ok("memory_get", ["id": "tea", "include_embedding": true])
        #expect(tea["embedding"]?.arrayValue?.count == 32)
        _ = try await session.ok("memory_update", ["id": "tea", "content": "The user drinks black coffee every morning"])
        let coffee = try await session.ok("memory_get", ["id": "tea", "include_embedding": true])
        #expect(coffee["embedding"]?.arrayValue?.count == 32 && coffee["embedding"] != tea["embedding"])
        // Hybrid: both sides' scores on the best result.
        let best = try #require(try await session.ok("memory_search", ["query": "red bicycle"])["results"]?.arrayValue?.first)
        #expect(best["id"] == "bike")
        #expect(best["distance"] != nil && best["bm25"] != nil && best["score"] != nil)
        #expect(try await session.finish() == 0, "\(session.child.stderr)")
    }
}
