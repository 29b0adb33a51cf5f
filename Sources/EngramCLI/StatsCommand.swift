import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram stats`: one JSON object describing the store.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print one JSON object: memory_count, assembly_count, embedding_dim, vector_count, …")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let store = try await options.open(readOnly: true)
        let statistics = await store.statistics()
        try await store.close()
        Console.current.out(statistics.json.prettyString)
    }
}
