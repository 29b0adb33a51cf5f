import Engram
import EngramIO
import EngramTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fake embedder: a Python script that logs every start (with its pid) and every request's size, and then
/// behaves as `mode` says: `ok`, `crash` (exits 3 on the first request after a last word on stderr), `hang` (answers
/// the first request, so that the timeout is measured without Python's start-up, and never another one),
/// `count` (one vector too few), `garbage`, `nan`, `error` (a protocol error reply), `ragged` (vectors of two lengths).
private struct FakeEmbedder {
    let dir: TemporaryDirectory
    let mode: String
    let dimension: Int

    init(_ dir: TemporaryDirectory, mode: String, dimension: Int = 8) {
        self.dir = dir
        self.mode = mode
        self.dimension = dimension
        dir.write("fake_embedder.py", """
            import json, os, sys, time
            mode, log, dim = sys.argv[1], sys.argv[2], int(sys.argv[3])
            with open(log + ".starts", "a") as f: f.write(f"{os.getpid()}\\n")
            for line in sys.stdin:
                texts = json.loads(line)["texts"]
                with open(log + ".requests", "a") as f: f.write(f"{len(texts)}\\n")
                if mode == "crash":
                    sys.stderr.write("fake embedder: out of memory\\n"); sys.stderr.flush(); sys.exit(3)
                if mode == "hang" and os.path.getsize(log + ".requests") > 2:
                    time.sleep(3600)
                if mode == "garbage":
                    print("Loading model... done", flush=True); continue
                if mode == "error":
                    print(json.dumps({"error": "model not loaded"}), flush=True); continue
                vectors = [[float((len(t) * (i + 1)) % 7) + 0.5 for i in range(dim)] for t in texts]
                if mode == "count": vectors = vectors[:-1]
                if mode == "ragged": vectors[-1] = vectors[-1][:-1]
                reply = json.dumps({"vectors": vectors})
                if mode == "nan": reply = reply.replace("0.5", "NaN", 1)
                print(reply, flush=True)
            """)
    }

    var log: String { dir.path + "/embedder-\(mode)" }

    func configuration(timeout: Double = 10, batchSize: Int = 64, model: String? = nil) -> EmbedderConfiguration {
        EmbedderConfiguration(command: ["python3", dir.path + "/fake_embedder.py", mode, log, String(dimension)],
                              timeout: timeout, batchSize: batchSize, model: model)
    }

    /// The pids of every start, in order.
    var starts: [Int32] { lines("starts").compactMap { Int32($0) } }
    /// The number of texts of every request, in order.
    var requests: [Int] { lines("requests").compactMap { Int($0) } }

