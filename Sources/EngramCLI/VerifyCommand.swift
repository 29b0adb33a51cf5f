import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram verify`: check everything; exit 0 consistent, 1 problems found, 2 could not run.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the records, the index, the journal, the backups and the vector tier; report each problem.",
        discussion: """
            Read-only: works beside a running writer. What a crash left that the next writer open finishes (temp files, \
            journal lines the index lacks, vectors behind their records) is listed as "recovery pending", not as problems. \
            Exit status: 0 consistent (recovery may be pending), 1 problems found, 2 could not run.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() async throws {
        let console = Console.current
        var verifier = StoreVerifier(layout: StoreLayout(root: options.path))
        verifier.progress = { phase, done, total in console.progress(phase, done, of: total) }
        let report: VerifyReport
        do {
            let chosen = verifier
            report = try await EventLoop.shared.run { try chosen.run() }
        } catch {
            throw CommandFailure(message: "verify could not run: \(error)", status: 2)
        }
        if format == .json {
            console.out(report.json.prettyString)
        } else {
            VerifyCommand.printText(report, console: console)
        }
        if !report.isConsistent { throw ExitCode(1) }
    }

    static func printText(_ report: VerifyReport, console: Console) {
        for problem in report.problems {
            let what = problem.path ?? problem.id ?? "store"
            console.out("\(problem.kind.rawValue): \(what): \(problem.detail)\n    repair will: \(problem.repair)")
        }
        if !report.pending.isEmpty {
            // Calm, and apart from the problems: this is the normal state right after a crash, not damage.
            let parts = report.pendingSummary.map { $0.kind.summary($0.count) }
            console.out("recovery pending: " + parts.joined(separator: "; ") + " — the next writer open finishes this (nothing acknowledged is missing)")
        }
        let checked = "\(report.checkedMemories) memories, \(report.checkedAssemblies) assemblies, \(report.checkedVectors) vectors checked in \(String(format: "%.2f", report.seconds)) s"
        let writer = report.writerActive ? " (a writer is running: work in flight is not reported)" : ""
        console.out(report.isConsistent ? "consistent: \(checked)\(writer)" : "\(report.problems.count) problems: \(checked)\(writer)")
    }
}
