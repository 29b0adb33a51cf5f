import EngramIO

/// Complete temp files of committed writes whose renames did not happen yet — what a writer open rolls forward —
/// as a read-only opener sees them.
///
/// A read-only open must not rename anything (it may run on a read-only directory, beside a writer), yet it must
/// never show half of a committed batch: the records already renamed but not the rest. So it treats each such
/// temp file as its record's content, in memory: the index entry comes from it, and reads of that record go to
/// it. If the temp file has vanished by the time it is read, a writer renamed it meanwhile, and the record file
/// holds the same bytes.
struct CommittedTemporaryFiles: Sendable, Equatable {
    /// "kind/id" → the complete temp file's path.
    var paths: [String: String] = [:]

    var isEmpty: Bool { paths.isEmpty }

    /// The file that holds the record's current content: its committed temp file, or its record file.
    func path(of kind: RecordKind, id: String, layout: StoreLayout) -> String {
        paths["\(kind.rawValue)/\(id)"] ?? layout.path(of: kind, id: id)
    }

    /// Reads the record's current content (see ``path(of:id:layout:)``), falling back to the record file when the
    /// temp file was renamed meanwhile.
    func read(_ kind: RecordKind, id: String, layout: StoreLayout, operation: String) throws(EngramError) -> (bytes: [UInt8], path: String) {
        let recordPath = layout.path(of: kind, id: id)
        if let temporary = paths["\(kind.rawValue)/\(id)"] {
            do {
                return (try Sys.readFile(temporary, operation: operation), temporary)
            } catch where error.code == .notFound {}
        }
        return (try Sys.readFile(recordPath, operation: operation), recordPath)
    }

    /// The bytes of a journaled item's temp file if it is complete: it decodes, and its version (and a memory's
    /// content hash) are the ones the journal line promises. Anything else is an unfinished write.
    static func completeContent(of item: JournalOperation.Item, layout: StoreLayout) -> [UInt8]? {
        let temporaryPath = layout.directory(of: item.kind) + "/" + item.temporaryName
        guard Sys.fileType(temporaryPath) == .file, let bytes = try? Sys.readFile(temporaryPath, operation: "recover store") else { return nil }
        switch item.kind {
        case .memory:
            guard let entry = try? MemoryEntry.decodeFile(bytes, path: temporaryPath, expectedID: item.id),
                  entry.updatedAt == item.memory?.updatedAt, entry.contentHash == item.memory?.contentHash else { return nil }
        case .assembly:
            guard let assembly = try? MemoryAssembly.decodeFile(bytes, path: temporaryPath, expectedID: item.id),
                  assembly.updatedAt == item.assembly?.updatedAt else { return nil }
        }
        return bytes
    }
}
