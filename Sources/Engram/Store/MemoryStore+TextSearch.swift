import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

/// Search by text: keyword (BM25 over the keyword index) and hybrid (keyword and dense, fused).
extension MemoryStore {
    /// The `k` records that best match `text`, best first.
    ///
    /// With an embedder configured (``StoreConfiguration/embedder``) and `options.embedText`, the text is
    /// embedded and the search is hybrid (see ``search(text:vector:k:scope:metadata:options:)``); otherwise it is
    /// a keyword search: BM25 over the keyword index (content, the configured metadata fields, assemblies' names).
    /// Results carry `bm25` and `score`.
    ///
    /// - Throws: ``EngramError/Code/usage`` for an empty text or `k` < 1; the embedder's errors when it fails.
    public nonisolated func search(
        text: String, k: Int = 10, scope: SearchScope = .memories, metadata: JSONObject = [:], options: SearchOptions = SearchOptions()
    ) async throws -> [SearchResult] {
        if options.embedText, let vector = try await embedQuery(text) {
            return try await search(text: text, vector: vector, k: k, scope: scope, metadata: metadata, options: options)
        }
        let operation = "search by text"
        try checkTextQuery(text, k: k, operation: operation)
        let tier = try await waitForKeywordTier(operation: operation)
        try await refreshIfChanged()
        let kinds = Set(scope.kinds)
        var want = metadata.isEmpty && !options.boosts ? k : max(options.candidates, 10 * k)
        while true {
            let hits = tier.search(text, k: want, kinds: kinds)
            var candidates = hits.map { SearchCandidate(kind: $0.kind, id: $0.id, bm25: $0.score) }
            SearchCandidate.normalise(&candidates, metric: configuration.metric)
            // Ranked by BM25 itself; the normalised relevance only when boosts are added to it.
            for i in candidates.indices { candidates[i].fused = options.boosts ? candidates[i].keywordRelevance : Double(candidates[i].bm25 ?? 0) }
            let ranked = try await rank(candidates, options: options, keepOrder: !options.boosts)
            let results = try await hydrate(ranked, k: k, metadata: metadata)
            if results.count >= k || hits.count < want { return results }
            want *= 4
        }
    }

    /// The `k` records best matching both `text` (BM25) and `vector` (L1/L2 dense search), best first: each side
    /// gives its best `max(options.candidates, 10 k)` records, and they are fused by `options.fusion` (default:
    /// min-max-normalised convex combination, α 0.5), so a record only one side finds still competes. Metadata
    /// filters apply to the fused list; boosts (``SearchOptions/scoreWeight``, ``SearchOptions/recencyWeight``)
    /// after fusion. Results carry `score` and, where the record was among that side's candidates, `bm25` and
    /// `distance`.
    public nonisolated func search(
        text: String, vector: [Float], k: Int = 10, scope: SearchScope = .memories, metadata: JSONObject = [:],
        options: SearchOptions = SearchOptions()
    ) async throws -> [SearchResult] {
        let operation = "hybrid search"
        try checkTextQuery(text, k: k, operation: operation)
        let keywords = try await waitForKeywordTier(operation: operation)
        guard let vectors else {
            throw EngramError(code: .usage, message: "the store was opened without its vector tier", operation: operation, path: layout.root,
                              remedy: "open it with loadVectorTier: true")
        }
        try await waitForVectorTier()
        try await refreshGraphIfChanged()
        try await refreshIfChanged()
        let hasVectors = try await validateQueries([vector], operation: operation)
        let kinds = Set(scope.kinds)
        var want = max(options.candidates, 10 * k)
        while true {
            var byRecord: [String: SearchCandidate] = [:]
            var order: [String] = []
            func take(_ kind: RecordKind, _ id: String) -> String {
                let key = KeywordTier.key(kind, id)
                if byRecord[key] == nil {
                    byRecord[key] = SearchCandidate(kind: kind, id: id)
                    order.append(key)
                }
                return key
            }
            let keywordHits = keywords.search(text, k: want, kinds: kinds)
            for (rank, hit) in keywordHits.enumerated() {
                let key = take(hit.kind, hit.id)
                byRecord[key]!.bm25 = hit.score
                byRecord[key]!.keywordRank = rank + 1
            }
            var denseFull = false
            if hasVectors {
                for kind in scope.kinds {
                    let available = vectors.count(kind) + (kind == .memory ? graphTier?.liveCount ?? 0 : 0)
                    guard available > 0 else { continue }
                    let hits: [(id: String, score: Float)]
                    do {
                        hits = try layeredSearch([vector], k: min(want, available), kind: kind, tier: vectors, options: options)[0]
                    } catch {
                        throw EngramError(code: .io, message: "the vector index failed: \(error.message)", operation: operation,
                                          path: layout.vectorIndexDirectory, remedy: "run `engram verify`; reopening the store rebuilds the vector index if it is damaged")
                    }
                    if hits.count >= want { denseFull = true }
                    for (rank, hit) in hits.enumerated() {
                        let key = take(kind, hit.id)
                        byRecord[key]!.distance = hit.score
                        byRecord[key]!.denseRank = rank + 1
                    }
                }
            }
            var candidates = order.map { byRecord[$0]! }
            SearchCandidate.normalise(&candidates, metric: configuration.metric)
            for i in candidates.indices { candidates[i].fuse(options.fusion) }
            let ranked = try await rank(candidates, options: options, keepOrder: false)
            let results = try await hydrate(ranked, k: k, metadata: metadata)
            if results.count >= k || (keywordHits.count < want && !denseFull) { return results }
            want *= 4
        }
    }

