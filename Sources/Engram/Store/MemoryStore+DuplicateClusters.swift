import EngramIO

extension MemoryStore {
    /// Groups of memories that duplicate each other: equal `content_hash` (read from the index, no file read),
    /// and pairs whose embeddings have a cosine similarity of at least `threshold` (each memory's `neighbours`
    /// nearest, through the same L1/L2 search as ``search(vector:k:scope:metadata:options:)``). Pairs join into
    /// clusters transitively. Deletes nothing.
    ///
    /// Cost: every embedded memory is read once and searched once (batched); O(n · neighbours) memory.
    ///
    /// - Parameter progress: called with (memories searched, memories to search).
    public nonisolated func duplicateClusters(
        threshold: Double = 0.95, neighbours: Int = 10, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async throws -> [DuplicateCluster] {
        let operation = "find duplicates"
        guard threshold > 0, threshold <= 1 else {
            throw EngramError(code: .usage, message: "the threshold must be in (0, 1], got \(threshold)", operation: operation,
                              remedy: "give a cosine similarity such as 0.95")
        }
        guard neighbours > 0 else {
            throw EngramError(code: .usage, message: "neighbours must be at least 1", operation: operation, remedy: "give neighbours >= 1")
        }
        let entries = try await indexSnapshotForDuplicates(operation)
        let ids = entries.keys.sorted()
        let number = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($0.element, $0.offset) })
        var clusters = UnionFind(count: ids.count)

        // Exact: equal content hashes.
        var byHash: [String: Int] = [:]
        for (n, id) in ids.enumerated() {
            let hash = entries[id]!.contentHash
            if let first = byHash[hash] { clusters.union(first, n, similarity: 1) } else { byHash[hash] = n }
        }

        // Near: each embedded memory's nearest neighbours; cosine computed from the search's score and the norms.
        let embedded = ids.filter { entries[$0]!.dimension != nil }
        if !embedded.isEmpty, let tier = vectors {
            try await waitForVectorTier()
            try await refreshGraphIfChanged()
            var norms = [Float](repeating: 0, count: ids.count)
            var pairs: [(a: Int32, b: Int32, score: Float)] = []
            let metric = configuration.metric
            var done = 0
            for start in stride(from: 0, to: embedded.count, by: 512) {
                let chunk = Array(embedded[start..<min(start + 512, embedded.count)])
                let memories = try await self.memories(chunk).filter { $0.embedding != nil }
                let queries = memories.map { $0.embedding! }
                for memory in memories { norms[number[memory.id]!] = Self.norm(memory.embedding!) }
                let hits: [[(id: String, score: Float)]]
                do {
                    hits = try layeredSearch(queries, k: min(neighbours + 1, embedded.count), kind: .memory, tier: tier, options: SearchOptions())
                } catch {
                    throw EngramError(code: .io, message: "the vector index failed: \(error.message)", operation: operation,
                                      path: layout.vectorIndexDirectory, remedy: "run `engram verify`")
                }
                for (q, memory) in memories.enumerated() {
                    let a = number[memory.id]!
                    for hit in hits[q] {
                        guard let b = number[hit.id], b != a else { continue }
                        pairs.append((Int32(a), Int32(b), hit.score))
                    }
                }
                done += chunk.count
                progress?(done, embedded.count)
            }
            for pair in pairs {
                let (a, b) = (Int(pair.a), Int(pair.b))
                let similarity: Double
                switch metric {
                case .cosine:
                    similarity = Double(pair.score)
                case .innerProduct:
                    similarity = Double(pair.score) / max(Double(norms[a]) * Double(norms[b]), .leastNormalMagnitude)
                case .l2:
                    // |a - b|² = |a|² + |b|² - 2 a·b
                    let (na, nb) = (Double(norms[a]), Double(norms[b]))
                    similarity = (na * na + nb * nb - Double(pair.score)) / 2 / max(na * nb, .leastNormalMagnitude)
                }
                if similarity >= threshold - 1e-6 { clusters.union(a, b, similarity: min(similarity, 1)) }
            }
        }

        var members: [Int: [Int]] = [:]
        for n in ids.indices { members[clusters.find(n), default: []].append(n) }
        var result: [DuplicateCluster] = []
        for (root, group) in members where group.count > 1 {
            let hashes = Set(group.map { entries[ids[$0]]!.contentHash })
            result.append(DuplicateCluster(ids: group.map { ids[$0] }, exact: hashes.count == 1,
                                           similarity: hashes.count == 1 ? 1 : clusters.lowest[root]))
        }
        return result.sorted { $0.ids.count != $1.ids.count ? $0.ids.count > $1.ids.count : $0.ids[0] < $1.ids[0] }
    }

    private func indexSnapshotForDuplicates(_ operation: String) throws(EngramError) -> IndexTable<MemoryIndexEntry> {
        try checkOpen(operation)
        return index.memories
    }

    private static func norm(_ vector: [Float]) -> Float {
        var sum: Float = 0
        for v in vector { sum += v * v }
        return sum.squareRoot()
    }
}
