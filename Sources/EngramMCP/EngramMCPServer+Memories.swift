import Engram
import EngramIO
import EngramJSON
import MCP

/// memory_save, memory_update, memory_get, memory_delete, memory_search, memory_recent.
extension EngramMCPServer {
    func memorySave(_ arguments: ToolArguments) async throws -> JSONValue {
        let content = try arguments.string("content", required: true)!
        let memory = MemoryEntry(id: try arguments.string("id"), content: content, embedding: try arguments.vector("embedding"),
                                 metadata: try arguments.object("metadata") ?? [:],
                                 quickrecalScore: try arguments.number("score", range: 0...1) ?? MemoryEntry.defaultScore,
                                 embeddingModel: try arguments.string("embedding_model"))
        let saved = try await store.save(memory)
        // As `engram put` acknowledges: {"id"}, or {"id", "duplicate": true} when the store handed back the memory
        // that already holds this content. The record follows, for its timestamps (expected_updated_at).
        var output: JSONObject = ["id": .string(saved.id)]
        if saved.id != memory.id { output["duplicate"] = .bool(true) }
        output["memory"] = bounded(EngramMCPServer.memoryJSON(saved))
        return .object(output)
    }

    func memoryUpdate(_ arguments: ToolArguments) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        try RecordID.validate(id, operation: arguments.tool)
        let fields = ["content", "metadata", "score", "embedding"]
        guard fields.contains(where: arguments.has) else {
            throw EngramError(code: .usage, message: "nothing to change", operation: arguments.tool, id: id,
                              remedy: "give at least one of \(fields.joined(separator: ", "))")
        }
        let expected = try arguments.timestamp("expected_updated_at")
        guard var memory = try await store.memory(id) else {
            throw EngramMCPServer.notFound("memory", id, operation: arguments.tool, path: store.layout.path(of: .memory, id: id))
        }
        let read = memory.updatedAt
        if let content = try arguments.string("content"), content != memory.content {
            memory.content = content
            // The old vector describes the old text: with an embedder the store embeds the new one on save.
            if store.embedsText { memory.embedding = nil }
        }
        if let metadata = try arguments.object("metadata") { memory.metadata = metadata }
        if let score = try arguments.number("score", range: 0...1) { memory.quickrecalScore = score }
        if let embedding = try arguments.vector("embedding") { memory.embedding = embedding }
        // The store refuses the save with a conflict unless the record is still the version expected: the one
        // the agent read, or else the one read just above (so a concurrent writer is never overwritten).
        let saved = try await store.save(memory, expectedUpdatedAt: expected ?? read)
        return .object(["id": .string(saved.id), "memory": bounded(EngramMCPServer.memoryJSON(saved))])
    }

    func memoryGet(_ arguments: ToolArguments) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        let include = try arguments.bool("include_embedding") ?? false
        guard let memory = try await store.memory(id) else {
            throw EngramMCPServer.notFound("memory", id, operation: arguments.tool, path: store.layout.path(of: .memory, id: id))
        }
        return bounded(EngramMCPServer.memoryJSON(memory, includeEmbedding: include))
    }

    func memoryDelete(_ arguments: ToolArguments) async throws -> JSONValue {
        let id = try arguments.string("id", required: true)!
        let deleted = try await store.deleteMemory(id)
        return .object(["id": .string(id), "deleted": .bool(deleted)])
    }

    // MARK: Search and recent

    func memorySearch(_ arguments: ToolArguments) async throws -> JSONValue {
        let query = try arguments.string("query")
        let vector = try arguments.vector("vector")
        guard query != nil || vector != nil else {
            throw EngramError(code: .usage, message: "a search needs 'query' (text) or 'vector', or both", operation: arguments.tool,
                              remedy: "give 'query' with the words to look for")
        }
        let k = try arguments.integer("k", default: 10, range: 1...limits.maxLimit)
        let metadata = try arguments.object("metadata") ?? [:]
        let scopeName = try arguments.string("scope") ?? SearchScope.memories.rawValue
        guard let scope = SearchScope(rawValue: scopeName) else {
            throw arguments.failure("scope", "must be memories, assemblies or all, got '\(scopeName.prefix(64))'")
        }
        let since = try arguments.timestamp("since"), until = try arguments.timestamp("until")
        let fingerprint = arguments.fingerprint()
        let offset = try PageCursor.decode(from: arguments, fingerprint: fingerprint)?.offset ?? 0

        // The store ranks the first `want` results; the page is the slice after the cursor's offset. A time
        // window filters after ranking, so ask for more until enough pass or the store has no more.
        let want = offset + k + 1
        let windowed = since != nil || until != nil
        var fetch = windowed ? want * 4 : want
        var results: [SearchResult]
        while true {
            let ranked = try await search(query: query, vector: vector, k: fetch, scope: scope, metadata: metadata)
            results = ranked.filter { result in
                guard windowed else { return true }
                guard let updated = result.memory?.updatedAt ?? result.assembly?.updatedAt else { return false }
                return since.map { updated >= $0 } ?? true && until.map { updated < $0 } ?? true
            }
            if results.count >= want || ranked.count < fetch || fetch >= 10_000 { break }
            fetch = min(fetch * 4, 10_000)
        }
        var builder = PageBuilder(budget: limits.characterBudget)
        var next: Int?
        for (position, result) in results.enumerated().dropFirst(offset) {
            if position >= offset + k || !builder.add(result.json(includeKind: scope != .memories)) {
                next = position
                break
            }
        }
        return EngramMCPServer.page("results", builder, next: next.map { PageCursor(tool: arguments.tool, fingerprint: fingerprint, offset: $0) })
    }

    private func search(query: String?, vector: [Float]?, k: Int, scope: SearchScope, metadata: JSONObject) async throws -> [SearchResult] {
        switch (query, vector) {
        case let (query?, vector?): try await store.search(text: query, vector: vector, k: k, scope: scope, metadata: metadata)
        case let (query?, nil): try await store.search(text: query, k: k, scope: scope, metadata: metadata)
        case let (nil, vector?): try await store.search(vector: vector, k: k, scope: scope, metadata: metadata)
        case (nil, nil): []
        }
    }

    func memoryRecent(_ arguments: ToolArguments) async throws -> JSONValue {
        let limit = try arguments.integer("limit", default: limits.defaultLimit, range: 1...limits.maxLimit)
        let since = try arguments.timestamp("since"), until = try arguments.timestamp("until")
        let include = try arguments.bool("include_embedding") ?? false
        let fingerprint = arguments.fingerprint()
        // The cursor is the last memory shown, as "<updated_at µs>/<id>": the next page starts strictly after it
        // in (newest first, then id) order, however many memories were saved meanwhile.
        let after = try PageCursor.decode(from: arguments, fingerprint: fingerprint)?.after.map { text throws(EngramError) -> (Int64, String) in
            let parts = text.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let micros = Int64(parts[0]) else { throw arguments.failure("cursor", "is not a cursor this server issued") }
            return (micros, String(parts[1]))
        }
        try await store.refresh()
        var entries: [(id: String, updated: Int64)] = []
        for id in await store.memoryIDs() {
            guard let entry = await store.indexEntry(forMemory: id) else { continue }
            if let since, entry.updatedAt < since { continue }
            if let until, entry.updatedAt >= until { continue }
            entries.append((id, entry.updatedAt.microseconds))
        }
        func precedes(_ a: (id: String, updated: Int64), _ b: (id: String, updated: Int64)) -> Bool {
            a.updated != b.updated ? a.updated > b.updated : a.id < b.id
        }
        entries.sort(by: precedes)
        if let after { entries.removeAll { !precedes((after.1, after.0), $0) } }
        // One read for the page (and one more record, to know whether a cursor is needed).
        let candidates = Array(entries.prefix(limit + 1))
        let memories = try await store.memories(candidates.map(\.id))
        var builder = PageBuilder(budget: limits.characterBudget)
        var last: MemoryEntry?
        var more = false
        for memory in memories {
            if builder.items.count >= limit || !builder.add(EngramMCPServer.memoryJSON(memory, includeEmbedding: include)) {
                more = true
                break
            }
            last = memory
        }
        let next = more ? last.map { PageCursor(tool: arguments.tool, fingerprint: fingerprint, after: "\($0.updatedAt.microseconds)/\($0.id)") } : nil
        return EngramMCPServer.page("memories", builder, next: next)
    }
}
