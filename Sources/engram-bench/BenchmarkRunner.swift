import Engram
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the figures the options ask for, each against a baseline measured in the same run, in a scratch
/// directory of its own that is removed afterwards.
///
/// The figures live in extensions: `+Writes` (figures 1 and 2), `+LargeStore` (figures 3 and 4), `+Vectors`
/// (figures 5, 6 and 8) `+Maintenance` (figures 7, 9 and 10, on the large store) and `+Backup` (figure 11, on the large store).
/// Nothing is deleted before the end of the run: on a journal-less ext4, deleting many files slows every
/// file creation for minutes afterwards (see `FileTree.createProbe`).
struct BenchmarkRunner {
    let options: BenchOptions
    let dataset: Dataset
    /// The run's scratch directory (fresh, removed at the end).
    let runDirectory: String
    /// `UV_THREADPOOL_SIZE` as the user set it (read before Engram's event loop sets its own default).
    let threadPoolSetting: String?
    var report: Report

    /// Figure 1's one-at-a-time POSIX baseline, in saves per second; figure 2 is measured against it too.
    var posixSavesPerSecond: Double?
    /// The large store of figures 3 and 4, once built.
    var largeStore: LargeStore?
    /// Whether the kernel lets us drop the page cache (decided once, at the first cold figure).
    var canDropCaches: Bool?

    struct LargeStore {
        static let prefix = "large"
        let path: String
        let count: Int
        let buildSeconds: Double
        var indexPath: String { path + "/memory_index.json" }
        func recordPath(_ n: Int) -> String { path + "/memories/" + Dataset.id(n, prefix: LargeStore.prefix) + ".json" }
    }

