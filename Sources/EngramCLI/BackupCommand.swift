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

    @Flag(help: ArgumentHelp(
        "Hard-link the record files instead of copying them: fast and free of space, but NOT protected against damage to the store's files: a record modified in place afterwards (an editor, `>` redirection, a tool writing into it, bit rot) changes the backup too. Without it every file is a copy of its own (a copy-on-write clone on btrfs/xfs)."))
    var link = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let report = try await StoreSnapshot.backup(store: options.path, to: destination, mode: link ? .hardLink : .copy)
        let console = Console.current
        if format == .json {
            console.out(report.json.prettyString)
        } else {
            console.out("backed up \(report.memories) memories and \(report.assemblies) assemblies to \(destination) in \(String(format: "%.2f", report.seconds)) s "
                + "(\(Self.describe(report))); the snapshot verifies clean")
        }
    }

    static func describe(_ report: BackupReport) -> String {
        var parts: [String] = []
        if report.cloned > 0 { parts.append("\(report.cloned) files cloned copy-on-write") }
        if report.copied > 0 { parts.append("\(report.copied) copied") }
        if report.linked > 0 { parts.append("\(report.linked) hard-linked: in-place edits of the store's files reach the backup too") }
        return parts.isEmpty ? "no files" : parts.joined(separator: ", ")
    }
}
