import EngramIO
import EngramJSON
import EngramVector

extension MemoryStore {
    /// The `k` records nearest to `vector`, best first, hydrated from the cache or disk.
    ///
    /// L1 (exact FAISS, every record the graph does not hold) and, when the store has one, the L2 graph
    /// (`engram-graph build`) are searched together and merged by distance; a record deleted or written again
    /// since the graph was built is never returned from it.
    ///
    /// - Parameters:
    ///   - scope: memories (default), assemblies (by their composite embedding), or both.
    ///   - metadata: only records whose top-level `metadata` has each of these keys with an equal value.
    ///   - options: the graph search's list size and beam width, and "deep search" (see ``SearchOptions``).
    /// - Throws: ``EngramError/Code/dimensionMismatch`` or ``EngramError/Code/invalidVector`` for a bad query.
    public nonisolated func search(
        vector: [Float], k: Int = 10, scope: SearchScope = .memories, metadata: JSONObject = [:], options: SearchOptions = SearchOptions()
    ) async throws -> [SearchResult] {
        try await search(vectors: [vector], k: k, scope: scope, metadata: metadata, options: options)[0]
    }

    /// Many queries at once (FAISS batches them through BLAS: much cheaper per query than one at a time).
    public nonisolated func search(
        vectors queries: [[Float]], k: Int = 10, scope: SearchScope = .memories, metadata: JSONObject = [:],
        options: SearchOptions = SearchOptions()
    ) async throws -> [[SearchResult]] {
        let operation = "search"
        guard let tier = vectors else {
            throw EngramError(code: .usage, message: "the store was opened without its vector tier", operation: operation, path: layout.root,
                              remedy: "open it with loadVectorTier: true")
        }
        guard k > 0 else {
            throw EngramError(code: .usage, message: "k must be at least 1, got \(k)", operation: operation, remedy: "ask for k >= 1 results")
        }
        try await waitForVectorTier()
        try await refreshGraphIfChanged()
        try await refreshIfChanged()
        guard try await validateQueries(queries, operation: operation) else { return queries.map { _ in [] } }
        var results = [[SearchResult]](repeating: [], count: queries.count)
        for kind in scope.kinds {
            // With a metadata filter, fetch more candidates until k pass or the kind is exhausted.
            var want = metadata.isEmpty ? k : k * 4
            var pending = Array(queries.indices)
            let available = tier.count(kind) + (kind == .memory ? graphTier?.liveCount ?? 0 : 0)
            while !pending.isEmpty {
                let hits: [[(id: String, score: Float)]]
                do {
                    hits = try layeredSearch(pending.map { queries[$0] }, k: min(want, max(available, 1)), kind: kind, tier: tier, options: options)
                } catch {
                    throw EngramError(code: .io, message: "the vector index failed: \(error.message)", operation: operation, path: layout.vectorIndexDirectory,
                                      remedy: "run `engram verify`; reopening the store rebuilds the vector index if it is damaged")
                }
                var stillShort: [Int] = []
                for (slot, queryIndex) in pending.enumerated() {
                    let hydrated = try await hydrate(hits[slot], kind: kind, metadata: metadata)
                    let enough = hydrated.count >= k || hits[slot].count < want || want >= available
                    if enough || metadata.isEmpty {
                        results[queryIndex].append(contentsOf: hydrated.prefix(k))
                    } else {
                        stillShort.append(queryIndex)
                    }
                }
                pending = stillShort
                want = min(available, want * 4)
            }
        }
        if scope == .all {
            let higher = configuration.metric.higherIsCloser
            for i in results.indices {
                results[i].sort { higher ? $0.distance! > $1.distance! : $0.distance! < $1.distance! }
                if results[i].count > k { results[i].removeLast(results[i].count - k) }
            }
        }
        return results
    }

    /// Rejects non-finite, empty or wrong-dimension queries. False when the store has no dimension yet (no
    /// vectors: every search is empty).
    nonisolated func validateQueries(_ queries: [[Float]], operation: String) async throws -> Bool {
        let dimension = await embeddingDimension
        for (n, query) in queries.enumerated() {
            let which = queries.count > 1 ? "query \(n): " : ""
            if let bad = query.firstIndex(where: { !$0.isFinite }) {
                throw EngramError(code: .invalidVector, message: "\(which)value \(bad) is \(query[bad]); NaN and ±Infinity are not allowed",
                                  operation: operation, remedy: "give a query of finite float32 values")
            }
            if let dimension, query.count != dimension {
                throw EngramError(code: .dimensionMismatch, message: "\(which)the query has \(query.count) values; this store's dimension is \(dimension)",
                                  operation: operation, remedy: "embed the query with the store's model (\(dimension) dimensions)")
            }
            if query.isEmpty {
                throw EngramError(code: .invalidVector, message: "\(which)the query is empty", operation: operation, remedy: "give a query vector")
            }
        }
        return dimension != nil
    }

    private func hydrate(_ hits: [(id: String, score: Float)], kind: RecordKind, metadata: JSONObject) async throws -> [SearchResult] {
        var out: [SearchResult] = []
        out.reserveCapacity(hits.count)
        switch kind {
        case .memory:
            let records = try await memories(hits.map(\.id))
            let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for hit in hits {
                // A record deleted between the search and the hydration is simply not returned.
                guard let memory = byID[hit.id], matches(memory.metadata, metadata) else { continue }
                out.append(SearchResult(kind: .memory, id: hit.id, distance: hit.score, memory: memory))
            }
        case .assembly:
            for hit in hits {
                guard let assembly = try await assembly(hit.id), matches(assembly.metadata, metadata) else { continue }
                out.append(SearchResult(kind: .assembly, id: hit.id, distance: hit.score, assembly: assembly))
            }
        }
        return out
    }

    nonisolated func matches(_ metadata: JSONObject, _ filter: JSONObject) -> Bool {
        for (key, value) in filter where metadata[key] != value { return false }
        return true
    }
}
