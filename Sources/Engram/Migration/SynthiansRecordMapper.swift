import EngramJSON

/// Maps one Synthians record (already parsed by ``SynthiansJSON``) to an Engram record.
///
/// Memories (`memories/mem_<hex>.json`):
///
/// | Synthians | Engram |
/// |---|---|
/// | `id` | `id` (must be a valid Engram id; otherwise the record is skipped and reported) |
/// | `content` | `content` (required) |
/// | `embedding` | `embedding`; `null` when it is missing, empty, not numbers, or holds NaN/±Infinity (reported per id) |
/// | `timestamp` (ISO-8601, or seconds) | `created_at` (the store sets `updated_at`, its version token, at the write) |
/// | `quickrecal_score` | `quickrecal_score`, clamped to [0, 1] (reported; the original kept as `quickrecal_score_unclamped`) |
/// | `metadata` | `metadata`, as given |
/// | `access_count`, `last_access_time`, `embedding_model` | the optional fields of the same names (`last_access_time` in SPEC's `…Z` form when it is a time) |
/// | anything else (`hyperbolic_embedding`, `quickrecal_updated`, …) | kept under its own name (SPEC §2 unknown fields), unless the name is one Engram uses, then as `synthians_<name>` |
///
/// Assemblies (`assemblies/asm-<hex>.json`, id `asm:<hex>`): `id` (or `assembly_id`), `name`, `description`,
/// `keywords`, `tags` map to the fields of the same names; `topics` goes into `metadata.topics` (tags stay the
/// user's labels, topics are Synthians' derived ones); `creation_time` becomes `created_at`; `memories` (full
/// copies of the members) becomes `memory_ids`; `composite_embedding` is dropped (the store recomputes it from
/// the members); the rest (`hyperbolic_embedding`, `last_access_time`, `activation_*`, `is_active`,
/// `merged_from`, `assembly_schema_version`, …) is kept under its own name.
enum SynthiansRecordMapper {
    struct MappedMemory: Sendable {
        var entry: MemoryEntry
        /// Why the memory has no embedding, when it has none.
        var withoutEmbedding: String?
        var notes: [String] = []
        /// Where it came from, e.g. `memories/mem_1.json` or `assemblies/asm-2.json (copy of a member)`.
        var origin: String
    }

    struct MappedAssembly: Sendable {
        var assembly: MemoryAssembly
        /// The members, in order, as the Synthians record lists them.
        var members: [Member]
        var notes: [String] = []
        var origin: String
    }

    /// One entry of an assembly's `memories`: an id and, usually, a full copy of the member.
    struct Member: Sendable {
        var id: String?
        var copy: JSONObject?
    }

    /// Fields an Engram memory file writes itself: a Synthians field of that name we do not map is renamed.
    static let memoryReserved: Set<String> = [
        "id", "content", "embedding", "created_at", "updated_at", "quickrecal_score", "metadata", "content_hash", "schema_version",
        "access_count", "last_access_time", "embedding_model",
    ]
    static let assemblyReserved: Set<String> = [
        "id", "name", "description", "memory_ids", "composite_embedding", "keywords", "tags", "metadata", "created_at", "updated_at", "schema_version",
    ]

    enum Failure: Error { case skip(String) }

    // MARK: Memories

