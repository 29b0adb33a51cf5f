import Engram
import EngramIO
import EngramJSON
import EngramVector

/// Figures 12–16: the L2 graph through the store, against FAISS `IndexHNSWFlat` (M 32, efConstruction 200, 2
/// threads) and FAISS flat (exact), on 100,000 × 384 vectors: the 20,000 dev vectors tiled five times with small
/// seeded noise (each copy a distinct point), the 500 dev queries, exact top-10 from FAISS flat in the same run.
extension BenchmarkRunner {
    static let graphCount = 100_000
    static let graphListSizes = [40, 60, 100, 150, 250]
    static let hnswEfSearch = [16, 32, 64, 128, 256]

    mutating func graphFigures() async throws {
        guard let data = try VectorData.load() else {
            Progress.say("graph figures 12–16 skipped: \(VectorData.lookedFor) not found")
            report.notes.append("figures 12–16 were skipped: the dev vectors were not found; nothing was measured in their place")
            return
        }
        let n = Self.graphCount, d = data.dimension
        var rng = SplitMix64(state: 0x6A4A)
        var vectors = [Float](repeating: 0, count: n * d)
        for row in 0..<n {
            let source = row % data.baseCount
            for c in 0..<d { vectors[row * d + c] = data.base[source * d + c] + (row < data.baseCount ? 0 : Float(rng.nextGaussian() * 0.01)) }
        }
        func id(_ row: Int) -> String { "g" + String(row) }
        let queries = data.queries

        Progress.say("graph figures: exact top-10 of \(queries.count) queries over \(Format.grouped(n)) vectors with FAISS flat (ground truth)")
        try FaissIndex.setThreadCount(2)
        let flat = try FaissIndex(dimension: d, metric: .l2)
        try flat.add(vectors: vectors, ids: (0..<n).map(Int64.init))
        let truth = try flat.search(queries: queries, k: Self.searchK).map { Set($0.map { id(Int($0.id)) }) }
        try FaissIndex.setThreadCount(1)
        var flatLatencies: [Double] = []
        for q in queries.prefix(100) { flatLatencies.append(try Timing.seconds { _ = try flat.search(queries: [q], k: Self.searchK) }) }

        // The store (not a figure).
        let path = scratch("store-graph")
        Progress.say("graph figures: saving \(Format.grouped(n)) memories (saveBatch of \(Format.grouped(Self.buildChunk)); not a figure)")
        var store = try await MemoryStore.open(at: path, configuration: .bench)
        for start in stride(from: 0, to: n, by: Self.buildChunk) {
            let batch = (start..<min(n, start + Self.buildChunk)).map { row in
                MemoryEntry(id: id(row), content: data.texts[row % data.baseCount], embedding: Array(vectors[(row * d)..<((row + 1) * d)]))
            }
            try await store.saveBatch(batch)
            Progress.update("saved \(Format.grouped(min(n, start + Self.buildChunk))) / \(Format.grouped(n))")
        }
        Progress.finishUpdates()
        try await store.close()

        // Figure 15's baseline: open to first answer with L1 alone (every vector from vector_index/).
        let l1Open = try await openToFirstAnswer(path, query: queries[0])

        // Figure 12: the graph build against HNSW's.
        Progress.say("figure 12: engram-graph build of \(Format.grouped(n)) memories (defaults: R 64, L 100, α 1.2, 2 threads)")
        var built: GraphBuildReport?
        let buildSeconds = try await Timing.seconds { built = try await GraphIndexBuilder.build(store: path, options: GraphBuildOptions(threads: 2)) }
        guard let built, built.nodes == n else { throw BenchmarkFailure(description: "figure 12: the graph holds \(built?.nodes ?? -1) nodes") }
        Progress.say("figure 12 baseline: FAISS IndexHNSWFlat (M 32, efConstruction 200, 2 threads) over the same vectors")
        try FaissIndex.setThreadCount(2)
        let hnsw = try HNSWIndex(dimension: d, links: 32, efConstruction: 200)
        let hnswBuild = try Timing.seconds { try hnsw.add(vectors) }
        try FaissIndex.setThreadCount(1)
        var figure = Figure(key: "12", title: "graph build, \(Format.grouped(n)) × \(d)", measure: .time, engram: buildSeconds, baseline: hnswBuild,
                            baselineName: "FAISS HNSW M32 efC200", goal: .none)
        figure.notes.append("GraphIndexBuilder.build (engram-graph build) end to end: reading the records \(Format.duration(built.readSeconds)), "
                            + "Vamana + PQ \(Format.duration(built.buildSeconds)), writing and publishing \(Format.duration(built.writeSeconds)); "
                            + "\(Format.bytes(built.bytesOnDisk)) on disk; goal: at most 0.5× HNSW's build")
        report.figures.append(figure)

        // Figures 13 and 14: recall and latency, store.searchIDs (both tiers, ids) against HNSW.
        store = try await MemoryStore.open(at: path, configuration: .bench)
        try await store.waitForVectorTier()
        var engramPoints: [(parameter: Int, recall: Double, median: Double, p99: Double)] = []
        for listSize in Self.graphListSizes {
            let options = SearchOptions(listSize: listSize, beamWidth: 4)
            for q in queries.prefix(20) { _ = try await store.searchIDs(q, k: Self.searchK, options: options) }
            var latencies: [Double] = [], found = 0
            for (i, q) in queries.enumerated() {
                var hits: [(id: String, score: Float)] = []
                latencies.append(try await Timing.seconds { hits = try await store.searchIDs(q, k: Self.searchK, options: options) })
                found += hits.filter { truth[i].contains($0.id) }.count
            }
            engramPoints.append((listSize, Double(found) / Double(queries.count * Self.searchK), Timing.median(latencies), Self.percentile(latencies, 0.99)))
            Progress.say("  L \(listSize): recall@10 \(Format.fixed(engramPoints.last!.recall, 3)), median \(Format.duration(engramPoints.last!.median))")
        }
        var hnswPoints: [(parameter: Int, recall: Double, median: Double, p99: Double)] = []
        for ef in Self.hnswEfSearch {
            try hnsw.setEfSearch(ef)
            var latencies: [Double] = [], found = 0
            for (i, q) in queries.enumerated() {
                var hits: [(label: Int64, distance: Float)] = []
                latencies.append(try Timing.seconds { hits = try hnsw.search(q, k: Self.searchK) })
                found += hits.filter { truth[i].contains(id(Int($0.label))) }.count
            }
            hnswPoints.append((ef, Double(found) / Double(queries.count * Self.searchK), Timing.median(latencies), Self.percentile(latencies, 0.99)))
            Progress.say("  HNSW ef \(ef): recall@10 \(Format.fixed(hnswPoints.last!.recall, 3)), median \(Format.duration(hnswPoints.last!.median))")
        }
        let sweep = "Engram L " + engramPoints.map { "\($0.parameter): \(Format.fixed($0.recall, 3)) @ \(Format.duration($0.median)) (p99 \(Format.duration($0.p99)))" }.joined(separator: ", ")
            + "; HNSW ef " + hnswPoints.map { "\($0.parameter): \(Format.fixed($0.recall, 3)) @ \(Format.duration($0.median))" }.joined(separator: ", ")
            + "; FAISS flat (exact, 1 thread): \(Format.duration(Timing.median(flatLatencies)))"
        for (key, target, factor) in [("13", 0.95, 1.0), ("14", 0.99, 2.0)] {
            let ours = engramPoints.first { $0.recall >= target }
            let theirs = hnswPoints.first { $0.recall >= target }
            var figure = Figure(key: key, title: "search at recall@10 ≥ \(Format.fixed(target, 2)), median, 1 thread", measure: .time,
                                engram: ours?.median ?? .nan, baseline: theirs?.median ?? .nan, baselineName: "FAISS HNSW, same recall", goal: .none)
            figure.notes.append("store.searchIDs (L1 + L2, ids, no hydration) at the smallest L reaching the recall: "
                                + (ours.map { "L \($0.parameter), recall \(Format.fixed($0.recall, 3))" } ?? "none reached it")
                                + "; HNSW at the smallest efSearch reaching it: " + (theirs.map { "ef \($0.parameter), recall \(Format.fixed($0.recall, 3))" } ?? "none")
                                + "; goal ≤ \(Format.ratio(factor)) HNSW's")
            figure.notes.append(sweep)
            report.figures.append(figure)
        }
        var hydrated: [Double] = []
        for q in queries.prefix(200) { hydrated.append(try await Timing.seconds { _ = try await store.search(vector: q, k: Self.searchK) }) }
        report.notes.append("13/14: hydration (store.search, reading the 10 records through the cache) adds \(Format.duration(Timing.median(hydrated) - engramPoints[2].median)) "
                            + "to the median at L 100 (\(Format.duration(Timing.median(hydrated))) in all)")

        // Figure 16: resident memory per vector with the graph in place.
        if let footprint = store.graphFootprint {
            var figure = Figure(key: "16", title: "resident bytes per vector with the graph", measure: .bytes,
                                engram: Double(footprint.residentBytes) / Double(footprint.nodes), baseline: Double(d * 4),
                                baselineName: "FAISS flat (4 × d)", goal: .none)
            figure.notes.append("PQ codes + centroids + key tables (\(Format.bytes(footprint.residentBytes)) for \(Format.grouped(footprint.nodes)) nodes); "
                                + "L1 holds \(await store.statistics().indexedVectors ?? -1) vectors; node records stay in the page cache, shared; goal ≤ 100 B")
            report.figures.append(figure)
        }

        // Figure 17: a 10 % delta in L1.
        let before = engramPoints.first { $0.parameter == 100 }?.median ?? engramPoints[0].median
        Progress.say("figure 17: rewriting \(Format.grouped(n / 10)) memories (a 10 % delta in L1)")
        for start in stride(from: 0, to: n / 10, by: Self.buildChunk) {
            let batch = (start..<min(n / 10, start + Self.buildChunk)).map { row in
                MemoryEntry(id: id(row * 10), content: "rewritten", embedding: Array(vectors[(row * 10 * d)..<((row * 10 + 1) * d)]).map { $0 + 0.001 })
            }
            try await store.saveBatch(batch)
        }
        var deltaLatencies: [Double] = []
        for q in queries { deltaLatencies.append(try await Timing.seconds { _ = try await store.searchIDs(q, k: Self.searchK) }) }
        let delta = await store.statistics().graph?.deltaSize ?? -1
        var deltaFigure = Figure(key: "17", title: "search with a 10 % delta in L1, median", measure: .time, engram: Timing.median(deltaLatencies),
                                 baseline: before, baselineName: "no delta (L 100)", goal: .none)
        deltaFigure.notes.append("\(Format.grouped(delta)) memories in L1 (exact FAISS), the rest from the graph; goal ≤ 1.3×")
        report.figures.append(deltaFigure)
        try await store.close()

        // Figure 15: open to the first answer with the graph, against L1 alone.
        let graphOpen = try await openToFirstAnswer(path, query: queries[0])
        var openFigure = Figure(key: "15", title: "open returned → first search, \(Format.grouped(n)) memories", measure: .time, engram: graphOpen.firstAnswer,
                                baseline: l1Open.firstAnswer, baselineName: "L1 only (vector_index/)", goal: .secondsBelow(0.05))
        openFigure.notes.append("from MemoryStore.open (read-only) returning until searchIDs answers: the tiers load in the background after open; "
                                + "with the graph (and the 10 % delta in L1's checkpoint) against the same store before it had a graph (every vector "
                                + "loaded into L1); open itself (parsing memory_index.json) took \(Format.duration(graphOpen.open)) and \(Format.duration(l1Open.open))")
        report.figures.append(openFigure)
    }

    /// `MemoryStore.open` (read-only) until it returns, and from then to the first answer; medians of 3.
    private func openToFirstAnswer(_ path: String, query: [Float]) async throws -> (open: Double, firstAnswer: Double) {
        var opens: [Double] = [], answers: [Double] = []
        for _ in 0..<3 {
            var configuration = StoreConfiguration.bench
            configuration.readOnly = true
            var store: MemoryStore?
            opens.append(try await Timing.seconds { store = try await MemoryStore.open(at: path, configuration: configuration) })
            answers.append(try await Timing.seconds { _ = try await store!.searchIDs(query, k: Self.searchK) })
            try await store?.close()
        }
        return (Timing.median(opens), Timing.median(answers))
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}
