import Engram
import EngramTestSupport
import EngramJSON
import Foundation
import Testing

/// The states a crash leaves, built on disk by hand: verify reports what the next open finishes as pending
/// (exit 0) and what no open can bring back as a problem (exit 1); a read-only open sees committed batches whole.
@Suite("Verify right after a crash: pending recovery vs problems")
struct PendingRecoveryTests {
    /// Ten memories m0…m9, checkpointed and closed (journal empty, vector files written).
    static func fixture(_ dir: TemporaryDirectory) async throws -> [MemoryEntry] {
        let store = try await MemoryStore.open(at: dir.store)
        let saved = try await store.saveBatch((0..<10).map { MemoryEntry(id: "m\($0)", content: "memory \($0)", embedding: vector($0)) })
        try await store.close()
        return saved
    }

    /// One journal line as the store writes it: `<16 hex XXH3 of the JSON> <compact JSON>\n`.
    static func journalLine(_ object: JSONObject) -> String {
        let json = JSONWriter.compact(.object(object))
        return ContentHash.checksum(json) + " " + String(decoding: json, as: UTF8.self) + "\n"
    }

    static func putLine(sequence: Int64, _ items: [(MemoryEntry, String)]) -> String {
        journalLine(["seq": .int(sequence), "op": "put", "items": .array(items.map { memory, temporary in
            .object(["kind": "memory", "id": .string(memory.id), "tmp": .string(temporary),
                     "created_at": .string(memory.createdAt.description), "updated_at": .string(memory.updatedAt.description),
                     "quickrecal_score": .double(memory.quickrecalScore), "content_hash": .string(memory.contentHash),
                     "embedding_dim": .int(Int64(memory.embedding?.count ?? 0))])
        })])
    }

