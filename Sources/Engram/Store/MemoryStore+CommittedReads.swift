import EngramIO

extension MemoryStore {
    /// Reads a record's bytes: as a journal line carries it, or from its committed temp file, when a read-only
    /// open found its record file behind (so that a committed batch is seen whole, see ``CommittedRecords``);
    /// else from its record file.
    func readRecord(_ kind: RecordKind, id: String, operation: String) async throws -> (bytes: [UInt8], path: String) {
        let committed = recovery.committedRecords, layout = self.layout
        return try await engine.loop.run { () throws -> (bytes: [UInt8], path: String) in try committed.read(kind, id: id, layout: layout, operation: operation) }
    }
}
