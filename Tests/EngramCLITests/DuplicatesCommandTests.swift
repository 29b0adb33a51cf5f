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
        #expect(rejected.stderr.contains(first) && rejected.stderr.contains("line 1"))
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
