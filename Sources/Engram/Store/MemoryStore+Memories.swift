import EngramIO

extension MemoryStore {
    // MARK: Saving

    /// Saves one memory durably and returns it as stored (hash, timestamps set).
    ///
    /// - Parameter expectedUpdatedAt: optimistic concurrency: if given, the save fails with
    ///   ``EngramError/Code/conflict`` unless the stored record's `updatedAt` is exactly this value (the
    ///   `updatedAt` of the version you read). A record that no longer exists is a conflict too.
    @discardableResult
    public func save(_ memory: MemoryEntry, expectedUpdatedAt: Timestamp? = nil) async throws -> MemoryEntry {
        try await saveMemories([memory], expected: expectedUpdatedAt.map { [memory.id: $0] } ?? [:], operation: "save memory").first!
    }

    /// Saves memories as one all-or-nothing batch: after a crash either every one is there or none is.
    /// Their fsyncs are shared, so this is the fast path for imports.
    @discardableResult
    public func saveBatch(_ memories: [MemoryEntry]) async throws -> [MemoryEntry] {
        try await saveMemories(memories, expected: [:], operation: "save batch")
    }

    /// Reads, changes and saves a memory, failing with ``EngramError/Code/conflict`` if it changed meanwhile.
    @discardableResult
    public func update(_ id: String, _ change: @Sendable (inout MemoryEntry) throws -> Void) async throws -> MemoryEntry {
        guard var memory = try await memory(id) else {
            throw EngramError(code: .notFound, message: "no such memory", operation: "update memory", path: layout.path(of: .memory, id: id), id: id)
        }
        let read = memory.updatedAt
        try change(&memory)
        memory.id = id
        return try await save(memory, expectedUpdatedAt: read)
    }

    func saveMemories(_ memories: [MemoryEntry], expected: [String: Timestamp], operation: String) async throws -> [MemoryEntry] {
        try checkWritable(operation)
        guard !memories.isEmpty else { return [] }
        let memories = try await embeddingMissingVectors(memories, operation: operation)
        var seen = Set<String>()
        for memory in memories {
            try RecordID.validate(memory.id, operation: operation)
            guard seen.insert(memory.id).inserted else {
                throw EngramError(code: .invalidRecord, message: "the batch holds id '\(memory.id)' twice", operation: operation, id: memory.id,
                                  remedy: "give each memory of a batch its own id")
            }
            try validateEmbedding(memory.embedding, id: memory.id, operation: operation)
        }
        let ids = memories.map(\.id)
        let compound = ids.contains { !(membership[$0] ?? []).isEmpty }
        let saved = try await writeMemories(memories, ids: ids, gate: ids + duplicateGateTokens(memories), expected: expected,
                                            operation: operation, compound: compound)
        defer { if compound { endCompound() } }
        // Outside the write gate: rewriting assemblies takes their own ids through the gate.
        let inAssemblies = Set(ids.flatMap { membership[$0] ?? [] })
        if !inAssemblies.isEmpty { try await refreshComposites(of: inAssemblies, operation: operation) }
        return saved
    }

    /// With `compound`, the operation counts itself in `compoundOperations` once it holds the write gate (and
    /// so no checkpoint is running); the caller ends it after the assemblies are rewritten.
    /// `gate`: the ids to claim in the write gate (the memories' ids and their duplicate tokens).
    private func writeMemories(_ memories: [MemoryEntry], ids: [String], gate: [String], expected: [String: Timestamp], operation: String,
                               compound: Bool) async throws -> [MemoryEntry] {
        try await beginWrite(gate, operation: operation)
        if compound { compoundOperations += 1 }
        defer { endWrite(gate) }
        do {
            return try await writeMemoriesHoldingGate(memories, expected: expected, operation: operation)
        } catch {
            if compound { endCompound() }
            throw error
        }
    }

