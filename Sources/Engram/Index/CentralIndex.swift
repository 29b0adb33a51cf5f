import EngramIO
import EngramJSON

/// The in-memory form of `memory_index.json` (SPEC §3), and its encoding.
struct CentralIndex: Sendable {
    /// The mapped `memory_index.bin` of the last checkpoint plus the changes since (see ``IndexTable``).
    var memories = IndexTable<MemoryIndexEntry>()
    var assemblies = IndexTable<AssemblyIndexEntry>()
    var embeddingDimension: Int?
    /// The last journal sequence number this checkpoint includes; replay skips lines at or below it.
    var journalSequence: Int64 = 0
    var formatVersion = "1"

    static let fileName = "memory_index.json"

    init() {}

    /// The index a checked `memory_index.bin` holds: nothing is read until looked up.
    init(mapped file: BinaryIndexFile) {
        memories = IndexTable(base: file)
        assemblies = IndexTable(base: file)
        embeddingDimension = file.embeddingDimension
        journalSequence = file.journalSequence
        formatVersion = String(file.indexVersion)
    }

    /// Moves both tables onto `file`, just written from this very index (their overlays empty).
    mutating func rebase(onto file: BinaryIndexFile) {
        memories.rebase(onto: file)
        assemblies.rebase(onto: file)
    }

    /// Whether no entry changed since `other` was copied from this index.
    func isUnchanged(since other: CentralIndex) -> Bool {
        memories.version == other.memories.version && assemblies.version == other.assemblies.version
            && embeddingDimension == other.embeddingDimension && journalSequence == other.journalSequence
    }
    /// The format version this Engram reads and writes (`metadata.version`).
    static let currentVersion = "1"

    /// Throws ``EngramError/Code/unsupportedFormat`` when the index declares another format version (or, with no
    /// version, looks like a format 0 index: no `metadata.format`).
    static func checkVersion(_ bytes: [UInt8], path: String) throws(EngramError) {
        guard let root = try? JSONReader.parse(bytes), let metadata = root["metadata"]?.objectValue else { return }
        let declared = metadata["version"]?.stringValue ?? metadata["version"]?.int64Value.map { String($0) }
        guard let version = declared, version != currentVersion else { return }
        let older = (Int(version) ?? 0) < (Int(currentVersion) ?? 1)
        throw EngramError(code: .unsupportedFormat, message: "the store is in format version \(version); this Engram opens version \(currentVersion)",
                          operation: "open store", path: path,
                          remedy: older ? "run `engram migrate --upgrade` (it keeps a backup of the old files)" : "use a newer Engram for this store")
    }

    // MARK: Encoding

    func jsonBytes(lastUpdated: Timestamp) -> [UInt8] {
        var w = JSONWriter(pretty: true)
        w.beginObject()
        w.key("memories")
        w.beginObject()
        // Tables iterate in id byte order, which is sorted order for record ids (ASCII).
        for (id, e) in memories {
            w.key(id)
            w.beginObject()
            w.key("filepath"); w.string("memories/\(id).json")
            w.key("created_at"); w.string(e.createdAt.description)
            w.key("updated_at"); w.string(e.updatedAt.description)
            w.key("quickrecal_score"); w.double(e.quickrecalScore)
            w.key("content_hash"); w.string(e.contentHash)
            w.key("embedding_dim")
            if let d = e.dimension { w.int(Int64(d)) } else { w.null() }
            w.endObject()
        }
        w.endObject()
        w.key("assemblies")
        w.beginObject()
        for (id, e) in assemblies {
            w.key(id)
            w.beginObject()
            w.key("filepath"); w.string("assemblies/\(id).json")
            w.key("created_at"); w.string(e.createdAt.description)
            w.key("updated_at"); w.string(e.updatedAt.description)
            w.key("member_count"); w.int(Int64(e.memberCount))
            w.key("memory_ids"); w.value(.array(e.memoryIds.map { .string($0) }))
            w.key("embedding_dim")
            if let d = e.dimension { w.int(Int64(d)) } else { w.null() }
            w.endObject()
        }
        w.endObject()
        w.key("metadata")
        w.beginObject()
        w.key("version"); w.string(formatVersion)
        w.key("last_updated"); w.string(lastUpdated.description)
        w.key("memory_count"); w.int(Int64(memories.count))
        w.key("assembly_count"); w.int(Int64(assemblies.count))
        w.key("embedding_dim")
        if let d = embeddingDimension { w.int(Int64(d)) } else { w.null() }
        w.key("journal_seq"); w.int(journalSequence)
        w.key("format"); w.string("engram")
        w.endObject()
        w.endObject()
        var bytes = w.bytes
        bytes.append(0x0A)
        return bytes
    }

    // MARK: Decoding

    static func decode(_ bytes: [UInt8], path: String) throws(EngramError) -> CentralIndex {
        func corrupt(_ message: String) -> EngramError {
            EngramError(code: .corrupt, message: message, operation: "read index", path: path,
                        remedy: "open the store with autoRepair (the default) or run `engram repair`: the index is rebuilt from the records")
        }
        let root: JSONValue
        do { root = try JSONReader.parse(bytes) } catch { throw corrupt("not valid JSON: \(error)") }
        guard let top = root.objectValue, let memories = top["memories"]?.objectValue, let assemblies = top["assemblies"]?.objectValue,
              let metadata = top["metadata"]?.objectValue
        else { throw corrupt("expected an object with 'memories', 'assemblies' and 'metadata'") }
        var index = CentralIndex()
        index.memories.reserveCapacity(memories.count)
        for (id, value) in memories {
            guard RecordID.isValid(id), let o = value.objectValue,
                  let created = o["created_at"]?.stringValue.flatMap(Timestamp.init(parsing:)),
                  let updated = o["updated_at"]?.stringValue.flatMap(Timestamp.init(parsing:)),
                  let hash = o["content_hash"]?.stringValue
            else { throw corrupt("bad memory entry '\(id.prefix(140))'") }
            let score = o["quickrecal_score"]?.doubleValue ?? MemoryEntry.defaultScore
            let dim = o["embedding_dim"]?.int64Value.map { Int($0) }
            index.memories[id] = MemoryIndexEntry(createdAt: created, updatedAt: updated, quickrecalScore: score, contentHash: hash, dimension: dim)
        }
        for (id, value) in assemblies {
            guard RecordID.isValid(id), let o = value.objectValue,
                  let created = o["created_at"]?.stringValue.flatMap(Timestamp.init(parsing:)),
                  let updated = o["updated_at"]?.stringValue.flatMap(Timestamp.init(parsing:))
            else { throw corrupt("bad assembly entry '\(id.prefix(140))'") }
            let members = o["memory_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            index.assemblies[id] = AssemblyIndexEntry(createdAt: created, updatedAt: updated, memoryIds: members,
                                                      dimension: o["embedding_dim"]?.int64Value.map { Int($0) })
        }
        index.embeddingDimension = metadata["embedding_dim"]?.int64Value.map { Int($0) }
        index.journalSequence = metadata["journal_seq"]?.int64Value ?? 0
        index.formatVersion = metadata["version"]?.stringValue ?? "1"
        return index
    }
}
