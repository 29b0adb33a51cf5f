import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram search --vector JSON|@FILE [-k N]`: nearest records, one JSON line each, best first.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Nearest memories to a vector: one JSON line each, best first: {\"id\", \"distance\", \"content\"}.",
        discussion: """
            The vector is a JSON array, given inline or as @FILE (a file holding the array, or a record whose \
            `embedding` is used; @- reads stdin). Distances are squared L2 (smaller is nearer) unless the store \
            uses cosine or inner product (larger is nearer). Search is exact.
            """)

    @OptionGroup var options: StoreOptions

    @Option(name: .long, help: ArgumentHelp("The query: a JSON array of numbers, or @FILE.", valueName: "JSON|@FILE"))
    var vector: String

    @Option(name: .short, help: "How many results.")
    var k: Int = 10

    @Option(help: "What to search: memories, assemblies or all.")
    var scope: SearchScope = .memories

    @Option(name: .customLong("where"), help: ArgumentHelp("Only records whose metadata KEY equals VALUE (JSON, or a plain string). Repeatable.", valueName: "KEY=VALUE"))
    var filters: [String] = []

    func validate() throws {
        guard k > 0 else { throw ValidationError("-k must be at least 1") }
        for filter in filters where !filter.contains("=") { throw ValidationError("--where takes KEY=VALUE, got '\(filter)'") }
    }

    func run() async throws {
        let query = try parseVector()
        var metadata = JSONObject()
        for filter in filters {
            let key = String(filter.prefix { $0 != "=" })
            let raw = String(filter.dropFirst(key.count + 1))
            metadata[key] = (try? JSONReader.parse(raw)) ?? .string(raw)
        }
        let store = try await options.open(readOnly: true)
        let results: [SearchResult]
        do {
            results = try await store.search(vector: query, k: k, scope: scope, metadata: metadata)
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        let console = Console.current
        for result in results {
            var line: JSONObject = ["id": .string(result.id), "distance": .double(Double(result.distance.description) ?? Double(result.distance)), "content": .string(result.content)]
            if scope != .memories { line["kind"] = .string(result.kind.rawValue) }
            console.out(JSONValue.object(line).compactString)
        }
    }

    private func parseVector() throws -> [Float] {
        var text = vector
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
