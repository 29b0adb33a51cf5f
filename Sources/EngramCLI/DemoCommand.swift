import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram demo`: the README's main job, end to end on a real store.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a store (from storage-template/), import the 1,000 sample memories, show stats and records, search by vector and text, verify.")

    @OptionGroup var options: StoreOptions

    @Option(help: ArgumentHelp("The template to create the store from.", valueName: "DIR"))
    var template: String = "storage-template"

    @Option(help: ArgumentHelp("A JSON Lines file of memories to import instead of the bundled samples.", valueName: "FILE"))
    var sample: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let console = Console.current
        let path = options.path
        let text = format == .text
        var summary: [String: JSONValue] = ["store": .string(path)]

        // 1. The store, from the template.
        let existed = FileManager.default.fileExists(atPath: path + "/memory_index.json")
        if !existed, FileManager.default.fileExists(atPath: template + "/memory_index.json") {
            try StoreTemplate.copy(from: template, to: path)
            if text { console.out("Created the store \(path) from \(template)/") }
        } else if text {
            console.out(existed ? "Using the existing store \(path)" : "Created the store \(path)")
        }
        var store = try await options.open(create: true)

        // 2. Import the sample memories (deterministic ids, so running the demo twice updates, not duplicates).
        guard let samplePath = sample ?? Bundle.module.path(forResource: "sample_memories", ofType: "jsonl") else {
            throw CommandFailure(message: "the bundled sample memories are missing; pass --sample FILE")
        }
        let started = Date()
        let outcome = try await Console.$current.withValue(Console(interactive: console.interactive) { stream, text in
            if stream == .err { console.err(String(text.dropLast())) }  // swallow the per-id acknowledgements
        }) {
            try await Importer(store: store, batchSize: 250, label: "importing").importMemories(from: RecordInput(path: samplePath)) { memory, n in
                memory.id = String(format: "sample-%04d", n)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        summary["imported"] = .int(Int64(outcome.saved))
        if text {
            console.out("Imported \(outcome.saved) memories in \(String(format: "%.2f", seconds)) s (\(Int(Double(outcome.saved) / max(seconds, 1e-9))) memories/s, durable)")
        }

        // 3. An assembly of the memories about networking functions.
        let ids = await store.memoryIDs()
        let sampled = try await store.memories(Array(ids.prefix(200)))
        let networking = sampled.filter { $0.content.localizedCaseInsensitiveContains("socket") || $0.content.localizedCaseInsensitiveContains("inet") }.prefix(8)
        var assembly = MemoryAssembly(id: "demo-networking", name: "Networking", description: "Sample memories about sockets and addresses",
                                      memoryIds: networking.map(\.id), keywords: ["socket", "inet"], tags: ["demo"])
        assembly = try await store.save(assembly)
        if text { console.out("Saved the assembly \(assembly.id) with \(assembly.memoryIds.count) members") }

        // 4. Stats.
        let statistics = await store.statistics()
        summary["stats"] = statistics.json
        if text { console.out("Stats: \(statistics.json.compactString)") }

        // 5. A few records, and the nearest neighbours of the first (the FAISS tier, exact).
        if text {
            for memory in sampled.prefix(3) {
                let source = memory.metadata["source"]?.stringValue ?? "-"
                console.out("  \(memory.id)  \(memory.content.prefix(70))…  [\(source)]")
            }
        }
        if let probe = sampled.first, let query = probe.embedding {
            let nearest = try await store.search(vector: query, k: 4).filter { $0.id != probe.id }.prefix(3)
            summary["nearest"] = .array(nearest.map { .object(["id": .string($0.id), "distance": .double(Double($0.distance!))]) })
            if text {
                console.out("Nearest to \(probe.id) (\"\(probe.content.prefix(50))…\"), exact search over \(store.vectors?.count(.memory) ?? 0) vectors:")
                for hit in nearest { console.out("  \(hit.id)  distance \(String(format: "%.4f", hit.distance!))  \(hit.content.prefix(60))…") }
            }
        }

        // 5b. Search by text: keyword (BM25, identifiers whole and by their parts), then hybrid with the probe's vector.
        let textQuery = "inet_net_ntop"
        let byText = try await store.search(text: textQuery, k: 3, options: SearchOptions(embedText: false))
        summary["text_search"] = .object([
            "query": .string(textQuery),
            "results": .array(byText.map { .object(["id": .string($0.id), "bm25": .double(Double($0.bm25 ?? 0))]) }),
        ])
        if text {
            console.out("Keyword search for \"\(textQuery)\" (BM25 over \(ids.count) memories):")
            for hit in byText { console.out("  \(hit.id)  bm25 \(String(format: "%.2f", hit.bm25 ?? 0))  \(hit.content.prefix(60))…") }
        }
        if let probe = sampled.first, let query = probe.embedding {
            let hybrid = try await store.search(text: "error returns NULL", vector: query, k: 3)
            summary["hybrid_search"] = .array(hybrid.map { .object(["id": .string($0.id), "score": .double(Double($0.score ?? 0))]) })
            if text {
                console.out("Hybrid search, \"error returns NULL\" + the vector of \(probe.id) (convex fusion, α 0.5):")
                for hit in hybrid { console.out("  \(hit.id)  score \(String(format: "%.3f", hit.score ?? 0))  \(hit.content.prefix(60))…") }
            }
        }

        // 6. Verify: close, reopen read-only, read every record back from disk and compare.
        let expected = try await store.memories(ids)
        try await store.close()
        store = try await options.open(readOnly: true)
        let reread = try await store.memories(ids)
        var mismatches = 0
        let byID = Dictionary(uniqueKeysWithValues: reread.map { ($0.id, $0) })
        for memory in expected {
            guard let again = byID[memory.id], again == memory, again.contentHash == ContentHash.of(again.content) else { mismatches += 1; continue }
        }
        let reopenedStats = await store.statistics()
        try await store.close()
        // And the full check `engram verify` runs: records, index, journal, backups, vector tier.
        let layout = StoreLayout(root: path)
        let check = try await EventLoop.shared.run { try StoreVerifier(layout: layout).run() }
        summary["verify_consistent"] = .bool(check.isConsistent)
        if text {
            console.out(check.isConsistent
                ? "engram verify: consistent (\(check.checkedMemories) memories, \(check.checkedVectors) vectors checked)"
                : "engram verify found \(check.problems.count) problems, e.g. \(check.problems[0].kind.rawValue) \(check.problems[0].path ?? "")")
        }
        let verified = mismatches == 0 && reopenedStats.memoryCount == ids.count && check.isConsistent
        summary["verified"] = .bool(verified)
        summary["records_checked"] = .int(Int64(expected.count))
        if text {
            console.out(verified
                ? "Verified: all \(expected.count) memories read back from disk identical (content, hash, embedding, metadata)"
                : "VERIFY FAILED: \(mismatches) of \(expected.count) memories differ after reopening")
            console.out("Inspect it with plain tools, e.g.: jq '.metadata' \(path)/memory_index.json")
        } else {
            console.out(JSONValue.object(JSONObject(uniqueKeysWithValues: summary.sorted { $0.key < $1.key })).prettyString)
        }
        if !verified { throw CommandFailure(message: "the demo's read-back check failed") }
    }
}
