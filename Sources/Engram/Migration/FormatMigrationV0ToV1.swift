import EngramIO
import EngramJSON

/// Format 0 → 1 (docs/FORMAT-v0.md): records get `created_at`/`updated_at` (ISO-8601 UTC, from the float
/// `timestamp` in seconds since the epoch), `content_hash` and `schema_version: 1`; `memory_index.json` is
/// rebuilt from the converted records in format 1 (`metadata.version "1"`, `metadata.format "engram"`,
/// `journal_seq`).
public struct FormatMigrationV0ToV1: FormatMigration {
    public let fromVersion = "0"
    public let toVersion = "1"
    public let description = "records: float `timestamp` → `created_at`/`updated_at` (ISO-8601 UTC), `content_hash` added, `schema_version` 1; memory_index.json rebuilt from the records in format 1"

    static let operation = "upgrade 0 → 1"
    /// Problems listed in the error when records cannot be converted.
    static let problemsShown = 10

    public init() {}

    public func survey(_ layout: StoreLayout) throws -> FormatMigrationStepReport {
        try run(layout, write: false)
    }

    public func apply(_ layout: StoreLayout) throws -> FormatMigrationStepReport {
        // Everything is converted in memory first: one bad record refuses the upgrade before a byte changes.
        _ = try run(layout, write: false)
        return try run(layout, write: true)
    }

    private func run(_ layout: StoreLayout, write: Bool) throws -> FormatMigrationStepReport {
        let op = FormatMigrationV0ToV1.operation
        var report = FormatMigrationStepReport(self)
        let fallbacks = FormatMigrationV0ToV1.indexTimestamps(layout)
        let now = Timestamp.now()
        var problems: [String] = []
        var withoutTimestamp: [String] = []
        for kind in RecordKind.allCases {
            let directory = layout.directory(of: kind)
            guard Sys.fileType(directory) == .directory else { continue }
            var wrote = false
            for name in try Sys.listDirectory(directory, operation: op).sorted() where name.hasSuffix(".json") && !Sys.isTemporaryName(name) {
                let id = String(name.dropLast(5))
                let path = directory + "/" + name
                guard RecordID.isValid(id) else {
                    problems.append("\(kind.directoryName)/\(name): the file name is not a valid id")
                    continue
                }
                let outcome: Conversion
                do throws(EngramError) {
                    outcome = try FormatMigrationV0ToV1.convert(try Sys.readFile(path, operation: op), kind: kind, id: id, path: path,
                                                                 fallback: fallbacks[kind]?[id], now: now)
                } catch {
                    problems.append("\(kind.directoryName)/\(name): \(error.message)")
                    continue
                }
                switch outcome {
                case .alreadyCurrent:
                    report.recordsAlreadyCurrent += 1
                case .converted(let bytes, let hadTimestamp):
                    report.recordsRewritten += 1
                    if !hadTimestamp { withoutTimestamp.append("\(kind.directoryName)/\(name)") }
                    if write {
                        let file = PendingFile(directory: directory, name: name, bytes: bytes)
                        try FileEngine.stage(file, operation: op)
                        do {
                            try Sys.rename(file.temporaryPath, file.path, operation: op)
                        } catch {
                            _ = try? Sys.unlink(file.temporaryPath)
                            throw error
                        }
                        wrote = true
                    }
                }
            }
            // One directory fsync for all of this kind's renames; the index, written after, is the commit point.
            if wrote { try Sys.fsyncDirectory(directory, operation: op) }
        }
        if !problems.isEmpty {
            let shown = problems.prefix(FormatMigrationV0ToV1.problemsShown).joined(separator: "; ")
            let more = problems.count > FormatMigrationV0ToV1.problemsShown ? " (and \(problems.count - FormatMigrationV0ToV1.problemsShown) more)" : ""
            throw EngramError(code: .invalidRecord, message: "\(problems.count) records cannot be converted: \(shown)\(more)", operation: op, path: layout.root,
                              remedy: "fix those files or move them to quarantine/, then run the upgrade again; nothing was changed")
        }
        if !withoutTimestamp.isEmpty {
            report.notes.append("\(withoutTimestamp.count) records had no `timestamp` (in the file or the index) and got the upgrade time: \(withoutTimestamp.prefix(5).joined(separator: ", "))")
        }
        if write { try FormatMigrationV0ToV1.writeIndex(layout) }
        return report
    }

    enum Conversion {
        case alreadyCurrent
        case converted(bytes: [UInt8], hadTimestamp: Bool)
    }

