import EngramIO

/// A record ready to be written: its bytes, its journal item, and the decoded value for the cache.
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
    /// One record: the journal line and the temp file are written concurrently (their fsyncs overlap), then the
    /// temp file is renamed and the directory fsynced. Several records (a batch): every temp file is written and
    /// fsynced first, then the journal line — the commit point — then the renames. A crash before the line is
    /// durable leaves only stale temp files (removed at open); after it, open renames the rest (roll forward).
    func commit(_ records: [PreparedRecord], operation: String) async throws {
        guard let journal else { throw EngramError(code: .closed, message: "the store is closed", operation: operation, path: layout.root) }
        let line = Journal.line(JournalOperation.put(sequence: nextSequence(), items: records.map(\.item)).json)
        let files = records.map(\.file)
        if records.count == 1 {
            async let journaled: Void = journal.append(line)
            var stageError: (any Error)?
            do { try await engine.stage(files, operation: operation) } catch { stageError = error }
            var journalError: (any Error)?
            do { try await journaled } catch { journalError = error }
            if let stageError {
                // Nothing reached the records; a journaled intent replays as a no-op.
                if journalError == nil { journalOffset += line.count }
                throw stageError
            }
            if let journalError {
                await engine.discard(files)
                throw journalError
            }
            journalOffset += line.count
        } else {
            try await engine.stage(files, operation: operation)
            do {
                try await journal.append(line)
                journalOffset += line.count
            } catch {
                await engine.discard(files)
                throw error
            }
        }
        do {
            try await engine.publish(files, operation: operation)
        } catch {
            await handlePublishFailure(records, error: error)
            throw error
        }
        apply(records)
    }

    /// After the commit point, a rename or directory fsync failed: the write is not acknowledged. If every
    /// rename happened, the index simply follows the files; if some temp files are left, the store refuses
    /// further writes until reopened, because only open's roll-forward can complete the batch atomically.
    func handlePublishFailure(_ records: [PreparedRecord], error: any Error) async {
        let leftovers = records.filter { Sys.fileType($0.file.temporaryPath) != nil }
        if leftovers.isEmpty {
            apply(records)
            logger.warning("engram: \(error); the records were renamed but the write was not acknowledged")
        } else {
            damaged = (error as? EngramError) ?? EngramError(code: .io, message: "\(error)", operation: "publish", path: layout.root)
            logger.error("engram: a committed write could not be completed (\(error)); writes are refused until the store is reopened")
        }
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

    /// Removes a record durably: journal line, unlink, directory fsync.
    func commitRemoval(kind: RecordKind, id: String, operation: String) async throws {
        guard let journal else { throw EngramError(code: .closed, message: "the store is closed", operation: operation, path: layout.root) }
        let line = Journal.line(JournalOperation.delete(sequence: nextSequence(), kind: kind, id: id).json)
        try await journal.append(line)
        journalOffset += line.count
        do {
            try await engine.remove(directory: layout.directory(of: kind), name: id + ".json", operation: operation)
        } catch {
            // The unlink may or may not have happened: follow the file system.
            if Sys.fileType(layout.path(of: kind, id: id)) == nil { applyRemoval(kind: kind, id: id) }
            throw error
        }
        applyRemoval(kind: kind, id: id)
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