    private func writeMemoriesHoldingGate(_ memories: [MemoryEntry], expected: [String: Timestamp], operation: String) async throws -> [MemoryEntry] {
        try checkWritable(operation)
        let duplicates = try await resolveDuplicates(memories, operation: operation)

        var records: [PreparedRecord] = []
        records.reserveCapacity(memories.count)
        for (position, var memory) in memories.enumerated() where duplicates.existing[position] == nil && duplicates.sameAs[position] == nil {
            let existing = index.memories[memory.id]
            if let expectation = expected[memory.id], existing?.updatedAt != expectation {
                throw EngramError(code: .conflict,
                                  message: existing == nil ? "the memory no longer exists" : "the memory was changed at \(existing!.updatedAt) since it was read at \(expectation)",
                                  operation: operation, id: memory.id, remedy: "read the memory again, reapply the change and retry")
            }
            memory.createdAt = existing?.createdAt ?? memory.createdAt
            memory.updatedAt = nextTimestamp(after: existing?.updatedAt)
            memory.contentHash = ContentHash.of(memory.content)
            memory.schemaVersion = MemoryEntry.currentSchemaVersion
            let file = PendingFile(directory: layout.memoriesDirectory, name: memory.id + ".json", bytes: memory.jsonBytes())
            let item = JournalOperation.Item(memory: memory, file: file)
            records.append(PreparedRecord(kind: .memory, id: memory.id, file: file, item: item, memory: memory))
        }
        if !records.isEmpty { try await commit(records, operation: operation) }
        return duplicates.results(memories: memories, saved: records.map { $0.memory! })
    }

    /// Checks a memory as a save would (id, finite values, dimension, and a duplicate the `reject` policy would
    /// refuse) without writing anything.
    public func check(_ memory: MemoryEntry) async throws {
        try RecordID.validate(memory.id, operation: "check memory")
        try validateEmbedding(memory.embedding, id: memory.id, operation: "check memory")
        if configuration.duplicates == .reject, let existing = try await existingDuplicate(of: memory) {
            throw duplicateError(memory, existing: existing.id, operation: "check memory")
        }
    }

    /// Rejects NaN/±Infinity and wrong dimensions before anything is written; fixes the store's dimension with
    /// the first embedding.
    func validateEmbedding(_ embedding: [Float]?, id: String, operation: String) throws(EngramError) {
        guard let embedding else { return }
        if embedding.isEmpty {
            throw EngramError(code: .invalidVector, message: "the embedding is empty", operation: operation, id: id,
                              remedy: "give a non-empty embedding, or null for none")
        }
        if let bad = embedding.firstIndex(where: { !$0.isFinite }) {
            throw EngramError(code: .invalidVector, message: "embedding value \(bad) is \(embedding[bad]); NaN and ±Infinity are not allowed",
                              operation: operation, id: id, remedy: "recompute the embedding; every value must be a finite float32")
        }
        let dimension = index.embeddingDimension ?? configuration.embeddingDimension
        if let dimension, embedding.count != dimension {
            throw EngramError(code: .dimensionMismatch, message: "the embedding has \(embedding.count) values; this store's dimension is \(dimension)",
                              operation: operation, id: id, remedy: "use the same embedding model as the rest of the store (\(dimension) dimensions), or a new store")
        }
        if index.embeddingDimension == nil { index.embeddingDimension = embedding.count }
    }

    // MARK: Deleting

    /// Deletes a memory durably and removes it from every assembly that lists it. Returns false if absent.
    @discardableResult
    public func deleteMemory(_ id: String) async throws -> Bool {
        let operation = "delete memory"
        try RecordID.validate(id, operation: operation)
        try checkWritable(operation)
        let compound = !(membership[id] ?? []).isEmpty
        try await beginWrite([id], operation: operation)
        if compound { compoundOperations += 1 }  // see writeMemories
        defer { if compound { endCompound() } }
        let existed: Bool
        do {
            defer { endWrite([id]) }
            try checkWritable(operation)
            existed = index.memories[id] != nil
            if existed { try await commitRemoval(kind: .memory, id: id, operation: operation) }
        }
        if existed, let assemblies = membership[id], !assemblies.isEmpty {
            try await removeMember(id, from: assemblies)
        }
        membership[id] = nil
        return existed
    }

