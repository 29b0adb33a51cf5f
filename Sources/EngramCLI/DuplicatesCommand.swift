import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram duplicates [--threshold T]`: clusters of exact and near-duplicate memories. Deletes nothing.
struct DuplicatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duplicates",
        abstract: "List clusters of duplicate memories (equal content, or embeddings at least --threshold similar). Deletes nothing.",
        discussion: """
            One JSON line per cluster, largest first: {"ids": [...], "exact": true|false, "similarity": S, "size": N}. \
            `exact`: every member has the same content_hash. `similarity`: the lowest cosine similarity of the pairs \
            that joined the cluster (1 when exact). Each embedded memory's --neighbours nearest are compared, so \
            clusters are found transitively. --format text prints each cluster's ids and the start of each content.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: ArgumentHelp("Cosine similarity from which two embeddings are near-duplicates, in (0, 1].", valueName: "T"))
    var threshold: Double = 0.95

    @Option(help: ArgumentHelp("Nearest memories compared with each memory.", valueName: "N"))
    var neighbours: Int = 10

    @Option(help: "json (one line per cluster) or text.")
    var format: OutputFormat = .json

    func validate() throws {
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1]") }
        guard neighbours > 0 else { throw ValidationError("--neighbours must be at least 1") }
    }

    func run() async throws {
        let console = Console.current
        let store = try await options.open(readOnly: true)
        do {
            let clusters = try await store.duplicateClusters(threshold: threshold, neighbours: neighbours) { done, total in
                console.progress("duplicates", done, of: total)
            }
            for cluster in clusters {
                switch format {
                case .json:
                    console.out(JSONValue.object([
                        "ids": .array(cluster.ids.map { .string($0) }), "exact": .bool(cluster.exact),
                        "similarity": .double((cluster.similarity * 1e6).rounded() / 1e6), "size": .int(Int64(cluster.ids.count)),
                    ]).compactString)
                case .text:
                    console.out("\(cluster.exact ? "exact" : "near (similarity ≥ \(String(format: "%.3f", cluster.similarity)))"), \(cluster.ids.count) memories:")
                    for memory in try await store.memories(cluster.ids) {
                        console.out("  \(memory.id)  \(memory.content.prefix(70).replacingOccurrences(of: "\n", with: " "))")
                    }
                }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }
}
