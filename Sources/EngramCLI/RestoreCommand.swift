import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram restore SNAPSHOT`: replace the store's content with a snapshot, atomically.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the store's content with a verified snapshot, atomically; the previous content is kept beside it.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "A snapshot written by `engram backup` (any valid store).")
    var snapshot: String

    @Flag(help: "Delete the previous content instead of keeping it as <store>.pre-restore-<time>.")
    var discardPrevious = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let report = try await StoreRestore.restore(snapshot: snapshot, into: options.path, keepPrevious: !discardPrevious)
        let console = Console.current
        if format == .json {
            console.out(report.json.prettyString)
        } else {
            console.out("restored \(report.memories) memories and \(report.assemblies) assemblies into \(options.path)"
                + (report.atomicSwap ? " (one atomic swap)" : ""))
            if let previous = report.previous { console.out("the previous content is in \(previous); remove it when you no longer need it") }
        }
    }
}
