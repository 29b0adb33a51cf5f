import Engram
import EngramJSON
import EngramTestSupport
import Foundation
import Testing

/// Runs the built `engram` with extra environment variables.
private func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    try EngramBinary.run(arguments, stdin: stdin, environment: environment)
}

/// `'…/engram' hash-embedder ARGS`, as a shell command line for --embedder.
private func hashEmbedder(_ arguments: String = "") -> String { "'\(EngramBinary.path!)' hash-embedder \(arguments)" }

private func norm(_ vector: [Float]) -> Double { vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }

@Suite("engram embedder", .enabled(if: EngramBinary.path != nil, "the engram executable is not built"))
struct EmbedderCommandTests {
    @Test("put --embedder stores embeddings of the store's dimension, one request for consecutive lines")
    func putWithEmbedder() throws {
        let dir = TemporaryDirectory()
        let log = dir.path + "/requests.log"
        // A pipeline through `tee` logs every request line: proof of the batching, and that pipelines work.
        let embedder = "tee -a '\(log)' | \(hashEmbedder())"
        let lines = (1...5).map { #"{"id": "m\#($0)", "content": "memory number \#($0)"}"# }.joined(separator: "\n")
        let put = try run(["--store", dir.store, "put", "--embedder", embedder, "-"], stdin: lines)
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.stdout.split(separator: "\n").count == 5)
        let requests = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n") ?? []
        #expect(requests.count == 1, "\(requests)")
        #expect(requests.first.map { try? JSONReader.parse(String($0))["texts"]?.arrayValue?.count } == 5)

        let stats = try JSONReader.parse(try run(["--store", dir.store, "stats"]).stdout)
        #expect(stats["embedding_dim"]?.int64Value == 384)
        let record = try JSONReader.parse(try run(["--store", dir.store, "get", "m3"]).stdout)
        let vector = try #require(record["embedding"]?.floatArray())
        #expect(vector.count == 384)
        #expect(abs(norm(vector) - 1) < 1e-5)
    }

    @Test("ENGRAM_EMBEDDER works like --embedder; a wrong dimension fails naming the embedder and saves nothing")
    func environmentAndDimension() throws {
        let dir = TemporaryDirectory()
        let first = try run(["--store", dir.store, "put", "-"], stdin: #"{"id": "a", "content": "small vectors"}"#,
                            environment: ["ENGRAM_EMBEDDER": hashEmbedder("--dimension 16")])
        #expect(first.status == 0, "\(first.stderr)")
        let record = try JSONReader.parse(try run(["--store", dir.store, "get", "a"]).stdout)
        #expect(record["embedding"]?.floatArray()?.count == 16)

        let wrong = try run(["--store", dir.store, "put", "-"], stdin: #"{"id": "b", "content": "too many values"}"#,
                            environment: ["ENGRAM_EMBEDDER": hashEmbedder()])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("dimension_mismatch") || wrong.stderr.contains("384 values"), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("hash-embedder"), "\(wrong.stderr)")
        #expect(try run(["--store", dir.store, "list"]).stdout == "a\n")

        // --embedder "" turns an inherited ENGRAM_EMBEDDER off.
        let off = try run(["--store", dir.store, "put", "--embedder", "", "-"], stdin: #"{"id": "c", "content": "no vector"}"#,
                          environment: ["ENGRAM_EMBEDDER": hashEmbedder()])
        #expect(off.status == 0, "\(off.stderr)")
        #expect(try JSONReader.parse(try run(["--store", dir.store, "get", "c"]).stdout)["embedding"]?.isNull != false)
    }

    @Test("an embedder that fails: put exits 1 with an embedder error naming the command; nothing saved")
    func failingEmbedder() throws {
        let dir = TemporaryDirectory()
        let put = try run(["--store", dir.store, "put", "--embedder", "echo 'embedder broke' >&2; exit 7", "-"],
                          stdin: #"{"id": "a", "content": "text"}"#)
        #expect(put.status == 1)
        #expect(put.stderr.contains("embedder"), "\(put.stderr)")
        #expect(put.stderr.contains("exited with status 7"), "\(put.stderr)")
        #expect(put.stderr.contains("embedder broke"), "\(put.stderr)")
        #expect(try run(["--store", dir.store, "list"]).stdout.isEmpty)
    }

    @Test("hash-embedder: deterministic across processes, unit norm, a fixed vector for empty text, errors answered")
    func hashEmbedderProtocol() throws {
        let input = """
            {"texts": ["The cat sat on the mat", "the CAT sat on the mat!", "", "Completely different words"]}
            not json
            {"texts": [42]}
            {"texts": ["The cat sat on the mat"]}

            """
        let one = try run(["hash-embedder", "--dimension", "64"], stdin: input)
        let two = try run(["hash-embedder", "--dimension", "64"], stdin: input)
        #expect(one.status == 0 && one.stderr.isEmpty, "\(one.stderr)")
        #expect(one.stdout == two.stdout)
        let replies = try one.stdout.split(separator: "\n").map { try JSONReader.parse(String($0)) }
        #expect(replies.count == 4)
        let vectors = try #require(replies[0]["vectors"]?.arrayValue?.compactMap { $0.floatArray() })
        #expect(vectors.count == 4)
        for vector in vectors {
            #expect(vector.count == 64)
            #expect(abs(norm(vector) - 1) < 1e-5)
            #expect(vector.allSatisfy { $0.isFinite })
        }
        #expect(vectors[0] == vectors[1], "case and punctuation are folded away")
        #expect(vectors[2] == [Float](repeating: Float(1 / 8.0), count: 64))
        let similar = zip(vectors[0], vectors[1]).reduce(0) { $0 + $1.0 * $1.1 }
        let different = zip(vectors[0], vectors[3]).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(similar > different)
        #expect(replies[1]["error"]?.stringValue?.isEmpty == false)
        #expect(replies[2]["error"]?.stringValue?.contains("texts[0]") == true)
        #expect(replies[3]["vectors"]?.arrayValue?.first?.floatArray() == vectors[0])
    }

    @Test("help names --embedder, ENGRAM_EMBEDDER and the hash-embedder")
    func help() async {
        let put = await engram("put", "--help")
        #expect(put.stdout.contains("--embedder") && put.stdout.contains("ENGRAM_EMBEDDER"), "\(put.stdout)")
        let root = await engram("--help")
        #expect(root.stdout.contains("hash-embedder"), "\(root.stdout)")
    }
}
