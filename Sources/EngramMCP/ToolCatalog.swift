import MCP

/// Every tool the server offers: name, what it does (written for the agent that reads it), its input schema and
/// its hints. docs/MCP.md lists the same; a test checks that every tool here has a section there.
enum ToolCatalog {
    /// The argument names a tool accepts (its schema's properties).
    static func accepted(_ tool: String) -> Set<String> {
        guard let tool = all.first(where: { $0.name == tool }), case .object(let schema) = tool.inputSchema,
              case .object(let properties)? = schema["properties"] else { return [] }
        return Set(properties.keys)
    }

    static func tool(named name: String) -> Tool? { all.first { $0.name == name } }

    // MARK: Schema pieces

    private static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        var schema: [String: Value] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { schema["required"] = .array(required.map(Value.string)) }
        return .object(schema)
    }

    private static func string(_ description: String) -> Value { ["type": "string", "description": .string(description)] }
    private static func boolean(_ description: String) -> Value { ["type": "boolean", "description": .string(description)] }
    private static func number(_ description: String, minimum: Double, maximum: Double) -> Value {
        ["type": "number", "minimum": .double(minimum), "maximum": .double(maximum), "description": .string(description)]
    }
    private static func integer(_ description: String, minimum: Int, maximum: Int, default value: Int) -> Value {
        ["type": "integer", "minimum": .int(minimum), "maximum": .int(maximum), "default": .int(value), "description": .string(description)]
    }
    private static func strings(_ description: String) -> Value {
        ["type": "array", "items": ["type": "string"], "description": .string(description)]
    }
    private static func vector(_ description: String) -> Value {
        ["type": "array", "items": ["type": "number"], "description": .string(description)]
    }
    private static func freeObject(_ description: String) -> Value { ["type": "object", "description": .string(description)] }

    private static let id = string("The record's id: 1–128 characters from A-Z a-z 0-9 _ . : -, starting with a letter or digit.")
    private static let includeEmbedding = boolean("Also return the vector (default false: vectors are long and rarely useful to read).")
    private static let cursor = string("The next_cursor of the previous page, to continue; omit for the first page.")
    private static let since = string("Only records updated at or after this ISO-8601 date-time (e.g. 2025-03-15T14:32:01Z).")
    private static let until = string("Only records updated before this ISO-8601 date-time.")
    private static func limit(_ limits: MCPServerLimits) -> Value {
        integer("Items per page (default \(limits.defaultLimit)).", minimum: 1, maximum: limits.maxLimit, default: limits.defaultLimit)
    }

    private static func hints(readOnly: Bool, destructive: Bool = false, idempotent: Bool, title: String) -> Tool.Annotations {
        Tool.Annotations(title: title, readOnlyHint: readOnly, destructiveHint: readOnly ? nil : destructive, idempotentHint: idempotent,
                         openWorldHint: false)
    }

    // MARK: The tools

    static let all: [Tool] = tools(MCPServerLimits())

    static func tools(_ limits: MCPServerLimits) -> [Tool] {
        [
            Tool(name: "memory_save", description: """
                Save a memory: a piece of text worth remembering across sessions (a fact about the user, a decision, \
                a result). Returns its id and the stored record once it is durable on disk. Without `id` a new id is \
                generated, and if a memory with exactly the same content exists already, that memory is returned \
                instead with "duplicate": true (nothing is stored twice). With an `id` that exists, the memory is \
                replaced. When the store has an embedder, the content is embedded for semantic search.
                """,
                 inputSchema: object([
                    "content": string("The text to remember."),
                    "id": string("Optional id (1–128 characters from A-Z a-z 0-9 _ . : -); omit to have one generated."),
                    "metadata": freeObject("Optional JSON object of your own fields (e.g. {\"topic\": \"food\"}); searchable with memory_search's metadata filter."),
                    "score": number("Importance in [0, 1] (default 0.5), stored as quickrecal_score.", minimum: 0, maximum: 1),
                    "embedding": vector("Optional vector for the content, if you computed one (must have the store's dimension)."),
                    "embedding_model": string("Optional name of the model that made `embedding`."),
                 ], required: ["content"]),
                 annotations: hints(readOnly: false, idempotent: false, title: "Save a memory")),
            Tool(name: "memory_update", description: """
                Change fields of an existing memory (content, metadata, score, embedding); fields not given keep \
                their values, `metadata` replaces the whole object. Pass `expected_updated_at` (the updated_at you \
                read) to fail with a conflict instead of overwriting someone else's newer change; then read the \
                memory again and retry. Returns the stored record.
                """,
                 inputSchema: object([
                    "id": id,
                    "content": string("New text."),
                    "metadata": freeObject("New metadata object (replaces the old one)."),
                    "score": number("New importance in [0, 1].", minimum: 0, maximum: 1),
                    "embedding": vector("New vector (the store's dimension)."),
                    "expected_updated_at": string("The memory's updated_at as you read it; the update fails with a conflict if it changed since."),
                 ], required: ["id"]),
                 annotations: hints(readOnly: false, destructive: true, idempotent: false, title: "Update a memory")),
            Tool(name: "memory_get", description: "Read one memory by id: content, metadata, score, created_at, updated_at.",
                 inputSchema: object(["id": id, "include_embedding": includeEmbedding], required: ["id"]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Read a memory")),
            Tool(name: "memory_delete", description: """
                Delete a memory for good (it is also removed from every assembly listing it). Returns \
                {"id", "deleted"}: deleted is false when there was no such memory.
                """,
                 inputSchema: object(["id": id], required: ["id"]),
                 annotations: hints(readOnly: false, destructive: true, idempotent: true, title: "Delete a memory")),
            Tool(name: "memory_search", description: """
                Find memories relevant to a question. `query` (text) searches by keywords (BM25), or by meaning and \
                keywords together when the store has an embedder; `vector` searches by a vector you computed; both \
                together is a hybrid search. Results come best first as {id, content, and the scores: bm25, score, \
                distance}; use memory_get for a result's metadata. Narrow with `metadata` (records whose metadata has \
                each of these key/value pairs) and `since`/`until` (update time). At most `k` results per call; \
                `next_cursor` continues the list.
                """,
                 inputSchema: object([
                    "query": string("What to look for, in words."),
                    "vector": vector("A query vector (the store's dimension)."),
                    "k": integer("Results per page (default 10).", minimum: 1, maximum: limits.maxLimit, default: 10),
                    "metadata": freeObject("Only records whose metadata has each of these keys with an equal value."),
                    "scope": ["type": "string", "enum": ["memories", "assemblies", "all"],
                              "description": "What to search (default memories); results then carry \"kind\"."],
                    "since": since, "until": until, "cursor": cursor,
                 ]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Search memories")),
            Tool(name: "memory_recent", description: """
                List memories newest first (by update time), optionally within a time window (`since`, `until`). \
                Use it to recall what happened lately. Pages of `limit` memories; `next_cursor` continues.
                """,
                 inputSchema: object(["limit": limit(limits), "since": since, "until": until, "cursor": cursor, "include_embedding": includeEmbedding]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Recent memories")),
            Tool(name: "assembly_save", description: """
                Save an assembly: a named group of memories (a project, a person, a topic). Every id in memory_ids \
                must be an existing memory. Without `id` a new one is generated; with an existing id the assembly is \
                replaced. Returns its id and the stored record.
                """,
                 inputSchema: object([
                    "name": string("The group's name."),
                    "id": string("Optional id; omit to have one generated."),
                    "description": string("What the group is about."),
                    "memory_ids": strings("The member memories' ids."),
                    "keywords": strings("Keywords (searchable)."),
                    "tags": strings("Tags."),
                    "metadata": freeObject("A JSON object of your own fields."),
                 ], required: ["name"]),
                 annotations: hints(readOnly: false, idempotent: false, title: "Save an assembly")),
            Tool(name: "assembly_get", description: "Read one assembly by id: name, description, memory_ids, keywords, tags, metadata.",
                 inputSchema: object(["id": id, "include_embedding": includeEmbedding], required: ["id"]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Read an assembly")),
            Tool(name: "assembly_list", description: """
                List assemblies by id: {id, name, description, member_count, updated_at} each. Pages of `limit`; \
                `next_cursor` continues.
                """,
                 inputSchema: object(["limit": limit(limits), "cursor": cursor]),
                 annotations: hints(readOnly: true, idempotent: true, title: "List assemblies")),
            Tool(name: "assembly_delete", description: "Delete an assembly (its memories stay). Returns {\"id\", \"deleted\"}.",
                 inputSchema: object(["id": id], required: ["id"]),
                 annotations: hints(readOnly: false, destructive: true, idempotent: true, title: "Delete an assembly")),
            Tool(name: "assembly_add_members", description: """
                Add memories to an assembly (ids already in it are left alone). Returns the stored assembly and the \
                ids that were added.
                """,
                 inputSchema: object(["id": id, "memory_ids": strings("The memories to add.")], required: ["id", "memory_ids"]),
                 annotations: hints(readOnly: false, idempotent: true, title: "Add memories to an assembly")),
            Tool(name: "assembly_remove_members", description: """
                Remove memories from an assembly (the memories themselves stay). Returns the stored assembly and the \
                ids that were removed.
                """,
                 inputSchema: object(["id": id, "memory_ids": strings("The memories to remove.")], required: ["id", "memory_ids"]),
                 annotations: hints(readOnly: false, destructive: true, idempotent: true, title: "Remove memories from an assembly")),
            Tool(name: "store_stats", description: """
                The store's figures, as `engram stats` prints them: memory_count, assembly_count, embedding_dim, \
                vector_count, cache figures, path.
                """,
                 inputSchema: object([:]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Store statistics")),
            Tool(name: "store_verify", description: """
                Check the whole store (every record, the index, the journal, the vector and keyword tiers) as \
                `engram verify --format json` does, and report each problem with what `engram repair` would do. \
                Read-only; it takes a while on a large store.
                """,
                 inputSchema: object([:]),
                 annotations: hints(readOnly: true, idempotent: true, title: "Verify the store")),
        ]
    }
}