    // MARK: Reading

    /// The memory with this id, or nil if the store has none. Served from the LRU cache when possible.
    public func memory(_ id: String) async throws -> MemoryEntry? {
        let operation = "read memory"
        try RecordID.validate(id, operation: operation)
        try checkOpen(operation)
        try await refreshIfChanged()
        if let cached = memoryCache.value(for: id) { return cached }
        // A read-only opener reads the file even if its snapshot of the index predates it.
        guard index.memories[id] != nil || configuration.readOnly else { return nil }
        let bytes: [UInt8], path: String
        do {
            (bytes, path) = try await readRecord(.memory, id: id, operation: operation)
        } catch let error as EngramError where error.code == .notFound {
            if configuration.readOnly && index.memories[id] == nil { return nil }
            throw EngramError(code: .notFound, message: "the index lists this memory but its file is missing", operation: operation,
                              path: layout.path(of: .memory, id: id), id: id, remedy: "run `engram verify` and `engram repair`")
        }
        let memory = try MemoryEntry.decodeFile(bytes, path: path, expectedID: id)
        memoryCache.insert(memory, for: id)
        return memory
    }

    /// Loads many memories with few round trips to the I/O thread (cache misses are read in parallel).
    /// Ids the store does not have are skipped; the result is in the order of `ids`.
    public func memories(_ ids: [String]) async throws -> [MemoryEntry] {
        let operation = "read memories"
        try checkOpen(operation)
        try await refreshIfChanged()
        for id in ids { try RecordID.validate(id, operation: operation) }
        var found: [String: MemoryEntry] = [:]
        var missing: [String] = []
        for id in ids {
            if let cached = memoryCache.value(for: id) {
                found[id] = cached
            } else if let carried = recovery.committedRecords.carried["memory/\(id)"] {
                let memory = try MemoryEntry.decodeFile(carried, path: layout.journalPath, expectedID: id)
                memoryCache.insert(memory, for: id)
                found[id] = memory
            } else if index.memories[id] != nil || (configuration.readOnly && !recovery.committedRecords.deleted.contains("memory/\(id)")) {
                missing.append(id)
            }
        }
        if !missing.isEmpty {
            let committed = recovery.committedRecords
            let paths = missing.map { committed.path(of: .memory, id: $0, layout: layout) }
            let results = await engine.readMany(paths, operation: operation)
            for (i, result) in results.enumerated() {
                var outcome = result.map { (bytes: $0, path: paths[i]) }
                if case .failure(let error) = result, error.code == .notFound, paths[i] != layout.path(of: .memory, id: missing[i]) {
                    // A committed temp file renamed by a writer meanwhile: read the record file.
                    do { outcome = .success(try await readRecord(.memory, id: missing[i], operation: operation)) } catch let e as EngramError { outcome = .failure(e) }
                }
                switch outcome {
                case .success(let (bytes, path)):
                    let memory = try MemoryEntry.decodeFile(bytes, path: path, expectedID: missing[i])
                    memoryCache.insert(memory, for: missing[i])
                    found[missing[i]] = memory
                case .failure(let error):
                    if error.code == .notFound && (configuration.readOnly && index.memories[missing[i]] == nil) { continue }
                    throw error
                }
            }
        }
        return ids.compactMap { found[$0] }
    }

    /// Whether the store has a memory with this id.
    public func containsMemory(_ id: String) -> Bool { index.memories[id] != nil }

    /// Every memory id, sorted.
    public func memoryIDs() -> [String] { index.memories.keys.sorted() }

    /// What the index knows about a memory, without reading its file.
    public func indexEntry(forMemory id: String) -> MemoryIndexEntry? { index.memories[id] }

    /// The store's embedding dimension (nil until the first embedding, unless configured).
    public var embeddingDimension: Int? { index.embeddingDimension }
}
