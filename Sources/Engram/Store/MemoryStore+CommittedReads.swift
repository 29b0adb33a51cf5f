import EngramIO

extension MemoryStore {
    /// Reads a record's bytes: as a journal line carries it, or from its committed temp file, when a read-only
    /// open found its record file behind (so that a committed batch is seen whole, see ``CommittedRecords``);
    /// else from its record file.
    func readRecord(_ kind: RecordKind, id: String, operation: String) async throws -> (bytes: [UInt8], path: String) {
        if let bytes = recovery.committedRecords.carried["\(kind.rawValue)/\(id)"] { return (bytes, layout.journalPath) }
        if recovery.committedRecords.deleted.contains("\(kind.rawValue)/\(id)") {
            throw EngramError(code: .notFound, message: "a journal line deletes it", operation: operation, path: layout.path(of: kind, id: id), id: id)
        }
        if let temporary = recovery.committedRecords.paths["\(kind.rawValue)/\(id)"] {
            do {
                return (try await engine.read(temporary, operation: operation), temporary)
            } catch let error as EngramError where error.code == .notFound {
                // A writer renamed it meanwhile: the record file now holds the same bytes.
            }
        }
        let path = layout.path(of: kind, id: id)
        return (try await engine.read(path, operation: operation), path)
    }
}
