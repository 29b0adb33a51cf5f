import Engram
import EngramIO
import EngramJSON
import Testing

@Suite("Records")
struct RecordTests {
    @Test("ids: valid ones accepted, hostile ones rejected before any path is built")
    func ids() throws {
        for good in ["a", "Z9", "mem_0123", "x.y:z-w_1", String(repeating: "a", count: 128), "0abc"] {
            #expect(RecordID.isValid(good), "\(good)")
        }
        let hostile = ["", "../x", "/abs", "/etc/passwd", "a/b", ".", "..", ".hidden", "-x", "_x", String(repeating: "a", count: 129),
                       "a\u{0}b", "a\nb", "a b", "é", "a\\b", ".x.json.1234.tmp"]
        for bad in hostile {
            #expect(!RecordID.isValid(bad), "\(bad.debugDescription)")
            #expect(throws: EngramError.self) { try RecordID.validate(bad, operation: "test") }
        }
        let error = #expect(throws: EngramError.self) { try RecordID.validate(String(repeating: "a", count: 129), operation: "save memory") }
        #expect(error?.code == .invalidId)
        #expect(error?.message.contains("129") == true)
        #expect(error?.remedy != nil)
        let generated = RecordID.generate(prefix: "mem")
        #expect(generated.hasPrefix("mem_") && generated.count == 36 && RecordID.isValid(generated))
    }

    @Test("content_hash is XXH3-64 with the xxh3: prefix")
    func contentHash() {
        // Known answers of XXH3_64bits (seed 0).
        #expect(ContentHash.of("") == "xxh3:2d06800538d394c2")
        #expect(ContentHash.of("a") == "xxh3:e6c632b61e964e1f")
        #expect(ContentHash.of("héllo") != ContentHash.of("hello"))
    }

    @Test("timestamps: ISO-8601 UTC with microseconds, parsed and formatted exactly")
    func timestamps() throws {
        let t = try #require(Timestamp(parsing: "2025-03-15T14:32:01.123456Z"))
        #expect(t.description == "2025-03-15T14:32:01.123456Z")
        #expect(Timestamp(parsing: "1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(Timestamp(parsing: "2025-03-15T14:32:01.5+01:00")?.description == "2025-03-15T13:32:01.500000Z")
        #expect(Timestamp(parsing: "2025-03-15 14:32:01.123456789")?.description == "2025-03-15T14:32:01.123456Z")
        #expect(Timestamp(parsing: "1969-12-31T23:59:59.999999Z")?.microseconds == -1)
        #expect(Timestamp(parsing: "2000-02-29T00:00:00Z")?.description == "2000-02-29T00:00:00.000000Z")
        for bad in ["", "2025-13-01T00:00:00Z", "2025-03-15", "2025-03-15T14:32:01.Z", "2025-03-15T14:32:01Zjunk", "yesterday"] {
            #expect(Timestamp(parsing: bad) == nil, "\(bad)")
        }
        let now = Timestamp.now()
        #expect(Timestamp(parsing: now.description) == now)
    }

    @Test("timestamps an offset would carry outside years 0000-9999 are refused (found by engram-fuzz)")
    func timestampsOutsideTheWritableYears() throws {
        #expect(Timestamp(parsing: "0000-01-01T00:00:00Z")?.description == "0000-01-01T00:00:00.000000Z")
        #expect(Timestamp(parsing: "9999-12-31T23:59:59.999999Z")?.description == "9999-12-31T23:59:59.999999Z")
        #expect(Timestamp(parsing: "0000-01-01T00:59:59-01:00")?.description == "0000-01-01T01:59:59.000000Z")
        #expect(Timestamp(parsing: "0000-01-01T00:00:00+01:00") == nil)
        #expect(Timestamp(parsing: "9999-12-31T23:59:59-00:01") == nil)
        // A record carrying one is refused with a field error instead of crashing when it is written.
        let record: JSONValue = ["content": "x", "created_at": "0000-01-01T00:00:00+01:00"]
        #expect(throws: EngramError.self) { try MemoryEntry(json: record, source: "test", strict: false) }
    }

    @Test("a memory round-trips every field, unknown fields included")
    func memoryRoundTrip() throws {
        var m = MemoryEntry(id: "m1", content: "tab\there, \"quoted\", unicode ☃, newline\n", embedding: [0.1, -2.5e-7, 3, 0],
                            metadata: ["source": "man", "n": 3, "nested": ["a": [1, 2.5, nil, true]]],
                            quickrecalScore: 0.85, embeddingModel: "all-MiniLM-L6-v2")
        m.accessCount = 7
        m.lastAccessTime = "2025-03-15T14:32:01.123456Z"
        m.extraFields = ["future_field": ["x": 1], "another": "kept"]
        let bytes = m.jsonBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"id\": \"m1\",\n  \"content\": "))
        #expect(text.hasSuffix("}\n"))
        let back = try MemoryEntry.decodeFile(bytes, path: "memories/m1.json", expectedID: "m1")
        #expect(back == m)
        #expect(back.extraFields["future_field"] == .object(["x": 1]))
        #expect(back.embedding == [0.1, -2.5e-7, 3, 0])
    }

    @Test("an assembly round-trips every field")
    func assemblyRoundTrip() throws {
        var a = MemoryAssembly(id: "asm:1", name: "Net", description: "d", memoryIds: ["m1", "m2"], keywords: ["k"], tags: ["t"], metadata: ["x": 1])
        a.compositeEmbedding = [0.5, 0.25]
        a.extraFields = ["legacy": [1, 2]]
        let back = try MemoryAssembly.decodeFile(a.jsonBytes(), path: "assemblies/asm:1.json", expectedID: "asm:1")
        #expect(back == a)
    }

    @Test("record files that are wrong are rejected with the path and the field")
    func badRecords() throws {
        let cases: [(String, EngramError.Code, String)] = [
            ("{", .corrupt, "not valid JSON"),
            ("[]", .invalidRecord, "JSON object"),
            (#"{"id":"m1","content":"x","embedding":[NaN],"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","content_hash":"h"}"#, .corrupt, "NaN"),
            (#"{"id":"m1","content":5,"embedding":null,"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","content_hash":"h"}"#, .invalidRecord, "content"),
            (#"{"id":"m2","content":"x","embedding":null,"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","content_hash":"h"}"#, .corrupt, "not 'm1'"),
            (#"{"id":"m1","content":"x","embedding":null,"created_at":"yesterday","updated_at":"2025-01-01T00:00:00Z","content_hash":"h"}"#, .invalidRecord, "created_at"),
            (#"{"id":"m1","content":"x","embedding":[1e39],"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","content_hash":"h"}"#, .invalidVector, "float32"),
            (#"{"id":"m1","content":"x","content":"y","embedding":null}"#, .corrupt, "uplicate"),
        ]
        for (json, code, fragment) in cases {
            let error = #expect(throws: EngramError.self) {
                try MemoryEntry.decodeFile(Array(json.utf8), path: "memories/m1.json", expectedID: "m1")
            }
            #expect(error?.code == code, "\(json)")
            #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "") should mention \(fragment)")
            #expect(error?.path == "memories/m1.json")
        }
    }
}
