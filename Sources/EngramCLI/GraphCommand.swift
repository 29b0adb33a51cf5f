import ArgumentParser

/// `engram graph build` (also the `engram-graph` executable): the L2 disk graph.
struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph", abstract: "Build the L2 disk graph (DiskANN-style Vamana) that serves searches beside L1.",
        subcommands: [GraphBuildCommand.self])
}