    /// Runs what the options ask for in a fresh scratch directory, prints the report, removes the directory;
    /// returns the exit status.
    static func main(_ options: BenchOptions) async -> Int32 {
        _ = Progress.start
        let threadPoolSetting = getenv("UV_THREADPOOL_SIZE").map { String(cString: $0) }
        #if DEBUG
        Progress.say("WARNING: this is a DEBUG build; the figures mean nothing. Build with `swift build -c release`.")
        #endif
        let parent = options.directory ?? defaultParentDirectory()
        let runDirectory = parent + "/run-\(getpid())-\(time(nil))"
        do {
            try FileTree.makeDirectories(runDirectory)
        } catch {
            Progress.say("cannot create \(runDirectory): \(error)")
            return 1
        }
        defer {
            Progress.say("removing \(runDirectory)")
            FileTree.remove(runDirectory)
            Progress.say("removed")
        }
        let resolved = realpath(runDirectory, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? runDirectory

        var runner = BenchmarkRunner(options: options, dataset: Dataset.load(), runDirectory: resolved, threadPoolSetting: threadPoolSetting)
        do {
            let report = try await runner.run()
            print(options.format == .json ? report.json() : report.text())
            return 0
        } catch {
            Progress.finishUpdates()
            Progress.say("failed: \(error)")
            return 1
        }
    }

    /// `./bench-stores` when run from a package root (it is gitignored there), else `/tmp/engram-bench`.
    static func defaultParentDirectory() -> String {
        Sys.fileType("Package.swift") == .file ? "bench-stores" : "/tmp/engram-bench"
    }

    init(options: BenchOptions, dataset: Dataset, runDirectory: String, threadPoolSetting: String?) {
        self.options = options
        self.dataset = dataset
        self.runDirectory = runDirectory
        self.threadPoolSetting = threadPoolSetting
        self.report = Report(machine: MachineFacts.collect(benchDirectory: runDirectory))
    }

    mutating func run() async throws -> Report {
        let started = ContinuousClock.now
        describeSetup()
        let create = try FileTree.createProbe(in: scratch("create-probe"))
        report.setup.insert(.init(key: "file_create", label: "file create",
                                  value: "\(Format.duration(create)) per empty file (open O_CREAT|O_EXCL + close, 200 in a fresh directory, before the figures)"),
                            at: 0)
        if report.machine.hasNoJournal {
            report.notes.append("the file system has no journal: ext4 then skips inodes freed in the last 60 s (360 s while their inode-table block is dirty) "
                                + "when it allocates one, so file creation slows down for minutes after many files were deleted (by anyone), "
                                + "and creations in one directory are serialised on its lock; see `file create`")
        }

        if options.suite.runsWrites {
            try await durableSavesOneAtATime()
            try await durableSavesInFlight()
            try await durableBatch()
        }
        if options.suite.runsOpen || options.suite.runsLoad {
            try await buildLargeStore()
        }
        if options.suite.runsOpen { try await openLargeStore() }
        if options.suite == .openSynthetic { try await syntheticOpenFigures() }
        if options.suite.runsLoad { try await loadUncached() }
        if options.suite.runsVectors { try await vectorFigures() }
        if options.suite.runsMaintenance { try await maintenanceFigures() }
        if options.suite.runsBackup { try await backupFigures() }
        if options.suite.runsGraph { try await graphFigures() }
        if options.suite.runsText { try await textFigures() }
        if options.suite.runsWriters { try await writerFigures() }

        let cacheNote: String
        switch canDropCaches {
        case nil: cacheNote = "warm (no figure here reads from disk cold)"
        case true?: cacheNote = "warm by default; rows marked \"cold\" ran right after `sync; echo 3 > /proc/sys/vm/drop_caches`"
        case false?: cacheNote = "warm only: dropping the page cache was not permitted (cold figures skipped)"
        }
        report.setup.append(.init(key: "page_cache", label: "page cache", value: cacheNote))
        report.totalSeconds = (ContinuousClock.now - started).seconds
        return report
    }

    /// The data, the records, the store's configuration and the engine's version.
    private mutating func describeSetup() {
        let sampled = min(100, dataset.samples.count)
        let averageBytes = (0..<sampled).reduce(0) { $0 + dataset.memory($1, prefix: "size").jsonBytes().count } / sampled
        report.setup.append(.init(key: "data", label: "data", value: dataset.source))
        report.setup.append(.init(key: "record", label: "record",
                                  value: "~\(Format.grouped(averageBytes)) bytes of pretty JSON on average, \(Dataset.dimension)-float embedding"))
        let defaults = StoreConfiguration()
        report.setup.append(.init(key: "store_configuration", label: "store config",
                                  value: "StoreConfiguration() defaults: cacheCapacity \(Format.grouped(defaults.cacheCapacity)), "
                                      + "flushThreshold \(defaults.flushThreshold), loadVectorTier \(defaults.loadVectorTier), libuv pool \(threadPoolSize())"))
        report.setup.append(.init(key: "engine", label: "engine", value: engineVersion()))
    }

    // MARK: Helpers

    /// A fresh directory for one figure's store or files.
    func scratch(_ name: String) -> String { runDirectory + "/" + name }

    /// Drops the page cache if the kernel allows it; remembers the answer.
    mutating func dropCaches() -> Bool {
        if canDropCaches == false { return false }
        let dropped = PageCache.drop()
        if canDropCaches == nil {
            canDropCaches = dropped
            if !dropped { Progress.say("cannot drop the page cache (needs root and a writable /proc/sys): cold figures skipped") }
        }
        return dropped
    }

    /// Lets background work of the previous phase (a store's checkpoint task, writeback) settle.
    func settle() async {
        try? await Task.sleep(for: .milliseconds(50))
    }

    /// The commit the engine was built from, and whether its sources had uncommitted changes.
    private func engineVersion() -> String {
        let root = MachineFacts.shellQuoted(Dataset.packageRoot)
        guard let commit = MachineFacts.shell("git -C \(root) rev-parse --short HEAD") else { return "unknown (not a git checkout)" }
        let changes = MachineFacts.shell("git -C \(root) status --porcelain -- Sources Package.swift") ?? ""
        let changed = changes.split(separator: "\n").filter { !$0.contains("Sources/engram-bench/") }.count
        return "git \(commit)" + (changed > 0 ? " + \(changed) uncommitted change(s) in the engine's sources (as of this run)" : " (no uncommitted changes)")
    }

    private func threadPoolSize() -> String {
        threadPoolSetting.map { "\($0) threads (UV_THREADPOOL_SIZE)" } ?? "16 threads (Engram's default)"
    }
}

/// Thrown when a store does not hold what the benchmark just put in it.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
}
