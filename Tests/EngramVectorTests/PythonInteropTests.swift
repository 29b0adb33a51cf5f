import Foundation
import Testing
import EngramVector
import EngramTestSupport

extension PythonFaiss {
    /// Runs a script; records an issue (with Python's stderr) unless it exits 0.
    static func script(_ python: String, _ source: String, _ args: [String], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard let r = run(python, ["-c", source] + args) else {
            Issue.record("could not launch \(python)", sourceLocation: sourceLocation)
            return nil
        }
        guard r.status == 0 else {
            Issue.record("\(python) exited with \(r.status):\n\(r.stderr)", sourceLocation: sourceLocation)
            return nil
        }
        return r.stdout
    }
}

private struct PySearch: Decodable {
    let type: String
    let ntotal: Int
    let d: Int
    let metric: Int
    let idMap: [Int64]
    let distances: [[Double]]
    let labels: [[Int64]]
    let reconstructed: [Double]
}

private let searchScript = """
import sys, json, faiss, numpy as np
faiss.omp_set_num_threads(1)
index = faiss.read_index(sys.argv[1])
spec = json.load(open(sys.argv[2]))
q = np.array(spec["queries"], dtype="float32")
D, I = index.search(q, spec["k"])
print(json.dumps({
    "type": type(index).__name__,
    "ntotal": int(index.ntotal),
    "d": int(index.d),
    "metric": int(index.metric_type),
    "idMap": [int(x) for x in faiss.vector_to_array(index.id_map)],
    "distances": [[float(x) for x in row] for row in D],
    "labels": [[int(x) for x in row] for row in I],
    "reconstructed": [float(x) for x in index.reconstruct(spec["probe"])],
}))
"""

private let writeScript = """
import sys, faiss, numpy as np
kind, path = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
x = rng.standard_normal((30, 8)).astype("float32")
ids = (np.arange(30, dtype="int64") * 1_000_000_007) - 9_000_000_000_000_000_000
if kind == "idmap2":
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(8)); index.add_with_ids(x, ids)
elif kind == "idmap":
    index = faiss.IndexIDMap(faiss.IndexFlatL2(8)); index.add_with_ids(x, ids)
elif kind == "flat":
    index = faiss.IndexFlatL2(8); index.add(x)
elif kind == "ivf":
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(8), 8, 2); index.train(x); index.add(x)
elif kind == "hnsw-idmap":
    index = faiss.IndexIDMap(faiss.IndexHNSWFlat(8, 16)); index.add_with_ids(x, ids)
faiss.write_index(index, path)
D, I = index.search(x[:3], 5)
print(" ".join(str(int(v)) for v in I.ravel()))
print(" ".join(repr(float(v)) for v in D.ravel()))
"""

extension FaissTests {
    @Suite(.enabled(if: PythonFaiss.interpreter != nil, Comment(rawValue: PythonFaiss.skipReason)))
    struct PythonInterop {
        @Test(arguments: [VectorMetric.l2, .innerProduct])
        func pythonReadsOurFileWithIdenticalResults(metric: VectorMetric) throws {
            let python = try #require(PythonFaiss.interpreter)
            let dir = makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let d = 16, n = 120, k = 10
            let ids: [Int64] = (0..<n).map { Int64.max - Int64($0) * 982_451_653 * 1_000_003 }
                .enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
            let data = randomVectors(n, d, seed: 21)
            let index = try FaissIndex(dimension: d, metric: metric)
            try index.add(vectors: data, ids: ids)
            try index.remove(ids: [ids[5]]) // exercise compaction before writing
            let path = dir.appendingPathComponent("ours.faiss").path
            try index.write(toPath: path)

            let queries = rows(randomVectors(7, d, seed: 22), d)
            let probe = ids[17]
            let spec: [String: Any] = ["queries": queries.map { $0.map(Double.init) }, "k": k, "probe": probe]
            let specPath = dir.appendingPathComponent("spec.json")
            try JSONSerialization.data(withJSONObject: spec).write(to: specPath)

            let out = try #require(PythonFaiss.script(python, searchScript, [path, specPath.path]))
            let py = try JSONDecoder().decode(PySearch.self, from: Data(out.utf8))

            #expect(py.type == "IndexIDMap2")
            #expect(py.ntotal == n - 1 && py.d == d)
            #expect(py.metric == (metric == .l2 ? 1 : 0))
            // Python sees exactly our ids, in storage order (compaction keeps order).
            var expectedIds = ids
            expectedIds.remove(at: 5)
            #expect(py.idMap == expectedIds)
            #expect(try index.reconstruct(id: probe).map { $0.map(Double.init) } == py.reconstructed)

            let ours = try index.search(queries: queries, k: k)
            #expect(py.labels.count == queries.count)
            for (q, (mine, theirs)) in zip(ours, py.labels).enumerated() {
                #expect(mine.map(\.id) == theirs, "query \(q) ids")
                let theirD = py.distances[q]
                #expect(mine.count == theirD.count)
                for (a, b) in zip(mine.map(\.distance), theirD) {
                    #expect(abs(Double(a) - b) <= 1e-5, "query \(q): \(a) vs \(b)")
                }
            }
        }

        @Test(arguments: ["idmap2", "idmap"])
        func weReadPythonsFile(kind: String) throws {
            let python = try #require(PythonFaiss.interpreter)
            let dir = makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("\(kind).faiss").path
            let out = try #require(PythonFaiss.script(python, writeScript, [kind, path]))
            let lines = out.split(separator: "\n")
            let pyLabels = lines[0].split(separator: " ").map { Int64($0)! }
            let pyDistances = lines[1].split(separator: " ").map { Double($0)! }

            let index = try FaissIndex(readingPath: path)
            #expect(index.count == 30 && index.dimension == 8)
            #expect(index.metric == (kind == "idmap2" ? .innerProduct : .l2))
            // Query with the first three stored vectors, recovered by id.
            let firstIds = (0..<3).map { Int64($0) * 1_000_000_007 - 9_000_000_000_000_000_000 }
            let queries = try firstIds.map { try #require(try index.reconstruct(id: $0)) }
            let ours = try index.search(queries: queries, k: 5)
            #expect(ours.flatMap { $0.map(\.id) } == pyLabels)
            for (a, b) in zip(ours.flatMap { $0.map(\.distance) }, pyDistances) {
                #expect(abs(Double(a) - b) <= 1e-5)
            }
            // Re-serialised, it is an IndexIDMap2 (an IndexIDMap was converted on load).
            #expect(Array(try index.serialized().prefix(4)) == Array("IxM2".utf8))
        }

        @Test(arguments: ["flat", "ivf", "hnsw-idmap"])
        func unsupportedPythonIndexTypesAreRejected(kind: String) throws {
            let python = try #require(PythonFaiss.interpreter)
            let dir = makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("\(kind).faiss").path
            _ = try #require(PythonFaiss.script(python, writeScript, [kind, path]))
            expectFaissError(FaissError.formatError, path) { _ = try FaissIndex(readingPath: path) }
        }
    }
}
