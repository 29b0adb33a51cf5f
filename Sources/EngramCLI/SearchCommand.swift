import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram search --vector JSON|@FILE [-k N]`: nearest records, one JSON line each, best first.
/// `engram search --text "…" [--vector …]`: keyword search (BM25), or hybrid with a vector (or an embedder).
/// `engram search --queries FILE|-`: many queries in one process, one result line per query, in order.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search by vector, by text (BM25), or both (hybrid): one JSON line per result, best first.",
        discussion: """
            --vector alone: the nearest memories, {"id", "distance", "content"}. --text alone: keyword search over \
            the keyword index (BM25; identifiers such as XauGetBestAuthByAddr are found whole and by their parts), \
            {"id", "content", "bm25", "score"} — or hybrid when an embedder is configured (--embedder, \
            ENGRAM_EMBEDDER), which embeds the text. --text and --vector: hybrid, the two candidate lists fused \
            (--fusion convex, the default, with --alpha the dense weight; or rrf), {"id", "content", "score", \
            "bm25", "distance"} (each side's score when the record was among its candidates).

            The vector is a JSON array, given inline or as @FILE (a file holding the array, or a record whose \
            `embedding` is used; @- reads stdin). Distances are squared L2 (smaller is nearer) unless the store \
            uses cosine or inner product (larger is nearer). L1 is exact; with an L2 graph (`engram-graph build`) \
            the graph's part is approximate: --list-size and --beam-width trade speed for recall.

            --queries reads JSON Lines from FILE or stdin (-): {"vector": [...]}, {"text": "..."} or both (the \
            mode follows the fields), "k" optional (default -k); it prints one line per query, in order: \
            {"results": [...]} with the fields above, or {"error": "..."} for a line that is not a valid query \
            (the exit status is then 1).
            """)

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: ArgumentHelp("The query: a JSON array of numbers, or @FILE.", valueName: "JSON|@FILE"))
    var vector: String?

    @Option(name: .long, help: ArgumentHelp("Search by text: keyword (BM25), or hybrid with --vector or an embedder.", valueName: "TEXT"))
    var text: String?

    @Option(name: .long, help: ArgumentHelp("Many queries, one JSON object a line ({\"vector\": [...]}, {\"text\": \"...\"} or both, \"k\": N), from FILE or - (stdin).", valueName: "FILE|-"))
    var queries: String?

    @Option(help: ArgumentHelp("How hybrid search fuses its two lists: convex (normalised scores, default) or rrf (reciprocal rank, k = 60).", valueName: "convex|rrf"))
    var fusion: FusionChoice = .convex

    @Option(help: ArgumentHelp("The dense side's weight in the convex fusion, in [0, 1] (default 0.5).", valueName: "A"))
    var alpha: Double = 0.5

    @Option(name: .customLong("list-size"), help: ArgumentHelp("L: the graph search's candidate list (default 100).", valueName: "L"))
    var listSize = SearchOptions().listSize

    @Option(name: .customLong("beam-width"), help: ArgumentHelp("W: graph nodes read per search round (default 4).", valueName: "W"))
    var beamWidth = SearchOptions().beamWidth

    @Option(name: .customLong("deep-threshold"), help: ArgumentHelp("Search the graph only when L1's k-th distance is beyond this.", valueName: "D"))
    var deepThreshold: Float?

    @Option(name: .short, help: "How many results.")
    var k: Int = 10

    @Option(help: "What to search: memories, assemblies or all.")
    var scope: SearchScope = .memories

    @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose metadata KEY equals VALUE (JSON, or a plain string). Repeatable.", valueName: "KEY=VALUE"))
    var filters: [String] = []

    func validate() throws {
        guard k > 0 else { throw ValidationError("-k must be at least 1") }
        guard (vector != nil || text != nil) != (queries != nil) else {
            throw ValidationError("give --vector, --text (or both), or --queries")
        }
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be in [0, 1]") }
        if let text, text.allSatisfy(\.isWhitespace) { throw ValidationError("--text is empty") }
        guard listSize > 0, beamWidth > 0 else { throw ValidationError("--list-size and --beam-width must be at least 1") }
        for filter in filters where !filter.contains("=") { throw ValidationError("--where takes KEY=VALUE, got '\(filter)'") }
    }

    var searchOptions: SearchOptions {
        SearchOptions(listSize: listSize, beamWidth: beamWidth, deepSearchThreshold: deepThreshold,
                      fusion: fusion == .rrf ? .reciprocalRank(k: 60) : .convex(alpha: alpha))
    }

    enum FusionChoice: String, ExpressibleByArgument { case convex, rrf }

    /// One query in whichever mode its fields choose.
    private func runQuery(_ store: MemoryStore, text: String?, vector: [Float]?, k: Int, metadata: JSONObject) async throws -> [SearchResult] {
        switch (text, vector) {
        case let (text?, vector?): try await store.search(text: text, vector: vector, k: k, scope: scope, metadata: metadata, options: searchOptions)
        case let (text?, nil): try await store.search(text: text, k: k, scope: scope, metadata: metadata, options: searchOptions)
        case let (nil, vector?): try await store.search(vector: vector, k: k, scope: scope, metadata: metadata, options: searchOptions)
        case (nil, nil): throw CommandFailure(message: "a query needs \"text\" or \"vector\"", status: 64)
        }
    }

    func run() async throws {
        var metadata = JSONObject()
        for filter in filters {
            let key = String(filter.prefix { $0 != "=" })
            let raw = String(filter.dropFirst(key.count + 1))
            metadata[key] = (try? JSONReader.parse(raw)) ?? .string(raw)
        }
        if let queries {
            try await runMany(queries, metadata: metadata)
            return
        }
        let query = try vector.map { _ in try parseVector() }
        let store = try await options.open(readOnly: true)
        let results: [SearchResult]
        do {
            results = try await runQuery(store, text: text, vector: query, k: k, metadata: metadata)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        let console = Console.current
        for result in results { console.out(line(for: result).compactString) }
    }

    private func line(for result: SearchResult) -> JSONValue { result.json(includeKind: scope != .memories) }

    /// `--queries`: one store open for every query; each line answered in order (a line that is not a query
    /// gets an error line, and the others are still answered).
    private func runMany(_ source: String, metadata: JSONObject) async throws {
        let console = Console.current
        let store = try await options.open(readOnly: true)
        var failed = 0
        do {
            func answer(_ text: Substring, number: Int) async throws {
                guard !text.allSatisfy(\.isWhitespace) else { return }
                let request: (text: String?, vector: [Float]?, k: Int)
                do {
                    request = try parseQueryLine(text)
                } catch {
                    failed += 1
                    console.out(JSONValue.object(["error": .string("line \(number): \(error)")]).compactString)
                    return
                }
                do {
                    let results = try await runQuery(store, text: request.text, vector: request.vector, k: request.k, metadata: metadata)
                    console.out(JSONValue.object(["results": .array(results.map(line(for:)))]).compactString)
                } catch let error as EngramError where [.dimensionMismatch, .invalidVector, .usage, .embedder].contains(error.code) {
                    failed += 1
                    console.out(JSONValue.object(["error": .string("line \(number): \(error.message)")]).compactString)
                }
            }
            var number = 0
            if source == "-" {
                while let text = Swift.readLine(strippingNewline: true) {
                    number += 1
                    try await answer(Substring(text), number: number)
                }
            } else {
                guard let data = FileManager.default.contents(atPath: source) else {
                    throw CommandFailure(message: "cannot read the queries file '\(source)'", status: 1)
                }
                for text in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
                    number += 1
                    try await answer(text, number: number)
                }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        if failed > 0 { throw CommandFailure(message: "\(failed) of the queries could not be answered (see their error lines)", status: 1) }
    }

    private func parseQueryLine(_ text: Substring) throws -> (text: String?, vector: [Float]?, k: Int) {
        let value = try JSONReader.parse(String(text))
        let floats = value["vector"]?.floatArray()
        if value["vector"] != nil, floats == nil { throw CommandFailure(message: "\"vector\" must be an array of numbers") }
        let query = value["text"]?.stringValue
        if value["text"] != nil, query == nil { throw CommandFailure(message: "\"text\" must be a string") }
        guard floats != nil || query != nil else { throw CommandFailure(message: "a query line needs \"text\" (a string) or \"vector\" (an array of numbers), or both") }
        let k = value["k"].map { $0.int64Value.map(Int.init) } ?? self.k
        guard let k, k > 0 else { throw CommandFailure(message: "\"k\" must be a positive integer") }
        return (query, floats, k)
    }

    private func parseVector() throws -> [Float] {
        var text = vector ?? ""
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            let data: Data
            if path == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: path) else {
                    throw CommandFailure(message: "cannot read the query vector file '\(path)'", status: 1)
                }
                data = contents
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let value: JSONValue
        do {
            value = try JSONReader.parse(text)
        } catch {
            throw CommandFailure(message: "the query vector is not valid JSON: \(error)", status: 64)
        }
        let array = value["embedding"] ?? value
        guard let floats = array.floatArray() else {
            throw CommandFailure(message: "the query vector must be a JSON array of numbers (or a record with an `embedding`)", status: 64)
        }
        return floats
    }
}

extension SearchScope: ExpressibleByArgument {}
