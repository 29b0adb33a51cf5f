import Engram
import EngramIO
import EngramJSON
import EngramTestSupport
import Foundation
import Testing

extension MCPSubprocessTests {
    /// A server killed with SIGKILL while saving: every save it answered is in the store afterwards.
    @Suite("engram mcp: kill -9 mid-save", .enabled(if: StdioSession.enginePath != nil, "the engram executable is not built"))
    struct KillTests {
        @Test("every acknowledged save survives a SIGKILL; the store verifies clean after recovery")
        func killMidSave() async throws {
            let dir = TemporaryDirectory()
            let session = try StdioSession(store: dir.store)
            try await session.initialize()
            // Many saves in flight at once (requests are pipelined), then kill as soon as some are acknowledged.
            let total = 120
            for i in 0..<total {
                let request: JSONValue = [
                    "jsonrpc": "2.0", "id": .int(Int64(1000 + i)), "method": "tools/call",
                    "params": ["name": "memory_save", "arguments": ["id": .string("k\(i)"), "content": .string("memory number \(i) written before the kill")]],
                ]
                try await session.child.send(request.compactJSON)
            }
            var acknowledged: [String] = []
            while acknowledged.count < 25 {
                let response = try await session.response(to: nil)
                guard let id = response["id"]?.int64Value, response["result"]?["isError"] == .bool(false) else { continue }
                acknowledged.append("k\(id - 1000)")
            }
            session.child.kill()
            _ = await session.child.waitForExit()
            // Answers already written to the pipe before the kill count as acknowledged too.
            while let line = await session.child.nextLine(timeout: 5) {
                if let response = try? JSONReader.parse(line), let id = response["id"]?.int64Value, response["result"]?["isError"] == .bool(false) {
                    acknowledged.append("k\(id - 1000)")
                }
            }

            // Reopening as a writer finishes what the crash left; every acknowledged memory is there, whole.
            let store = try await MemoryStore.open(at: dir.store)
            for id in acknowledged {
                let memory = try await store.memory(id)
                #expect(memory?.content == "memory number \(id.dropFirst()) written before the kill", "\(id) was acknowledged but is missing")
            }
            try await store.close()
            let report = try await EventLoop.shared.run { try StoreVerifier(layout: StoreLayout(root: dir.store)).run() }
            #expect(report.isConsistent, "\(report.problems)")
        }
    }
}

