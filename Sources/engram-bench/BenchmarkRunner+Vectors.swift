import Engram
import EngramIO
import EngramJSON
import EngramVector

/// Figures 5, 6 and 8: exact k-NN search through the store (hydrated results) against the raw FAISS shim over the
/// same vectors, recall against the data set's ground truth, and the vector index's size on disk. They need the
/// dev vectors of `shared/data` (see `VectorData`); without them they are skipped, never faked.
extension BenchmarkRunner {
    static let searchK = 10
    /// Queries the raw index runs before figure 5a's timed pass (the store's warm-up runs them all, to fill its cache).
    static let rawWarmUpQueries = 20
    static let batchRepetitions = 3
    /// The 1.2× of figure 5a's goal: the store's latency at most this times the raw shim's.
    static let searchOverheadLimit = 1.2

    mutating func vectorFigures() async throws {
        guard let data = try VectorData.load() else {
            Progress.say("vector figures 5a, 5b, 6 and 8 skipped: \(VectorData.lookedFor) not found")
            report.notes.append("figures 5a, 5b, 6 and 8 were skipped: the dev vectors (\(VectorData.lookedFor)) were not found; "
                                + "nothing was measured in their place")
            return
        }
        report.setup.append(.init(key: "vector_data", label: "vector data",
                                  value: "\(Format.grouped(data.baseCount)) × \(data.dimension)-d base vectors (dev_base.fvecs, texts from dev_base.txt, "
                                      + "memory ids v00000…), \(data.queries.count) queries (dev_query.fvecs), exact top-\(data.groundTruth[0].count) "
                                      + "ground truth (dev_groundtruth.ivecs), from \(data.directory)"))

        let path = scratch("store-vectors")
        let store = try await buildVectorStore(data, at: path)
        let raw = try FaissIndex(dimension: data.dimension, metric: .l2)
        try FaissIndex.setThreadCount(1)
        try raw.add(vectors: data.base, ids: (0..<data.baseCount).map(Int64.init))
        guard raw.count == data.baseCount else { throw BenchmarkFailure(description: "figure 5: the raw index holds \(raw.count) vectors") }

        let single = try await singleQueries(store, raw: raw, data: data)
        try await batchQueries(store, raw: raw, data: data, single: single)
        recall(single, data: data)
        try await store.close()
        indexBytes(path, count: data.baseCount, dimension: data.dimension, what: "the \(Format.grouped(data.baseCount))-vector dev store")
    }

    /// The store of figures 5 and 6: every base row as a memory (`v00000` …), saved with `saveBatch` in chunks.
    private mutating func buildVectorStore(_ data: VectorData, at path: String) async throws -> MemoryStore {
        let count = data.baseCount
        Progress.say("building the \(Format.grouped(count))-vector store from dev_base with saveBatch in chunks of \(Format.grouped(Self.buildChunk)) (not a figure)")
        let store = try await MemoryStore.open(at: path, configuration: .bench)
        let seconds = try await Timing.seconds {
            var done = 0
            while done < count {
                try await store.saveBatch((done..<min(count, done + Self.buildChunk)).map(data.memory))
                done = min(count, done + Self.buildChunk)
                Progress.update("saved \(Format.grouped(done)) / \(Format.grouped(count))")
            }
            Progress.finishUpdates()
        }
        let statistics = await store.statistics()
        guard statistics.memoryCount == count, statistics.indexedVectors == count else {
            throw BenchmarkFailure(description: "the vector store holds \(statistics.memoryCount) memories and \(statistics.indexedVectors ?? -1) vectors, expected \(count)")
        }
        report.notes.append("the \(Format.grouped(count))-vector store of figures 5, 6 and 8 took \(Format.duration(seconds)) to build "
                            + "(saveBatch of \(Format.grouped(Self.buildChunk)), writer, StoreConfiguration() defaults, searchThreads \(store.configuration.searchThreads))")
        return store
    }

    /// What the single-query figure saw: the store's and the raw index's last-round results, per query.
    struct SearchOutcome {
        var storeRows: [[Int]]
        var storeDistances: [[Float]]
        var rawRows: [[Int]]
        var storeMedian: Double
        var rawMedian: Double
    }

    // MARK: Figure 5a