    /// The query's vector when the store has an embedder (and a vector tier to search); nil otherwise.
    nonisolated func embedQuery(_ text: String) async throws -> [Float]? {
        guard configuration.embedder != nil, vectors != nil, !text.allSatisfy(\.isWhitespace) else { return nil }
        return try await embed([text]).first
    }

    nonisolated func checkTextQuery(_ text: String, k: Int, operation: String) throws(EngramError) {
        guard k > 0 else {
            throw EngramError(code: .usage, message: "k must be at least 1, got \(k)", operation: operation, remedy: "ask for k >= 1 results")
        }
        guard !text.allSatisfy(\.isWhitespace) else {
            throw EngramError(code: .usage, message: "the query text is empty", operation: operation, remedy: "give some words to search for")
        }
    }

    /// Sorts candidates by fused score plus boosts (or keeps their order when there is nothing to re-rank).
    private nonisolated func rank(_ candidates: [SearchCandidate], options: SearchOptions, keepOrder: Bool) async throws -> [SearchCandidate] {
        var ranked = candidates
        if options.boosts {
            let inputs = await boostInputs(ranked.map { ($0.kind, $0.id) })
            let now = Double(Timestamp.now().microseconds) / 1e6
            for i in ranked.indices {
                guard let input = inputs[i] else { continue }
                let age = max(0, now - Double(input.updatedAt.microseconds) / 1e6)
                ranked[i].fused += options.scoreWeight * (input.score ?? 0) + options.recencyWeight * pow(0.5, age / max(options.recencyHalfLife, 1))
            }
        }
        if !keepOrder {
            // Stable for equal scores: by id, so results are deterministic.
            ranked.sort { $0.fused != $1.fused ? $0.fused > $1.fused : ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }
        }
        return ranked
    }

    /// `quickrecal_score` and `updated_at` from the central index (no record read).
    private func boostInputs(_ records: [(RecordKind, String)]) -> [(score: Double?, updatedAt: Timestamp)?] {
        records.map { kind, id in
            switch kind {
            case .memory: index.memories[id].map { ($0.quickrecalScore, $0.updatedAt) }
            case .assembly: index.assemblies[id].map { (nil, $0.updatedAt) }
            }
        }
    }

    /// Reads ranked candidates in order, in slices, until `k` pass the metadata filter.
    private nonisolated func hydrate(_ ranked: [SearchCandidate], k: Int, metadata: JSONObject) async throws -> [SearchResult] {
        var results: [SearchResult] = []
        var start = 0
        while results.count < k, start < ranked.count {
            let slice = Array(ranked[start..<min(ranked.count, start + max(k - results.count, metadata.isEmpty ? 0 : 2 * k))])
            start += slice.count
            let memories = try await self.memories(slice.filter { $0.kind == .memory }.map(\.id))
            let byID = Dictionary(memories.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for candidate in slice where results.count < k {
                var result = SearchResult(kind: candidate.kind, id: candidate.id, distance: candidate.distance, bm25: candidate.bm25, score: Float(candidate.fused))
                switch candidate.kind {
                case .memory:
                    // Deleted since the search: simply not returned.
                    guard let memory = byID[candidate.id], matches(memory.metadata, metadata) else { continue }
                    result.memory = memory
                case .assembly:
                    guard let assembly = try await assembly(candidate.id), matches(assembly.metadata, metadata) else { continue }
                    result.assembly = assembly
                }
                results.append(result)
            }
        }
        return results
    }
}
