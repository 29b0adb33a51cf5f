import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import EngramCLI
import Foundation
import Testing

/// Runs `engram` in-process and captures stdout, stderr and the exit status.
struct CLIRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

func engram(_ arguments: String...) async -> CLIRun { await engram(arguments) }

func engram(_ arguments: [String]) async -> CLIRun {
    let captured = CapturedConsole()
    let status = await Console.$current.withValue(captured.console) { await EngramCLI.run(arguments) }
    return CLIRun(status: status, stdout: captured.stdout, stderr: captured.stderr)
}

@Suite("engram command line")
struct CLITests {
    @Test("init, put (JSON Lines and a pretty object), get, list, stats, delete")
    func lifecycle() async throws {
        let dir = TemporaryDirectory()
        let created = await engram("--store", dir.store, "init")
        #expect(created.status == 0)
        let input = dir.write("in.jsonl", """
            {"id": "m1", "content": "first", "embedding": [0.1, 0.2, 0.3], "metadata": {"source": "test"}}
            {"content": "second, id generated", "embedding": [0.4, 0.5, 0.6], "quickrecal_score": 0.9}

            """)
        let put = await engram("--store", dir.store, "put", input)
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.lines.count == 2)
        let ids = try put.lines.map { try #require(JSONReader.parse($0)["id"]?.stringValue) }
        #expect(ids[0] == "m1")
        #expect(ids[1].hasPrefix("mem_") && ids[1].count == 36)
        let pretty = dir.write("one.json", """
            {
              "id": "m3",
              "content": "pretty\\nprinted",
              "embedding": [1, 2, 3]
            }
            """)
        #expect(await engram("put", pretty, "--store", dir.store).lines == [#"{"id": "m3"}"#])

        let get = await engram("--store", dir.store, "get", "m1")
        #expect(get.status == 0)
        let record = try JSONReader.parse(get.stdout)
        #expect(record["content"] == "first")
        #expect(record["metadata"]?["source"] == "test")
        #expect(record["content_hash"]?.stringValue == ContentHash.of("first"))
        #expect(get.stdout.hasPrefix("{\n  \"id\": \"m1\",\n"))

        let list = await engram("--store", dir.store, "list")
        #expect(list.lines == ["m1", "m3", ids[1]].sorted())

        let stats = try JSONReader.parse(await engram("--store", dir.store, "stats").stdout)
        #expect(stats["memory_count"] == 3)
        #expect(stats["assembly_count"] == 0)
        #expect(stats["embedding_dim"] == 3)
        #expect(stats["vector_count"] == 3)

        let deleted = await engram("--store", dir.store, "delete", "m1", "nope")
        #expect(deleted.status == 1)
        #expect(deleted.lines == [#"{"id": "m1", "deleted": true}"#, #"{"id": "nope", "deleted": false}"#])
        #expect(deleted.stderr.contains("nope"))
        #expect(await engram("--store", dir.store, "get", "m1").status == 1)
    }

    @Test("ENGRAM_STORE is not needed when --store is given after the command too")
    func storeOptionPlacement() async throws {
        let dir = TemporaryDirectory()
        #expect(await engram("init", "--store", dir.store).status == 0)
        #expect(await engram("--store=\(dir.store)", "stats").status == 0)
        #expect(await engram("stats", "--store", dir.store).status == 0)
    }

    @Test("exit status: 1 for failures with a message naming what and why, 64 for usage errors")
    func exitCodes() async throws {
        let dir = TemporaryDirectory()
        #expect(await engram("--store", dir.store, "init").status == 0)
        let missing = await engram("--store", dir.store, "get", "nope")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope"))
        let hostile = await engram("--store", dir.store, "get", "../etc/passwd")
        #expect(hostile.status == 1)
        #expect(hostile.stderr.contains("invalid id"))
        #expect(await engram("--bogus").status == 64)
        #expect(await engram("--store", dir.store, "frobnicate").status == 64)
        #expect(await engram("--store", dir.store, "delete").status == 64)
        #expect(await engram("--store", dir.store, "put", "--batch-size", "0", "x").status == 64)
        let help = await engram("--help")
        #expect(help.status == 0)
        #expect(help.stdout.contains("assembly"))
        let notAStore = dir.write("plain.txt", "hello")
        _ = notAStore
        let refused = await engram("--store", dir.path, "stats")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not an Engram store") || refused.stderr.contains("not_a_store") || refused.stderr.contains("not empty"))
    }

