import EngramIO

/// Benchmark support: adds `count` synthetic entries to a store's index (JSON and binary form) without writing
/// their record files, so that open can be measured at sizes whose records would take hours to write here.
/// Only for measuring open and lookups of the real records: the synthetic ids have no files (verify says so).
package enum SyntheticIndex {
    package static func extend(storeAt root: String, count: Int, dimension: Int) throws {
        let layout = StoreLayout(root: root)
        var index = try CentralIndex.decode(Sys.readFile(layout.indexPath, maxSize: 1 << 34), path: layout.indexPath)
        index.memories.reserveCapacity(count)
        for n in 0..<count {
            let micros = 1_700_000_000_000_000 + Int64(n)
            index.memories["synthetic-\(n)-0000-0000-000000000000"] = MemoryIndexEntry(
                createdAt: Timestamp(microseconds: micros), updatedAt: Timestamp(microseconds: micros), quickrecalScore: 0.5,
                contentHash: ContentHash.of("synthetic \(n)"), dimension: dimension)
        }
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: root, name: CentralIndex.fileName, bytes: index.jsonBytes(lastUpdated: .now())),
                                               operation: "write synthetic index")
        guard let identity = IndexFileIdentity(path: layout.indexPath) else { return }
        try BinaryIndexWriter.write(index, source: identity, directory: root)
    }
}
