import Engram
import EngramIO
import EngramJSON

/// Figures 18–21 and the text-search evaluation: `dev_text_queries.jsonl` (486 labelled queries: identifier,
/// fragment, semantic) over the first 20,000 rows of `dev_base.txt` (memory id = row number), each with its
/// MiniLM query vector. Known-item recall@10 per kind for keyword, dense and hybrid (convex and RRF); latency
/// per query; then the same store grown to 50,000 memories for keyword latency; index bytes vs content bytes.
extension BenchmarkRunner {
    struct TextQuery {
        var kind: String
        var text: String
        var relevant: Set<String>
        var vector: [Float]
    }

    static func loadTextQueries(_ directory: String) throws -> [TextQuery]? {
        let path = directory + "/dev_text_queries.jsonl"
        guard Sys.fileType(path) == .file else { return nil }
        let bytes = try Sys.readFile(path, maxSize: 1 << 30, operation: "read text queries")
        return try bytes.split(separator: 0x0A).map { line in
            let value = try JSONReader.parse(Array(line))
            guard let kind = value["kind"]?.stringValue, let text = value["text"]?.stringValue,
                  let relevant = value["relevant"]?.arrayValue, let vector = value["vector"]?.floatArray()
            else { throw BenchmarkFailure(description: "dev_text_queries.jsonl has a malformed line") }
            return TextQuery(kind: kind, text: text, relevant: Set(relevant.compactMap { $0.int64Value.map { String($0) } }), vector: vector)
        }
    }

