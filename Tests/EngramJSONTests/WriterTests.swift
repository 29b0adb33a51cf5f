import EngramJSON
import Testing

@Suite("JSONWriter")
struct WriterTests {
    static let sample: JSONValue = [
        "id": "mem-1",
        "text": "café \"quoted\"\nline\ttab / slash \u{2028} 日本",
        "count": 3,
        "score": 0.5,
        "big": 5e20,
        "tiny": 1e-05,
        "whole": 2.0,
        "neg": -7,
        "ok": true,
        "missing": nil,
        "tags": ["a", "b"],
        "empty_list": [],
        "empty_obj": [:],
        "nested": ["deep": [[1, 2], ["x": false]], "ctrl": "\u{01}\u{1F}"],
    ]

    /// What Python's `json.dumps(indent=2, ensure_ascii=False)` prints for `sample`, except that
    /// U+2028 is escaped (Python leaves it raw).
    static let golden = #"""
        {
          "id": "mem-1",
          "text": "café \"quoted\"\nline\ttab / slash \u2028 日本",
          "count": 3,
          "score": 0.5,
          "big": 5e+20,
          "tiny": 1e-05,
          "whole": 2.0,
          "neg": -7,
          "ok": true,
          "missing": null,
          "tags": [
            "a",
            "b"
          ],
          "empty_list": [],
          "empty_obj": {},
          "nested": {
            "deep": [
              [
                1,
                2
              ],
              {
                "x": false
              }
            ],
            "ctrl": "\u0001\u001f"
          }
        }
        """#

    @Test func minifiedPrettyTextIsTheCompactText() {
        #expect(JSONWriter.minified(JSONWriter.pretty(Self.sample)) == JSONWriter.compact(Self.sample))
        // Whitespace, escaped quotes and backslashes inside strings are kept.
        let tricky: JSONValue = ["a b": " \\\" \n\t ", "c": [" ", "\\"], "d": "x\\"]
        #expect(JSONWriter.minified(JSONWriter.pretty(tricky)) == JSONWriter.compact(tricky))
    }

    @Test func prettyMatchesGoldenText() {
        #expect(text(JSONWriter.pretty(Self.sample)) == Self.golden + "\n")
        #expect(text(JSONWriter.pretty(Self.sample, trailingNewline: false)) == Self.golden)
    }

    @Test func compactHasNoSpaces() {
        #expect(text(JSONWriter.compact(["a": 1, "b": [1, 2]])) == #"{"a":1,"b":[1,2]}"#)
        #expect(text(JSONWriter.compact(["k": ["x": "y", "e": [], "o": [:]]])) == #"{"k":{"x":"y","e":[],"o":{}}}"#)
        #expect(text(JSONWriter.compact("a b")) == #""a b""#)
        let compact = text(JSONWriter.compact(Self.sample))
        #expect(!compact.contains("\n"))
        #expect(compact.hasPrefix(#"{"id":"mem-1","text":"café \"quoted\"\nline"#))
    }

    @Test func scalarsAtTopLevel() {
        #expect(text(JSONWriter.pretty(nil, trailingNewline: false)) == "null")
        #expect(text(JSONWriter.pretty(.array([]), trailingNewline: false)) == "[]")
        #expect(text(JSONWriter.pretty(.object(JSONObject()))) == "{}\n")
        #expect(text(JSONWriter.compact(.int(Int64.min))) == "-9223372036854775808")
        #expect(text(JSONWriter.compact(.int(Int64.max))) == "9223372036854775807")
        #expect(text(JSONWriter.compact(.int(0))) == "0")
    }

    @Test func stringEscaping() {
        func written(_ s: String) -> String { text(JSONWriter.compact(.string(s))) }
        #expect(written("plain") == #""plain""#)
        #expect(written("a\"b\\c") == #""a\"b\\c""#)
        #expect(written("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(written("\u{0}\u{1}\u{1B}\u{1F}") == #""\u0000\u0001\u001b\u001f""#)
        #expect(written("/path/to") == #""/path/to""#)
        #expect(written("\u{7F}") == "\"\u{7F}\"")
        #expect(written("x\u{2028}y\u{2029}z") == #""x\u2028y\u2029z""#)
        // Other characters starting with byte E2 are kept raw.
        #expect(written("€ → ✓") == "\"€ → ✓\"")
        #expect(written("日本語 😀 é") == "\"日本語 😀 é\"")
        #expect(written("") == #""""#)
    }

    @Test func numberForms() {
        func written(_ d: Double) -> String { text(JSONWriter.compact(.double(d))) }
        #expect(written(2.0) == "2.0")
        #expect(written(-0.0) == "-0.0")
        #expect(written(0.1) == "0.1")
        #expect(written(1e-05) == "1e-05")
        #expect(written(5e20) == "5e+20")
        #expect(written(1e16) == "1e+16")
        #expect(written(1.7976931348623157e308) == "1.7976931348623157e+308")
        #expect(written(Double.leastNonzeroMagnitude) == "5e-324")
        var writer = JSONWriter(pretty: false)
        writer.float(0.1)
        #expect(text(writer.finish()) == "0.1")
        var big = JSONWriter(pretty: false)
        big.float(3.4028235e38)
        #expect(text(big.finish()) == "3.4028235e+38")
    }

    @Test func streamingMatchesTreeOutput() throws {
        let embedding: [Float] = [0.1, -0.25, 1e-8, 3.0, 0]
        var w = JSONWriter(pretty: true)
        w.beginObject()
        w.key("id")
        w.string("r1")
        w.key("n")
        w.int(-3)
        w.key("score")
        w.double(0.125)
        w.key("flag")
        w.bool(false)
        w.key("none")
        w.null()
        w.key("meta")
        w.value(["a": [1, "two"], "b": [:]])
        w.key("list")
        w.beginArray()
        w.int(1)
        w.beginObject()
        w.endObject()
        w.beginArray()
        w.endArray()
        w.endArray()
        w.key("embedding")
        w.floatArray(embedding)
        w.key("empty")
        w.floatArray([])
        w.endObject()
        let streamed = w.finish(trailingNewline: true)

        let tree: JSONValue = [
            "id": "r1", "n": -3, "score": 0.125, "flag": false, "none": nil,
            "meta": ["a": [1, "two"], "b": [:]],
            "list": [1, [:], []],
            "embedding": .array(["0.1", "-0.25", "1e-08", "3.0", "0.0"].map { .string($0) }),
            "empty": [],
        ]
        // Floats print in their own shortest form, so compare against the same text with the
        // numbers unquoted.
        var expected = text(JSONWriter.pretty(tree))
        for literal in ["0.1", "-0.25", "1e-08", "3.0", "0.0"] {
            expected = expected.replacingOccurrences("\"\(literal)\"", with: literal)
        }
        #expect(text(streamed) == expected)
        #expect(text(streamed).contains("\n  \"embedding\": [\n    0.1,\n    -0.25,\n    1e-08,\n    3.0,\n    0.0\n  ],\n"))

        let parsed = try JSONReader.parse(streamed)
        #expect(parsed["embedding"]?.floatArray() == embedding)
        #expect(parsed["list"] == [1, [:], []])
    }

    @Test func compactStreamingWritesJSONLines() {
        var w = JSONWriter(pretty: false)
        w.value(["op": "put"])
        w.beginObject()
        w.key("v")
        w.floatArray([1, 2.5])
        w.endObject()
        w.int(3)
        #expect(text(w.bytes) == "{\"op\":\"put\"}\n{\"v\":[1.0,2.5]}\n3")
        #expect(text(w.finish(trailingNewline: true)) == "{\"op\":\"put\"}\n{\"v\":[1.0,2.5]}\n3\n")
    }

    @Test func nonFiniteDoubleStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            _ = JSONWriter.compact(.double(.nan))
        }
        await #expect(processExitsWith: .failure) {
            var w = JSONWriter(pretty: true)
            w.floatArray([1, .infinity])
        }
    }

    @Test func misuseStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            var w = JSONWriter(pretty: true)
            w.beginObject()
            w.int(1)
        }
        await #expect(processExitsWith: .failure) {
            var w = JSONWriter(pretty: true)
            w.beginArray()
            _ = w.finish()
        }
    }
}

extension String {
    /// Plain substring replacement without Foundation.
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
