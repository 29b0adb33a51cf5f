import Engram
import EngramIO
import EngramJSON
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Fault 6: hostile input. Ids that try to escape, record files that are truncated, empty, not JSON, of the
/// wrong shape, huge, deeply nested, with NaN or duplicate keys, symlinks planted as a record, as `memories/`
/// or at a temp-file name, a second writer (it shares the store; each sees the other's commits), an index that
/// points ahead of the records. For each: no crash,
/// nothing outside the store read or written, a clear error or a quarantine.
struct HostileInputScenario {
    let workspace: Workspace

    struct Case {
        var name: String
        var plant: (String, String) throws -> Void  // (store, outside)
        /// Open refuses the store (with this code) instead of recovering.
        var openRefuses: EngramError.Code?
        var broken: String?
    }

    static func write(_ text: String, _ path: String) throws { try text.write(toFile: path, atomically: false, encoding: .utf8) }

    let cases: [Case] = [
        Case(name: "truncated record", plant: { s, _ in
            let path = s + "/memories/m1.json"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        }, broken: "m1"),
        Case(name: "empty record", plant: { s, _ in try write("", s + "/memories/m1.json") }, broken: "m1"),
        Case(name: "record that is not JSON", plant: { s, _ in try write("hello, I am not JSON", s + "/memories/m1.json") }, broken: "m1"),
        Case(name: "record of the wrong shape", plant: { s, _ in try write("[1, 2, 3]", s + "/memories/m1.json") }, broken: "m1"),
        Case(name: "huge record (100 MB)", plant: { s, _ in
            let handle = FileManager.default.createFile(atPath: s + "/memories/m1.json", contents: nil)
            precondition(handle)
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: s + "/memories/m1.json"))
            try h.write(contentsOf: Data("{\"id\": \"m1\", \"content\": \"".utf8))
            let chunk = Data(repeating: 0x61, count: 1 << 20)
            for _ in 0..<100 { try h.write(contentsOf: chunk) }
            try h.write(contentsOf: Data("\"}".utf8))
            try h.close()
        }, broken: "m1"),
        Case(name: "deeply nested record", plant: { s, _ in
            try write("{\"id\": \"m1\", \"content\": \"x\", \"metadata\": " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}", s + "/memories/m1.json")
        }, broken: "m1"),
        Case(name: "record with NaN", plant: { s, _ in
            try write("{\"id\": \"m1\", \"content\": \"x\", \"embedding\": [NaN, 1, 0, 0], \"created_at\": \"2025-01-01T00:00:00Z\", \"updated_at\": \"2025-01-01T00:00:00Z\", \"content_hash\": \"x\"}", s + "/memories/m1.json")
        }, broken: "m1"),
        Case(name: "record with duplicate keys", plant: { s, _ in
            try write("{\"id\": \"m1\", \"content\": \"x\", \"content\": \"y\", \"embedding\": null}", s + "/memories/m1.json")
        }, broken: "m1"),
        Case(name: "symlink planted as a record", plant: { s, o in
            try FileManager.default.removeItem(atPath: s + "/memories/m1.json")
            try FileManager.default.createSymbolicLink(atPath: s + "/memories/m1.json", withDestinationPath: o + "/victim.json")
        }, broken: "m1"),
        Case(name: "symlink at a temp-file name", plant: { s, o in
            try FileManager.default.createSymbolicLink(atPath: s + "/memories/.m2.json.0123456789abcdef.tmp", withDestinationPath: o + "/victim.json")
        }),
        Case(name: "symlink planted as memories/", plant: { s, o in
            try FileManager.default.moveItem(atPath: s + "/memories", toPath: o + "/memories-moved")
            try FileManager.default.createSymbolicLink(atPath: s + "/memories", withDestinationPath: o + "/memories-moved")
        }, openRefuses: .symlinkRefused),
        Case(name: "index pointing ahead of the records", plant: { s, _ in
            var index = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: s + "/memory_index.json")))).objectValue!
            var memories = index["memories"]!.objectValue!
            memories["ghost"] = memories["m2"]!
            index["memories"] = .object(memories)
            var metadata = index["metadata"]!.objectValue!
            metadata["journal_seq"] = 999_999
            metadata["memory_count"] = 6
            index["metadata"] = .object(metadata)
            try Data(JSONWriter.pretty(.object(index))).write(to: URL(fileURLWithPath: s + "/memory_index.json"))
        }),
    ]

    func run(_ results: Results) async {
        for hostile in cases {
            let base = workspace.directory("hostile")
            let store = base + "/store", outside = base + "/outside"
            try? FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            do {
                try Self.write("{\"precious\": true}", outside + "/victim.json")
                let s = try await MemoryStore.open(at: store)
                try await s.saveBatch((0..<5).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: [Float($0), 1, 0, 0]) })
                try await s.close()
                try hostile.plant(store, outside)
                let outsideBefore = treeDigest(outside)
                results.check("hostile input: \(hostile.name)", try await exercise(hostile, store: store))
                if treeDigest(outside) != outsideBefore { results.fail("hostile input: \(hostile.name)", "something outside the store changed") }
            } catch {
                results.fail("hostile input: \(hostile.name)", "\(error)")
            }
        }
        // Ids that try to escape, and a second writer.
        let base = workspace.directory("hostile-ids")
        var failures: [String] = []
        do {
            let store = try await MemoryStore.open(at: base + "/store")
            let before = treeDigest(base)
            for id in ["../x", "/etc/passwd", "a/b", ".", "..", "", String(repeating: "a", count: 129), "a\u{0}b", "a\nb", ".m1.json.0.tmp"] {
                do {
                    try await store.save(MemoryEntry(id: id, content: "evil"))
                    failures.append("id \(id.debugDescription) was accepted")
                } catch let error as EngramError where error.code == .invalidId {}
            }
            if treeDigest(base) != before { failures.append("a hostile id wrote something") }
            // A second writer shares the store (writers take turns per commit): its write is seen by the first.
            let second = try await MemoryStore.open(at: base + "/store")
            try await second.save(MemoryEntry(id: "from-second", content: "the second writer's memory"))
            try await second.close()
            if try await store.memory("from-second") == nil { failures.append("the first writer does not see the second writer's commit") }
            try await store.close()
        } catch {
            failures.append("\(error)")
        }
        results.check("hostile input: escaping ids and a second writer", failures)
    }

    private func exercise(_ hostile: Case, store: String) async throws -> [String] {
        var failures: [String] = []
        let opened: MemoryStore
        do {
            opened = try await MemoryStore.open(at: store)
        } catch let error as EngramError {
            if error.code != hostile.openRefuses { failures.append("open failed: \(error)") }
            _ = hostile.broken
            if error.path == nil || error.remedy == nil { failures.append("the refusal names no path or remedy: \(error)") }
            return failures
        }
        if let code = hostile.openRefuses { failures.append("open should have refused with \(code)") }
        for i in 0..<5 where "m\(i)" != (hostile.broken ?? "") {
            if try await opened.memory("m\(i)")?.content != "memory \(i)" { failures.append("m\(i) unreadable") }
        }
        if let broken = hostile.broken {
            do {
                _ = try await opened.memory(broken)
            } catch let error as EngramError {
                if error.path == nil { failures.append("the error for \(broken) names no path: \(error)") }
            }
        }
        do { _ = try await opened.memory("ghost") } catch let error as EngramError where error.code == .notFound {}
        try await opened.close()
        // verify says what is wrong; repair fixes it (or sets it aside); verify is then clean.
        let repair = try await StoreRepairer(layout: StoreLayout(root: store)).run()
        if repair.after?.isConsistent != true { failures.append("repair left: \(repair.after?.problems.map(\.kind.rawValue) ?? [])") }
        let check = try await MemoryStore.open(at: store)
        let expected: [String] = (0..<5).map { "m\($0)" }.filter { $0 != (hostile.broken ?? "") }
        for id in expected where try await check.memory(id) == nil { failures.append("\(id) lost by repair") }
        try await check.close()
        return failures
    }
}
