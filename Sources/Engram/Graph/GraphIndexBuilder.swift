import EngramGraph
import EngramIO
import EngramJSON
import EngramVector

/// Builds the L2 graph of a store and publishes it (what `engram-graph build` runs; repair too).
///
/// It works beside a running writer and takes no writer lock: it opens the store read-only (the index as of the
/// journal's current end), reads every memory with an embedding from its record — the ground truth — builds the
/// graph in memory, writes it into a staging directory inside `graph_index/` (every file fsynced, the manifest
/// last), and swaps it in (see ``GraphDirectory``). The writer and every reader pick it up at their next search.
/// Records written after the build's read are L1's delta, recognised by version. One build per store at a time.
public enum GraphIndexBuilder {
    /// Progress: (phase, done, total).
    public typealias Progress = @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void

    public static func build(store path: String, options: GraphBuildOptions = GraphBuildOptions(),
                             configuration: StoreConfiguration = StoreConfiguration(), progress: Progress? = nil) async throws -> GraphBuildReport {
        let layout = StoreLayout(root: path)
        let directory = GraphDirectory(layout: layout)
        let buildLock = try await configuration.eventLoop.run { try directory.lockBuild() }
        defer { buildLock.release() }
        try await configuration.eventLoop.run { directory.removeLeftovers() }

        var report = GraphBuildReport()
        let clock = ContinuousClock()
        var started = clock.now
        var readOnly = configuration
        readOnly.readOnly = true
        readOnly.loadVectorTier = false
        let store = try await MemoryStore.open(at: path, configuration: readOnly)
        let metric = store.configuration.metric
        let (ids, dimension, sequence) = await store.embeddedMemoryIDs()
        report.journalSequence = sequence
        guard let dimension, !ids.isEmpty else {
            try await store.close()
            return report  // nothing to build: no memory has an embedding
        }
        var keys: [String] = [], versions: [String] = [], vectors: [Float] = []
        keys.reserveCapacity(ids.count)
        versions.reserveCapacity(ids.count)
        vectors.reserveCapacity(ids.count * dimension)
        let chunk = 2048
        for start in stride(from: 0, to: ids.count, by: chunk) {
            let slice = Array(ids[start..<min(ids.count, start + chunk)])
            for memory in try await store.memories(slice) {
                guard let embedding = memory.embedding, embedding.count == dimension else { continue }
                keys.append(memory.id)
                versions.append(memory.updatedAt.description)
                vectors.append(contentsOf: metric == .cosine ? FaissIndex.normalized(embedding) : embedding)
            }
            progress?("read records", min(ids.count, start + chunk), ids.count)
        }
        try await store.close()
        report.readSeconds = (clock.now - started).seconds
        report.nodes = keys.count
        report.dimension = dimension

        started = clock.now
        let input = GraphBuildInput(dimension: dimension, metric: metric == .l2 ? .l2 : .innerProduct, vectors: vectors, keys: keys, versions: versions)
        let parameters = GraphParameters(degree: options.degree, complexity: options.complexity, alpha: options.alpha, threads: options.threads,
                                         pqBytes: options.pqBytes)
        let built = try await configuration.eventLoop.run { try GraphBuilder.build(input, parameters: parameters, progress: progress) }
        report.buildSeconds = (clock.now - started).seconds

        started = clock.now
        let metadata: JSONObject = [
            "format": "engram-graph", "journal_seq": .int(sequence), "built_at": .string(Timestamp.now().description),
            "store_metric": .string(metric.rawValue), "nodes": .int(Int64(keys.count)),
        ]
        let published = try await configuration.eventLoop.run { () throws -> String in
            let staging = try directory.makeStaging()
            do {
                try built.write(to: staging, metadata: metadata)
            } catch {
                try? MigrationFileSystem.removeTree(staging, operation: "build graph")
                throw error
            }
            let path = try directory.publish(staging: staging)
            directory.removeLeftovers()
            return path
        }
        report.writeSeconds = (clock.now - started).seconds
        report.directory = published
        report.bytesOnDisk = (try? DiskGraph.open(directory: published, verifyChecksums: false).bytesOnDisk) ?? 0
        return report
    }
}

extension MemoryStore {
    /// The memories that have an embedding, the store's dimension and its journal sequence, in one look.
    func embeddedMemoryIDs() -> ([String], Int?, Int64) {
        (index.memories.filter { $0.value.dimension != nil }.keys.sorted(), index.embeddingDimension, sequence)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