    static func checkpointSequence(_ store: String) throws -> Int64 {
        let index = try JSONReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: store + "/memory_index.json"))))
        return index["metadata"]?["journal_seq"]?.int64Value ?? 0
    }

    static func append(_ text: String, to path: String) throws {
        let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)!
        }()
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }

    /// A new version of `memory`, as a save would write it.
    static func newVersion(_ memory: MemoryEntry, content: String, seed: Int) -> MemoryEntry {
        var next = memory
        next.content = content
        next.contentHash = ContentHash.of(content)
        next.embedding = vector(seed)
        next.updatedAt = Timestamp(microseconds: memory.updatedAt.microseconds + 1_000_000)
        return next
    }

    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// `engram verify --format json` as a user runs it: its exit status and report.
    static func cliVerify(_ store: String) throws -> (status: Int32, report: JSONValue)? {
        guard let engram = BuiltExecutable.path("engram") else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: engram)
        process.arguments = ["--store", store, "verify", "--format", "json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, try JSONReader.parse(Array(data)))
    }

    static func kinds(_ report: VerifyReport) -> Set<PendingRecovery.Kind> { Set(report.pending.map(\.kind)) }

    /// A committed batch of three: one renamed, two still in complete temp files (the crash came between renames).
    static func halfRenamedBatch(_ dir: TemporaryDirectory) async throws -> [MemoryEntry] {
        let saved = try await fixture(dir)
        let next = (0..<3).map { newVersion(saved[$0], content: "batch version of m\($0)", seed: 100 + $0) }
        let temporary = (0..<3).map { ".m\($0).json.00000000000000a\($0).tmp" }
        try write(next[0].jsonBytes(), dir.store + "/memories/m0.json")
        try write(next[1].jsonBytes(), dir.store + "/memories/" + temporary[1])
        try write(next[2].jsonBytes(), dir.store + "/memories/" + temporary[2])
        try append(putLine(sequence: try checkpointSequence(dir.store) + 1, Array(zip(next, temporary))), to: dir.store + "/memory_index.journal")
        return next
    }

    @Test("a committed batch half renamed: pending roll-forward, exit 0; a read-only open sees the whole batch")
    func committedBatchHalfRenamed() async throws {
        let dir = TemporaryDirectory()
        let next = try await Self.halfRenamedBatch(dir)
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.pending.filter { $0.kind == .committedWriteNotRenamed }.compactMap(\.id).sorted() == ["m1", "m2"])
        #expect(Self.kinds(report).contains(.journalReplay))
        if let cli = try Self.cliVerify(dir.store) {
            #expect(cli.status == 0)
            #expect(cli.report["recovery_pending"]?.arrayValue?.contains { $0["kind"] == "committed_write_not_renamed" } == true)
            #expect(cli.report["problems"]?.arrayValue?.isEmpty == true)
        }

        // Read-only: the whole batch, from the index, a file read and the vector tier; nothing written.
        let before = allFiles(under: dir.store)
        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        for memory in next {
            #expect(await reader.indexEntry(forMemory: memory.id)?.updatedAt == memory.updatedAt, "\(memory.id)")
            #expect(try await reader.memory(memory.id)?.content == memory.content, "\(memory.id)")
            #expect(try await reader.search(vector: memory.embedding!, k: 1).first?.id == memory.id)
        }
        #expect(try await reader.memories(next.map(\.id)).map(\.content) == next.map(\.content))
        try await reader.close()
        // Also when the index is lost and the reader rebuilds it from the records in memory.
        try FileManager.default.moveItem(atPath: dir.store + "/memory_index.json", toPath: dir.path + "/index-aside.json")
        let rebuilding = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true; $0.loadVectorTier = false })
        for memory in next { #expect(try await rebuilding.memory(memory.id)?.content == memory.content, "\(memory.id), index rebuilt") }
        try await rebuilding.close()
        try FileManager.default.moveItem(atPath: dir.path + "/index-aside.json", toPath: dir.store + "/memory_index.json")
        #expect(allFiles(under: dir.store) == before)

        // The writer open finishes it: nothing pending, nothing wrong, the same batch.
        let writer = try await MemoryStore.open(at: dir.store)
        for memory in next { #expect(try await writer.memory(memory.id)?.content == memory.content) }
        try await writer.close()
        let after = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(after.isConsistent && after.pending.isEmpty, "\(after.problems) \(after.pending)")
    }

    @Test("a read-only open of a half-renamed batch works on a read-only store directory",
          .enabled(if: getuid() != 0, "root ignores directory permissions: nothing to prove"))
    func readOnlyDirectory() async throws {
        let dir = TemporaryDirectory()
        let next = try await Self.halfRenamedBatch(dir)
        let directories = ["", "/memories", "/assemblies", "/vector_index", "/backups"].map { dir.store + $0 }
        for path in directories { chmod(path, 0o555) }
        defer { for path in directories { chmod(path, 0o755) } }
        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(try await reader.memory("m2")?.content == next[2].content)
        #expect(await reader.memoryIDs().count == 10)
        try await reader.close()
    }

    @Test("record files behind the journal lines that carry them (what a power cut leaves): pending, exit 0; a reader sees the committed versions; the writer open rewrites them")
    func recordFilesBehindJournal() async throws {
        let dir = TemporaryDirectory()
        let saved = try await Self.fixture(dir)
        // Commits whose lines carry the records, then a copy of the store taken as the writer sits idle (no
        // checkpoint: the journal holds them, the record files are not yet durable).
        let writer = try await MemoryStore.open(at: dir.store, configuration: config { $0.flushThreshold = 1000 })
        let m0 = try await writer.save(Self.newVersion(saved[0], content: "single save of m0", seed: 200))
        let batch = try await writer.saveBatch([Self.newVersion(saved[1], content: "batch m1", seed: 201), Self.newVersion(saved[2], content: "batch m2", seed: 202)])
        #expect(try await writer.deleteMemory("m3"))
        let crashed = dir.path + "/crashed"
        try FileManager.default.copyItem(atPath: dir.store, toPath: crashed)
        try await writer.close()
        // The power cut: m0 cut off, m1 gone, m2 back at its previous version, the deleted m3 back.
        try Self.write(Array(m0.jsonBytes().prefix(30)), crashed + "/memories/m0.json")
        try FileManager.default.removeItem(atPath: crashed + "/memories/m1.json")
        try Self.write(saved[2].jsonBytes(), crashed + "/memories/m2.json")
        try Self.write(saved[3].jsonBytes(), crashed + "/memories/m3.json")

        let report = try StoreVerifier(layout: StoreLayout(root: crashed)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.pending.filter { $0.kind == .recordBehindJournal }.compactMap(\.id).sorted() == ["m0", "m1", "m2", "m3"], "\(report.pending)")
        if let cli = try Self.cliVerify(crashed) {
            #expect(cli.status == 0)
            #expect(cli.report["recovery_pending"]?.arrayValue?.contains { $0["kind"] == "record_behind_journal" } == true)
        }

        // A reader writes nothing and sees the committed versions, from the journal lines.
        let before = allFiles(under: crashed)
        let reader = try await MemoryStore.open(at: crashed, configuration: config { $0.readOnly = true })
        #expect(try await reader.memory("m0")?.content == "single save of m0")
        #expect(try await reader.memories(["m1", "m2"]).map(\.content) == batch.map(\.content))
        #expect(!(await reader.containsMemory("m3")))
        #expect(await reader.memoryIDs().count == 9)
        try await reader.close()
        #expect(allFiles(under: crashed) == before)

        // The writer open rewrites the files from the journal, durably: byte for byte what the saves wrote.
        let recovered = try await MemoryStore.open(at: crashed)
        #expect(await recovered.recovery.rolledForward.sorted() == ["memories/m0.json", "memories/m1.json", "memories/m2.json", "memories/m3.json"])
        try await recovered.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: crashed + "/memories/m0.json")) == Data(m0.jsonBytes()))
        #expect(try Data(contentsOf: URL(fileURLWithPath: crashed + "/memories/m2.json")) == Data(batch[1].jsonBytes()))
        #expect(!FileManager.default.fileExists(atPath: crashed + "/memories/m3.json"))
        let after = try StoreVerifier(layout: StoreLayout(root: crashed)).run()
        #expect(after.isConsistent && after.pending.isEmpty, "\(after.problems) \(after.pending)")
    }

    @Test("a committed batch item neither renamed nor in a complete temp file is journal_write_lost, exit 1; repair settles on the files")
    func journalWriteLost() async throws {
        let dir = TemporaryDirectory()
        let next = try await Self.halfRenamedBatch(dir)
        try FileManager.default.removeItem(atPath: dir.store + "/memories/.m2.json.00000000000000a2.tmp")
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.map(\.kind) == [.journalWriteLost], "\(report.problems)")
        #expect(report.problems.first?.id == "m2")
        #expect(!report.isConsistent)
        if let cli = try Self.cliVerify(dir.store) {
            #expect(cli.status == 1)
            #expect(cli.report["problems"]?.arrayValue?.first?["kind"] == "journal_write_lost")
        }
        let repaired = try await StoreRepairer(layout: StoreLayout(root: dir.store)).run()
        #expect(repaired.after?.isConsistent == true)
        #expect(repaired.actions.contains { $0.contains("journal_write_lost") && $0.contains("memories/m2.json") }, "\(repaired.actions)")
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(try await store.memory("m1")?.content == next[1].content)
        #expect(try await store.memory("m2")?.content == "memory 2")  // the previous version: the lost one is not in the store
        try await store.close()
    }

    @Test("a single save cut off after its journal line (temp file partial): pending, exit 0")
    func unacknowledgedSingleSave() async throws {
        let dir = TemporaryDirectory()
        let saved = try await Self.fixture(dir)
        let next = Self.newVersion(saved[4], content: "never acknowledged", seed: 44)
        let temporary = ".m4.json.00000000000000b4.tmp"
        try Self.write(Array(next.jsonBytes().prefix(40)), dir.store + "/memories/" + temporary)
        try Self.append(Self.putLine(sequence: try Self.checkpointSequence(dir.store) + 1, [(next, temporary)]), to: dir.store + "/memory_index.journal")
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(Self.kinds(report).isSuperset(of: [.unacknowledgedWrite, .temporaryFile, .journalReplay]), "\(report.pending)")
        if let cli = try Self.cliVerify(dir.store) { #expect(cli.status == 0) }
        // The same line for a batch of two whose second record never reached the disk is a lost write.
        try FileManager.default.removeItem(atPath: dir.store + "/memory_index.journal")
        let other = Self.newVersion(saved[5], content: "batch partner", seed: 45)
        try Self.write(other.jsonBytes(), dir.store + "/memories/m5.json")
        try Self.append(Self.putLine(sequence: try Self.checkpointSequence(dir.store) + 1, [(next, temporary), (other, ".m5.json.00000000000000b5.tmp")]),
                        to: dir.store + "/memory_index.journal")
        let batch = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(batch.problems.map(\.kind) == [.journalWriteLost] && batch.problems.first?.id == "m4", "\(batch.problems)")
    }

    @Test("a torn last journal line and a stale temp file: pending, exit 0; the writer open clears them")
    func tornTailAndStaleTemp() async throws {
        let dir = TemporaryDirectory()
        _ = try await Self.fixture(dir)
        // The crash that leaves these files also leaves no clean-shutdown mark.
        try? FileManager.default.removeItem(atPath: dir.store + "/.clean_shutdown")
        try Self.append("0123456789abcdef {\"seq\":", to: dir.store + "/memory_index.journal")
        try "{\"id\"".write(toFile: dir.store + "/memories/.m1.json.0123abcd.tmp", atomically: false, encoding: .utf8)
        try "x".write(toFile: dir.store + "/.memory_index.json.0123abcd.tmp", atomically: false, encoding: .utf8)
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(Self.kinds(report) == [.journalTornTail, .temporaryFile], "\(report.pending)")
        #expect(report.pending.count { $0.kind == .temporaryFile } == 2)
        #expect(report.pendingSummary.map { $0.kind.summary($0.count) } == ["2 temp files of an unacknowledged write", "a partial last journal line (never acknowledged)"])
        #expect(report.isConsistent && report.json["consistent"] == true && report.json["recovery_pending"]?.arrayValue?.count == 3)
        if let cli = try Self.cliVerify(dir.store) { #expect(cli.status == 0) }
        try await MemoryStore.open(at: dir.store).close()
        let after = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(after.isConsistent && after.pending.isEmpty, "\(after.problems) \(after.pending)")
    }

    @Test("a vector tier behind its records (stale, missing, orphan vectors; never checkpointed): pending, exit 0")
    func laggingVectorTier() async throws {
        let dir = TemporaryDirectory()
        try await VerifyRepairTests.fixture(dir)  // old-vectors/: its first vector checkpoint, before later changes
        for name in ["manifest.json", "mapping.json", "memory_vectors.faiss", "assembly_vectors.faiss"] {
            try? FileManager.default.removeItem(atPath: dir.store + "/vector_index/" + name)
            if FileManager.default.fileExists(atPath: dir.path + "/old-vectors/" + name) {
                try FileManager.default.copyItem(atPath: dir.path + "/old-vectors/" + name, toPath: dir.store + "/vector_index/" + name)
            }
        }
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(Self.kinds(report) == [.vectorStale, .vectorMissing, .vectorOrphan], "\(report.pending)")
        if let cli = try Self.cliVerify(dir.store) { #expect(cli.status == 0) }

        // Confirms what open does: a read-only open already searches the caught-up tier.
        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        #expect(try await reader.search(vector: vector(99), k: 1).first?.id == "m20")
        #expect(try await reader.search(vector: vector(98), k: 1).first?.id == "late")
        #expect(try await reader.search(vector: vector(21), k: 30).contains { $0.id == "m21" } == false)
        try await reader.close()

        // No vector files at all (a crash before the tier's first checkpoint).
        for name in ["manifest.json", "mapping.json", "memory_vectors.faiss", "assembly_vectors.faiss"] { try? FileManager.default.removeItem(atPath: dir.store + "/vector_index/" + name) }
        let missing = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(missing.problems.isEmpty && Self.kinds(missing) == [.vectorCheckpointPending], "\(missing.problems) \(missing.pending)")

        try await MemoryStore.open(at: dir.store).close()
        let after = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(after.isConsistent && after.pending.isEmpty, "\(after.problems) \(after.pending)")
    }

    @Test("a vector newer than its record, and damaged vector files, stay problems: exit 1")
    func vectorAheadAndDamage() async throws {
        let dir = TemporaryDirectory()
        let saved = try await Self.fixture(dir)
        var older = saved[3]
        older.updatedAt = Timestamp(microseconds: saved[3].updatedAt.microseconds - 1_000_000)
        try Self.write(older.jsonBytes(), dir.store + "/memories/m3.json")
        let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
        #expect(report.problems.contains { $0.kind == .vectorAhead && $0.id == "m3" }, "\(report.problems)")
        if let cli = try Self.cliVerify(dir.store) { #expect(cli.status == 1) }

        let damaged = TemporaryDirectory()
        _ = try await Self.fixture(damaged)
        try "{}".write(toFile: damaged.store + "/vector_index/mapping.json", atomically: false, encoding: .utf8)
        let damage = try StoreVerifier(layout: StoreLayout(root: damaged.store)).run()
        #expect(damage.problems.map(\.kind) == [.vectorFilesDamaged], "\(damage.problems)")
        #expect(damage.pending.isEmpty)
    }
}