    @Test("put reports bad records with their line, saves the good ones, exits 1")
    func putWithBadLines() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("in.jsonl", """
            {"id": "good1", "content": "fine", "embedding": [1, 2]}
            {"id": "bad", "content": "nan", "embedding": [NaN, 1]}
            {"id": "../evil", "content": "x"}
            {"id": "wrongdim", "content": "x", "embedding": [1, 2, 3]}
            {"content": 5}
            {"id": "good2", "content": "fine too"}
            """)
        let put = await engram("--store", dir.store, "put", input)
        #expect(put.status == 1)
        #expect(put.lines == [#"{"id": "good1"}"#, #"{"id": "good2"}"#])
        for line in ["line 2", "line 3", "line 4", "line 5"] { #expect(put.stderr.contains(line), "stderr should name \(line): \(put.stderr)") }
        #expect(put.stderr.contains("NaN"))
        #expect(put.stderr.contains("dimension"))
        #expect(await engram("--store", dir.store, "list").lines == ["good1", "good2"])
    }

    @Test("put - with one line that is not JSON reports one error for that line")
    func putOneBadLine() async throws {
        let dir = TemporaryDirectory()
        let put = await engram("--store", dir.store, "put", dir.write("in.jsonl", "not json\n"))
        #expect(put.status == 1)
        #expect(put.stdout.isEmpty)
        let errors = put.stderr.split(separator: "\n").filter { $0.hasPrefix("engram: line") }
        #expect(errors.count == 1, "\(put.stderr)")
        #expect(errors.first?.hasPrefix("engram: line 1:") == true, "\(put.stderr)")
        #expect(put.stderr.contains("1 of 1 records were not saved"), "\(put.stderr)")
    }