    /// Figure 5a: each query alone, awaited, through `store.search(vector:k:)` (hydrated from the warm cache) and
    /// through `FaissIndex.search(query:k:)`, interleaved query by query (the order swapped every query, so that
    /// whatever else the machine does hits both alike); the median per-query latency of each.
    private mutating func singleQueries(_ store: MemoryStore, raw: FaissIndex, data: VectorData) async throws -> SearchOutcome {
        let queries = data.queries
        let k = Self.searchK
        Progress.say("figure 5a: \(queries.count) single queries (k=\(k)), store vs raw FAISS shim interleaved, after a warm-up pass")

        // Warm-up: every record a query returns is read into the cache once, and checked.
        for (n, query) in queries.enumerated() {
            let results = try await store.search(vector: query, k: k)
            guard results.count == k else { throw BenchmarkFailure(description: "figure 5a: query \(n) returned \(results.count) results") }
            for result in results {
                guard let row = VectorData.row(of: result.id), row < data.baseCount, result.memory?.content == data.texts[row],
                      result.memory?.embedding == data.row(row) else {
                    throw BenchmarkFailure(description: "figure 5a: query \(n) returned '\(result.id)' without the right record")
                }
            }
            if n < Self.rawWarmUpQueries { _ = try raw.search(query: query, k: k) }
        }
        let before = await store.statistics()

        let clock = ContinuousClock()
        let cpuBefore = CPUUsage.now()
        var storeTimes: [Double] = []
        var rawTimes: [Double] = []
        var storeResults: [[SearchResult]] = []
        var rawResults: [[FaissIndex.Neighbor]] = []
        for (n, query) in queries.enumerated() {
            for side in n % 2 == 0 ? [0, 1] : [1, 0] {
                let start = clock.now
                if side == 0 {
                    let results = try await store.search(vector: query, k: k)
                    storeTimes.append((clock.now - start).seconds)
                    storeResults.append(results)
                } else {
                    let results = try raw.search(query: query, k: k)
                    rawTimes.append((clock.now - start).seconds)
                    rawResults.append(results)
                }
            }
        }
        let cpu = CPUUsage.now().summary(since: cpuBefore, cores: CPUUsage.cores)
        let after = await store.statistics()
        let misses = after.cacheMisses - before.cacheMisses

        // Hydration alone: the same ids through memories(ids), all cached.
        let idLists = storeResults.map { $0.map(\.id) }
        let hydration = try await Timing.seconds {
            for ids in idLists { _ = try await store.memories(ids) }
        } / Double(idLists.count)

        let outcome = SearchOutcome(
            storeRows: storeResults.map { $0.map { VectorData.row(of: $0.id) ?? -1 } },
            storeDistances: storeResults.map { $0.map { $0.distance ?? .nan } },
            rawRows: rawResults.map { $0.map { Int($0.id) } },
            storeMedian: Timing.median(storeTimes), rawMedian: Timing.median(rawTimes))
        let differing = zip(outcome.storeRows, outcome.rawRows).filter { $0 != $1 }.count
        let distanceDiffering = zip(outcome.storeDistances, rawResults).filter { $0.0 != $0.1.map(\.distance) }.count

        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        func p99(_ values: [Double]) -> Double { values.sorted()[min(values.count - 1, values.count * 99 / 100)] }
        let limit = Self.searchOverheadLimit * outcome.rawMedian
        var figure = Figure(key: "5a", title: "search k=\(k), 1 query at a time, \(Format.grouped(data.baseCount)) × \(data.dimension)",
                            measure: .time, engram: outcome.storeMedian, baseline: outcome.rawMedian, baselineName: "raw FAISS shim",
                            goal: .secondsBelow(limit))
        figure.notes.append("median latency of the \(queries.count) queries, each awaited alone, store and raw interleaved query by query: "
                            + "store.search(vector:k:\(k)) returning hydrated SearchResults (MemoryEntry from the cache, warmed by one untimed pass of "
                            + "all the queries: \(misses) cache misses while timed) vs FaissIndex.search(query:k:\(k)) on an IndexIDMap2/IndexFlatL2 of the same vectors, FAISS threads \(FaissIndex.threadCount)")
        figure.notes.append("goal: the store's latency at most \(Format.ratio(Self.searchOverheadLimit)) the raw shim's measured here, i.e. < \(Format.duration(limit))")
        figure.notes.append("mean per query: store \(Format.duration(mean(storeTimes))), raw \(Format.duration(mean(rawTimes))); "
                            + "p99: store \(Format.duration(p99(storeTimes))), raw \(Format.duration(p99(rawTimes))); "
                            + "hydration alone (memories(ids) of the 10 cached ids, one call per query): \(Format.duration(hydration)) per query")
        figure.notes.append("the store's results equal the raw shim's (same ids, same order) for \(queries.count - differing) of \(queries.count) queries, "
                            + "same distances for \(queries.count - distanceDiffering); while timed, " + cpu)
        report.figures.append(figure)
        report.baselines.append("5a, 5b, 6: raw FAISS shim = EngramVector.FaissIndex(dimension: \(data.dimension), metric: .l2) "
                                + "(IndexIDMap2 over IndexFlatL2) holding the same \(Format.grouped(data.baseCount)) vectors, ids = row numbers, "
                                + "FaissIndex.setThreadCount(1), searched in the calling thread; no hydration")
        return outcome
    }

