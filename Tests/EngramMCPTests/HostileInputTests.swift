import Engram
import EngramJSON
import EngramTestSupport
import Foundation
import Testing

@testable import EngramMCP

extension MCPSubprocessTests {
    /// What a broken or hostile client can send: each is refused with a JSON-RPC error, and the next request is
    /// served as if nothing happened.
    @Suite("engram mcp: hostile input", .enabled(if: StdioSession.enginePath != nil, "the engram executable is not built"))
    struct HostileInputTests {
        /// The server still answers, and still saves.
        static func stillServing(_ session: StdioSession, _ id: String) async throws {
            #expect(try await session.ok("memory_save", ["id": .string(id), "content": .string("saved after the bad input: \(id)")])["id"] == .string(id))
        }

        @Test("a 10 MB argument, a 100,000-deep argument and invalid UTF-8 get errors; the server keeps serving")
        func refusedAndServing() async throws {
            let dir = TemporaryDirectory()
            let session = try StdioSession(store: dir.store)
            try await session.initialize()

            // 10 MB of content: over the 4 MiB message limit, refused with an error carrying the request's id.
            let big = #"{"jsonrpc":"2.0","id":101,"method":"tools/call","params":{"name":"memory_save","arguments":{"content":""# +
                String(repeating: "a", count: 10_000_000) + #""}}}"#
            try await session.child.send(big)
            let tooBig = try await session.response(to: .int(101))
            #expect(tooBig["error"]?["code"] == .int(-32600), "\(tooBig)")
            #expect(tooBig["error"]?["message"]?.stringValue?.contains("bytes") == true)
            try await HostileInputTests.stillServing(session, "after-big")

            // 100,000 nested arrays as an argument: refused before any recursive decoder sees it.
            let deep = #"{"jsonrpc":"2.0","id":102,"method":"tools/call","params":{"name":"memory_save","arguments":{"content":"x","metadata":{"a":"# +
                String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}}}}"
            try await session.child.send(deep)
            let tooDeep = try await session.response(to: .int(102))
            #expect(tooDeep["error"]?["code"] == .int(-32700), "\(tooDeep)")
            #expect(tooDeep["error"]?["message"]?.stringValue?.contains("deeper") == true)
            try await HostileInputTests.stillServing(session, "after-deep")

            // Bytes that are not UTF-8 inside a string.
            let invalid = Array(#"{"jsonrpc":"2.0","id":103,"method":"tools/call","params":{"name":"memory_save","arguments":{"content":"bad "#.utf8)
                + [0xC3, 0x28, 0xFF, 0xFE] + Array(#""}}}"#.utf8) + [0x0A]
            try await session.child.send(bytes: invalid)
            let notUTF8 = try await session.response(to: .int(103))
            #expect(notUTF8["error"]?["code"] == .int(-32700), "\(notUTF8)")
            #expect(notUTF8["error"]?["message"]?.stringValue?.contains("UTF-8") == true)
            try await HostileInputTests.stillServing(session, "after-utf8")

            // Not JSON at all, and an id that cannot be found: answered with id null.
            try await session.child.send("this is not json")
            #expect(try await session.response(to: nil)["id"] == .null)
            try await HostileInputTests.stillServing(session, "after-garbage")

            // Nothing half-written: exactly the four good saves, and the store verifies clean.
            #expect(try await session.ok("store_stats")["memory_count"] == .int(4))
            #expect(try await session.finish() == 0, "\(session.child.stderr)")
            #expect(try await StdioSession.verify(dir.store).status == 0)
        }

        @Test("the id sniffer finds a top-level id past deep nesting, and only a top-level one")
        func sniffer() {
            func sniff(_ text: String) -> JSONValue? { MessageGuard.sniffID(ArraySlice(text.utf8)) }
            #expect(sniff(#"{"jsonrpc":"2.0","params":{"id":5,"x":[[["id"]]]},"id":"abc"}"#) == "abc")
            #expect(sniff(#"{"params":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + #", "id": 77}"#) == .int(77))
            #expect(sniff(#"{"params":{"id":5}}"#) == nil)
            #expect(sniff(#"{"a":"id","b":1}"#) == nil)
        }
    }
}