    /// Converts one record file's bytes; throws (EngramError) naming the problem when it cannot.
    static func convert(_ bytes: [UInt8], kind: RecordKind, id: String, path: String, fallback: Timestamp?, now: Timestamp) throws(EngramError) -> Conversion {
        let value: JSONValue
        do { value = try JSONReader.parse(bytes) } catch {
            throw EngramError(code: .corrupt, message: "not valid JSON: \(error)", operation: operation, path: path)
        }
        guard var object = value.objectValue else {
            throw EngramError(code: .invalidRecord, message: "not a JSON object", operation: operation, path: path)
        }
        let schema = object["schema_version"]?.int64Value
        if schema == 1 {
            // Converted by an earlier, interrupted run: it must read as a format 1 record.
            switch kind {
            case .memory: _ = try MemoryEntry.decodeFile(bytes, path: path, expectedID: id)
            case .assembly: _ = try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id)
            }
            return .alreadyCurrent
        }
        guard schema == 0 || object["schema_version"] == nil else {
            throw EngramError(code: .invalidRecord, message: "schema_version \(object["schema_version"].map { "\($0)" } ?? "?") is neither 0 nor 1", operation: operation, path: path)
        }
        let given = object.removeValue(forKey: "timestamp").flatMap(timestamp(from:))
        let time = given ?? fallback ?? now
        object["created_at"] = .string(time.description)
        object["updated_at"] = .string(time.description)
        // Format 0 had no hash; a stray one would be trusted by the decoder, so it is always recomputed.
        _ = object.removeValue(forKey: "content_hash")
        object["schema_version"] = .int(1)
        let out: [UInt8]
        switch kind {
        case .memory:
            var entry = try MemoryEntry(json: .object(object), source: path, strict: false, operation: operation)
            guard entry.id == id else { throw EngramError(code: .invalidRecord, message: "the file holds id '\(entry.id)'", operation: operation, path: path) }
            entry.contentHash = ContentHash.of(entry.content)
            entry.schemaVersion = MemoryEntry.currentSchemaVersion
            out = entry.jsonBytes()
        case .assembly:
            var assembly = try MemoryAssembly(json: .object(object), source: path, strict: false, operation: operation)
            guard assembly.id == id else { throw EngramError(code: .invalidRecord, message: "the file holds id '\(assembly.id)'", operation: operation, path: path) }
            assembly.schemaVersion = MemoryEntry.currentSchemaVersion
            out = assembly.jsonBytes()
        }
        return .converted(bytes: out, hadTimestamp: given != nil || fallback != nil)
    }

    /// Format 0's `timestamp`: seconds since the epoch (a number). An ISO-8601 string is accepted too.
    static func timestamp(from value: JSONValue) -> Timestamp? {
        if let seconds = value.doubleValue {
            guard seconds.isFinite, abs(seconds) < 1e11 else { return nil }
            return Timestamp(microseconds: Int64((seconds * 1_000_000).rounded()))
        }
        return value.stringValue.flatMap(Timestamp.init(parsing:))
    }

    /// The `timestamp` of each record in the format 0 index, used for records whose file lacks one. An
    /// unreadable index gives none: the records are the truth.
    static func indexTimestamps(_ layout: StoreLayout) -> [RecordKind: [String: Timestamp]] {
        guard let bytes = try? Sys.readFile(layout.indexPath, operation: operation), let root = try? JSONReader.parse(bytes) else { return [:] }
        var out: [RecordKind: [String: Timestamp]] = [:]
        for kind in RecordKind.allCases {
            for (id, entry) in root[kind.directoryName]?.objectValue ?? [:] {
                if let time = entry["timestamp"].flatMap(timestamp(from:)) { out[kind, default: [:]][id] = time }
            }
        }
        return out
    }

    /// The commit point: a format 1 index built from the converted records. Format 0 had no journal; any file of
    /// that name is removed first (the pre-upgrade snapshot keeps it) so nothing replays over the new index.
    static func writeIndex(_ layout: StoreLayout) throws {
        var opener = StoreOpener(layout: layout, configuration: StoreConfiguration())
        var index = try opener.rebuildFromRecords()
        if let unreadable = opener.report.unreadableRecords.first {
            throw EngramError(code: .corrupt, message: "a converted record does not read back: \(unreadable)", operation: operation, path: layout.root,
                              remedy: "restore the pre-upgrade snapshot from backups/ and report this")
        }
        index.journalSequence = 0
        if try Sys.unlink(layout.journalPath, operation: operation) { try Sys.fsyncDirectory(layout.root, operation: operation) }
        try FileEngine.writeAtomicallyBlocking(
            PendingFile(directory: layout.root, name: CentralIndex.fileName, bytes: index.jsonBytes(lastUpdated: .now())), operation: operation)
    }
}
