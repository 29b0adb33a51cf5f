import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

extension JournalOperation.Item {
    /// An item for a record about to be committed: its index entry and the record itself, carried whole.
    init(memory: MemoryEntry, file: PendingFile) {
        self.init(kind: .memory, id: memory.id, temporaryName: file.temporaryName, memory: MemoryIndexEntry(memory),
                  record: JSONWriter.minified(file.bytes))
    }

    init(assembly: MemoryAssembly, file: PendingFile) {
        self.init(kind: .assembly, id: assembly.id, temporaryName: file.temporaryName, assembly: AssemblyIndexEntry(assembly),
                  record: JSONWriter.minified(file.bytes))
    }

    /// Whether `bytes` (a record file, or a temp file) hold the version this line commits: they decode, and the
    /// version (and a memory's content hash) are the ones the line promises. A torn, missing or older file is
    /// not; recovery rewrites it.
    func isCommittedVersion(_ bytes: [UInt8], path: String) -> Bool {
        switch kind {
        case .memory:
            guard let entry = try? MemoryEntry.decodeFile(bytes, path: path, expectedID: id) else { return false }
            return entry.updatedAt == memory?.updatedAt && entry.contentHash == memory?.contentHash
        case .assembly:
            guard let assembly = try? MemoryAssembly.decodeFile(bytes, path: path, expectedID: id) else { return false }
            return assembly.updatedAt == self.assembly?.updatedAt
        }
    }

    /// Whether a record file's bytes are what this line commits. The common case — the file the commit wrote —
    /// is a byte comparison with the carried record (no number parsing); anything else is decoded and judged by
    /// version (``isCommittedVersion(_:path:)``).
    func holds(_ bytes: [UInt8], path: String) -> Bool {
        if let record, JSONWriter.minified(bytes) == record { return true }
        return isCommittedVersion(bytes, path: path)
    }

    /// The record file's bytes as the line carries them (re-encoded in the store's pretty form), or nil for a
    /// line of an earlier version, which carries none. A carried record that does not decode to the version the
    /// line promises is damage: the line's checksum matched, so it was written that way.
    func carriedFileBytes(layout: StoreLayout, operation: String) throws(EngramError) -> [UInt8]? {
        guard let record else { return nil }
        let path = layout.journalPath
        let value: JSONValue
        do { value = try JSONReader.parse(record) } catch {
            throw EngramError(code: .corrupt, message: "the record journaled for \(id) is not valid JSON: \(error)", operation: operation, path: path, id: id,
                              remedy: "run `engram repair`: the index is rebuilt from the record files")
        }
        let bytes: [UInt8]
        switch kind {
        case .memory: bytes = try MemoryEntry(json: value, source: path, strict: true, operation: operation).jsonBytes()
        case .assembly: bytes = try MemoryAssembly(json: value, source: path, strict: true, operation: operation).jsonBytes()
        }
        guard isCommittedVersion(bytes, path: path) else {
            throw EngramError(code: .corrupt, message: "the record journaled for \(id) is not the version its line commits", operation: operation, path: path,
                              id: id, remedy: "run `engram repair`: the index is rebuilt from the record files")
        }
        return bytes
    }

    /// Makes this committed item's record file hold what the line commits, durably. Returns whether it changed
    /// anything (the caller then fsyncs the record's directory).
    ///
    /// A line carrying its record: the file is rewritten (temp, fsync, rename) unless it already holds the
    /// committed version — after a power cut it may be missing, torn, or the previous version, because record
    /// files become durable only at checkpoints. A line of an earlier version: its complete temp file is renamed
    /// into place. Open, and a writer catching up after a holder that died, both finish committed writes here.
    func finish(layout: StoreLayout, operation: String, rewriting: Bool = false) throws(EngramError) -> Bool {
        let recordPath = layout.path(of: kind, id: id)
        if record != nil {
            if !rewriting, Sys.fileType(recordPath) == .file, let bytes = try? Sys.readFile(recordPath, operation: operation), holds(bytes, path: recordPath) {
                return false
            }
            guard let carried = try carriedFileBytes(layout: layout, operation: operation) else { return false }
            let file = PendingFile(directory: layout.directory(of: kind), name: id + ".json", bytes: carried)
            try FileEngine.stage(file, operation: operation)
            do { try Sys.rename(file.temporaryPath, file.path, operation: operation) } catch {
                _ = try? Sys.unlink(file.temporaryPath)
                throw error
            }
            return true
        }
        let temporaryPath = layout.directory(of: kind) + "/" + temporaryName
        guard completeTemporaryContent(layout: layout) != nil else { return false }
        // The temp may never have been fsynced (the process died between write and fsync): sync it now.
        let fd = try Sys.open(temporaryPath, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(fd) }
        try Sys.fsync(fd, path: temporaryPath, operation: operation)
        try Sys.rename(temporaryPath, recordPath, operation: operation)
        return true
    }

    /// The bytes of this item's temp file if it is complete (see ``isCommittedVersion(_:path:)``).
    func completeTemporaryContent(layout: StoreLayout) -> [UInt8]? {
        let temporaryPath = layout.directory(of: kind) + "/" + temporaryName
        guard Sys.fileType(temporaryPath) == .file, let bytes = try? Sys.readFile(temporaryPath, operation: "recover store"),
              isCommittedVersion(bytes, path: temporaryPath) else { return nil }
        return bytes
    }
}
