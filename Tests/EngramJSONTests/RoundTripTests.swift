import EngramJSON
import EngramTestSupport
import Testing

@Suite("Write then read gives the same value")
struct RoundTripTests {
    /// Both output forms re-parse to an equal value with the same key order everywhere.
    func assertRoundTrips(_ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for bytes in [JSONWriter.pretty(value), JSONWriter.pretty(value, trailingNewline: false), JSONWriter.compact(value)] {
            let back = try JSONReader.parse(bytes)
            #expect(back == value, sourceLocation: sourceLocation)
            #expect(keyOrder(back) == keyOrder(value), sourceLocation: sourceLocation)
            // Writing again is byte-identical (a loaded record rewritten unchanged makes no diff).
            #expect(JSONWriter.compact(back) == JSONWriter.compact(value), sourceLocation: sourceLocation)
        }
    }

    /// Every key in document order, so order changes are caught (object `==` ignores order).
    func keyOrder(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let o): return o.flatMap { [$0.key] + keyOrder($0.value) }
        case .array(let a): return a.flatMap(keyOrder)
        default: return []
        }
    }

    @Test func sampleDocument() throws {
        try assertRoundTrips(WriterTests.sample)
    }

    @Test func unicodeAndEscapes() throws {
        let strings = [
            "", "ascii", "tab\there", "quote\" backslash\\ slash/", "\u{0}\u{1}\u{1F}\u{7F}",
            "é日本語", "😀👍🏽🇫🇷", "𝄞 \u{10FFFF} \u{FFFD}", "line\u{2028}para\u{2029}end",
            "e\u{301} vs é", String(repeating: "x", count: 1000) + "\n",
        ]
        for s in strings {
            try assertRoundTrips(.string(s))
            let back = try JSONReader.parse(JSONWriter.compact(.string(s)))
            // Unicode scalars too, not just canonical equivalence.
            #expect(Array(back.stringValue?.unicodeScalars ?? "".unicodeScalars) == Array(s.unicodeScalars))
        }
        let keyed = JSONObject(uniqueKeysWithValues: strings.enumerated().map { ("k\($0.offset)\($0.element)", JSONValue.string($0.element)) })
        try assertRoundTrips(.object(keyed))
    }

    @Test func surrogatePairEscapesDecodeToTheSameScalars() throws {
        let parsed = try JSONReader.parse(#"["\uD83D\uDE00", "\u00e9", "\u2028"]"#)
        #expect(parsed == ["😀", "é", "\u{2028}"])
        try assertRoundTrips(parsed)
    }

    @Test func deepButAllowedNesting() throws {
        var value: JSONValue = ["leaf": [1.5, "x"]]
        for i in 0..<250 {
            value = i % 2 == 0 ? [value] : ["level\(i)": value, "i": .int(Int64(i))]
        }
        try assertRoundTrips(value)
    }

    @Test func numbers() throws {
        let values: [JSONValue] = [
            0, -1, .int(Int64.max), .int(Int64.min), 0.0, -0.0, 0.1, 2.0, -2.5e-300, 1e-05, 5e20,
            1e16, 123456789.123, .double(Double.greatestFiniteMagnitude), .double(Double.leastNonzeroMagnitude),
            .double(Double.leastNormalMagnitude), .double(9007199254740994), .int(9007199254740993),
        ]
        try assertRoundTrips(.array(values))
    }

    @Test func randomDoublesRoundTripBitForBit() throws {
        var rng = SeededGenerator(seed: 2024)
        var tested = 0
        while tested < 20_000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            tested += 1
            let parsed = try JSONReader.parse(JSONWriter.compact(.double(d)))
            guard case .double(let back) = parsed else {
                Issue.record("\(d) did not come back as a double: \(parsed)")
                continue
            }
            #expect(back.bitPattern == d.bitPattern, "\(d)")
        }
    }

    @Test func randomFloatsPrintShortestAndRoundTripExactly() throws {
        var rng = SeededGenerator(seed: 384)
        var floats: [Float] = []
        while floats.count < 50_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let f = Float(bitPattern: bits)
            if f.isFinite { floats.append(f) }
        }
        // Typical embedding magnitudes as well as arbitrary bit patterns.
        for _ in 0..<50_000 {
            floats.append(Float.random(in: -1...1, using: &rng))
        }
        var writer = JSONWriter(pretty: false)
        writer.floatArray(floats)
        let bytes = writer.finish()
        let back = try #require(try JSONReader.parse(bytes).floatArray())
        #expect(back.count == floats.count)
        var mismatches = 0
        for (a, b) in zip(floats, back) where a.bitPattern != b.bitPattern {
            mismatches += 1
        }
        #expect(mismatches == 0)
        // The text of each element is Float's own shortest form.
        let expected = "[" + floats.map(\.description).joined(separator: ",") + "]"
        #expect(text(bytes) == expected)
    }

    @Test func embeddingRecordRoundTrip() throws {
        var rng = SeededGenerator(seed: 11)
        let embedding = (0..<384).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
        var w = JSONWriter(pretty: true)
        w.beginObject()
        w.key("id")
        w.string("mem-42")
        w.key("text")
        w.string("remember: \"tea\" at 5pm\n— café")
        w.key("embedding")
        w.floatArray(embedding)
        w.endObject()
        let bytes = w.finish(trailingNewline: true)
        let record = try JSONReader.parse(bytes)
        #expect(record["embedding"]?.floatArray() == embedding)
        #expect(record["text"]?.stringValue == "remember: \"tea\" at 5pm\n— café")
        // Rewriting the parsed tree prints the floats as doubles, which still read back exactly.
        let rewritten = try JSONReader.parse(JSONWriter.pretty(record))
        #expect(rewritten["embedding"]?.floatArray() == embedding)
    }
}
