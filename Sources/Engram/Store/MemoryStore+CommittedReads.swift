import EngramIO

extension MemoryStore {
    /// Reads a record's bytes: from its committed temp file when a read-only open found one not yet renamed (so
    /// that a committed batch is seen whole, see ``CommittedTemporaryFiles``), else from its record file.
    func readRecord(_ kind: RecordKind, id: String, operation: String) async throws -> (bytes: [UInt8], path: String) {
        if let temporary = recovery.committedTemporaryFiles.paths["\(kind.rawValue)/\(id)"] {
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
