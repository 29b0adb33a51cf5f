import EngramIO

/// Committed writes that have not reached their record files yet, as a read-only opener sees them.
///
/// A read-only open must not write anything (it may run on a read-only directory, beside a writer), yet it must
/// never show half of a committed batch, nor a record older than an acknowledged save. Record files become
/// durable only at checkpoints, and a writer renames them in just after the journal line: so a reader may find
/// a line whose file is still the old version (a writer is between the two steps) or, after a power cut, torn
/// or missing. It then takes the record from the line itself (`carried`), in memory. Lines of earlier versions
/// name a complete temp file instead (`paths`); if it has vanished by the time it is read, a writer renamed it
/// meanwhile, and the record file holds the same bytes.
struct CommittedRecords: Sendable, Equatable {
    /// "kind/id" → the complete temp file's path (lines of earlier versions).
    var paths: [String: String] = [:]
    /// "kind/id" → the record file's bytes as the journal line carries them.
    var carried: [String: [UInt8]] = [:]
    /// "kind/id" of records a journal line deletes whose file is still there (a power cut brought it back).
    var deleted: Set<String> = []

    var isEmpty: Bool { paths.isEmpty && carried.isEmpty && deleted.isEmpty }

    /// Whether the record is known to exist as a committed write (its file may not say so yet).
    func holds(_ kind: RecordKind, id: String) -> Bool {
        let key = "\(kind.rawValue)/\(id)"
        return paths[key] != nil || carried[key] != nil
    }

    /// The file that holds the record's current content: its committed temp file, or its record file.
    func path(of kind: RecordKind, id: String, layout: StoreLayout) -> String {
        paths["\(kind.rawValue)/\(id)"] ?? layout.path(of: kind, id: id)
    }

    /// Reads the record's current content: as the journal carries it, from its committed temp file, or from its
    /// record file (also when the temp file was renamed meanwhile); `notFound` when a line deletes it. The path
    /// names where it came from.
    func read(_ kind: RecordKind, id: String, layout: StoreLayout, operation: String) throws(EngramError) -> (bytes: [UInt8], path: String) {
        let key = "\(kind.rawValue)/\(id)"
        if let bytes = carried[key] { return (bytes, layout.journalPath) }
        if deleted.contains(key) {
            throw EngramError(code: .notFound, message: "a journal line deletes it", operation: operation, path: layout.path(of: kind, id: id), id: id)
        }
        let recordPath = layout.path(of: kind, id: id)
        if let temporary = paths[key] {
            do {
                return (try Sys.readFile(temporary, operation: operation), temporary)
            } catch where error.code == .notFound {}
        }
        return (try Sys.readFile(recordPath, operation: operation), recordPath)
    }
}
