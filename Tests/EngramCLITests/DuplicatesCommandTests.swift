import EngramTestSupport
import EngramJSON
import Testing

@Suite("engram put duplicates and engram duplicates")
struct DuplicatesCommandTests {
    @Test("put prints {\"id\": existing, \"duplicate\": true} under reuse; --duplicates allow and reject")
    func putPolicies() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("in.jsonl", """
            {"content": "apt install libuv1-dev", "embedding": [1, 0, 0]}
            {"content": "apt install libuv1-dev", "embedding": [1, 0, 0]}
            {"id": "given", "content": "apt install libuv1-dev", "embedding": [1, 0, 0]}

            """)
        let put = await engram("--store", dir.store, "put", input)
        #expect(put.status == 0, "\(put.stderr)")
        let lines = try put.lines.map { try JSONReader.parse($0) }
        #expect(lines.count == 3)
        let first = try #require(lines[0]["id"]?.stringValue)
        #expect(lines[0]["duplicate"] == nil)
        #expect(lines[1] == .object(["id": .string(first), "duplicate": true]))
        #expect(lines[2] == .object(["id": "given"]))

        let again = dir.write("again.jsonl", "{\"content\": \"apt install libuv1-dev\"}\n")
        let rejected = await engram("--store", dir.store, "put", "--duplicates", "reject", again)
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains(first) && rejected.stderr.contains("line 1"), "\(rejected.stderr)")
        let allowed = await engram("--store", dir.store, "put", "--duplicates", "allow", again)
        #expect(allowed.status == 0 && !allowed.stdout.contains("duplicate"))
        let list = await engram("--store", dir.store, "list")
        #expect(list.lines.count == 3)

        let clusters = await engram("--store", dir.store, "duplicates")
        #expect(clusters.status == 0, "\(clusters.stderr)")
        let cluster = try JSONReader.parse(try #require(clusters.lines.first))
        #expect(cluster["size"] == 3 && cluster["exact"] == true)
        let usage = await engram("--store", dir.store, "duplicates", "--threshold", "2")
        #expect(usage.status == 64)
    }
}

@Suite("engram search --text and mixed --queries")
struct TextSearchCommandTests {
    @Test("--text is keyword search with bm25 and score; --text with --vector is hybrid; --queries follows each line's fields")
    func textVectorAndQueries() async throws {
        let dir = TemporaryDirectory()
        let input = dir.write("in.jsonl", """
            {"id": "x", "content": "XauGetBestAuthByAddr failed for :0", "embedding": [0, 0, 1], "metadata": {"team": "x11"}}
            {"id": "y", "content": "the display server restarted", "embedding": [1, 0, 0], "metadata": {"team": "wm"}}
            {"id": "z", "content": "nothing related here", "embedding": [0, 1, 0], "metadata": {"team": "x11"}}

            """)
        #expect(await engram("--store", dir.store, "put", input).status == 0)

        let keyword = await engram("--store", dir.store, "search", "--text", "auth")
        #expect(keyword.status == 0, "\(keyword.stderr)")
        let hit = try JSONReader.parse(try #require(keyword.lines.first))
        #expect(hit["id"] == "x" && hit["bm25"]?.doubleValue != nil && hit["score"] != nil && hit["distance"] == nil)
        #expect(keyword.lines.count == 1)

        let hybrid = await engram("--store", dir.store, "search", "--text", "XauGetBestAuthByAddr", "--vector", "[1, 0, 0]", "-k", "2")
        #expect(hybrid.status == 0, "\(hybrid.stderr)")
        let ids = try hybrid.lines.map { try JSONReader.parse($0)["id"]?.stringValue }
        #expect(Set(ids) == ["x", "y"], "the keyword-only match and the vector-only match both survive fusion")
        let filtered = await engram("--store", dir.store, "search", "--text", "XauGetBestAuthByAddr", "--vector", "[1, 0, 0]", "--where", "team=x11")
        #expect(try filtered.lines.map { try JSONReader.parse($0)["id"]?.stringValue } == ["x", "z"])

        let queries = dir.write("q.jsonl", """
            {"text": "display"}
            {"vector": [0, 1, 0], "k": 1}
            {"text": "auth", "vector": [0, 1, 0], "k": 2}
            {"text": 3}

            """)
        let many = await engram("--store", dir.store, "search", "--queries", queries)
        #expect(many.status == 1)
        let answers = try many.lines.map { try JSONReader.parse($0) }
        #expect(answers.count == 4)
        func first(_ answer: JSONValue) -> JSONValue? { answer["results"]?.arrayValue?.first }
        #expect(first(answers[0])?["id"] == "y" && first(answers[0])?["bm25"] != nil)
        #expect(answers[1]["results"]?.arrayValue?.count == 1 && first(answers[1])?["id"] == "z")
        #expect(first(answers[2])?["score"] != nil)
        #expect(answers[3]["error"] != nil)
        let usage = await engram("--store", dir.store, "search", "--text", "  ")
        #expect(usage.status == 64)
    }
}
