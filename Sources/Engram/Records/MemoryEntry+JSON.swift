import EngramIO
import EngramJSON

extension MemoryEntry {
    /// Decodes a memory. `strict` (a record file) requires every SPEC §2 field; otherwise (input to `put`)
    /// `id`, timestamps, `content_hash` and `schema_version` may be omitted and are filled in.
    public init(json: JSONValue, source: String, strict: Bool, operation: String = "read memory") throws(EngramError) {
        var f = try RecordFields(json, source: source, operation: operation, strict: strict)
        let id = try f.string("id", required: strict)
        if let id { try RecordID.validate(id, operation: operation) }
        guard let content = try f.string("content", required: true) else { throw f.failure("content", "missing") }
        self.init(id: id, content: content)
        embedding = try f.vector("embedding")
        if strict, !f.object.contains("embedding") { throw f.failure("embedding", "missing (use null for none)") }
        let now = Timestamp.now()
        createdAt = try f.timestamp("created_at", required: strict) ?? now
        updatedAt = try f.timestamp("updated_at", required: strict) ?? createdAt
        let score = try f.number("quickrecal_score") ?? MemoryEntry.defaultScore
        guard score >= 0, score <= 1 else { throw f.failure("quickrecal_score", "\(score) is outside [0, 1]") }
        quickrecalScore = score
        metadata = try f.object("metadata") ?? [:]
        contentHash = try f.string("content_hash", required: strict) ?? ContentHash.of(content)
        schemaVersion = Int(try f.integer("schema_version") ?? Int64(MemoryEntry.currentSchemaVersion))
        accessCount = try f.integer("access_count")
        lastAccessTime = try f.string("last_access_time", required: false)
        embeddingModel = try f.string("embedding_model", required: false)
        extraFields = f.unknown
    }

    /// The record file's bytes: pretty-printed JSON, 2-space indent, fields in SPEC order, unknown fields last.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(pretty: true)
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("content"); w.string(content)
        w.key("embedding")
        if let embedding { w.floatArray(embedding) } else { w.null() }
        w.key("created_at"); w.string(createdAt.description)
        w.key("updated_at"); w.string(updatedAt.description)
        w.key("quickrecal_score"); w.double(quickrecalScore)
        w.key("metadata"); w.value(.object(metadata))
        w.key("content_hash"); w.string(contentHash)
        w.key("schema_version"); w.int(Int64(schemaVersion))
        if let accessCount { w.key("access_count"); w.int(accessCount) }
        if let lastAccessTime { w.key("last_access_time"); w.string(lastAccessTime) }
        if let embeddingModel { w.key("embedding_model"); w.string(embeddingModel) }
        for (key, value) in extraFields { w.key(key); w.value(value) }
        w.endObject()
        var bytes = w.bytes
        bytes.append(0x0A)
        return bytes
    }

    /// Parses a record file's bytes and checks that the id inside matches the file name.
    public static func decodeFile(_ bytes: [UInt8], path: String, expectedID: String?) throws(EngramError) -> MemoryEntry {
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            throw EngramError(code: .corrupt, message: "not valid JSON: \(error)", operation: "read memory", path: path, id: expectedID,
                              remedy: "run `engram repair`: it moves unreadable records to quarantine/")
        }
        let entry = try MemoryEntry(json: value, source: path, strict: true)
        if let expectedID, entry.id != expectedID {
            throw EngramError(code: .corrupt, message: "the file holds id '\(entry.id)', not '\(expectedID)'", operation: "read memory", path: path, id: expectedID,
                              remedy: "run `engram repair`")
        }
        return entry
    }
}
