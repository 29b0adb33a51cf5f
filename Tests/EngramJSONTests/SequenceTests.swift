import EngramJSON
import Testing

@Suite("JSONReader.parseSequence")
struct SequenceTests {
    @Test func jsonLinesReportTheLineOfEachValue() {
        let input = """
            {"op":"put","id":1}
            {"op":"del","id":2}

            [3, 4]
            "text"
            """
        let result = collectSequence(input + "\n")
        #expect(result.error == nil)
        #expect(result.values == [["op": "put", "id": 1], ["op": "del", "id": 2], [3, 4], "text"])
        #expect(result.lines == [1, 2, 4, 5])
    }

    @Test func prettyMultiLineObjects() {
        let input = """
            {
              "a": [
                1,
                2
              ]
            }
            {
              "b": {}
            }
            """
        let result = collectSequence(input)
        #expect(result.error == nil)
        #expect(result.values == [["a": [1, 2]], ["b": [:]]])
        #expect(result.lines == [1, 7])
    }

    @Test func concatenatedAndSpaceSeparatedValues() {
        let result = collectSequence(#"{"a":1}{"b":2}[]"x" 1 2.5 true null"#)
        #expect(result.error == nil)
        #expect(result.values == [["a": 1], ["b": 2], [], "x", 1, 2.5, true, nil])
        #expect(result.lines == [1, 1, 1, 1, 1, 1, 1, 1])
    }

    @Test func emptyInputYieldsNothing() {
        #expect(collectSequence("").values.isEmpty)
        let blank = collectSequence(" \n\n \t\r\n")
        #expect(blank.values.isEmpty)
        #expect(blank.error == nil)
    }

    @Test func stopsAtTheFirstBadValueAndReportsItsLine() throws {
        let input = """
            {"id": 1}
            {"id": 2}
            {"id": 3, "x": NaN}
            {"id": 4}
            """
        let result = collectSequence(input)
        #expect(result.values == [["id": 1], ["id": 2]])
        let error = try #require(result.error)
        #expect(error.reason == .nonFiniteNumber)
        #expect(error.line == 3)
        #expect(error.column == 16)
    }

    @Test func badValueInsideAPrettyObjectReportsTheLineOfTheProblem() throws {
        let input = "{\"ok\": 1}\n{\n  \"a\": [\n    1,\n    01\n  ]\n}\n"
        let result = collectSequence(input)
        #expect(result.values == [["ok": 1]])
        let error = try #require(result.error)
        #expect(error.reason == .invalidNumber)
        #expect(error.line == 5)
        #expect(error.column == 5)
    }

    @Test func scalarsMustBeSeparated() throws {
        let glued = collectSequence("1 2x")
        #expect(glued.values == [1])
        #expect(glued.error?.reason == .unexpectedCharacter(UInt8(ascii: "x")))
        #expect(glued.error?.column == 4)
        let literals = collectSequence("truefalse")
        #expect(literals.values.isEmpty)
        #expect(literals.error?.reason == .unexpectedCharacter(UInt8(ascii: "f")))
    }

    @Test func truncatedLastValueIsAnError() throws {
        let result = collectSequence("{\"a\":1}\n{\"a\":")
        #expect(result.values == [["a": 1]])
        #expect(result.error?.reason == .unexpectedEndOfInput)
        #expect(result.error?.line == 2)
    }

    struct Stop: Error, Equatable {}

    @Test func errorsFromTheBodyPropagateAndStop() throws {
        let bytes = Array("1\n2\n3\n".utf8)
        var seen: [Int] = []
        #expect(throws: Stop.self) {
            try bytes.withUnsafeBytes { raw in
                try JSONReader.parseSequence(raw) { value, line in
                    seen.append(line)
                    if value == 2 { throw Stop() }
                }
            }
        }
        #expect(seen == [1, 2])
    }

    @Test func depthLimitApplies() throws {
        var count = 0
        let bytes = Array("[[1]]\n[[[1]]]".utf8)
        #expect(throws: JSONParseError.self) {
            try bytes.withUnsafeBytes { raw in
                try JSONReader.parseSequence(raw, maxDepth: 2) { _, _ in count += 1 }
            }
        }
        #expect(count == 1)
    }
}
