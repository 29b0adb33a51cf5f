import EngramIO

/// The duplicate policy (``DuplicatePolicy``): a memory saved without an id of its own whose content equals a
/// stored memory's is not stored twice.
extension MemoryStore {
    /// Which memories of a batch are duplicates: of a stored memory (`existing`), or of an earlier memory of the
    /// same batch (`sameAs`, its position).
    struct DuplicateResolution {
        var existing: [Int: MemoryEntry] = [:]
        var sameAs: [Int: Int] = [:]

        /// The batch's results in input order: saved memories, and for each duplicate the memory it duplicates.
        func results(memories: [MemoryEntry], saved: [MemoryEntry]) -> [MemoryEntry] {
            var out: [MemoryEntry] = []
            out.reserveCapacity(memories.count)
            var next = saved.makeIterator()
            for position in memories.indices {
                if let existing = existing[position] {
                    out.append(existing)
                } else if let first = sameAs[position] {
                    out.append(out[first])
                } else {
                    out.append(next.next()!)
                }
            }
            return out
        }
    }

    /// Write-gate tokens for the contents that the policy checks, so that two saves of the same new content
    /// cannot both find no duplicate and both write. `#` cannot start an id, so a token never meets one.
    func duplicateGateTokens(_ memories: [MemoryEntry]) -> [String] {
        guard configuration.duplicates != .allow else { return [] }
        return Array(Set(memories.filter(\.hasGeneratedID).map { "#" + ContentHash.of($0.content) }))
    }

    /// Applies the policy to a batch (holding the write gate, so the answer stays true until the commit).
    func resolveDuplicates(_ memories: [MemoryEntry], operation: String) async throws -> DuplicateResolution {
        var resolution = DuplicateResolution()
        guard configuration.duplicates != .allow, memories.contains(where: \.hasGeneratedID) else { return resolution }
        var firstInBatch: [String: Int] = [:]
        for (position, memory) in memories.enumerated() where memory.hasGeneratedID {
            if let existing = try await existingDuplicate(of: memory) {
                guard configuration.duplicates == .reuse else { throw duplicateError(memory, existing: existing.id, operation: operation) }
                resolution.existing[position] = existing
                continue
            }
            let hash = ContentHash.of(memory.content)
            if let first = firstInBatch[hash], memories[first].content == memory.content {
                guard configuration.duplicates == .reuse else { throw duplicateError(memory, existing: memories[first].id, operation: operation) }
                resolution.sameAs[position] = first
            } else if firstInBatch[hash] == nil {
                firstInBatch[hash] = position
            }
        }
        return resolution
    }

    /// The stored memory whose content equals `memory`'s, if the policy applies to it. The hash finds the
    /// candidates; the text itself is compared, so a hash collision never merges two different memories.
    func existingDuplicate(of memory: MemoryEntry) async throws -> MemoryEntry? {
        guard memory.hasGeneratedID, configuration.duplicates != .allow, index.memories[memory.id] == nil else { return nil }
        let hash = ContentHash.of(memory.content)
        // The oldest copy first (then by id): the answer does not depend on a dictionary's order.
        let candidates = (contentHashIndex()[hash] ?? []).sorted { a, b in
            let (ca, cb) = (index.memories[a]?.createdAt.microseconds ?? 0, index.memories[b]?.createdAt.microseconds ?? 0)
            return ca != cb ? ca < cb : a < b
        }
        for id in candidates {
            // An unreadable record cannot be handed back: the new memory is saved instead (verify reports the file).
            if let stored = try? await self.memory(id), stored.content == memory.content { return stored }
        }
        return nil
    }

    func duplicateError(_ memory: MemoryEntry, existing: String, operation: String) -> EngramError {
        EngramError(code: .duplicate, message: "the content is already stored as memory '\(existing)'", operation: operation, id: existing,
                    remedy: "use the existing memory, give the new one an id of its own, or open the store with the `allow` duplicate policy")
    }

    /// content hash → memory ids, built from the central index on first use (no record is read).
    func contentHashIndex() -> [String: [String]] {
        if let built = memoriesByContentHash { return built }
        var built: [String: [String]] = [:]
        built.reserveCapacity(index.memories.count)
        for (id, entry) in index.memories { built[entry.contentHash, default: []].append(id) }
        // The oldest copy first (then by id): the one a reused or rejected duplicate is answered with, whatever
        // order the index iterates in.
        for (hash, ids) in built where ids.count > 1 {
            built[hash] = ids.sorted { a, b in
                let ca = index.memories[a]?.createdAt, cb = index.memories[b]?.createdAt
                return ca != cb ? (ca?.microseconds ?? 0) < (cb?.microseconds ?? 0) : a < b
            }
        }
        memoriesByContentHash = built
        return built
    }

    /// Keeps the content-hash map current when a memory is written (`new`) or removed (`new` nil).
    func noteContentHash(of id: String, old: String?, new: String?) {
        guard memoriesByContentHash != nil, old != new else { return }
        if let old {
            memoriesByContentHash![old]?.removeAll { $0 == id }
            if memoriesByContentHash![old]?.isEmpty == true { memoriesByContentHash![old] = nil }
        }
        if let new { memoriesByContentHash![new, default: []].append(id) }
    }
}
