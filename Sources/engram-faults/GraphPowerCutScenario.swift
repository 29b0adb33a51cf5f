import CEngramSys
import Engram
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A power cut while `engram-graph build` writes and swaps in a new graph: on a loop-mounted ext4 image,
/// `FS_IOC_SHUTDOWN` (no log flush) at a random moment of the build, then unmount, remount. The store must hold
/// one complete graph — the old one or the new one, never half of one — that verifies and answers searches.
struct GraphPowerCutScenario {
    let iterations: Int
    let builder: String
    let workspace: Workspace

    func run(_ results: Results) async {
        let name = "power cut during a graph build and swap (ext4 loop image + FS_IOC_SHUTDOWN)"
        guard let disk = LoopImage.prepare(for: name, in: workspace.directory("graph-powercut"), size: "128M", mounted: true, results: results) else { return }
        let mountpoint = disk.mountpoint
        let store = mountpoint + "/store"
        let count = 300, dimension = 8
        var vectors: [[Float]] = []
        var failures: [String] = []
        var published = Set<String>()
        let arguments = ["build", "--store", store, "--degree", "16", "--complexity", "40", "--pq-bytes", "4"]
        var full = 1.0
        do {
            var configuration = StoreConfiguration()
            configuration.graphRebuild.enabled = false
            let writer = try await MemoryStore.open(at: store, configuration: configuration)
            var batch: [MemoryEntry] = []
            for n in 0..<count {
                let v = (0..<dimension).map { Float(sin(Double(n * dimension + $0) * 0.7)) }
                vectors.append(v)
                batch.append(MemoryEntry(id: "m\(n)", content: "memory \(n)", embedding: v))
            }
            try await writer.saveBatch(batch)
            try await writer.close()
            let started = Date()
            guard Shell.run([builder] + arguments).status == 0 else { throw EngramError(code: .io, message: "the first graph build failed", operation: "graph power cut") }
            full = max(0.05, Date().timeIntervalSince(started))
            sync()
        } catch {
            _ = disk.unmount()
            return results.fail(name, "setting up the store failed: \(error)")
        }
        guard disk.unmount() else { return results.fail(name, "could not unmount after setting up") }

        var generator = SystemRandomNumberGenerator()
        for i in 0..<iterations {
            guard disk.mount() == nil else { failures.append("#\(i): mount failed"); break }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: builder)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { failures.append("#\(i): could not start the builder: \(error)"); break }
            if i % 4 == 3 {
                // A cut right after a build returned: its publish must already be durable.
                process.waitUntilExit()
            } else {
                // Anywhere in a build (a build after a remount reads cold records: slower than the first one).
                usleep(UInt32(full * Double.random(in: 0...2.5, using: &generator) * 1_000_000))
            }
            _ = engram_fs_shutdown(mountpoint, 2)
            process.waitUntilExit()
            guard disk.unmount() else { failures.append("#\(i): unmount after the power cut failed"); break }
            guard disk.mount() == nil else { failures.append("#\(i): remount failed"); break }
            do {
                let current = try String(contentsOfFile: store + "/graph_index/CURRENT", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                published.insert(current)
                let report = try StoreVerifier(layout: StoreLayout(root: store)).run()
                let graphProblems = report.problems.filter { $0.kind.rawValue.hasPrefix("graph") }
                if !graphProblems.isEmpty { failures.append("#\(i): \(graphProblems.map { "\($0.kind.rawValue): \($0.detail)" })") }
                if report.graphNodes != count { failures.append("#\(i): the graph in use has \(report.graphNodes) nodes, not \(count)") }
                var configuration = StoreConfiguration()
                configuration.readOnly = true
                let reader = try await MemoryStore.open(at: store, configuration: configuration)
                for n in [i % count, (i * 37) % count] {
                    let hit = try await reader.search(vector: vectors[n], k: 1).first?.id
                    if hit != "m\(n)" { failures.append("#\(i): m\(n) not found by its own vector (got \(hit ?? "nothing"))") }
                }
                if await reader.statistics().graph?.nodes != count { failures.append("#\(i): the store does not use the graph") }
                try await reader.close()
            } catch {
                failures.append("#\(i): \(error)")
            }
            guard disk.unmount() else { failures.append("#\(i): unmount after the check failed"); break }
        }
        if published.count < iterations / 4 { failures.append("fewer builds completed before a cut than the \(iterations / 4) that were waited for: \(published.sorted())") }
        results.check(name, failures, detail: "\(iterations) power cuts during builds, generations seen: \(published.count)")
    }
}
