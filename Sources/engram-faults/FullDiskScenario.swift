import Engram
import EngramIO
import EngramJSON
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fault 4: a really full disk. The store lives on a small tmpfs that runs out of space (then, in a second
/// mount, out of inodes) mid-workload: every failure is a clear `no_space` error, nothing acknowledged is lost,
/// and once space is freed the same open store works again.
struct FullDiskScenario {
    let workspace: Workspace

    func run(_ results: Results) async {
        for (label, options, filler) in [("space", "size=3m", 1), ("inodes", "size=64m,nr_inodes=400", 40)] {
            let name = "full disk (tmpfs out of \(label))"
            guard getuid() == 0 else {
                results.skip(name, "needs root to mount a tmpfs")
                continue
            }
            let mountpoint = workspace.directory("full-\(label)")
            let mounted = Shell.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", mountpoint])
            guard mounted.status == 0 else {
                results.skip(name, "mount -t tmpfs failed: \(mounted.stderr)")
                continue
            }
            do {
                results.check(name, try await exercise(mountpoint, fillerFiles: filler, bigFiller: label == "space"))
            } catch {
                results.fail(name, "\(error)")
            }
            Shell.run(["umount", mountpoint])
        }
    }

    private func exercise(_ root: String, fillerFiles: Int, bigFiller: Bool) async throws -> [String] {
        var failures: [String] = []
        // Filler to delete later, standing for "the user frees space".
        for i in 0..<fillerFiles {
            _ = FileManager.default.createFile(atPath: root + "/filler-\(i)", contents: Data(count: bigFiller ? 600_000 : 10))
        }
        var configuration = StoreConfiguration()
        configuration.backupInterval = 0
        let store = try await MemoryStore.open(at: root + "/store", configuration: configuration)
        var acknowledged: [String: String] = [:]
        var errors: [EngramError] = []
        var n = 0
        while errors.count < 25 && n < 5000 {
            let memory = MemoryEntry(id: "m\(n)", content: "memory \(n) " + String(repeating: "x", count: 2000),
                                     embedding: (0..<384).map { Float(sin(Double(n * 384 + $0))) })
            do {
                if n % 7 == 0 {
                    let batch = (0..<5).map { MemoryEntry(id: "b\(n)-\($0)", content: "batch \(n)", embedding: memory.embedding) }
                    for saved in try await store.saveBatch(batch) { acknowledged[saved.id] = saved.content }
                } else {
                    let saved = try await store.save(memory)
                    acknowledged[saved.id] = saved.content
                }
            } catch let error as EngramError {
                errors.append(error)
            }
            n += 1
        }
        if errors.isEmpty { failures.append("the disk never filled up (\(n) saves)") }
        for error in errors where error.code != .noSpace {
            failures.append("a full disk gave \(error.code) instead of no_space: \(error)")
        }
        if let first = errors.first, first.path == nil || first.remedy?.contains("free space") != true {
            failures.append("the error does not name the path and the remedy: \(first)")
        }
        // Everything acknowledged reads back while the disk is full.
        for (id, content) in acknowledged.sorted(by: { $0.key < $1.key }).prefix(200) where try await store.memory(id)?.content != content {
            failures.append("\(id) acknowledged but unreadable while full")
        }
        // Free space: the same store works again.
        for i in 0..<fillerFiles { try? FileManager.default.removeItem(atPath: root + "/filler-\(i)") }
        do {
            let saved = try await store.save(MemoryEntry(id: "after", content: "after freeing space", embedding: (0..<384).map { _ in 0.5 }))
            acknowledged[saved.id] = saved.content
        } catch {
            failures.append("the store did not recover after space was freed: \(error)")
        }
        do { try await store.close() } catch { failures.append("close after recovery failed: \(error)") }
        let again = try await MemoryStore.open(at: root + "/store")
        for (id, content) in acknowledged where try await again.memory(id)?.content != content {
            failures.append("\(id) acknowledged but lost after reopening")
        }
        try await again.close()
        let report = try StoreVerifier(layout: StoreLayout(root: root + "/store")).run()
        if !report.isConsistent { failures.append("verify: \(report.problems.prefix(3).map { "\($0.kind.rawValue) \($0.path ?? "")" })") }
        if failures.isEmpty { print("      \(acknowledged.count) acknowledged, \(errors.count) clean no_space errors, e.g. \(errors.first.map { String(describing: $0).prefix(160) } ?? "")") }
        return failures
    }
}
