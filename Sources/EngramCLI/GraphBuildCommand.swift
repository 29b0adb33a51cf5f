import ArgumentParser
import Engram
import EngramJSON
import Foundation

/// `engram-graph build`: builds the store's graph from its records and swaps it in atomically; works beside a
/// running writer (no writer lock), which picks the new graph up at its next search.
struct GraphBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the graph from every memory's embedding and publish it atomically (safe beside a running writer).")

    @OptionGroup var options: StoreOptions

    @Option(help: ArgumentHelp("R: the most neighbours per node.", valueName: "R"))
    var degree = 64
    @Option(help: ArgumentHelp("L: the build's search list size (larger: better graph, slower build).", valueName: "L"))
    var complexity = 100
    @Option(help: ArgumentHelp("α: RobustPrune's factor (≥ 1).", valueName: "A"))
    var alpha: Float = 1.2
    @Option(help: ArgumentHelp("Threads (0: every core).", valueName: "N"))
    var threads = 0
    @Option(name: .customLong("pq-bytes"), help: ArgumentHelp("M: bytes of PQ code per vector kept in RAM (0: dimension / 8).", valueName: "M"))
    var pqBytes = 0
    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let console = Console.current
        let buildOptions = GraphBuildOptions(degree: degree, complexity: complexity, alpha: alpha, threads: threads, pqBytes: pqBytes)
        let report = try await GraphIndexBuilder.build(store: options.path, options: buildOptions) { phase, done, total in
            console.progress(phase, done, of: total)
        }
        if format == .json {
            console.out(report.json.prettyString)
        } else if let directory = report.directory {
            console.out("built a graph of \(report.nodes) memories (\(report.dimension)-d) from journal sequence \(report.journalSequence): "
                + String(format: "read %.2f s, build %.2f s, write %.2f s; ", report.readSeconds, report.buildSeconds, report.writeSeconds)
                + "\(report.bytesOnDisk) bytes in \(directory), now in use")
        } else {
            console.out("no memory has an embedding: no graph built")
        }
    }
}
