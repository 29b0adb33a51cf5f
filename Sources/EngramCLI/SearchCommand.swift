import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram search --vector JSON|@FILE [-k N]`: nearest records, one JSON line each, best first.
/// `engram search --queries FILE|-`: many queries in one process, one result line per query, in order.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Nearest memories to a vector: one JSON line each, best first: {\"id\", \"distance\", \"content\"}.",
        discussion: """
            The vector is a JSON array, given inline or as @FILE (a file holding the array, or a record whose \
            `embedding` is used; @- reads stdin). Distances are squared L2 (smaller is nearer) unless the store \
            uses cosine or inner product (larger is nearer). L1 is exact; with an L2 graph (`engram-graph build`) \
            the graph's part is approximate: --list-size and --beam-width trade speed for recall.

            --queries reads JSON Lines ({"vector": [...], "k": 10}; k optional, default -k) from FILE or stdin (-) \
            and prints one line per query, in order: {"results": [{"id", "distance", "content"}, ...]}, or \
            {"error": "..."} for a line that is not a valid query (the exit status is then 1).
            """)

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: ArgumentHelp("The query: a JSON array of numbers, or @FILE.", valueName: "JSON|@FILE"))
    var vector: String?

    @Option(name: .long, help: ArgumentHelp("Many queries, one JSON object a line ({\"vector\": [...], \"k\": N}), from FILE or - (stdin).", valueName: "FILE|-"))
    var queries: String?

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
        guard (vector == nil) != (queries == nil) else { throw ValidationError("give exactly one of --vector and --queries") }
        guard listSize > 0, beamWidth > 0 else { throw ValidationError("--list-size and --beam-width must be at least 1") }
        for filter in filters where !filter.contains("=") { throw ValidationError("--where takes KEY=VALUE, got '\(filter)'") }
    }

    var searchOptions: SearchOptions { SearchOptions(listSize: listSize, beamWidth: beamWidth, deepSearchThreshold: deepThreshold) }

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
        let query = try parseVector()
        let store = try await options.open(readOnly: true)
        let results: [SearchResult]
        do {
            results = try await store.search(vector: query, k: k, scope: scope, metadata: metadata, options: searchOptions)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        let console = Console.current
        for result in results { console.out(line(for: result).compactString) }
    }

    private func line(for result: SearchResult) -> JSONValue {
        var line: JSONObject = ["id": .string(result.id), "distance": .double(Double(result.distance.description) ?? Double(result.distance)), "content": .string(result.content)]
        if scope != .memories { line["kind"] = .string(result.kind.rawValue) }
        return .object(line)
    }

    /// `--queries`: one store open for every query; each line answered in order (a line that is not a query
    /// gets an error line, and the others are still answered).
    private func runMany(_ source: String, metadata: JSONObject) async throws {
        let console = Console.current
        let store = try await options.open(readOnly: true)
        var failed = 0
        do {
            func answer(_ text: Substring, number: Int) async throws {
                guard !text.allSatisfy(\.isWhitespace) else { return }
                let request: (vector: [Float], k: Int)
                do {
                    request = try parseQueryLine(text)
                } catch {
                    failed += 1
                    console.out(JSONValue.object(["error": .string("line \(number): \(error)")]).compactString)
                    return
                }
                do {
                    let results = try await store.search(vector: request.vector, k: request.k, scope: scope, metadata: metadata, options: searchOptions)
                    console.out(JSONValue.object(["results": .array(results.map(line(for:)))]).compactString)
                } catch let error as EngramError where [.dimensionMismatch, .invalidVector, .usage].contains(error.code) {
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

    private func parseQueryLine(_ text: Substring) throws -> (vector: [Float], k: Int) {
        let value = try JSONReader.parse(String(text))
        guard let floats = value["vector"]?.floatArray() else { throw CommandFailure(message: "a query line needs \"vector\": an array of numbers") }
        let k = value["k"].map { $0.int64Value.map(Int.init) } ?? self.k
        guard let k, k > 0 else { throw CommandFailure(message: "\"k\" must be a positive integer") }
        return (floats, k)
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

// Float's shortest decimal form ("1.0908561"), not the Double widening of it ("1.0908560752868652").