    mutating func textFigures() async throws {
        guard let data = try VectorData.load(), let queries = try Self.loadTextQueries(data.directory) else {
            Progress.say("text figures skipped: \(VectorData.lookedFor) or dev_text_queries.jsonl not found")
            report.notes.append("the text-search figures were skipped: the dev data was not found; nothing was measured in their place")
            return
        }
        let n = min(20_000, data.baseCount)
        let path = scratch("store-text")
        Progress.say("text figures: saving \(Format.grouped(n)) dev memories (id = row number; not a figure)")
        var store = try await MemoryStore.open(at: path, configuration: .bench)
        for start in stride(from: 0, to: n, by: 2_000) {
            try await store.saveBatch((start..<min(n, start + 2_000)).map { row in
                MemoryEntry(id: String(row), content: data.texts[row], embedding: data.row(row))
            })
        }
        try await store.close()
        store = try await MemoryStore.open(at: path, configuration: .bench)
        try await store.waitForVectorTier()

        // The evaluation: each mode on every query, recall@10 per kind, time per query (warm: a first pass).
        let kinds = ["identifier", "fragment", "semantic"]
        let keywordOnly = SearchOptions(embedText: false)
        typealias Mode = (name: String, run: (MemoryStore, TextQuery) async throws -> [SearchResult])
        let modes: [Mode] = [
            ("keyword (BM25)", { try await $0.search(text: $1.text, k: Self.searchK, options: keywordOnly) }),
            ("dense (exact L1)", { try await $0.search(vector: $1.vector, k: Self.searchK) }),
            ("hybrid, convex α 0.5 (default)", { try await $0.search(text: $1.text, vector: $1.vector, k: Self.searchK) }),
            ("hybrid, RRF k 60", { try await $0.search(text: $1.text, vector: $1.vector, k: Self.searchK, options: SearchOptions(fusion: .reciprocalRank(k: 60))) }),
        ]
        var lines = ["mode                              identifier  fragment  semantic   overall   median/query"]
        var medians: [String: Double] = [:]
        var overall: [String: Double] = [:]
        for mode in modes {
            for query in queries.prefix(50) { _ = try await mode.run(store, query) }  // warm the caches
            var found: [String: Int] = [:], total: [String: Int] = [:]
            var latencies: [Double] = []
            for query in queries {
                var results: [SearchResult] = []
                latencies.append(try await Timing.seconds { results = try await mode.run(store, query) })
                total[query.kind, default: 0] += 1
                if results.contains(where: { query.relevant.contains($0.id) }) { found[query.kind, default: 0] += 1 }
            }
            let recall = kinds.map { Double(found[$0] ?? 0) / Double(max(total[$0] ?? 0, 1)) }
            let all = Double(found.values.reduce(0, +)) / Double(queries.count)
            medians[mode.name] = Timing.median(latencies)
            overall[mode.name] = all
            lines.append(Format.pad(mode.name, 34) + recall.map { Format.pad(Format.fixed($0, 3), 10, right: true) }.joined()
                         + Format.pad(Format.fixed(all, 3), 10, right: true) + Format.pad(Format.duration(medians[mode.name]!), 15, right: true))
            Progress.say("  \(mode.name): recall@10 \(recall.map { Format.fixed($0, 3) }.joined(separator: " / ")), median \(Format.duration(medians[mode.name]!))")
        }
        let counts = kinds.map { kind in queries.filter { $0.kind == kind }.count }
        lines.append("(\(queries.count) queries: \(zip(kinds, counts).map { "\($1) \($0)" }.joined(separator: ", ")); known-item recall@10: the relevant row in the top 10)")
        report.tables.append(("Text search: recall@10 per kind over \(Format.grouped(n)) memories (engram-bench text)", lines))

        let hybridName = "hybrid, convex α 0.5 (default)"
        var figure = Figure(key: "18", title: "hybrid search vs dense alone, median per query, 20k", measure: .time,
                            engram: medians[hybridName]!, baseline: medians["dense (exact L1)"]!, baselineName: "store dense search", goal: .none)
        figure.notes.append("goal: at most 1.5× dense alone; hybrid overall recall@10 \(Format.fixed(overall[hybridName]!, 3)) vs keyword "
                            + "\(Format.fixed(overall["keyword (BM25)"]!, 3)) and dense \(Format.fixed(overall["dense (exact L1)"]!, 3))")
        report.figures.append(figure)
        try await store.close()

        // Grow to 50,000 memories: the 20,000 texts again with a row-specific word (distinct contents).
        let target = 50_000
        Progress.say("text figures: growing the store to \(Format.grouped(target)) memories (not a figure)")
        store = try await MemoryStore.open(at: path, configuration: .bench)
        for start in stride(from: n, to: target, by: 2_000) {
            try await store.saveBatch((start..<min(target, start + 2_000)).map { row in
                MemoryEntry(id: String(row), content: data.texts[row % n] + " (copy \(row / n), row \(row))", embedding: data.row(row % n))
            })
        }
        try await store.close()
        store = try await MemoryStore.open(at: path, configuration: .bench)
        try await store.waitForVectorTier()
        var keywordLatencies: [Double] = []
        var firstLatencies: [Double] = []
        var denseLatencies: [Double] = []
        let timed = queries.filter { $0.kind != "semantic" }
        // First pass: the results' records are read from their files and decoded (page cache warm, record cache
        // cold); the figure is the second pass, everything warm, as a repeated query of an agent finds it.
        for query in timed {
            firstLatencies.append(try await Timing.seconds { _ = try await store.search(text: query.text, k: Self.searchK, options: keywordOnly) })
        }
        for query in timed {
            keywordLatencies.append(try await Timing.seconds { _ = try await store.search(text: query.text, k: Self.searchK, options: keywordOnly) })
            denseLatencies.append(try await Timing.seconds { _ = try await store.search(vector: query.vector, k: Self.searchK) })
        }
        figure = Figure(key: "19", title: "keyword search, median per query, 50k memories, 1 thread", measure: .time,
                        engram: Timing.median(keywordLatencies), baseline: Timing.median(denseLatencies), baselineName: "store dense search",
                        goal: .secondsBelow(300e-6))
        let identifiers = zip(timed, keywordLatencies).filter { $0.0.kind == "identifier" }.map(\.1)
        let fragments = zip(timed, keywordLatencies).filter { $0.0.kind == "fragment" }.map(\.1)
        figure.notes.append("\(timed.count) identifier and fragment queries through MemoryStore.search(text:), the 10 results hydrated, warm "
                            + "(second pass); identifiers \(Format.duration(Timing.median(identifiers))), fragments \(Format.duration(Timing.median(fragments))), "
                            + "p99 \(Format.duration(Self.percentile(keywordLatencies, 0.99))); first pass (records read from their files and decoded) "
                            + "median \(Format.duration(Timing.median(firstLatencies)))")
        report.figures.append(figure)
        try await store.close()

        // Index bytes against the content it indexes.
        let contentBytes = (0..<target).reduce(0) { sum, row in
            sum + (row < n ? data.texts[row].utf8.count : (data.texts[row % n] + " (copy \(row / n), row \(row))").utf8.count)
        }
        let indexBytes = FileTree.treeSize(path + "/keyword_index")
        figure = Figure(key: "20", title: "keyword index on disk, 50k memories", measure: .bytes,
                        engram: Double(indexBytes), baseline: Double(contentBytes), baselineName: "content bytes", goal: .none)
        figure.notes.append("goal: at most 1.5× the content bytes")
        report.figures.append(figure)
    }
}
