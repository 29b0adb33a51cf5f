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
        guard getuid() == 0 else { return results.skip(name, "needs root to mount a loop device (run the suite as root)") }
        guard Shell.has("mkfs.ext4"), Shell.has("mount"), FileManager.default.fileExists(atPath: "/dev/loop-control") else {
            return results.skip(name, "needs mkfs.ext4 (e2fsprogs), mount and /dev/loop-control")
        }
        let base = workspace.directory("graph-powercut")
        let image = base + "/fs.img", mountpoint = base + "/mnt"
        try? FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        guard Shell.run(["truncate", "-s", "128M", image]).status == 0, Shell.run(["mkfs.ext4", "-q", "-F", image]).status == 0 else {
            return results.fail(name, "could not create the ext4 image")
        }
        func unmount() -> Bool {
            for _ in 0..<50 {
                if Shell.run(["umount", mountpoint]).status == 0 { return true }
                usleep(100_000)
            }
            return false
        }
        guard Shell.run(["mount", "-o", "loop", image, mountpoint]).status == 0 else { return results.skip(name, "mount -o loop failed here") }
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
            _ = unmount()
            return results.fail(name, "setting up the store failed: \(error)")
        }
        guard unmount() else { return results.fail(name, "could not unmount after setting up") }

        var generator = SystemRandomNumberGenerator()
        for i in 0..<iterations {
            guard Shell.run(["mount", "-o", "loop", image, mountpoint]).status == 0 else { failures.append("#\(i): mount failed"); break }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: builder)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do { try process.run() } catch { failures.append("#\(i): could not start the builder: \(error)"); break }
            usleep(UInt32(full * Double.random(in: 0...1.3, using: &generator) * 1_000_000))
            _ = engram_fs_shutdown(mountpoint, 2)
            process.waitUntilExit()
            guard unmount() else { failures.append("#\(i): unmount after the power cut failed"); break }
            guard Shell.run(["mount", "-o", "loop", image, mountpoint]).status == 0 else { failures.append("#\(i): remount failed"); break }
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
            guard unmount() else { failures.append("#\(i): unmount after the check failed"); break }
        }
        if published.count < 2 { failures.append("no build completed before a cut: the swap itself was never exercised (\(published.sorted()))") }
        results.check(name, failures, detail: "\(iterations) power cuts during builds, generations seen: \(published.count)")
    }
}
