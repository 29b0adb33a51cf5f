import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram backup DEST`: a consistent snapshot of the store (itself a valid store), verified after writing.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, verified snapshot of the store to DEST (a new or empty directory); works while a writer runs.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "Where to write the snapshot.")
    var destination: String

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let report = try await StoreSnapshot.backup(store: options.path, to: destination)
        let console = Console.current
        if format == .json {
            console.out(report.json.prettyString)
        } else {
            console.out("backed up \(report.memories) memories and \(report.assemblies) assemblies to \(destination) in \(String(format: "%.2f", report.seconds)) s "
                + "(\(report.linked) files hard-linked, \(report.copied) copied); the snapshot verifies clean")
        }
    }
}
