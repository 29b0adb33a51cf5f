import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram repair [--dry-run]`: fix what verify finds, from the records; set aside, never silently delete.
struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Fix what verify finds, from the records: quarantine what cannot be read, adopt hand edits, rebuild the index and vector tier.",
        discussion: """
            Unreadable files are moved to quarantine/<time>/ with a .why.txt note, never deleted (only temp files of \
            writes that were never acknowledged are removed). Needs the writer lock: stop the writer first. Safe to \
            interrupt: running it again finishes the job. Exit status: 0 consistent afterwards, 1 otherwise.
            """)

    @OptionGroup var options: StoreOptions

    @Flag(help: "Print the plan and change nothing.")
    var dryRun = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let console = Console.current
        var repairer = StoreRepairer(layout: StoreLayout(root: options.path))
        repairer.progress = { phase, done, total in console.progress(phase, done, of: total) }
        let report = dryRun ? try await repairer.plan() : try await repairer.run()
        if format == .json {
            console.out(report.json.prettyString)
        } else if dryRun {
            if !report.before.pending.isEmpty {
                console.out("would finish the recovery pending: " + report.before.pendingSummary.map { $0.kind.summary($0.count) }.joined(separator: "; "))
            }
            if report.before.isConsistent { console.out("consistent: nothing to repair") }
            for problem in report.before.problems {
                console.out("would \(problem.repair): \(problem.path ?? problem.id ?? "store") (\(problem.kind.rawValue): \(problem.detail))")
            }
        } else {
            if let recovery = report.recovery, recovery.didSomething { console.out("recovered at open: \(recovery.summary)") }
            for action in report.actions { console.out(action) }
            if let directory = report.quarantineDirectory { console.out("quarantined files are in \(options.path)/\(directory)") }
            if let after = report.after { VerifyCommand.printText(after, console: console) }
        }
        if !dryRun, report.after?.isConsistent != true { throw ExitCode(1) }
    }
}