    @Test("put - a bad line among good ones: the good ones are saved, the report names the bad line")
    func putBadLineAmongGood() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("in.jsonl", """
            {"id": "g1", "content": "one"}
            {"id": "g2", "content": "two"}
            this is not json at all
            {"id": "g3", "content": "unterminated
            {"id": "g4", "content": "four"} trailing words
            {"id": "g5", "content": "five"}

            """)
        let put = await engram("--store", dir.store, "put", input)
        #expect(put.status == 1)
        #expect(put.lines == [#"{"id": "g1"}"#, #"{"id": "g2"}"#, #"{"id": "g4"}"#, #"{"id": "g5"}"#])
        let errors = put.stderr.split(separator: "\n").filter { $0.hasPrefix("engram: line") }
        #expect(errors.map { $0.prefix(16) } == ["engram: line 3: ", "engram: line 4: ", "engram: line 5: "], "\(put.stderr)")
        #expect(put.stderr.contains("3 of 7 records were not saved"), "\(put.stderr)")
        #expect(await engram("--store", dir.store, "list").lines == ["g1", "g2", "g4", "g5"])
    }

    @Test("put - a bad last line without a trailing newline is one error naming that line")
    func putBadLastLineWithoutNewline() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("in.jsonl", "{\"id\": \"h1\", \"content\": \"fine\"}\n{\"id\": \"h2\", \"content\": nope}")
        let put = await engram("--store", dir.store, "put", input)
        #expect(put.status == 1)
        #expect(put.lines == [#"{"id": "h1"}"#])
        let errors = put.stderr.split(separator: "\n").filter { $0.hasPrefix("engram: line") }
        #expect(errors.count == 1 && errors.first?.hasPrefix("engram: line 2:") == true, "\(put.stderr)")
        #expect(put.stderr.contains("1 of 2 records were not saved"), "\(put.stderr)")
        let scalar = await engram("--store", dir.store, "put", dir.write("tail.jsonl", "{\"id\": \"h3\", \"content\": \"ok\"}\nnot json"))
        #expect(scalar.lines == [#"{"id": "h3"}"#])
        #expect(scalar.stderr.split(separator: "\n").filter { $0.hasPrefix("engram: line") }.count == 1, "\(scalar.stderr)")
        #expect(scalar.stderr.contains("engram: line 2:"), "\(scalar.stderr)")
    }

    @Test("assembly put, get, list, delete")
    func assemblies() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("m.jsonl", """
            {"id": "a", "content": "a", "embedding": [1, 0]}
            {"id": "b", "content": "b", "embedding": [0, 1]}
            """)
        #expect(await engram("--store", dir.store, "put", input).status == 0)
        let asm = dir.write("asm.json", #"{"id": "g1", "name": "Group", "memory_ids": ["a", "b"], "tags": ["t"]}"#)
        let put = await engram("--store", dir.store, "assembly", "put", asm)
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.lines == [#"{"id": "g1"}"#])
        let got = try JSONReader.parse(await engram("--store", dir.store, "assembly", "get", "g1").stdout)
        #expect(got["memory_ids"] == ["a", "b"])
        #expect(got["composite_embedding"] == [0.5, 0.5])
        #expect(await engram("--store", dir.store, "assembly", "list").lines == ["g1"])
        let bad = dir.write("bad.json", #"{"id": "g2", "name": "x", "memory_ids": ["missing"]}"#)
        let refused = await engram("--store", dir.store, "assembly", "put", bad)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("missing"))
        // Deleting a member memory removes it from the assembly.
        #expect(await engram("--store", dir.store, "delete", "a").status == 0)
        let after = try JSONReader.parse(await engram("--store", dir.store, "assembly", "get", "g1").stdout)
        #expect(after["memory_ids"] == ["b"])
        #expect(await engram("--store", dir.store, "assembly", "delete", "g1").lines == [#"{"id": "g1", "deleted": true}"#])
        #expect(await engram("--store", dir.store, "assembly", "list").stdout.isEmpty)
    }

    @Test("search: inline or @FILE vectors, -k, --where; JSON lines best first; bad queries exit 1 or 64")
    func search() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("m.jsonl", """
            {"id": "near", "content": "close one", "embedding": [1, 0, 0], "metadata": {"lang": "en"}}
            {"id": "mid", "content": "middle", "embedding": [0.5, 0.5, 0], "metadata": {"lang": "fr"}}
            {"id": "far", "content": "far away", "embedding": [-1, 0, 0], "metadata": {"lang": "en"}}
            """)
        #expect(await engram("--store", dir.store, "put", input).status == 0)
        let run = await engram("--store", dir.store, "search", "--vector", "[0.9, 0.1, 0]", "-k", "2")
        #expect(run.status == 0, "\(run.stderr)")
        let hits = try run.lines.map { try JSONReader.parse($0) }
        #expect(hits.map { $0["id"] } == ["near", "mid"])
        #expect(hits[0]["content"] == "close one")
        #expect(abs((hits[0]["distance"]?.doubleValue ?? 9) - 0.02) < 1e-6)
        let file = dir.write("q.json", "[-1, 0.1, 0]")
        #expect(await engram("--store", dir.store, "search", "--vector", "@" + file, "-k", "1").lines.first?.contains("\"far\"") == true)
        let record = dir.write("r.json", #"{"embedding": [0.5, 0.5, 0]}"#)
        #expect(await engram("--store", dir.store, "search", "--vector", "@" + record, "-k", "1").lines.first?.contains("\"mid\"") == true)
        let filtered = await engram("--store", dir.store, "search", "--vector", "[0.5, 0.5, 0]", "--where", "lang=en")
        #expect(filtered.lines.count == 2)
        #expect(!filtered.stdout.contains("\"mid\""))
        let wrongDimension = await engram("--store", dir.store, "search", "--vector", "[1, 2]")
        #expect(wrongDimension.status == 1)
        #expect(wrongDimension.stderr.contains("dimension"))
        #expect(await engram("--store", dir.store, "search", "--vector", "[1, NaN, 0]").status == 64)
        #expect(await engram("--store", dir.store, "search", "--vector", "not json").status == 64)
        #expect(await engram("--store", dir.store, "search", "--vector", "[1, 0, 0]", "-k", "0").status == 64)
    }

    @Test("demo: creates the store, imports the 1,000 samples, verifies (JSON output)")
    func demo() async throws {
        let dir = TemporaryDirectory()
        let run = await engram("--store", dir.store, "demo", "--format", "json")
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONReader.parse(run.stdout)
        #expect(summary["imported"] == 1000)
        #expect(summary["verified"] == true)
        #expect(summary["verify_consistent"] == true)
        #expect(summary["stats"]?["memory_count"] == 1000)
        #expect(summary["stats"]?["embedding_dim"] == 384)
        // Running it again updates the same records instead of duplicating them.
        let again = await engram("--store", dir.store, "demo", "--format", "json")
        #expect(try JSONReader.parse(again.stdout)["stats"]?["memory_count"] == 1000)
    }

    @Test("init on the root of a dedicated volume (only lost+found) creates the store and says why it accepted it")
    func initOnFreshVolume() async throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.store + "/lost+found", withIntermediateDirectories: true)
        let created = await engram("--store", dir.store, "init")
        #expect(created.status == 0, "\(created.stderr)")
        let result = try JSONReader.parse(created.stdout)
        #expect(result["created"] == .bool(true))
        #expect(result["note"]?.stringValue?.contains("lost+found") == true)
        #expect(await engram("--store", dir.store, "verify").status == 0)
    }

    @Test("backup copies by default and hard-links only with --link, saying so")
    func backupModes() async throws {
        let dir = TemporaryDirectory()
        _ = dir.write("in.jsonl", "{\"id\": \"m1\", \"content\": \"first\"}\n")
        #expect(await engram("--store", dir.store, "put", dir.path + "/in.jsonl").status == 0)
        let copy = await engram("--store", dir.store, "backup", dir.path + "/copy", "--format", "json")
        #expect(copy.status == 0, "\(copy.stderr)")
        let copied = try JSONReader.parse(copy.stdout)
        #expect(copied["mode"] == "copy" && copied["linked"] == .int(0) && copied["verified"] == .bool(true))
        let link = await engram("--store", dir.store, "backup", dir.path + "/link", "--link")
        #expect(link.status == 0, "\(link.stderr)")
        #expect(link.stdout.contains("hard-linked: in-place edits of the store's files reach the backup too"))
        let help = await engram("backup", "--help")
        let helpText = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(helpText.contains("NOT protected against damage to the store's files"), "\(help.stdout)")
    }
}
