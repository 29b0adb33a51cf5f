import Engram
import EngramTestSupport
import EngramCLI
import EngramIO
import EngramJSON
import Foundation
import Testing

/// `engram graph build` / `engram-graph build`, `engram search --queries`, and the graph under processes.
@Suite("L2 graph from the command line")
struct GraphCommandTests {
    static let buildFlags = ["--degree", "16", "--complexity", "40", "--pq-bytes", "4"]

    /// A store of `count` memories `m<n>` with seeded 8-d vectors, put through the CLI; returns the vectors.
    static func makeStore(_ dir: TemporaryDirectory, count: Int) async throws -> [[Float]] {
        var state: UInt64 = 12345
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
        var lines: [String] = []
        var vectors: [[Float]] = []
        for n in 0..<count {
            let v = (0..<8).map { _ in next() }
            vectors.append(v)
            lines.append(JSONValue.object(["id": .string("m\(n)"), "content": .string("memory \(n)"), "embedding": .array(v.map { .double(Double($0)) })]).compactText)
        }
        let file = dir.write("in.jsonl", lines.joined(separator: "\n") + "\n")
        let put = await engram("--store", dir.store, "put", file)
        #expect(put.status == 0, "\(put.stderr)")
        return vectors
    }

    static func queriesFile(_ dir: TemporaryDirectory, _ vectors: [[Float]], ids: [Int]) -> String {
        dir.write("queries.jsonl", ids.map { JSONValue.object(["vector": .array(vectors[$0].map { .double(Double($0)) }), "k": 3]).compactText }.joined(separator: "\n") + "\n")
    }

    @Test("graph build, then search --queries answers each line in order from both tiers; a bad line gets an error line")
    func buildAndQueries() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await Self.makeStore(dir, count: 300)
        let build = await engram(["--store", dir.store, "graph", "build", "--format", "json"] + Self.buildFlags)
        #expect(build.status == 0, "\(build.stderr)")
        let report = try JSONReader.parse(build.stdout)
        #expect(report["nodes"] == .int(300))
        let stats = try JSONReader.parse(await engram("--store", dir.store, "stats").stdout)
        #expect(stats["graph"]?["nodes"] == .int(300))
        #expect(stats["graph"]?["generation"] == "g-1")

        var file = Self.queriesFile(dir, vectors, ids: [0, 150, 299])
        try ("{\"vector\": \"no\"}\n").appendTo(file)
        let run = await engram("--store", dir.store, "search", "--queries", file)
        #expect(run.status == 1)
        #expect(run.lines.count == 4)
        for (line, id) in zip(run.lines, ["m0", "m150", "m299"]) {
            let results = try JSONReader.parse(line)["results"]?.arrayValue ?? []
            #expect(results.count == 3)
            #expect(results.first?["id"]?.stringValue == id)
            #expect(results.first?["content"]?.stringValue == "memory \(id.dropFirst())")
        }
        #expect(run.lines[3].contains("\"error\""))
        // After a change, the changed memory comes from L1 at its new version.
        file = dir.write("one.jsonl", "{\"id\": \"m150\", \"content\": \"changed\", \"embedding\": [9, 9, 9, 9, 9, 9, 9, 9]}\n")
        #expect(await engram("--store", dir.store, "put", file).status == 0)
        let changed = await engram("--store", dir.store, "search", "--vector", "[9, 9, 9, 9, 9, 9, 9, 9]", "-k", "1")
        #expect(try JSONReader.parse(changed.stdout)["content"] == "changed")
    }

    @Test("two processes search one graph at the same time and answer identically",
          .enabled(if: EngramBinary.path != nil, "the engram executable is not built"))
    func twoProcessesOneGraph() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await Self.makeStore(dir, count: 300)
        #expect(await engram(["--store", dir.store, "graph", "build"] + Self.buildFlags).status == 0)
        let file = Self.queriesFile(dir, vectors, ids: Array(0..<100))
        let expected = await engram("--store", dir.store, "search", "--queries", file)
        #expect(expected.status == 0 && expected.lines.count == 100)
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask { try EngramBinary.run(["--store", dir.store, "search", "--queries", file]).stdout }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outputs.count == 2)
        for output in outputs { #expect(output == expected.stdout) }
    }
}

/// The `engram-graph` executable, as built beside the tests.
enum GraphBinary {
    static var path: String? { BuiltExecutable.path("engram-graph") }
}

