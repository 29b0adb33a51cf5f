import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import EngramCLI
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The package root, from this file's path (Tests/EngramCLITests/MigrateCommandTests.swift).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
/// The real Synthians store shared with the project; never copied into the repository.
private let synthiansFixture = packageRoot + "/../shared/fixtures/synthians-store"
private let synthiansFixtureExists = FileManager.default.fileExists(atPath: synthiansFixture + "/memory_index.json")

/// A store with a few memories and an assembly, built through the CLI.
private func makeStore(_ dir: TemporaryDirectory) async throws {
    let input = dir.write("in.jsonl", (1...6).map { #"{"id": "m\#($0)", "content": "memory \#($0)", "embedding": [\#($0), 1, 0]}"# }.joined(separator: "\n") + "\n")
    let put = await engram("--store", dir.store, "put", input)
    #expect(put.status == 0, "\(put.stderr)")
    let assembly = dir.write("asm.json", #"{"id": "group", "name": "group", "memory_ids": ["m1", "m2"]}"#)
    let saved = await engram("--store", dir.store, "assembly", "put", assembly)
    #expect(saved.status == 0, "\(saved.stderr)")
}

private func files(under root: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
    while let path = walker.nextObject() as? String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
            out[path] = FileManager.default.contents(atPath: root + "/" + path)
        }
    }
    return out
}

@Suite("engram migrate")
struct MigrateCommandTests {
    @Test("--to: exit 0, the copy verified, text and JSON reports; a non-empty DEST is refused with exit 1")
    func copy() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir)
        let before = files(under: dir.store)

        let dry = await engram("--store", dir.store, "migrate", "--to", dir.path + "/dry", "--dry-run")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("Would copy") && dry.stdout.contains("memories/m1.json"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/dry"))

        let text = await engram("--store", dir.store, "migrate", "--to", dir.path + "/copy")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("Verified: 7 records"))
        #expect(text.stdout.contains("6 memories and 1 assembly"))
        // Not copied: the lock, the derived memory_index.bin (names the source JSON's inode) and .clean_shutdown.
        let notCopied: Set<String> = [".lock", "memory_index.bin", ".clean_shutdown"]
        #expect(files(under: dir.path + "/copy") == before.filter { !notCopied.contains($0.key) })
        #expect(files(under: dir.store) == before)
        let stats = try JSONReader.parse(await engram("--store", dir.path + "/copy", "stats").stdout)
        #expect(stats["memory_count"] == 6 && stats["assembly_count"] == 1)

        let json = await engram("--store", dir.store, "migrate", "--to", dir.path + "/copy2", "--format", "json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONReader.parse(json.stdout)
        #expect(report["records_verified"] == 7)
        #expect(report["files_copied"]?.int64Value == Int64(before.keys.filter { !notCopied.contains($0) }.count))
        #expect(report["memory_count"] == 6)
        #expect(report["exact_snapshot"] == true)
        #expect(report["bytes"]?.int64Value ?? 0 > 0)

        let refused = await engram("--store", dir.store, "migrate", "--to", dir.path + "/copy")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))
        #expect(refused.stdout.isEmpty)
    }

    @Test("usage errors exit 64: no mode, two modes")
    func usage() async throws {
        let dir = TemporaryDirectory()
        #expect(await engram("--store", dir.store, "migrate").status == 64)
        #expect(await engram("--store", dir.store, "migrate", "--upgrade", "--to", dir.path + "/x").status == 64)
        #expect(await engram("--store", dir.store, "migrate", "--to", dir.store + "/inside").status != 0)
    }

    @Test("--upgrade: a current store has nothing to do (exit 0); a format 0 store is planned, then upgraded with a snapshot")
    func upgrade() async throws {
        let dir = TemporaryDirectory()
        try await makeStore(dir)
        let current = await engram("--store", dir.store, "migrate", "--upgrade")
        #expect(current.status == 0)
        #expect(current.stdout.contains("Nothing to do"))
        let currentJSON = try JSONReader.parse(await engram("--store", dir.store, "migrate", "--upgrade", "--format", "json").stdout)
        #expect(currentJSON["nothing_to_do"] == true)

        let old = dir.path + "/v0"
        try FileManager.default.createDirectory(atPath: old + "/memories", withIntermediateDirectories: true)
        try #"{"id": "x1", "content": "old", "embedding": [1, 2], "timestamp": 1600000000.5, "quickrecal_score": 0.5, "metadata": {}, "schema_version": 0}"#
            .write(toFile: old + "/memories/x1.json", atomically: false, encoding: .utf8)
        try #"{"memories": {"x1": {"filepath": "memories/x1.json", "timestamp": 1600000000.5}}, "assemblies": {}, "metadata": {"version": "0", "memory_count": 1, "assembly_count": 0}}"#
            .write(toFile: old + "/memory_index.json", atomically: false, encoding: .utf8)
        let before = files(under: old)

        let plan = await engram("--store", old, "migrate", "--upgrade", "--dry-run")
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("Would upgrade") && plan.stdout.contains("0 → 1") && plan.stdout.contains("1 records to rewrite"))
        #expect(files(under: old) == before)

        let done = await engram("--store", old, "migrate", "--upgrade", "--format", "json")
        #expect(done.status == 0, "\(done.stderr)")
        let report = try JSONReader.parse(done.stdout)
        #expect(report["from_version"] == "0" && report["to_version"] == "1")
        #expect(report["records_read_back"] == 1)
        let snapshot = try #require(report["snapshot"]?.stringValue)
        #expect(FileManager.default.contents(atPath: snapshot + "/memories/x1.json") == before["memories/x1.json"])
        let get = await engram("--store", old, "get", "x1")
        #expect(get.status == 0)
        #expect(try JSONReader.parse(get.stdout)["created_at"] == "2020-09-13T12:26:40.500000Z")

        let again = await engram("--store", old, "migrate", "--upgrade")
        #expect(again.status == 0 && again.stdout.contains("Nothing to do"))
    }

    @Test("--from-synthians on the real fixture: exit 0, counts, the NaN memory named; a rerun keeps the counts",
          .enabled(if: synthiansFixtureExists, "the Synthians fixture is not at ../shared/fixtures/synthians-store (it is never copied into the repository)"))
    func fromSynthians() async throws {
        let dir = TemporaryDirectory()
        let dry = await engram("--store", dir.store, "migrate", "--from-synthians", synthiansFixture, "--dry-run")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("Would import") && dry.stdout.contains("memories: 41"))
        #expect(!FileManager.default.fileExists(atPath: dir.store))

        let text = await engram("--store", dir.store, "migrate", "--from-synthians", synthiansFixture)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("memories: 41"))
        #expect(text.stdout.contains("assemblies: 3"))
        #expect(text.stdout.contains("memories imported without an embedding: 1"))
        #expect(text.stdout.contains("mem_425138588bb0: the embedding holds 1 NaN"))

        let json = await engram("--store", dir.store, "migrate", "--from-synthians", synthiansFixture, "--format", "json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONReader.parse(json.stdout)
        #expect(report["memories"]?["imported"] == 41)
        #expect(report["assemblies"]?["imported"] == 3)
        #expect(report["memories"]?["without_embedding"]?.arrayValue?.first?["id"] == "mem_425138588bb0")
        #expect(report["unchanged"] == 44 && report["created"] == 0)
        #expect(report["succeeded"] == true)

        let stats = try JSONReader.parse(await engram("--store", dir.store, "stats").stdout)
        #expect(stats["memory_count"] == 41 && stats["assembly_count"] == 3 && stats["vector_count"] == 40)
        let member = try JSONReader.parse(await engram("--store", dir.store, "assembly", "get", "asm:4fadb969728b").stdout)
        #expect(member["memory_ids"]?.arrayValue?.count == 5)
    }

    @Test("--from-synthians: a source that is not a Synthians store exits 1 with the reason")
    func notSynthians() async throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/empty", withIntermediateDirectories: true)
        let run = await engram("--store", dir.store, "migrate", "--from-synthians", dir.path + "/empty")
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a Synthians store"))
    }

    @Test("--from-synthians: writes that fail are reported per id and exit 1; a rerun imports them",
          .enabled(if: FaultInjector.isAvailable, "fault injection is compiled into debug builds only"))
    func failedWrites() async throws {
        let dir = TemporaryDirectory()
        let source = dir.path + "/synthians"
        try FileManager.default.createDirectory(atPath: source + "/memories", withIntermediateDirectories: true)
        for n in 1...3 {
            try #"{"id": "mem_\#(n)", "content": "c\#(n)", "embedding": [\#(n), 0], "timestamp": "2025-01-01T00:00:00+00:00", "quickrecal_score": 0.5, "metadata": {}}"#
                .write(toFile: source + "/memories/mem_\(n).json", atomically: false, encoding: .utf8)
        }
        FaultInjector.shared.arm(.init(syscall: .write, errno: ENOSPC, pathContains: dir.store + "/memories/", sticky: true))
        let failed = await engram("--store", dir.store, "migrate", "--from-synthians", source, "--format", "json")
        FaultInjector.shared.disarm(scope: dir.store)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("3 importable records were not saved"))
        let report = try JSONReader.parse(failed.stdout)
        #expect(report["failures"]?.arrayValue?.count == 3)
        #expect(report["failures"]?.arrayValue?.first?["reason"]?.stringValue?.contains("No space left") == true)

        let retried = await engram("--store", dir.store, "migrate", "--from-synthians", source)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.contains("written new: 3"))
    }
}
