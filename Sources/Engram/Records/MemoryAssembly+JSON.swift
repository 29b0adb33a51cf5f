import EngramIO
import EngramJSON

extension MemoryAssembly {
    /// Decodes an assembly; see ``MemoryEntry/init(json:source:strict:operation:)`` for `strict`.
    public init(json: JSONValue, source: String, strict: Bool, operation: String = "read assembly") throws(EngramError) {
        var f = try RecordFields(json, source: source, operation: operation, strict: strict)
        let id = try f.string("id", required: strict) ?? RecordID.generate(prefix: "asm")
        try RecordID.validate(id, operation: operation)
        let name = try f.string("name", required: strict) ?? ""
        self.init(id: id, name: name)
        description = try f.string("description", required: false) ?? ""
        memoryIds = try f.strings("memory_ids") ?? []
        for member in memoryIds { try RecordID.validate(member, operation: operation) }
        compositeEmbedding = try f.vector("composite_embedding")
        keywords = try f.strings("keywords") ?? []
        tags = try f.strings("tags") ?? []
        metadata = try f.object("metadata") ?? [:]
        let now = Timestamp.now()
        createdAt = try f.timestamp("created_at", required: strict) ?? now
        updatedAt = try f.timestamp("updated_at", required: strict) ?? createdAt
        schemaVersion = Int(try f.integer("schema_version") ?? Int64(MemoryEntry.currentSchemaVersion))
        extraFields = f.unknown
    }

    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(pretty: true)
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("name"); w.string(name)
        w.key("description"); w.string(description)
        w.key("memory_ids"); w.value(.array(memoryIds.map { .string($0) }))
        w.key("composite_embedding")
        if let compositeEmbedding { w.floatArray(compositeEmbedding) } else { w.null() }
        w.key("keywords"); w.value(.array(keywords.map { .string($0) }))
        w.key("tags"); w.value(.array(tags.map { .string($0) }))
        w.key("metadata"); w.value(.object(metadata))
        w.key("created_at"); w.string(createdAt.description)
        w.key("updated_at"); w.string(updatedAt.description)
        w.key("schema_version"); w.int(Int64(schemaVersion))
        for (key, value) in extraFields { w.key(key); w.value(value) }
        w.endObject()
        var bytes = w.bytes
        bytes.append(0x0A)
        return bytes
    }

    public static func decodeFile(_ bytes: [UInt8], path: String, expectedID: String?) throws(EngramError) -> MemoryAssembly {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            throw EngramError(code: .corrupt, message: "not valid JSON: \(error)", operation: "read assembly", path: path, id: expectedID,
                              remedy: "run `engram repair`: it moves unreadable records to quarantine/")
        }
        let assembly = try MemoryAssembly(json: value, source: path, strict: true)
        if let expectedID, assembly.id != expectedID {
            throw EngramError(code: .corrupt, message: "the file holds id '\(assembly.id)', not '\(expectedID)'", operation: "read assembly", path: path, id: expectedID,
                              remedy: "run `engram repair`")
        }
        return assembly
    }
}
