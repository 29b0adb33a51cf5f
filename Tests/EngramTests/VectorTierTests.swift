import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import EngramVector
import Foundation
import Testing

/// Deterministic pseudo-random unit-ish vectors.
func randomVectors(_ count: Int, dimension: Int = 16, seed: UInt64 = 42) -> [[Float]] {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
    }
    return (0..<count).map { _ in (0..<dimension).map { _ in next() } }
}

func bruteForce(_ query: [Float], _ vectors: [String: [Float]], k: Int) -> [String] {
    var scored: [(id: String, distance: Float)] = []
    for (id, v) in vectors {
        var d: Float = 0
        for i in v.indices { let x = v[i] - query[i]; d += x * x }
        scored.append((id, d))
    }
    scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
    return scored.prefix(k).map(\.id)
}

@Suite("Vector tier")
struct VectorTierTests {
    func filled(_ dir: TemporaryDirectory, count: Int = 200) async throws -> (MemoryStore, [String: [Float]]) {
        let store = try await MemoryStore.open(at: dir.store)
        let vectors = randomVectors(count)
        var byID: [String: [Float]] = [:]
        var batch: [MemoryEntry] = []
        for (i, v) in vectors.enumerated() {
            byID["m\(i)"] = v
            batch.append(MemoryEntry(id: "m\(i)", content: "memory \(i)", embedding: v, metadata: ["parity": i % 2 == 0 ? "even" : "odd", "i": .int(Int64(i))]))
        }
        try await store.saveBatch(batch)
        return (store, byID)
    }