@Suite("engram-graph as a process", .enabled(if: GraphBinary.path != nil, "the engram-graph executable is not built"))
struct GraphBuilderKillTests {
    @Test("engram-graph build SIGKILLed at random moments (24 times) never breaks the store or the graph in use")
    func killedBuilder() async throws {
        let dir = TemporaryDirectory()
        let vectors = try await GraphCommandTests.makeStore(dir, count: 300)
        let arguments = ["build", "--store", dir.store] + GraphCommandTests.buildFlags
        // How long a whole build takes here, so kills land in every phase (read, build, write, publish).
        let clock = ContinuousClock()
        let started = clock.now
        let first = try Self.run(arguments, killAfter: nil)
        #expect(first == 0)
        let full = clock.now - started
        var state: UInt64 = 99
        var generations = Set<String>()
        for iteration in 0..<24 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let fraction = Double(state >> 11) / Double(1 << 53) * 1.2
            // Every sixth build runs to the end, so the swap to a new generation is exercised whatever the machine's
            // load does to build times (kills are timed from the first build's duration).
            let status = try Self.run(arguments, killAfter: iteration % 6 == 5 ? nil : full * fraction)
            // Whatever happened, CURRENT names a whole graph, verify finds nothing wrong, searches are right.
            let current = try String(contentsOfFile: dir.store + "/graph_index/CURRENT", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            generations.insert(current)
            let report = try StoreVerifier(layout: StoreLayout(root: dir.store)).run()
            #expect(report.problems.isEmpty, "iteration \(iteration) (exit \(status)): \(report.problems.map { "\($0.kind.rawValue) \($0.detail)" })")
            #expect(report.graphNodes == 300)
            let ids = [iteration, 100 + iteration, 299 - iteration]
            let queries = GraphCommandTests.queriesFile(dir, vectors, ids: ids)
            let search = await engram("--store", dir.store, "search", "--queries", queries)
            #expect(search.status == 0)
            for (line, id) in zip(search.lines, ids) {
                #expect((try? JSONReader.parse(line))?["results"]?.arrayValue?.first?["id"]?.stringValue == "m\(id)")
            }
        }
        #expect(generations.count > 1, "no build finished: the test did not exercise the swap")
        // Leftovers of killed builds are removed by the next build.
        #expect(try Self.run(arguments, killAfter: nil) == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.store + "/graph_index").filter { $0.hasPrefix(".build-") || $0.hasPrefix("g-") }
        #expect(left.count == 1, "\(left)")
    }

    @Test("a writer launches engram-graph in the background when the delta is large, adopts the graph, and retries a failing builder")
    func backgroundRebuild() async throws {
        let dir = TemporaryDirectory()
        var configuration = StoreConfiguration()
        configuration.graphRebuild.minimumMemories = 100
        configuration.graphRebuild.deltaCount = 120
        configuration.graphRebuild.deltaFraction = 2  // only the count triggers here
        configuration.graphRebuild.executable = GraphBinary.path
        configuration.graphRebuild.options = GraphBuildOptions(degree: 16, complexity: 40, pqBytes: 4)
        let store = try await MemoryStore.open(at: dir.store, configuration: configuration)
        try await store.waitForVectorTier()
        let memories = (0..<150).map { n in MemoryEntry(id: "m\(n)", content: "memory \(n)", embedding: (0..<8).map { Float(sin(Double(n * 8 + $0))) }) }
        try await store.saveBatch(Array(memories[0..<100]))
        #expect(await store.statistics().graph == nil, "below the delta count: no build yet")
        try await store.saveBatch(Array(memories[100...]))  // delta 150 ≥ 120: a build starts
        await store.waitForGraphBuild()
        let statistics = await store.statistics()
        let failure = await store.lastGraphBuildFailure
        #expect(statistics.graph?.nodes == 150, "\(failure ?? "no failure")")
        #expect(statistics.graph?.deltaSize == 0)
        #expect(try await store.search(vector: memories[77].embedding!, k: 1).first?.id == "m77")
        try await store.close()

        // A builder that fails: logged, retried later, and the store keeps serving.
        configuration.graphRebuild.executable = "/bin/false"
        configuration.graphRebuild.deltaCount = 10
        let failing = try await MemoryStore.open(at: dir.store, configuration: configuration)
        try await failing.waitForVectorTier()
        try await failing.saveBatch((0..<20).map { MemoryEntry(id: "n\($0)", content: "new \($0)", embedding: [Float](repeating: Float($0), count: 8)) })
        await failing.waitForGraphBuild()
        #expect(await failing.lastGraphBuildFailure?.contains("exit status 1") == true)
        try await failing.save(MemoryEntry(id: "after", content: "still writable", embedding: [Float](repeating: 0.5, count: 8)))
        #expect(try await failing.search(vector: [Float](repeating: 0.5, count: 8), k: 1).first?.id == "after")
        try await failing.close()
    }

    /// Runs engram-graph; with `killAfter`, SIGKILLs it then (if still running). Returns the exit status.
    static func run(_ arguments: [String], killAfter: Duration?) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: GraphBinary.path!)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let killAfter {
            let deadline = ContinuousClock.now + killAfter
            while process.isRunning && ContinuousClock.now < deadline { usleep(2000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension String {
    func appendTo(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
        try handle.close()
    }
}

extension JSONValue {
    var compactText: String { String(decoding: JSONWriter.compact(self), as: UTF8.self) }
}