    // MARK: Figure 5b

    /// Figure 5b: all the queries in one call, `store.search(vectors:k:)` vs `FaissIndex.search(queries:k:)`.
    private mutating func batchQueries(_ store: MemoryStore, raw: FaissIndex, data: VectorData, single: SearchOutcome) async throws {
        let queries = data.queries
        let k = Self.searchK
        let r = Self.batchRepetitions
        Progress.say("figure 5b: the \(queries.count) queries in one batch call, store vs raw, median of \(r)")
        var storeTimes: [Double] = []
        var rawTimes: [Double] = []
        var storeResults: [[SearchResult]] = []
        var rawResults: [[FaissIndex.Neighbor]] = []
        for _ in 0..<r {
            storeTimes.append(try await Timing.seconds { storeResults = try await store.search(vectors: queries, k: k) })
            rawTimes.append(try Timing.seconds { rawResults = try raw.search(queries: queries, k: k) })
        }
        let storeRows = storeResults.map { $0.map { VectorData.row(of: $0.id) ?? -1 } }
        let rawRows = rawResults.map { $0.map { Int($0.id) } }
        let sameAsSingle = zip(storeRows, single.storeRows).filter { $0 == $1 }.count
        let sameAsRaw = zip(storeRows, rawRows).filter { $0 == $1 }.count
        let n = Double(queries.count)
        let storePerQuery = Timing.median(storeTimes) / n
        let rawPerQuery = Timing.median(rawTimes) / n
        var figure = Figure(key: "5b", title: "search k=\(k), \(queries.count) queries in 1 call", measure: .time,
                            engram: storePerQuery, baseline: rawPerQuery, baselineName: "raw FAISS shim batch", goal: .none)
        figure.notes.append("time per query = the batch call's time ÷ \(queries.count), median of \(r) alternating calls: "
                            + "store.search(vectors:k:) (hydrated, warm cache) \(Format.duration(Timing.median(storeTimes))) per call vs "
                            + "FaissIndex.search(queries:k:) \(Format.duration(Timing.median(rawTimes))) per call (BLAS, FAISS threads \(FaissIndex.threadCount)); "
                            + "one at a time (5a) the store took \(Format.duration(single.storeMedian)) per query, so batching is "
                            + "\(Format.ratio(single.storeMedian / storePerQuery)) faster")
        figure.notes.append("batch results equal the single-query results for \(sameAsSingle) of \(queries.count) queries and the raw batch's for \(sameAsRaw) "
                            + "(BLAS computes distances as |x|² + |y|² − 2x·y, so exact ties may order differently)")
        report.figures.append(figure)
    }

    // MARK: Figure 6

