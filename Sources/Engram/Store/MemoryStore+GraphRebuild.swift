import EngramIO
import Foundation

/// The background rebuild of the L2 graph (see ``GraphRebuildPolicy``): a writer launches `engram-graph build`
/// as a child process when L1's delta is large enough, and adopts the graph it publishes. The child takes no
/// writer lock and the store never waits for it: writes and searches go on, served by L1 and the old graph.
extension MemoryStore {
    /// The state of the background build.
    struct GraphBuildState {
        var running = false
        var failures = 0
        var notBefore: ContinuousClock.Instant?
        var lastFailure: String?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Called after writes and once the tiers are loaded: launches a build when one is due.
    func considerGraphRebuild() {
        let policy = configuration.graphRebuild
        guard policy.enabled, !configuration.readOnly, !isClosed, !graphBuild.running, let vectors, vectorTierReady else { return }
        if let notBefore = graphBuild.notBefore, ContinuousClock.now < notBefore { return }
        let total = index.memories.count
        let delta = vectors.count(.memory)
        guard total >= policy.minimumMemories, delta > 0,
              delta >= policy.deltaCount || Double(delta) >= policy.deltaFraction * Double(total) else { return }
        guard let executable = policy.executable ?? MemoryStore.locateGraphBuilder() else {
            graphBuild.notBefore = ContinuousClock.now + .seconds(3600)
            logger.warning("engram: the L2 graph is due (\(delta) memories in L1) but no engram-graph executable was found beside this program or on PATH; set StoreConfiguration.graphRebuild.executable")
            return
        }
        let options = policy.options
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["build", "--store", layout.root, "--degree", String(options.degree), "--complexity", String(options.complexity),
                             "--alpha", String(options.alpha), "--threads", String(options.threads), "--pq-bytes", String(options.pqBytes), "--format", "json"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] finished in
            let status = finished.terminationStatus
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Task { await self?.graphBuildFinished(status: status, stderr: text) }
        }
        do {
            try process.run()
            graphBuild.running = true
            logger.notice("engram: building the L2 graph in the background (\(delta) of \(total) memories in L1): \(executable) pid \(process.processIdentifier)")
        } catch {
            graphBuild.running = true
            Task { await self.graphBuildFinished(status: -1, stderr: "could not start \(executable): \(error)") }
        }
    }

    private func graphBuildFinished(status: Int32, stderr: String) async {
        graphBuild.running = false
        if status == 0 {
            graphBuild.failures = 0
            graphBuild.notBefore = nil
            graphBuild.lastFailure = nil
            if !isClosed {
                do { try await refreshGraphIfChanged() } catch { logger.warning("engram: the new L2 graph could not be adopted: \(error)") }
            }
        } else {
            graphBuild.failures += 1
            let delay = min(3600, configuration.graphRebuild.retryAfter * Double(1 << min(graphBuild.failures - 1, 16)))
            graphBuild.notBefore = ContinuousClock.now + .milliseconds(Int64(delay * 1000))
            graphBuild.lastFailure = "exit status \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            logger.error("engram: the background L2 graph build failed (\(graphBuild.lastFailure ?? "")); retrying in \(Int(delay)) s")
        }
        let waiters = graphBuild.waiters
        graphBuild.waiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until no background graph build is running (tests; a host program that wants the graph now).
    public func waitForGraphBuild() async {
        guard graphBuild.running else { return }
        await withCheckedContinuation { graphBuild.waiters.append($0) }
    }

    /// Why the last background build failed (nil after a success).
    public var lastGraphBuildFailure: String? { graphBuild.lastFailure }

    /// `engram-graph` beside the running executable (an installed `engram`, a test runner in `.build/`), else on PATH.
    static func locateGraphBuilder() -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let executable = CommandLine.arguments.first, executable.contains("/") {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path + "/engram-graph")
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append(directory + "/engram-graph") }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }
}