    static func memory(_ object: JSONObject, origin: String, fallbackTime: Timestamp?, now: Timestamp) throws(Failure) -> MappedMemory {
        guard let id = object["id"]?.stringValue else { throw .skip("no string `id`") }
        guard RecordID.isValid(id) else { throw .skip(invalidIDReason(id)) }
        guard let content = object["content"]?.stringValue else { throw .skip("no string `content`") }
        var entry = MemoryEntry(id: id, content: content)
        var mapped = MappedMemory(entry: entry, origin: origin)
        var extra = JSONObject()
        var used: Set<String> = ["id", "content"]

        used.insert("embedding")
        switch embedding(object["embedding"]) {
        case .success(let vector): entry.embedding = vector
        case .failure(let reason): mapped.withoutEmbedding = reason.text
        }

        used.insert("timestamp")
        let (time, timeNote) = timestamp(object["timestamp"], field: "timestamp", fallback: fallbackTime, now: now)
        entry.createdAt = time
        entry.updatedAt = time
        if let timeNote { mapped.notes.append(timeNote) }

        used.insert("quickrecal_score")
        if let value = object["quickrecal_score"], !value.isNull {
            if let score = value.doubleValue {
                let clamped = min(1, max(0, score))
                if clamped != score {
                    mapped.notes.append("quickrecal_score \(score) is outside [0, 1]: clamped to \(clamped) (the original is kept as quickrecal_score_unclamped)")
                    extra["quickrecal_score_unclamped"] = value
                }
                entry.quickrecalScore = clamped
            } else {
                mapped.notes.append("quickrecal_score \(value) is not a number: the default \(MemoryEntry.defaultScore) was used (the original is kept as synthians_quickrecal_score)")
                extra["synthians_quickrecal_score"] = value
            }
        }

        used.insert("metadata")
        switch object["metadata"] {
        case .object(let metadata)?: entry.metadata = metadata
        case nil, .null?: break
        case let other?:
            mapped.notes.append("metadata is not an object: kept as synthians_metadata")
            extra["synthians_metadata"] = other
        }

        used.insert("access_count")
        if let value = object["access_count"], !value.isNull {
            if let count = value.int64Value { entry.accessCount = count } else {
                mapped.notes.append("access_count \(value) is not an integer: kept as synthians_access_count")
                extra["synthians_access_count"] = value
            }
        }
        used.insert("last_access_time")
        if let value = object["last_access_time"], !value.isNull {
            if let text = value.stringValue {
                // Synthians writes `+00:00`; SPEC §2 times are `…Z` with microseconds. A text that is not a time is kept as given.
                entry.lastAccessTime = Timestamp(parsing: text)?.description ?? text
            } else if let seconds = value.doubleValue, seconds.isFinite, abs(seconds) < 1e11 {
                entry.lastAccessTime = Timestamp(microseconds: Int64((seconds * 1e6).rounded())).description
            } else {
                extra["synthians_last_access_time"] = value
            }
        }
        used.insert("embedding_model")
        if let model = object["embedding_model"]?.stringValue { entry.embeddingModel = model }

        for (key, value) in object where !used.contains(key) {
            extra[memoryReserved.contains(key) ? "synthians_" + key : key] = value
        }
        entry.extraFields = extra
        entry.contentHash = ContentHash.of(entry.content)
        mapped.entry = entry
        return mapped
    }

    struct EmbeddingProblem: Error { var text: String }

    /// The embedding, or why there is none. A `null` element is a NaN/±Infinity that ``SynthiansJSON`` replaced.
    static func embedding(_ value: JSONValue?) -> Result<[Float], EmbeddingProblem> {
        guard let value, !value.isNull else { return .failure(EmbeddingProblem(text: "the source has no embedding")) }
        guard let elements = value.arrayValue else { return .failure(EmbeddingProblem(text: "the embedding is not an array")) }
        guard !elements.isEmpty else { return .failure(EmbeddingProblem(text: "the embedding is empty")) }
        let nonFinite = elements.filter(\.isNull).count
        if nonFinite > 0 {
            return .failure(EmbeddingProblem(text: "the embedding holds \(nonFinite) NaN/Infinity value\(nonFinite == 1 ? "" : "s") (not valid JSON numbers; Engram never stores them)"))
        }
        guard let floats = value.floatArray() else { return .failure(EmbeddingProblem(text: "the embedding holds values that are not numbers")) }
        if let bad = floats.firstIndex(where: { !$0.isFinite }) {
            return .failure(EmbeddingProblem(text: "embedding value \(bad) does not fit in a float32"))
        }
        return .success(floats)
    }