    private func lines(_ suffix: String) -> [String] {
        ((try? String(contentsOfFile: log + "." + suffix, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// Every file under `path` with its bytes: "nothing half-written" means this does not change.
private func contents(under path: String) -> [String: Data] {
    var out: [String: Data] = [:]
    for file in allFiles(under: path) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue {
            out[file] = FileManager.default.contents(atPath: path + "/" + file)
        }
    }
    return out
}

private func open(_ dir: TemporaryDirectory, _ embedder: EmbedderConfiguration?, dimension: Int? = 8) async throws -> MemoryStore {
    try await MemoryStore.open(at: dir.store, configuration: config {
        $0.embedder = embedder
        $0.embeddingDimension = dimension
    })
}

@Suite("Embedder")
struct EmbedderTests {
    @Test("memories without an embedding are embedded by one child process, in batches; given embeddings are kept")
    func startedOnceBatched() async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: "ok")
        let store = try await open(dir, fake.configuration(batchSize: 4, model: "fake-8"))
        #expect(fake.starts.isEmpty, "the child starts on the first text, not at open")
        let batch = (0..<10).map { MemoryEntry(id: "m\($0)", content: String(repeating: "x", count: $0 + 1)) }
        let saved = try await store.saveBatch(batch + [MemoryEntry(id: "given", content: "mine", embedding: vector(1))])
        for i in 0..<3 { try await store.save(MemoryEntry(id: "s\(i)", content: "single \(i)")) }
        #expect(try await store.embed(["a", "bb"]).count == 2)

        #expect(fake.starts.count == 1)
        #expect(fake.requests == [4, 4, 2, 1, 1, 1, 2])
        #expect(saved.allSatisfy { $0.embedding?.count == 8 })
        let expected: [Float] = (0..<8).map { Float((4 * ($0 + 1)) % 7) + 0.5 }
        #expect(saved[3].embedding == expected)
        #expect(saved[3].embeddingModel == "fake-8")
        #expect(saved[10].embedding == vector(1) && saved[10].embeddingModel == nil)
        #expect(try await store.memory("s2")?.embedding?.count == 8)
        #expect(try await store.search(vector: saved[3].embedding!, k: 1).first?.id == "m3")

        // close() reaps the child: its pid is gone.
        let pid = try #require(fake.starts.first)
        try await store.close()
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test("a child that crashes: an embedder error naming the command, its exit status and last stderr line; nothing written")
    func crash() async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: "crash")
        let store = try await open(dir, fake.configuration())
        try await store.save(MemoryEntry(id: "before", content: "x", embedding: vector(1)))
        let files = contents(under: dir.store)
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "new", content: "text")) }
        #expect(error?.code == .embedder)
        #expect(error?.id == "new")
        let message = error?.description ?? ""
        #expect(message.contains("fake_embedder.py"), "\(message)")
        #expect(message.contains("exited with status 3"), "\(message)")
        #expect(message.contains("fake embedder: out of memory"), "\(message)")
        #expect(await store.memoryIDs() == ["before"])
        #expect(contents(under: dir.store) == files)

        // The store goes on; the next text starts a new child (which fails again, and says so).
        try await store.save(MemoryEntry(id: "after", content: "x", embedding: vector(2)))
        await #expect(throws: EngramError.self) { try await store.saveBatch([MemoryEntry(id: "n1", content: "a"), MemoryEntry(id: "n2", content: "b")]) }
        #expect(fake.starts.count == 2)
        #expect(await store.memoryIDs() == ["after", "before"])
        try await store.close()
    }

    @Test("a child that hangs: an embedder error after the timeout, other writes not blocked meanwhile, nothing written")
    func hang() async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: "hang")
        let store = try await open(dir, fake.configuration(timeout: 8))
        try await store.save(MemoryEntry(id: "warm", content: "answered"))
        let files = contents(under: dir.store)
        let clock = ContinuousClock()
        let start = clock.now
        let failedAt = Mutex<ContinuousClock.Instant?>(nil)
        let hanging = Task {
            defer { failedAt.withLock { $0 = clock.now } }
            return try await store.save(MemoryEntry(id: "slow", content: "text"))
        }
        while fake.requests.count < 2 && clock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        // While the embedder hangs, a save with its own embedding goes through: it finishes before the hung save
        // fails at its timeout (an ordering, not a time bound: the machine may be busy with other tests).
        try await store.save(MemoryEntry(id: "fast", content: "x", embedding: vector(1)))
        let fastDone = clock.now
        #expect(failedAt.withLock { $0 } == nil || fastDone < failedAt.withLock { $0 }!, "the save with its own embedding waited for the hung embedder")
        let result = await hanging.result
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(20), "\(elapsed)")
        let error = try #require(result.failure as? EngramError)
        #expect(error.code == .embedder)
        #expect(error.message.contains("did not answer within 8 s"), "\(error)")
        #expect(error.message.contains("fake_embedder.py"), "\(error)")
        #expect(await store.memoryIDs() == ["fast", "warm"])
        var expected = files.keys.filter { $0.hasPrefix("memories/") }
        expected.append("memories/fast.json")
        #expect(contents(under: dir.store).keys.filter { $0.hasPrefix("memories/") }.sorted() == expected.sorted())
        let pid = try #require(fake.starts.first)
        #expect(kill(pid, 0) == -1, "the hung child was killed")
        try await store.close()
    }

    @Test("close() while the embedder hangs: the waiting save fails as closed, close returns promptly and reaps the child")
    func closeWhileHanging() async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: "hang")
        let store = try await open(dir, fake.configuration(timeout: 60))
        try await store.save(MemoryEntry(id: "warm", content: "answered"))
        let hanging = Task { try await store.save(MemoryEntry(id: "slow", content: "text")) }
        let clock = ContinuousClock()
        let start = clock.now
        while fake.requests.count < 2 && clock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        try await store.close()
        #expect(clock.now - start < .seconds(30), "close did not wait for the hung embedder's 60 s timeout")
        #expect((await hanging.result.failure as? EngramError)?.code == .closed)
        let pid = try #require(fake.starts.first)
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test("vectors of the wrong dimension: dimensionMismatch naming the embedder; nothing written")
    func wrongDimension() async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: "ok", dimension: 5)
        let store = try await open(dir, fake.configuration())
        let files = contents(under: dir.store)
        let error = await #expect(throws: EngramError.self) { try await store.save(MemoryEntry(id: "new", content: "text")) }
        #expect(error?.code == .dimensionMismatch)
        #expect(error?.message.contains("fake_embedder.py") == true && error?.message.contains("5 values") == true, "\(String(describing: error))")
        #expect(await store.memoryIDs().isEmpty)
        #expect(contents(under: dir.store) == files)
        try await store.save(MemoryEntry(id: "given", content: "x", embedding: vector(1)))
        #expect(await store.memoryIDs() == ["given"])
        try await store.close()
    }

    @Test("bad replies (too few vectors, ragged, garbage, NaN) kill the child; an error reply does not", arguments: [
        ("count", "1 vectors for 2 texts", true), ("ragged", "vector 1 has 7 values", true), ("garbage", "Loading model", true),
        ("nan", "NaN is not a JSON number", true), ("error", "model not loaded", false),
    ])
    func badReplies(mode: String, expected: String, restarts: Bool) async throws {
        let dir = TemporaryDirectory()
        let fake = FakeEmbedder(dir, mode: mode)
        let store = try await open(dir, fake.configuration())
        let files = contents(under: dir.store)
        for _ in 0..<2 {
            let error = await #expect(throws: EngramError.self) {
                try await store.saveBatch([MemoryEntry(id: "a", content: "one"), MemoryEntry(id: "b", content: "two")])
            }
            #expect(error?.code == .embedder)
            #expect(error?.message.contains("fake_embedder.py") == true, "\(String(describing: error))")
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
        }
        #expect(fake.starts.count == (restarts ? 2 : 1))
        #expect(await store.memoryIDs().isEmpty)
        #expect(contents(under: dir.store) == files)
        try await store.save(MemoryEntry(id: "given", content: "x", embedding: vector(1)))
        #expect(await store.memoryIDs() == ["given"])
        try await store.close()
    }

    @Test("a command that cannot be started is an embedder error naming it; no embedder configured: embed is a usage error")
    func notStartedAndNotConfigured() async throws {
        let dir = TemporaryDirectory()
        let store = try await open(dir, EmbedderConfiguration(command: ["/nonexistent/embedder", "--fast"]))
        let error = await #expect(throws: EngramError.self) { try await store.embed(["x"]) }
        #expect(error?.code == .embedder)
        #expect(error?.description.contains("/nonexistent/embedder") == true, "\(String(describing: error))")
        try await store.close()

        let plainDirectory = TemporaryDirectory()
        let plain = try await open(plainDirectory, nil)
        #expect(plain.embedsText == false)
        await #expect { try await plain.embed(["x"]) } throws: { ($0 as? EngramError)?.code == .usage }
        try await plain.save(MemoryEntry(id: "a", content: "no embedder, no embedding"))
        #expect(try await plain.memory("a")?.embedding == nil)
        try await plain.close()
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
