import Engram
import EngramIO
import EngramJSON
import Foundation
import MCP

/// Records as MCP resources: `engram://memory/<id>` and `engram://assembly/<id>`, read as the record file's
/// JSON (the whole record: a client browsing resources asked for it, unlike a model's tool call).
extension EngramMCPServer {
    static let memoryPrefix = "engram://memory/"
    static let assemblyPrefix = "engram://assembly/"

    /// Memories then assemblies, by id; the cursor is the last URI of the previous page.
    func listResources(cursor: String?) async throws -> ListResources.Result {
        try await store.refresh()
        let uris = await store.memoryIDs().map { EngramMCPServer.memoryPrefix + $0 } + store.assemblyIDs().map { EngramMCPServer.assemblyPrefix + $0 }
        var start = 0
        if let cursor {
            guard let after = Data(base64Encoded: cursor).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw MCPError.invalidParams("the cursor is not one this server issued; drop it to start again")
            }
            start = uris.firstIndex { EngramMCPServer.uriOrder($0) > EngramMCPServer.uriOrder(after) } ?? uris.count
        }
        let page = Array(uris[start..<min(uris.count, start + limits.resourcesPerPage)])
        let memoryIDs = page.filter { $0.hasPrefix(EngramMCPServer.memoryPrefix) }.map { String($0.dropFirst(EngramMCPServer.memoryPrefix.count)) }
        var titles: [String: String] = [:]
        for memory in try await store.memories(memoryIDs) { titles[EngramMCPServer.memoryPrefix + memory.id] = EngramMCPServer.title(memory.content) }
        var resources: [Resource] = []
        for uri in page {
            if uri.hasPrefix(EngramMCPServer.memoryPrefix) {
                guard let title = titles[uri] else { continue }
                resources.append(Resource(name: String(uri.dropFirst(EngramMCPServer.memoryPrefix.count)), uri: uri, title: title,
                                          description: "A memory", mimeType: "application/json"))
            } else {
                let id = String(uri.dropFirst(EngramMCPServer.assemblyPrefix.count))
                guard let assembly = try await store.assembly(id) else { continue }
                resources.append(Resource(name: id, uri: uri, title: EngramMCPServer.title(assembly.name),
                                          description: "An assembly of \(assembly.memoryIds.count) memories", mimeType: "application/json"))
            }
        }
        let more = start + page.count < uris.count
        return ListResources.Result(resources: resources, nextCursor: more ? Data(page.last!.utf8).base64EncodedString() : nil)
    }

    func readResource(_ uri: String) async throws -> ReadResource.Result {
        let bytes: [UInt8]?
        do {
            if uri.hasPrefix(EngramMCPServer.memoryPrefix) {
                bytes = try await store.memory(String(uri.dropFirst(EngramMCPServer.memoryPrefix.count)))?.jsonBytes()
            } else if uri.hasPrefix(EngramMCPServer.assemblyPrefix) {
                bytes = try await store.assembly(String(uri.dropFirst(EngramMCPServer.assemblyPrefix.count)))?.jsonBytes()
            } else {
                throw MCPError.invalidParams("not an Engram resource: \(uri.prefix(200)); URIs are engram://memory/<id> and engram://assembly/<id>")
            }
        } catch let error as EngramError {
            throw MCPError.invalidParams("\(error)")
        }
        guard let bytes else {
            // The MCP specification's code for a resource that does not exist.
            throw MCPError.serverError(code: -32002, message: "Resource not found: \(uri)")
        }
        return ReadResource.Result(contents: [.text(String(decoding: bytes, as: UTF8.self), uri: uri, mimeType: "application/json")])
    }

    /// The order of `listResources`: memories before assemblies, each by id.
    private static func uriOrder(_ uri: String) -> (Int, String) {
        uri.hasPrefix(memoryPrefix) ? (0, String(uri.dropFirst(memoryPrefix.count))) : (1, String(uri.dropFirst(assemblyPrefix.count)))
    }

    /// A line to show for a record: its first 80 characters on one line.
    private static func title(_ text: String) -> String {
        let line = text.prefix { $0 != "\n" }
        return line.count > 80 ? String(line.prefix(79)) + "…" : String(line)
    }
}