    // MARK: Assemblies

    static func assembly(_ object: JSONObject, origin: String, fallbackTime: Timestamp?, now: Timestamp) throws(Failure) -> MappedAssembly {
        guard let id = object["id"]?.stringValue ?? object["assembly_id"]?.stringValue else { throw .skip("no string `id` or `assembly_id`") }
        guard RecordID.isValid(id) else { throw .skip(invalidIDReason(id)) }
        var notes: [String] = []
        var assembly = MemoryAssembly(id: id, name: object["name"]?.stringValue ?? "")
        var used: Set<String> = ["id", "name", "memories", "memory_ids", "composite_embedding"]
        if object["name"]?.stringValue == nil { notes.append("no string `name`: the name is empty") }
        used.insert("assembly_id")
        if let other = object["assembly_id"], other.stringValue != id { assembly.extraFields["assembly_id"] = other }

        used.insert("description")
        assembly.description = object["description"]?.stringValue ?? ""
        used.insert("keywords")
        assembly.keywords = strings(object["keywords"], field: "keywords", notes: &notes)
        used.insert("tags")
        assembly.tags = strings(object["tags"], field: "tags", notes: &notes)
        used.insert("metadata")
        if case .object(let metadata)? = object["metadata"] { assembly.metadata = metadata }
        used.insert("topics")
        if let topics = object["topics"], !topics.isNull {
            if assembly.metadata["topics"] == nil {
                assembly.metadata["topics"] = topics
            } else {
                assembly.extraFields["synthians_topics"] = topics
            }
        }
        used.insert("creation_time")
        let (time, timeNote) = timestamp(object["creation_time"], field: "creation_time", fallback: fallbackTime, now: now)
        assembly.createdAt = time
        assembly.updatedAt = time
        if let timeNote { notes.append(timeNote) }

        var members: [Member] = []
        if let list = object["memories"]?.arrayValue {
            for item in list {
                switch item {
                case .object(let copy): members.append(Member(id: copy["id"]?.stringValue, copy: copy))
                case .string(let id): members.append(Member(id: id, copy: nil))
                default: notes.append("an entry of `memories` is neither a memory nor an id: dropped")
                }
            }
        } else if let ids = object["memory_ids"]?.arrayValue {
            members = ids.compactMap(\.stringValue).map { Member(id: $0, copy: nil) }
        }

        for (key, value) in object where !used.contains(key) {
            assembly.extraFields[assemblyReserved.contains(key) ? "synthians_" + key : key] = value
        }
        return MappedAssembly(assembly: assembly, members: members, notes: notes, origin: origin)
    }

    // MARK: Helpers

    static func strings(_ value: JSONValue?, field: String, notes: inout [String]) -> [String] {
        guard let items = value?.arrayValue else { return [] }
        let texts = items.compactMap(\.stringValue)
        if texts.count != items.count { notes.append("\(items.count - texts.count) entries of `\(field)` are not strings: dropped") }
        return texts
    }

    /// A Synthians time (ISO-8601 with an offset, or seconds since the epoch); else the index's; else now.
    static func timestamp(_ value: JSONValue?, field: String, fallback: Timestamp?, now: Timestamp) -> (Timestamp, String?) {
        if let text = value?.stringValue, let time = Timestamp(parsing: text) { return (time, nil) }
        if let seconds = value?.doubleValue, seconds.isFinite, abs(seconds) < 1e11 {
            return (Timestamp(microseconds: Int64((seconds * 1e6).rounded())), nil)
        }
        if let fallback { return (fallback, "no usable `\(field)`: the time from memory_index.json was used") }
        return (now, "no usable `\(field)`: the import time was used")
    }

    static func invalidIDReason(_ id: String) -> String {
        do throws(EngramError) {
            try RecordID.validate(id, operation: "import")
            return "invalid id"
        } catch {
            return error.message
        }
    }
}
