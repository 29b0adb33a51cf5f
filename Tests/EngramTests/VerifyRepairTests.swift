import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

/// One test per verify finding: create the fault on a real store, check verify reports it, repair fixes it,
/// and no valid record is lost.
@Suite("Verify and repair")
struct VerifyRepairTests {
    struct Fault: Sendable, CustomStringConvertible {
        var name: String
        var expected: VerifyProblem.Kind
        /// Ids the fault deliberately breaks (not required to survive repair).
        var broken: Set<String> = []
        var make: @Sendable (String) throws -> Void
        var description: String { name }
    }

    static func edit(_ path: String, _ change: (inout JSONObject) -> Void) throws {
        var object = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).objectValue!
        change(&object)
        try Data(JSONWriter.pretty(.object(object))).write(to: URL(fileURLWithPath: path))
    }

    static func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    static let faults: [Fault] = [
        Fault(name: "a record file missing from the index", expected: .recordNotIndexed) { s in
            try FileManager.default.copyItem(atPath: s + "/memories/m1.json", toPath: s + "/memories/copy1.json")
            try edit(s + "/memories/copy1.json") {
                $0["id"] = "copy1"
                $0["embedding"] = .array(vector(500).map { .double(Double($0)) })  // its own vector: no tie with m1
            }
        },
        Fault(name: "an index entry whose file is missing", expected: .indexEntryWithoutFile, broken: ["m2"]) { s in
            try FileManager.default.removeItem(atPath: s + "/memories/m2.json")
        },
        Fault(name: "a record that does not parse", expected: .recordUnparseable, broken: ["m3"]) { s in try write("{\"id\": \"m3\", ", s + "/memories/m3.json") },
        Fault(name: "a record of the wrong shape", expected: .recordWrongShape, broken: ["m3"]) { s in try edit(s + "/memories/m3.json") { $0["content"] = 5 } },
        Fault(name: "a record with NaN", expected: .recordNonFinite, broken: ["m3"]) { s in
            let text = try String(contentsOfFile: s + "/memories/m3.json", encoding: .utf8)
            let start = text.range(of: "\"embedding\": [\n")!.upperBound
            try write(text.replacingCharacters(in: start..<start, with: "    NaN,\n"), s + "/memories/m3.json")
        },
        Fault(name: "a record of the wrong dimension", expected: .recordWrongDimension, broken: ["m3"]) { s in try edit(s + "/memories/m3.json") { $0["embedding"] = [1, 2, 3] } },
        Fault(name: "an id that does not match the file name", expected: .recordIDMismatch, broken: ["m3"]) { s in try edit(s + "/memories/m3.json") { $0["id"] = "m4" } },
        Fault(name: "a content_hash edited away by hand (adopted)", expected: .recordHashMismatch) { s in
            try edit(s + "/memories/m5.json") { $0["content"] = "edited with jq" }
        },
        Fault(name: "an index entry disagreeing with its file", expected: .indexEntryDisagrees) { s in
            try edit(s + "/memory_index.json") { index in
                var memories = index["memories"]!.objectValue!
                var entry = memories["m6"]!.objectValue!
                entry["quickrecal_score"] = 0.99
                memories["m6"] = .object(entry)
                index["memories"] = .object(memories)
            }
        },
        Fault(name: "wrong counts in the index metadata", expected: .indexCountsWrong) { s in
            try edit(s + "/memory_index.json") { index in
                var metadata = index["metadata"]!.objectValue!
                metadata["memory_count"] = 12345
                index["metadata"] = .object(metadata)
            }
        },
        Fault(name: "an unreadable index", expected: .indexUnreadable) { s in try write("{\"memories\": {", s + "/memory_index.json") },
        Fault(name: "a missing index", expected: .indexMissing) { s in try FileManager.default.removeItem(atPath: s + "/memory_index.json") },
        Fault(name: "a damaged journal", expected: .journalDamaged) { s in
            try write("0000000000000000 {\"seq\": 99}\n" + "garbage\n", s + "/memory_index.journal")
        },
        Fault(name: "a backup failing its checksum", expected: .backupChecksumFailed) { s in
            let name = IndexBackups(layout: StoreLayout(root: s)).names().first!
            let path = s + "/backups/" + name
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try FileManager.default.removeItem(atPath: path)
            try (bytes + Data(" ".utf8)).write(to: URL(fileURLWithPath: path))
        },
        Fault(name: "a backup without checksum", expected: .backupChecksumMissing) { s in
            let name = IndexBackups(layout: StoreLayout(root: s)).names().first!
            try FileManager.default.removeItem(atPath: s + "/backups/" + name + ".xxh3")
        },
        Fault(name: "a mapping/index mismatch", expected: .vectorFilesDamaged) { s in try write("{}", s + "/vector_index/mapping.json") },
        Fault(name: "a vector that differs from its record", expected: .vectorMismatch) { s in
            try edit(s + "/memories/m7.json") { $0["embedding"] = .array((0..<8).map { _ in .double(0.5) }) }
        },
        Fault(name: "an assembly listing a deleted memory", expected: .assemblyMissingMember, broken: ["m10"]) { s in
            try FileManager.default.removeItem(atPath: s + "/memories/m10.json")
        },
        Fault(name: "a composite that is no longer the mean", expected: .assemblyCompositeStale) { s in
            try edit(s + "/assemblies/g1.json") { $0["composite_embedding"] = .array((0..<8).map { _ in .double(9) }) }
        },
        Fault(name: "a file that does not belong", expected: .foreignFile) { s in
            try write("notes", s + "/notes.txt")
            try write("more", s + "/memories/README")
        },
    ]

    // What a crash leaves and the next open finishes (a torn journal tail, temp files, a vector tier behind its
    // records or never checkpointed) is pending recovery, not a fault: see PendingRecoveryTests.

    /// A store with 30 memories, an assembly, backups, and a copy of its first vector checkpoint.
    static func fixture(_ dir: TemporaryDirectory) async throws {
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.backupInterval = 0 })
        try await store.saveBatch((0..<30).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: vector($0), metadata: ["n": .int(Int64($0))]) })
        try await store.save(MemoryAssembly(id: "g1", name: "group", memoryIds: ["m10", "m11", "m12"]))
        try await store.checkpoint()
        try FileManager.default.copyItem(atPath: dir.store + "/vector_index", toPath: dir.path + "/old-vectors")
        try await store.save(MemoryEntry(id: "m20", content: "changed", embedding: vector(99)))
        try await store.save(MemoryEntry(id: "late", content: "late", embedding: vector(98)))
        try await store.deleteMemory("m21")
        try await store.close()
    }

    @Test("verify reports the fault, repair fixes it, no valid record is lost", arguments: faults)
    func fault(_ fault: Fault) async throws {
        let dir = TemporaryDirectory("fault-\(fault.name.filter(\.isLetter).prefix(40))")
        try await Self.fixture(dir)
        let layout = StoreLayout(root: dir.store)
        let clean = try StoreVerifier(layout: layout).run()
        #expect(clean.isConsistent, "the fixture must verify clean: \(clean.problems)")
        let before = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
        let keep = try await before.memories(await before.memoryIDs())
        try await before.close()

        try fault.make(dir.store)
        let report = try StoreVerifier(layout: layout).run()
        #expect(report.problems.contains { $0.kind == fault.expected }, "\(fault.name): expected \(fault.expected.rawValue), got \(report.problems.map(\.kind.rawValue))")
        let json = report.json
        #expect(json["consistent"] == false)
        #expect(json["problems"]?.arrayValue?.isEmpty == false)

        let plan = try await StoreRepairer(layout: layout).plan()
        #expect(plan.before.problems.count == report.problems.count)
        let repaired = try await StoreRepairer(layout: layout).run()
        #expect(repaired.after?.isConsistent == true, "\(fault.name): after repair \(repaired.after?.problems.map { "\($0.kind.rawValue) \($0.path ?? "")" } ?? [])")

        let after = try await MemoryStore.open(at: dir.store, configuration: config { $0.autoRepair = false })
        for memory in keep where !fault.broken.contains(memory.id) {
            let again = try #require(try await after.memory(memory.id), "\(memory.id) was lost by repair")
            if fault.expected != .recordHashMismatch && fault.expected != .vectorMismatch { #expect(again.content == memory.content) }
            if let v = again.embedding { #expect(try await after.search(vector: v, k: 1).first?.id == memory.id) }
        }
        if fault.expected == .recordHashMismatch { #expect(try await after.memory("m5")?.content == "edited with jq") }
        if fault.expected == .recordNotIndexed { #expect(try await after.memory("copy1") != nil) }
        if fault.expected == .indexUnreadable || fault.expected == .indexMissing {
            // The rotated backups were checked against the records, not trusted.
            #expect(repaired.actions.contains { $0.contains("checked backups/") && $0.contains("differs") }, "\(repaired.actions)")
        }
        if fault.expected == .assemblyMissingMember { #expect(try await after.assembly("g1")?.memoryIds == ["m11", "m12"]) }
        try await after.close()
        // Whatever was set aside is in quarantine/, with a note, not deleted.
        if fault.expected.rawValue.hasPrefix("record_") && fault.expected != .recordNotIndexed && fault.expected != .recordHashMismatch {
            let quarantined = allFiles(under: dir.store + "/quarantine")
            #expect(quarantined.contains { $0.hasSuffix("memories/m3.json") }, "\(quarantined)")
            #expect(quarantined.contains { $0.hasSuffix("memories/m3.json.why.txt") })
        }
        // A second repair has nothing to do.
        #expect(try StoreVerifier(layout: layout).run().isConsistent)
    }

    @Test("verify is read-only and works beside a running writer")
    func besideWriter() async throws {
        let dir = TemporaryDirectory()
        try await Self.fixture(dir)
        let writer = try await MemoryStore.open(at: dir.store)
        try await writer.save(MemoryEntry(id: "new", content: "new", embedding: vector(5)))
        let before = allFiles(under: dir.store)
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.writerActive)
        #expect(report.isConsistent, "\(report.problems)")
        #expect(allFiles(under: dir.store) == before)
        let refused = await #expect(throws: EngramError.self) { try await StoreRepairer(layout: StoreLayout(root: dir.store)).run() }
        #expect(refused?.code == .locked)
        try await writer.close()
    }
}