    @Test("save → found exactly (same order as brute force); delete → never returned; update → moves")
    func searchFollowsWrites() async throws {
        let dir = TemporaryDirectory()
        let (store, vectors) = try await filled(dir)
        for q in randomVectors(20, seed: 7) {
            let hits = try await store.search(vector: q, k: 10)
            #expect(hits.map(\.id) == bruteForce(q, vectors, k: 10))
            #expect(hits.allSatisfy { $0.memory?.content == "memory \($0.id.dropFirst())" })
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance! <= $1.distance! })
        }
        let own = try await store.search(vector: vectors["m5"]!, k: 1)
        #expect(own.first?.id == "m5" && own.first?.distance == 0)
        try await store.deleteMemory("m5")
        let after = try await store.search(vector: vectors["m5"]!, k: 200)
        #expect(!after.contains { $0.id == "m5" })
        let moved = randomVectors(1, seed: 99)[0]
        try await store.save(MemoryEntry(id: "m6", content: "moved", embedding: moved))
        #expect(try await store.search(vector: moved, k: 1).first?.id == "m6")
        #expect(try await store.search(vector: vectors["m6"]!, k: 1).first?.id != "m6")
        // A memory without an embedding is never a hit; adding one makes it one.
        try await store.save(MemoryEntry(id: "m7", content: "no vector now"))
        #expect(!(try await store.search(vector: vectors["m7"]!, k: 200)).contains { $0.id == "m7" })
        #expect(store.vectors?.count(.memory) == 198)
        try await store.close()
    }

    @Test("many tombstones are compacted and never returned")
    func tombstones() async throws {
        let dir = TemporaryDirectory()
        let (store, vectors) = try await filled(dir, count: 600)
        for i in 0..<400 { try await store.save(MemoryEntry(id: "m\(i)", content: "again \(i)", embedding: vectors["m\(599 - i)"]!)) }
        let hits = try await store.search(vector: vectors["m599"]!, k: 2)
        #expect(Set(hits.map(\.id)) == ["m599", "m0"])
        #expect(store.vectors?.count(.memory) == 600)
        try await store.close()
    }

    @Test("a restart returns identical results, without rebuilding or re-reading anything")
    func restart() async throws {
        let dir = TemporaryDirectory()
        let (store, _) = try await filled(dir)
        let queries = randomVectors(10, seed: 3)
        let before = try await store.search(vectors: queries, k: 5)
        try await store.close()
        #expect(FileManager.default.fileExists(atPath: dir.store + "/vector_index/memory_vectors.faiss"))
        let again = try await MemoryStore.open(at: dir.store)
        try await again.waitForVectorTier()
        let recovery = await again.recovery
        #expect(recovery.rebuiltVectorIndexReason == nil)
        #expect(recovery.resyncedVectors == 0)
        let after = try await again.search(vectors: queries, k: 5)
        #expect(before.map { $0.map(\.id) } == after.map { $0.map(\.id) })
        #expect(before.map { $0.map(\.distance) } == after.map { $0.map(\.distance) })
        // The batch form agrees with single queries.
        for (i, q) in queries.enumerated() { #expect(try await again.search(vector: q, k: 5).map(\.id) == after[i].map(\.id)) }
        try await again.close()
    }

    @Test("damaged vector files are detected at open and the tier is rebuilt, correct", arguments: [
        "delete the .faiss file", "truncate the .faiss file", "corrupt mapping.json", "a mismatched pair", "garbage manifest",
    ])
    func damage(_ fault: String) async throws {
        let dir = TemporaryDirectory("damage-\(fault.filter(\.isLetter))")
        let (store, vectors) = try await filled(dir)
        try await store.close()
        let vdir = dir.store + "/vector_index"
        let oldFaiss = try Data(contentsOf: URL(fileURLWithPath: vdir + "/memory_vectors.faiss"))
        // Change the store so an older .faiss no longer matches.
        let writer = try await MemoryStore.open(at: dir.store)
        try await writer.save(MemoryEntry(id: "extra", content: "x", embedding: randomVectors(1, seed: 5)[0]))
        try await writer.close()
        switch fault {
        case "delete the .faiss file": try FileManager.default.removeItem(atPath: vdir + "/memory_vectors.faiss")
        case "truncate the .faiss file":
            let bytes = try Data(contentsOf: URL(fileURLWithPath: vdir + "/memory_vectors.faiss"))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: vdir + "/memory_vectors.faiss"))
        case "corrupt mapping.json": try "{\"memories\": ".write(toFile: vdir + "/mapping.json", atomically: false, encoding: .utf8)
        case "a mismatched pair": try oldFaiss.write(to: URL(fileURLWithPath: vdir + "/memory_vectors.faiss"))
        default: try "not json".write(toFile: vdir + "/manifest.json", atomically: false, encoding: .utf8)
        }
        let reopened = try await MemoryStore.open(at: dir.store)
        try await reopened.waitForVectorTier()
        let reason = await reopened.recovery.rebuiltVectorIndexReason
        #expect(reason != nil, "\(fault) must be detected")
        #expect(reopened.vectors?.count(.memory) == 201)
        for (id, v) in vectors.prefix(20) { #expect(try await reopened.search(vector: v, k: 1).first?.id == id) }
        try await reopened.close()
        // Rebuilt files are written back: the next open is clean.
        let clean = try await MemoryStore.open(at: dir.store)
        try await clean.waitForVectorTier()
        #expect(await clean.recovery.rebuiltVectorIndexReason == nil)
        try await clean.close()
    }

    @Test("a reader beside the writer brings stale vector files up to date from the journal's records")
    func resyncFromRecords() async throws {
        let dir = TemporaryDirectory()
        let (writer, _) = try await filled(dir, count: 50)
        try await writer.checkpoint()
        let fresh = randomVectors(5, seed: 11)
        for (i, v) in fresh.enumerated() { try await writer.save(MemoryEntry(id: "new\(i)", content: "new", embedding: v)) }
        try await writer.deleteMemory("m0")
        let reader = try await MemoryStore.open(at: dir.store, configuration: config { $0.readOnly = true })
        try await reader.waitForVectorTier()
        let recovery = await reader.recovery
        #expect(recovery.rebuiltVectorIndexReason == nil)
        #expect(recovery.resyncedVectors == 6)
        for (i, v) in fresh.enumerated() { #expect(try await reader.search(vector: v, k: 1).first?.id == "new\(i)") }
        #expect(reader.vectors?.count(.memory) == 54)
        try await reader.close()
        try await writer.close()
    }

    @Test("bad queries are rejected with a clear error")
    func badQueries() async throws {
        let dir = TemporaryDirectory()
        let (store, _) = try await filled(dir, count: 10)
        let nan = await #expect(throws: EngramError.self) { try await store.search(vector: [Float](repeating: .nan, count: 16)) }
        #expect(nan?.code == .invalidVector)
        let wrong = await #expect(throws: EngramError.self) { try await store.search(vector: [1, 2, 3]) }
        #expect(wrong?.code == .dimensionMismatch)
        #expect(wrong?.message.contains("16") == true)
        await #expect(throws: EngramError.self) { try await store.search(vector: randomVectors(1)[0], k: 0) }
        try await store.close()
        let empty = try await MemoryStore.open(at: dir.path + "/empty")
        #expect(try await empty.search(vector: [1, 2]).isEmpty)
        try await empty.close()
    }

    @Test("metadata filters and assembly search by composite embedding")
    func filtersAndScopes() async throws {
        let dir = TemporaryDirectory()
        let (store, vectors) = try await filled(dir)
        let q = vectors["m10"]!
        let evens = try await store.search(vector: q, k: 5, metadata: ["parity": "even"])
        #expect(evens.count == 5)
        #expect(evens.allSatisfy { $0.memory?.metadata["parity"] == "even" })
        #expect(evens.map(\.id) == bruteForce(q, vectors.filter { Int($0.key.dropFirst())! % 2 == 0 }, k: 5))
        #expect(try await store.search(vector: q, k: 3, metadata: ["i": 11]).map(\.id) == ["m11"])
        #expect(try await store.search(vector: q, k: 3, metadata: ["parity": "none"]).isEmpty)
        let group = try await store.save(MemoryAssembly(id: "g", name: "pair", memoryIds: ["m10", "m12"]))
        let composite = try #require(group.compositeEmbedding)
        let asm = try await store.search(vector: composite, k: 1, scope: .assemblies)
        #expect(asm.first?.id == "g" && asm.first?.kind == .assembly && asm.first?.content == "pair")
        let all = try await store.search(vector: composite, k: 3, scope: .all)
        #expect(all.first?.id == "g")
        #expect(all.contains { $0.kind == .memory })
        #expect(!(try await store.search(vector: composite, k: 200)).contains { $0.id == "g" })
        try await store.close()
    }

    @Test("cosine: normalised, larger is closer; changing the metric rebuilds the files")
    func cosine() async throws {
        let dir = TemporaryDirectory()
        let store = try await MemoryStore.open(at: dir.store, configuration: config { $0.metric = .cosine })
        try await store.save(MemoryEntry(id: "x", content: "x", embedding: [1, 0, 0]))
        try await store.save(MemoryEntry(id: "y", content: "y", embedding: [0, 1, 0]))
        try await store.save(MemoryEntry(id: "xy", content: "xy", embedding: [1, 1, 0]))
        let hits = try await store.search(vector: [10, 1, 0], k: 3)
        #expect(hits.map(\.id) == ["x", "xy", "y"])
        #expect(abs(hits[0].distance! - 10 / Float(101).squareRoot()) < 1e-5)
        try await store.close()
        let l2 = try await MemoryStore.open(at: dir.store)
        try await l2.waitForVectorTier()
        #expect(await l2.recovery.rebuiltVectorIndexReason?.contains("metric") == true)
        #expect(try await l2.search(vector: [10, 1, 0], k: 1).first?.id == "xy")
        try await l2.close()
    }

    @Test("the .faiss file and mapping.json work from Python FAISS with identical results",
          .enabled(if: StorePython.interpreter != nil, "Python interop skipped: no python3 with faiss (install python3-faiss)"))
    func pythonRoundTrip() async throws {
        let dir = TemporaryDirectory()
        let (store, _) = try await filled(dir)
        try await store.deleteMemory("m3")  // a tombstone, compacted before the file is written
        let queries = randomVectors(5, seed: 21)
        let expected = try await store.search(vectors: queries, k: 5)
        try await store.close()
        let script = """
            import faiss, json, sys, numpy as np
            d = sys.argv[1]
            index = faiss.read_index(d + "/vector_index/memory_vectors.faiss")
            mapping = json.load(open(d + "/vector_index/mapping.json"))
            by_fid = {v: k for k, v in mapping["memories"].items()}
            q = np.array(json.loads(sys.argv[2]), dtype="float32")
            D, I = index.search(q, 5)
            print(json.dumps({"count": index.ntotal, "ids": [[by_fid[int(i)] for i in row] for row in I], "d": D.tolist()}))
            """
        let queryJSON = "[" + queries.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let output = try #require(StorePython.run(script, [dir.store, queryJSON]))
        let result = try JSONReader.parse(output)
        #expect(result["count"] == 199)
        #expect(result["ids"] == .array(expected.map { .array($0.map { .string($0.id) }) }))
        let distances = result["d"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] } ?? []
        for (row, hits) in zip(distances, expected) {
            for (d, hit) in zip(row, hits) { #expect(abs(d - Double(hit.distance!)) < 1e-4) }
        }
    }
}

/// A Python 3 that can import faiss (Debian's python3-faiss is for the system interpreter).
enum StorePython {
    static let interpreter: String? = ["python3", "/usr/bin/python3"].first { launch($0, ["-c", "import faiss, numpy"])?.0 == 0 }

    static func run(_ script: String, _ arguments: [String]) -> String? {
        guard let python = interpreter, let (status, out) = launch(python, ["-c", script] + arguments), status == 0 else { return nil }
        return out
    }

    private static func launch(_ python: String, _ arguments: [String]) -> (Int32, String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        process.environment = environment
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
