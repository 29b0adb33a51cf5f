import EngramIO

/// Text to vectors through the configured embedder (``StoreConfiguration/embedder``).
extension MemoryStore {
    /// The embeddings of `texts`, in order, from the configured embedder (batched by its `batchSize`).
    ///
    /// Throws ``EngramError/Code/usage`` when no embedder is configured, ``EngramError/Code/embedder`` when it
    /// fails (exits, times out, answers nonsense) and ``EngramError/Code/dimensionMismatch`` when its vectors do
    /// not have the store's dimension.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let operation = "embed"
        try checkOpen(operation)
        guard let embedder else {
            throw EngramError(code: .usage, message: "no embedder is configured", operation: operation, path: layout.root,
                              remedy: "set StoreConfiguration.embedder (command line: --embedder COMMAND or $ENGRAM_EMBEDDER)")
        }
        guard !texts.isEmpty else { return [] }
        return try await embedder.embed(texts, dimension: index.embeddingDimension ?? configuration.embeddingDimension, operation: operation)
    }

    /// Whether text given without a vector is embedded on save (an embedder is configured).
    public nonisolated var embedsText: Bool { embedder != nil }

    /// `memories` with the content of those without an embedding embedded, in one batched exchange with the
    /// embedder (unchanged when none is configured). Called by every memory save before it takes the write gate:
    /// the wait for the child holds no record and blocks no other write, and a failure throws before anything is
    /// written.
    func embeddingMissingVectors(_ memories: [MemoryEntry], operation: String) async throws -> [MemoryEntry] {
        guard let embedder else { return memories }
        // A memory the duplicate policy will answer with a stored one needs no vector.
        let checksDuplicates = configuration.duplicates != .allow
        let missing = memories.indices.filter { i in
            memories[i].embedding == nil
                && !(checksDuplicates && memories[i].hasGeneratedID && contentHashIndex()[ContentHash.of(memories[i].content)] != nil)
        }
        guard !missing.isEmpty else { return memories }
        // A batch the save will refuse for its ids is not worth the embedder's time.
        for i in missing { try RecordID.validate(memories[i].id, operation: operation) }
        let vectors: [[Float]]
        do {
            vectors = try await embedder.embed(missing.map { memories[$0].content },
                                               dimension: index.embeddingDimension ?? configuration.embeddingDimension, operation: operation)
        } catch var error as EngramError {
            if missing.count == 1 { error.id = memories[missing[0]].id }
            throw error
        }
        var embedded = memories
        for (i, vector) in zip(missing, vectors) {
            embedded[i].embedding = vector
            if let model = embedder.configuration.model { embedded[i].embeddingModel = model }
        }
        return embedded
    }
}
