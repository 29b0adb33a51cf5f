import EngramIO

/// A record ready to be written: its bytes, its journal item (which carries them), and the decoded value for
/// the cache.
struct PreparedRecord: Sendable {
    var kind: RecordKind
    var id: String
    var file: PendingFile
    var item: JournalOperation.Item
    var memory: MemoryEntry?
    var assembly: MemoryAssembly?
}

extension MemoryStore {
    /// Makes `records` durable, all or nothing, and applies them to the index and cache.
    ///
    /// One fsync round: the journal line carries every record whole and is the commit point (appended and
    /// `fdatasync`ed, group-committed with the other commits in flight). The record files are written to temp
    /// files just before it (no fsync: a full disk fails the write there, before anything is committed) and
    /// renamed into place just after, in the same thread-pool job, so a reader sees the new file when this returns; they become durable at
    /// the next checkpoint (`syncfs` before the journal is emptied). A crash or power cut before the line is
    /// durable leaves the records as they were; after it, recovery rewrites any record file that is missing,
    /// torn or older than its line (``JournalOperation/Item/finish(layout:operation:rewriting:)``).
    func commit(_ records: [PreparedRecord], operation: String) async throws {
        guard let journal else { throw EngramError(code: .closed, message: "the store is closed", operation: operation, path: layout.root) }
        let line = Journal.line(.put(sequence: nextSequence(), items: records.map(\.item)))
        // The temp files, the line and the renames in one job of the journal's group commit (see AppendOnlyFile).
        do {
            try await journal.append(line, placing: records.map(\.file))
        } catch let failure as AppendOnlyFile.NotPlaced {
            journalOffset += line.count
            placementFailed(failure.underlying)
            throw failure.underlying
        }
        journalOffset += line.count
        apply(records)
    }

    /// After the commit point, a record file could not be renamed into place or unlinked (an I/O error): the
    /// change is committed in the journal but the files do not all say so, and it is not acknowledged. The
    /// store refuses further writes until it is reopened — open completes the files from the journal — and it
    /// releases the commit lock as a holder that died would, so that another process taking it completes them.
    func placementFailed(_ error: any Error) {
        damaged = (error as? EngramError) ?? EngramError(code: .io, message: "\(error)", operation: "write record files", path: layout.root)
        logger.error("engram: a committed change could not reach the record files (\(error)); writes are refused until the store is reopened, which completes it from the journal")
    }

    /// Applies durable records to the in-memory index, membership map and caches.
    func apply(_ records: [PreparedRecord]) {
        var changes = DerivedChanges()
        for record in records {
            if let memory = record.memory { changes.upsert(memory) } else if let assembly = record.assembly { changes.upsert(assembly) } else { changes.remove(record.kind, record.id) }
        }
        applyToDerived(changes)
        for record in records {
            switch record.kind {
            case .memory:
                guard let memory = record.memory else { continue }
                setIndexEntry(memory: record.id, MemoryIndexEntry(memory))
                memoryCache.insert(memory, for: record.id)
            case .assembly:
                guard let assembly = record.assembly else { continue }
                setIndexEntry(assembly: record.id, AssemblyIndexEntry(assembly))
                assemblyCache.insert(assembly, for: record.id)
            }
        }
        noteChanges(records.count)
    }

    /// Removes a record durably: the journal line is the commit point (group-committed fsync); the unlink that
    /// follows is made durable at the next checkpoint, and recovery unlinks again a file a power cut brought back.
    func commitRemoval(kind: RecordKind, id: String, operation: String) async throws {
        guard let journal else { throw EngramError(code: .closed, message: "the store is closed", operation: operation, path: layout.root) }
        let line = Journal.line(.delete(sequence: nextSequence(), kind: kind, id: id))
        try await journal.append(line)
        journalOffset += line.count
        do {
            _ = try await engine.loop.unlink(layout.path(of: kind, id: id), operation: operation)
        } catch {
            // Committed but not done (a permission error, say): the record stays, said by a line of its own that
            // carries it as it is, so that recovery and other processes keep it too. Not acknowledged either way.
            do { try await keepRecord(kind: kind, id: id, operation: operation) } catch { placementFailed(error) }
            throw error
        }
        applyRemoval(kind: kind, id: id)
    }

    /// Appends a line carrying a record as its file holds it: undoes a committed delete whose unlink failed.
    private func keepRecord(kind: RecordKind, id: String, operation: String) async throws {
        guard let journal else { return }
        let path = layout.path(of: kind, id: id)
        let bytes = try await engine.read(path, operation: operation)
        let file = PendingFile(directory: layout.directory(of: kind), name: id + ".json", bytes: bytes)
        let item: JournalOperation.Item
        switch kind {
        case .memory: item = JournalOperation.Item(memory: try MemoryEntry.decodeFile(bytes, path: path, expectedID: id), file: file)
        case .assembly: item = JournalOperation.Item(assembly: try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id), file: file)
        }
        let line = Journal.line(.put(sequence: nextSequence(), items: [item]))
        try await journal.append(line)
        journalOffset += line.count
    }

    func applyRemoval(kind: RecordKind, id: String) {
        applyToDerived(DerivedChanges(removals: [(kind, id)]))
        switch kind {
        case .memory:
            setIndexEntry(memory: id, nil)
            memoryCache.removeValue(for: id)
        case .assembly:
            setIndexEntry(assembly: id, nil)
            assemblyCache.removeValue(for: id)
        }
        noteChanges(1)
    }

    /// Sets (nil: removes) what the index holds for a memory, keeping the duplicate map and the store's
    /// dimension in step. Every change to the index goes through here or its assembly twin: this process's
    /// commits, and other processes' commits caught up from the journal.
    func setIndexEntry(memory id: String, _ entry: MemoryIndexEntry?) {
        noteContentHash(of: id, old: index.memories[id]?.contentHash, new: entry?.contentHash)
        index.memories[id] = entry
        if index.embeddingDimension == nil, let d = entry?.dimension { index.embeddingDimension = d }
    }

    /// Sets (nil: removes) what the index holds for an assembly, keeping the membership map in step.
    func setIndexEntry(assembly id: String, _ entry: AssemblyIndexEntry?) {
        if let old = index.assemblies[id] { for member in old.memoryIds { membership[member]?.remove(id) } }
        index.assemblies[id] = entry
        for member in entry?.memoryIds ?? [] { membership[member, default: []].insert(id) }
    }

}
