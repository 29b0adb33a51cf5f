import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram migrate --to DEST | --from-synthians SRC | --upgrade [--dry-run]` (SPEC §4).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the store to DEST and verify the copy; import a Synthians store; or upgrade the on-disk format.",
        discussion: """
            engram --store SRC migrate --to DEST: copies every file (bytes, never hard links: DEST may be on another disk) \
            into DEST.partial-migrate with the atomic write protocol, verifies each file's XXH3 against the source and that \
            the copy opens with the same index, then renames it to DEST. The source is only read, so this works beside a \
            running writer: whatever changes during the copy is copied again; if a writer never lets it settle, each record \
            is kept as found and the copy's index is rebuilt from them. Interrupted, run it again. DEST must be new or empty.

            engram --store DEST migrate --from-synthians SRC: imports the records of a Synthians Memory Core store (ids \
            kept: running it again updates, never duplicates). A memory whose embedding holds NaN is imported without it \
            and named in the report. The FAISS files of SRC are ignored: the store builds its own vector tier.

            engram --store DIR migrate --upgrade: upgrades the on-disk format to the current version, after keeping the \
            records and index as they were in backups/pre-upgrade-<time>/ (printed; kept until you remove it).

            Exit status: 0 success, 1 failure (message on stderr), 64 usage error. See docs/MIGRATION.md.
            """)

    @OptionGroup var options: StoreOptions

    @Option(help: ArgumentHelp("Copy the store to DEST (a new or empty directory) and verify the copy.", valueName: "DEST"))
    var to: String?

    @Option(name: .customLong("from-synthians"), help: ArgumentHelp("Import the Synthians store at SRC into the store.", valueName: "SRC"))
    var fromSynthians: String?

    @Flag(help: "Upgrade the store's on-disk format to the current version.")
    var upgrade = false

    @Flag(help: "Print what would be done and change nothing.")
    var dryRun = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @Option(help: "Memories per durable batch (--from-synthians).")
    var batchSize: Int = 256

    func validate() throws {
        let modes = [to != nil, fromSynthians != nil, upgrade].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --to DEST, --from-synthians SRC and --upgrade") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        if let to {
            try await copy(to: to)
        } else if let fromSynthians {
            try await importSynthians(from: fromSynthians)
        } else {
            try await upgradeFormat()
        }
    }

    private var console: Console { Console.current }

    // MARK: --to

    private func copy(to destination: String) async throws {
        let copier = StoreCopier(source: options.path, destination: destination)
        if dryRun {
            let plan = try await copier.plan()
            if format == .json { return console.out(plan.json.prettyString) }
            console.out("Would copy \(plan.source) to \(plan.destination): \(plan.files.count) files, \(plan.totalBytes) bytes, \(plan.recordCount) records")
            console.out("  assembled in \(plan.partialDirectory), verified, then renamed to \(plan.destination)")
            if plan.leftoverPartial { console.out("  would first remove \(plan.partialDirectory), left by an interrupted migration") }
            for file in plan.files { console.out("  \(file.path)  \(file.size) bytes") }
            for skipped in plan.skipped { console.out("  not copied: \(skipped.path) (\(skipped.reason))") }
            return
        }
        let console = self.console
        let report = try await copier.copy { phase, done, total in console.progress(phase, done, of: total) }
        if format == .json { return console.out(report.json.prettyString) }
        if report.removedLeftoverPartial { console.out("Removed \(copier.partialDirectory), left by an interrupted migration") }
        console.out("Copied \(report.source) to \(report.destination): \(report.filesCopied) files, \(report.bytesCopied) bytes in \(Self.seconds(report.seconds)) s")
        console.out("Verified: \(report.recordsVerified) records and all \(report.filesVerified) files have the source's XXH3; the copy opens (read-only, no repair) with \(Self.count(report.memoryCount, "memory", "memories")) and \(Self.count(report.assemblyCount, "assembly", "assemblies"))")
        if report.filesRecopied > 0 { console.out("A writer changed the source meanwhile: \(report.filesRecopied) files copied again over \(report.passes) passes") }
        if let reason = report.indexReconciledReason { console.out("Note: \(reason)") }
        for skipped in report.skipped { console.out("Not copied: \(skipped.path) (\(skipped.reason))") }
    }

    // MARK: --upgrade

    private func upgradeFormat() async throws {
        let upgrader = FormatUpgrader(store: options.path)
        let report = dryRun ? try await upgrader.plan() : try await upgrader.upgrade()
        if format == .json { return console.out(report.json.prettyString) }
        if report.nothingToDo {
            return console.out("Nothing to do: \(report.store) is at format version \(report.toVersion), the current one")
        }
        if dryRun {
            console.out("Would upgrade \(report.store) from format version \(report.fromVersion) to \(report.toVersion):")
        } else {
            console.out("Snapshot of the store before the upgrade: \(report.snapshotPath ?? "?") (kept until you remove it)")
        }
        for step in report.steps {
            // A dry run surveys only the first step: later ones read what earlier ones write.
            let surveyed = !dryRun || step.fromVersion == report.fromVersion
            let already = step.recordsAlreadyCurrent > 0 ? ", \(step.recordsAlreadyCurrent) already converted" : ""
            let counts = surveyed ? " — \(step.recordsRewritten) records \(dryRun ? "to rewrite" : "rewritten")\(already)" : ""
            console.out("  \(step.fromVersion) → \(step.toVersion): \(step.description)\(counts)")
            for note in step.notes { console.out("    note: \(note)") }
        }
        if dryRun {
            console.out("A snapshot would be kept in \(report.snapshotPath ?? "backups/pre-upgrade-<time>") first. Nothing was changed.")
        } else {
            console.out("Upgraded \(report.store) from format version \(report.fromVersion) to \(report.toVersion): \(Self.count(report.memoryCount, "memory", "memories")) and \(Self.count(report.assemblyCount, "assembly", "assemblies")) read back in \(Self.seconds(report.seconds)) s")
        }
    }

    // MARK: --from-synthians

    private func importSynthians(from source: String) async throws {
        var importer = SynthiansImporter(source: source)
        importer.batchSize = batchSize
        var report: SynthiansImportReport
        if dryRun {
            // Only read: an existing destination tells the dimension and which records exist; a new one is not created.
            let destination = StoreLayout(root: options.path).looksLikeStore ? try await options.open(readOnly: true, vectors: false) : nil
            do {
                report = try await importer.plan(destination: destination)
                report.destination = options.path
                try await destination?.close()
            } catch {
                try? await destination?.close()
                throw error
            }
        } else {
            let store = try await options.open(create: true)
            do {
                let console = self.console
                report = try await importer.run(into: store) { phase, done, total in console.progress(phase, done, of: total) }
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        }
        if format == .json {
            console.out(report.json.prettyString)
        } else {
            printText(report)
        }
        if !report.succeeded {
            throw CommandFailure(message: "\(report.failures.count) importable records were not saved (see failures above); run the command again to retry them")
        }
    }

    private func printText(_ report: SynthiansImportReport) {
        let verb = report.dryRun ? "Would import" : "Imported"
        console.out("\(verb) from \(report.source) into \(options.path):")
        console.out("  memories: \(report.importedMemories.count)")
        console.out("  assemblies: \(report.importedAssemblies.count)")
        if report.dryRun {
            console.out("  new: \(report.created), already in the store: \(report.updated)")
        } else {
            console.out("  written new: \(report.created), updated: \(report.updated), already identical: \(report.unchanged)")
        }
        section("memories imported without an embedding", report.memoriesWithoutEmbedding)
        section("memories imported from a copy inside an assembly", report.memoriesFromAssemblyCopies)
        section("skipped (not importable)", report.skipped)
        section("notes", report.notes)
        section("failures", report.failures)
        section("files not read", report.ignoredFiles)
        if !report.dryRun { console.out("Done in \(Self.seconds(report.seconds)) s") }
    }

    private func section(_ title: String, _ items: [SynthiansImportReport.Item]) {
        guard !items.isEmpty else { return }
        console.out("  \(title): \(items.count)")
        for item in items { console.out("    \(item.id): \(item.reason)") }
    }

    static func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }

    static func seconds(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
