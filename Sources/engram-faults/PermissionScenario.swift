import Engram
import EngramIO
import EngramJSON
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fault 5: permissions, as an unprivileged user (`setpriv --reuid=65534`): a read-only store directory, an
/// unreadable record, an unwritable `backups/`. Each failure names the path and the fix; read-only operations
/// keep working where they can.
struct PermissionScenario {
    let engram: String
    let workspace: Workspace

    func nobody(_ arguments: [String]) -> Shell.Output {
        Shell.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", engram] + arguments)
    }

    func run(_ results: Results) async {
        guard getuid() == 0, Shell.has("setpriv") else {
            return results.skip("permissions", "needs root and setpriv to act as an unprivileged user")
        }
        let base = workspace.directory("perm")
        let store = base + "/store"
        let input = base + "/input.jsonl"
        try? "{\"id\": \"new\", \"content\": \"new\", \"embedding\": [1, 0, 0, 0]}\n".write(toFile: input, atomically: true, encoding: .utf8)
        chmod(input, 0o644)
        do {
            let s = try await MemoryStore.open(at: store)
            try await s.saveBatch((0..<5).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: [Float($0), 1, 0, 0]) })
            try await s.close()
        } catch {
            return results.fail("permissions", "setup: \(error)")
        }
        Shell.run(["chmod", "-R", "go+rX", store])

        // 1. A store directory the user cannot write: writes fail naming the path; reads work.
        var failures: [String] = []
        let put = nobody(["--store", store, "put", input])
        if put.status != 1 { failures.append("put exited \(put.status)") }
        if !(put.stderr.contains("permission") || put.stderr.contains("Permission")) || !put.stderr.contains(store) || !put.stderr.contains("Remedy") {
            failures.append("put's error does not name the path and the fix: \(put.stderr)")
        }
        for command in [["list"], ["get", "m1"], ["stats"], ["search", "--vector", "[1, 1, 0, 0]", "-k", "2"], ["verify"]] {
            let r = nobody(["--store", store] + command)
            if r.status != 0 { failures.append("read-only `\(command.joined(separator: " "))` failed (\(r.status)): \(r.stderr.prefix(300))") }
        }
        results.check("permissions: read-only store directory", failures, detail: "writes refused with path and remedy; list, get, stats, search, verify work")

        // 2. An unreadable record: that record's error names it; the rest works; verify reports it.
        failures = []
        chmod(store + "/memories/m1.json", 0o000)
        let get = nobody(["--store", store, "get", "m1"])
        if get.status != 1 || !get.stderr.contains("memories/m1.json") || !(get.stderr.contains("permission") || get.stderr.contains("Permission")) {
            failures.append("get of an unreadable record: \(get.status) \(get.stderr)")
        }
        if nobody(["--store", store, "get", "m2"]).status != 0 { failures.append("get of a readable record failed") }
        if nobody(["--store", store, "list"]).status != 0 { failures.append("list failed") }
        let verify = nobody(["--store", store, "verify"])
        if verify.status != 1 || !verify.stdout.contains("memories/m1.json") { failures.append("verify did not report the unreadable record: \(verify.stdout.prefix(300))") }
        chmod(store + "/memories/m1.json", 0o644)
        results.check("permissions: unreadable record", failures, detail: "its reads fail naming the file; other records, list and verify work")

        // 3. An unwritable backups/: writes still succeed; the skipped index backup is reported with its path.
        failures = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: store + "/backups")) ?? [] {
            try? FileManager.default.removeItem(atPath: store + "/backups/" + name)  // so that a backup is due
        }
        Shell.run(["chown", "-R", "65534:65534", store])
        Shell.run(["chown", "0:0", store + "/backups"])
        chmod(store + "/backups", 0o755)
        let written = nobody(["--store", store, "put", input])
        if written.status != 0 { failures.append("put with an unwritable backups/ failed: \(written.stderr)") }
        if !written.stderr.contains("backups") { failures.append("the skipped index backup was not reported: \(written.stderr)") }
        if nobody(["--store", store, "get", "new"]).status != 0 { failures.append("the record written is not readable") }
        results.check("permissions: unwritable backups/", failures, detail: "writes succeed; the skipped index backup is reported with its path")
        Shell.run(["chown", "-R", "0:0", store])
    }
}
