extension DiskGraph {
    /// The record id of a node ("" for a node outside the graph or a damaged entry).
    package func key(of node: Int32) -> String {
        guard let (start, keyLength, _) = entry(node) else { return "" }
        return string(at: start, length: keyLength)
    }

    /// The record version (`updated_at` text) the node was built from.
    package func version(of node: Int32) -> String {
        guard let (start, keyLength, versionLength) = entry(node) else { return "" }
        return string(at: start + keyLength, length: versionLength)
    }

    /// The node holding `key`, by binary search of the hash-sorted lookup table (mapped, not loaded).
    package func node(forKey key: String) -> Int32? {
        let hash = GraphFormat.hash(key)
        let table = keys.base + lookupOffset
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if table.u64(mid * GraphFormat.lookupEntryBytes) < hash { lo = mid + 1 } else { hi = mid }
        }
        while lo < count, table.u64(lo * GraphFormat.lookupEntryBytes) == hash {
            let node = Int32(bitPattern: table.u32(lo * GraphFormat.lookupEntryBytes + 8))
            if node >= 0, Int(node) < count, self.key(of: node) == key { return node }
            lo += 1
        }
        return nil
    }

    /// (blob start, key length, version length), bounds-checked against the blob.
    func entry(_ node: Int32) -> (Int, Int, Int)? {
        guard node >= 0, Int(node) < count else { return nil }
        let e = keys.base + GraphFormat.keysHeaderBytes + Int(node) * GraphFormat.keyEntryBytes
        let start = e.u64(0), keyLength = UInt64(e.u32(8)), versionLength = UInt64(e.u32(12))
        let blobBytes = UInt64(keys.size - blobOffset)
        guard start <= blobBytes, keyLength + versionLength <= blobBytes - start else { return nil }
        return (Int(start), Int(keyLength), Int(versionLength))
    }

    private func string(at start: Int, length: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: keys.base + blobOffset + start, count: length), as: UTF8.self)
    }
}
