import EngramJSON

/// One line of the journal: the commit point of a change, written and fsynced before the change reaches the
/// records.
///
/// A `put` carries each record it writes, whole (the record file's JSON, minified, after the operation's JSON on
/// the same line: see ``Journal``), so that the line alone is the write: the record files are renamed into place right after it but made durable
/// only at the next checkpoint, and recovery rewrites any file that is missing, torn or older than its line
/// (see `JournalOperation.Item.finish`). A batch is one `put` with many items: all-or-nothing.
///
/// Lines written before records were carried (no `record`) name a temp file (`tmp`) that was fsynced before
/// the line; recovery renames it if it is complete. `tmp` is still written, so that such a reader finds no
/// temp file and follows the record file.
enum JournalOperation: Sendable {
    struct Item: Sendable {
        var kind: RecordKind
        var id: String
        var temporaryName: String
        var memory: MemoryIndexEntry?
        var assembly: AssemblyIndexEntry?
        /// The record file's JSON without insignificant whitespace (nil in lines of earlier versions).
        var record: [UInt8]?
    }

    case put(sequence: Int64, items: [Item])
    case delete(sequence: Int64, kind: RecordKind, id: String)

    /// The last change a run of operations makes to one record: its put item, or nil for a delete.
    struct LastChange: Sendable {
        var kind: RecordKind
        var id: String
        var item: Item?
    }

    /// Each record's last change in `operations`, keyed `kind/id`: the last operation on a record decides what
    /// recovery, a writer catching up, a checkpoint's fallback and a backup's catch-up make of it.
    static func lastChanges(_ operations: some Sequence<JournalOperation>) -> [String: LastChange] {
        var last: [String: LastChange] = [:]
        for operation in operations {
            switch operation {
            case .put(_, let items): for item in items { last["\(item.kind.rawValue)/\(item.id)"] = LastChange(kind: item.kind, id: item.id, item: item) }
            case .delete(_, let kind, let id): last["\(kind.rawValue)/\(id)"] = LastChange(kind: kind, id: id, item: nil)
            }
        }
        return last
    }

    var sequence: Int64 {
        switch self {
        case .put(let s, _), .delete(let s, _, _): s
        }
    }

    var json: JSONValue {
        switch self {
        case .put(let sequence, let items):
            var o: JSONObject = ["seq": .int(sequence), "op": "put"]
            o["items"] = .array(items.map { item in
                var i: JSONObject = ["kind": .string(item.kind.rawValue), "id": .string(item.id), "tmp": .string(item.temporaryName)]
                if let m = item.memory {
                    i["created_at"] = .string(m.createdAt.description)
                    i["updated_at"] = .string(m.updatedAt.description)
                    i["quickrecal_score"] = .double(m.quickrecalScore)
                    i["content_hash"] = .string(m.contentHash)
                    i["embedding_dim"] = m.dimension.map { .int(Int64($0)) } ?? .null
                }
                if let a = item.assembly {
                    i["created_at"] = .string(a.createdAt.description)
                    i["updated_at"] = .string(a.updatedAt.description)
                    i["memory_ids"] = .array(a.memoryIds.map { .string($0) })
                    i["embedding_dim"] = a.dimension.map { .int(Int64($0)) } ?? .null
                }
                return .object(i)
            })
            return .object(o)
        case .delete(let sequence, let kind, let id):
            return .object(["seq": .int(sequence), "op": "delete", "kind": .string(kind.rawValue), "id": .string(id)])
        }
    }

    /// Decodes a journal line's operation and the records it carries (one per `put` item, in order, or none:
    /// lines of earlier versions); nil for a line this version does not understand (treated as damage).
    init?(json: JSONValue, records: [[UInt8]] = []) {
        guard let o = json.objectValue, let sequence = o["seq"]?.int64Value, let op = o["op"]?.stringValue else { return nil }
        switch op {
        case "put":
            guard let items = o["items"]?.arrayValue else { return nil }
            var decoded: [Item] = []
            for value in items {
                guard let i = value.objectValue, let kind = i["kind"]?.stringValue.flatMap(RecordKind.init(rawValue:)),
                      let id = i["id"]?.stringValue, RecordID.isValid(id), let tmp = i["tmp"]?.stringValue,
                      !tmp.contains("/"), tmp.hasPrefix("."),
                      let created = i["created_at"]?.stringValue.flatMap(Timestamp.init(parsing:)),
                      let updated = i["updated_at"]?.stringValue.flatMap(Timestamp.init(parsing:))
                else { return nil }
                var item = Item(kind: kind, id: id, temporaryName: tmp)
                if !records.isEmpty {
                    guard decoded.count < records.count else { return nil }
                    item.record = records[decoded.count]
                }
                switch kind {
                case .memory:
                    guard let hash = i["content_hash"]?.stringValue else { return nil }
                    item.memory = MemoryIndexEntry(
                        createdAt: created, updatedAt: updated, quickrecalScore: i["quickrecal_score"]?.doubleValue ?? MemoryEntry.defaultScore,
                        contentHash: hash, dimension: i["embedding_dim"]?.int64Value.map { Int($0) })
                case .assembly:
                    item.assembly = AssemblyIndexEntry(createdAt: created, updatedAt: updated,
                                                       memoryIds: i["memory_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                                       dimension: i["embedding_dim"]?.int64Value.map { Int($0) })
                }
                decoded.append(item)
            }
            guard records.isEmpty || records.count == decoded.count else { return nil }
            self = .put(sequence: sequence, items: decoded)
        case "delete":
            guard let kind = o["kind"]?.stringValue.flatMap(RecordKind.init(rawValue:)), let id = o["id"]?.stringValue, RecordID.isValid(id)
            else { return nil }
            self = .delete(sequence: sequence, kind: kind, id: id)
        default:
            return nil
        }
    }
}