    /// Figure 6: recall@10 of the store's single-query results (5a's last round) against dev_groundtruth.ivecs;
    /// the raw shim's recall is the baseline.
    private mutating func recall(_ outcome: SearchOutcome, data: VectorData) {
        let k = Self.searchK
        func hits(_ rows: [[Int]]) -> (hits: Int, tieMisses: Int) {
            var hits = 0
            var tieMisses = 0
            for (q, returned) in rows.enumerated() {
                let truth = data.groundTruth[q].prefix(k)
                let truthSet = Set(truth)
                for row in returned.prefix(k) {
                    if truthSet.contains(row) {
                        hits += 1
                    } else if row >= 0 {
                        // A miss whose distance equals the 10th true neighbour's: a tie, ordered differently.
                        let kth = squaredDistance(data.queries[q], data, row: truth[truth.index(before: truth.endIndex)])
                        let mine = squaredDistance(data.queries[q], data, row: row)
                        if abs(mine - kth) <= 1e-6 * max(1, kth) { tieMisses += 1 }
                    }
                }
            }
            return (hits, tieMisses)
        }
        let total = Double(data.queries.count * k)
        let store = hits(outcome.storeRows)
        let raw = hits(outcome.rawRows)
        let storeMisses = data.queries.count * k - store.hits
        let rawMisses = data.queries.count * k - raw.hits
        var figure = Figure(key: "6", title: "recall@\(k), exact search, \(data.queries.count) queries", measure: .rate(unit: "recall@\(k)"),
                            engram: Double(store.hits) / total, baseline: Double(raw.hits) / total, baselineName: "raw FAISS shim",
                            goal: .rateAtLeast(1.0, unit: "recall@\(k)"))
        figure.notes.append("store.search(vector:k:\(k)) results of 5a (ids mapped back to rows) against the first \(k) rows of dev_groundtruth.ivecs: "
                            + "a hit when the returned row is in the true top-\(k) set (order ignored); store \(Format.grouped(store.hits)) of "
                            + "\(Format.grouped(Int(total))) hits, raw shim \(Format.grouped(raw.hits)); goal: exactly 1.0 (the search is exact)")
        if storeMisses > 0 || rawMisses > 0 {
            figure.notes.append("misses that are ties (distance equal, within 1e-6, to the 10th true neighbour's, computed in Double): "
                                + "store \(store.tieMisses) of \(storeMisses), raw \(raw.tieMisses) of \(rawMisses)")
        }
        report.figures.append(figure)
    }

    private func squaredDistance(_ query: [Float], _ data: VectorData, row: Int) -> Double {
        var sum = 0.0
        let offset = row * data.dimension
        for i in 0..<data.dimension {
            let d = Double(query[i]) - Double(data.base[offset + i])
            sum += d * d
        }
        return sum
    }

    // MARK: Figure 8

    /// Figure 8: the bytes per vector of a closed store's `vector_index/`, against 4 × dimension (raw float32).
    mutating func indexBytes(_ storePath: String, count: Int, dimension: Int, what: String) {
        let directory = storePath + "/vector_index"
        let faiss = FileTree.size(directory + "/" + VectorFiles.memoryIndex)
        let mapping = FileTree.size(directory + "/" + VectorFiles.mapping)
        let manifest = FileTree.size(directory + "/" + VectorFiles.manifest)
        let total = FileTree.treeSize(directory)
        let raw = Double(4 * dimension)
        let n = Double(count)
        let unit = "B/vector"
        report.figures.append(Figure(key: "8a", title: "\(VectorFiles.memoryIndex) per vector (\(Format.grouped(count)) × \(dimension))",
                                     measure: .rate(unit: unit), engram: Double(faiss) / n, baseline: raw, baselineName: "4 × dimension",
                                     goal: .none,
                                     notes: ["size of vector_index/\(VectorFiles.memoryIndex) of \(what) after close (\(Format.grouped(faiss)) bytes) ÷ "
                                             + "\(Format.grouped(count)) vectors; FAISS's IndexIDMap2 stores each vector as float32 plus its int64 id"]))
        report.figures.append(Figure(key: "8b", title: "vector_index/ in all, per vector", measure: .rate(unit: unit),
                                     engram: Double(total) / n, baseline: raw, baselineName: "4 × dimension", goal: .none,
                                     notes: ["every file of vector_index/ (\(Format.grouped(total)) bytes) ÷ \(Format.grouped(count)): "
                                             + "\(VectorFiles.mapping) \(Format.grouped(mapping)) bytes = \(Format.fixed(Double(mapping) / n, 1)) B/vector "
                                             + "(record id → FAISS id and the updated_at of each vector, pretty JSON), "
                                             + "\(VectorFiles.manifest) \(Format.grouped(manifest)) bytes"]))
        report.baselines.append("8: 4 × dimension = the bytes of the vector's float32 values alone (\(Int(raw)) for \(dimension)-d)")
    }
}
