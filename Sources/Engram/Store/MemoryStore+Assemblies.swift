import EngramIO

extension MemoryStore {
    /// Saves an assembly durably. Every member must exist; duplicates are dropped (first occurrence kept);
    /// `compositeEmbedding` is computed here as the mean of the members' embeddings.
    @discardableResult
    public func save(_ assembly: MemoryAssembly, expectedUpdatedAt: Timestamp? = nil) async throws -> MemoryAssembly {
        let operation = "save assembly"
        try checkWritable(operation)
        try RecordID.validate(assembly.id, operation: operation)
        for member in assembly.memoryIds { try RecordID.validate(member, operation: operation) }
        try await beginWrite([assembly.id], operation: operation)
        defer { endWrite([assembly.id]) }
        try checkWritable(operation)
        var assembly = assembly
        var seen = Set<String>()
        assembly.memoryIds = assembly.memoryIds.filter { seen.insert($0).inserted }
        if let missing = assembly.memoryIds.first(where: { index.memories[$0] == nil }) {
            throw EngramError(code: .notFound, message: "member memory '\(missing)' does not exist", operation: operation, id: assembly.id,
                              remedy: "save the memory first, or leave it out of memory_ids")
        }
        let existing = index.assemblies[assembly.id]
        if let expectedUpdatedAt, existing?.updatedAt != expectedUpdatedAt {
            throw EngramError(code: .conflict, message: "the assembly changed since it was read", operation: operation, id: assembly.id,
                              remedy: "read it again, reapply the change and retry")
        }
        assembly.compositeEmbedding = try await compositeEmbedding(of: assembly.memoryIds)
        try await commitAssembly(assembly, existing: existing, operation: operation)
        return assemblyCache.value(for: assembly.id) ?? assembly
    }

    func commitAssembly(_ assembly: MemoryAssembly, existing: AssemblyIndexEntry?, operation: String) async throws {
        var assembly = assembly
        assembly.createdAt = existing?.createdAt ?? assembly.createdAt
        assembly.updatedAt = nextTimestamp(after: existing?.updatedAt)
        assembly.schemaVersion = MemoryEntry.currentSchemaVersion
        let file = PendingFile(directory: layout.assembliesDirectory, name: assembly.id + ".json", bytes: assembly.jsonBytes())
        let item = JournalOperation.Item(assembly: assembly, file: file)
        try await commit([PreparedRecord(kind: .assembly, id: assembly.id, file: file, item: item, assembly: assembly)], operation: operation)
    }

    /// The mean of the members' embeddings (members without one are skipped); nil when none has one.
    func compositeEmbedding(of memberIDs: [String]) async throws -> [Float]? {
        let withVectors = memberIDs.filter { index.memories[$0]?.dimension != nil }
        guard !withVectors.isEmpty else { return nil }
        let members = try await memories(withVectors)
        var sum: [Double] = []
        var count = 0
        for member in members {
            guard let v = member.embedding else { continue }
            if sum.isEmpty { sum = [Double](repeating: 0, count: v.count) }
            guard v.count == sum.count else { continue }
            for i in v.indices { sum[i] += Double(v[i]) }
            count += 1
        }
        guard count > 0 else { return nil }
        return sum.map { Float($0 / Double(count)) }
    }

    /// Rewrites assemblies whose members changed embedding, so composites stay the mean of their members.
    func refreshComposites(of assemblyIDs: Set<String>, operation: String) async throws {
        for id in assemblyIDs.sorted() {
            try await beginWrite([id], operation: operation)
            defer { endWrite([id]) }
            guard let existing = index.assemblies[id], var assembly = try await assembly(id) else { continue }
            assembly.memoryIds = assembly.memoryIds.filter { index.memories[$0] != nil }
            assembly.compositeEmbedding = try await compositeEmbedding(of: assembly.memoryIds)
            try await commitAssembly(assembly, existing: existing, operation: operation)
        }
    }

    func endCompound() {
        compoundOperations -= 1
        if compoundOperations == 0 {
            let waiters = compoundWaiters
            compoundWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    /// At a writer's open: assemblies listing a memory that no longer exists, or a memory the replayed journal
    /// changed (a crash fell between the memory's write and its assemblies'), are brought up to date — only if
    /// their members or composite actually differ. O(members) in memory, plus the affected assemblies' files.
    func reconcileAssemblies(journaled: Set<String>) async throws {
        var suspects = Set<String>()
        for (id, entry) in index.assemblies where entry.memoryIds.contains(where: { index.memories[$0] == nil || journaled.contains($0) }) {
            suspects.insert(id)
        }
        for id in suspects.sorted() {
            try await beginWrite([id], operation: "recover store")
            defer { endWrite([id]) }
            guard let existing = index.assemblies[id], var assembly = try? await assembly(id) else { continue }
            let members = assembly.memoryIds.filter { index.memories[$0] != nil }
            let composite = try await compositeEmbedding(of: members)
            guard members != assembly.memoryIds || !StoreVerifier.nearlyEqual(composite, assembly.compositeEmbedding) else { continue }
            assembly.memoryIds = members
            assembly.compositeEmbedding = composite
            try await commitAssembly(assembly, existing: existing, operation: "recover store")
            recovery.repairedAssemblies.append(id)
        }
        if !recovery.repairedAssemblies.isEmpty {
            logger.notice("engram: brought \(recovery.repairedAssemblies.count) assemblies up to date with their members at open")
        }
    }

    /// After a memory is deleted: drop it from the assemblies that listed it.
    func removeMember(_ memoryID: String, from assemblyIDs: Set<String>) async throws {
        try await refreshComposites(of: assemblyIDs, operation: "delete memory")
    }

    /// Deletes an assembly (its members are untouched). Returns false if absent.
    @discardableResult
    public func deleteAssembly(_ id: String) async throws -> Bool {
        let operation = "delete assembly"
        try RecordID.validate(id, operation: operation)
        try checkWritable(operation)
        try await beginWrite([id], operation: operation)
        defer { endWrite([id]) }
        try checkWritable(operation)
        guard index.assemblies[id] != nil else { return false }
        try await commitRemoval(kind: .assembly, id: id, operation: operation)
        return true
    }

    /// The assembly with this id, or nil.
    public func assembly(_ id: String) async throws -> MemoryAssembly? {
        let operation = "read assembly"
        try RecordID.validate(id, operation: operation)
        try checkOpen(operation)
        if let cached = assemblyCache.value(for: id) { return cached }
        guard index.assemblies[id] != nil || configuration.readOnly else { return nil }
        let bytes: [UInt8], path: String
        do {
            (bytes, path) = try await readRecord(.assembly, id: id, operation: operation)
        } catch let error as EngramError where error.code == .notFound {
            if configuration.readOnly && index.assemblies[id] == nil { return nil }
            throw EngramError(code: .notFound, message: "the index lists this assembly but its file is missing", operation: operation,
                              path: layout.path(of: .assembly, id: id), id: id, remedy: "run `engram verify` and `engram repair`")
        }
        let assembly = try MemoryAssembly.decodeFile(bytes, path: path, expectedID: id)
        assemblyCache.insert(assembly, for: id)
        return assembly
    }

    public func containsAssembly(_ id: String) -> Bool { index.assemblies[id] != nil }

    /// Every assembly id, sorted.
    public func assemblyIDs() -> [String] { index.assemblies.keys.sorted() }

    /// The assemblies that list a memory.
    public func assemblies(containing memoryID: String) -> [String] { (membership[memoryID] ?? []).sorted() }
}
