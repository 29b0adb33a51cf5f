import EngramJSON
import EngramTestSupport
import Testing

@Suite("JSONObject")
struct JSONObjectTests {
    @Test func emptyObject() {
        let o = JSONObject()
        #expect(o.isEmpty)
        #expect(o.count == 0)
        #expect(o.keys.isEmpty)
        #expect(o["x"] == nil)
        #expect(!o.contains("x"))
    }

    @Test func settingKeepsPositionAppendsAndRemoves() {
        var o: JSONObject = ["a": 1, "b": 2, "c": 3]
        o["b"] = "two"
        #expect(o.keys == ["a", "b", "c"])
        #expect(o["b"] == "two")
        o["d"] = true
        #expect(o.keys == ["a", "b", "c", "d"])
        o["a"] = nil
        #expect(o.keys == ["b", "c", "d"])
        #expect(!o.contains("a"))
        #expect(o.removeValue(forKey: "c") == 3)
        #expect(o.removeValue(forKey: "c") == nil)
        #expect(o.keys == ["b", "d"])
        #expect(o.values == ["two", true])
        #expect(o.count == 2)
        // Setting null stores JSON null; only Swift nil removes.
        o["n"] = .null
        #expect(o.contains("n"))
        #expect(o["n"] == .null)
    }

    @Test func iterationFollowsInsertionOrder() {
        var o = JSONObject()
        for k in ["zeta", "alpha", "mid"] { o[k] = .string(k.uppercased()) }
        #expect(o.map(\.key) == ["zeta", "alpha", "mid"])
        #expect(o.map(\.value) == ["ZETA", "ALPHA", "MID"])
        var pairs: [String] = []
        for (key, value) in o { pairs.append("\(key)=\(value.stringValue ?? "")") }
        #expect(pairs == ["zeta=ZETA", "alpha=ALPHA", "mid=MID"])
    }

    @Test func manyKeysStayConsistentThroughEdits() {
        var o = JSONObject()
        var reference: [(String, Int64)] = []
        var rng = SeededGenerator(seed: 5)
        for step in 0..<2_000 {
            let key = "k\(Int.random(in: 0..<60, using: &rng))"
            if Int.random(in: 0..<3, using: &rng) == 0 {
                o[key] = nil
                reference.removeAll { $0.0 == key }
            } else {
                o[key] = .int(Int64(step))
                if let i = reference.firstIndex(where: { $0.0 == key }) {
                    reference[i].1 = Int64(step)
                } else {
                    reference.append((key, Int64(step)))
                }
            }
            #expect(o.count == reference.count)
        }
        #expect(o.keys == reference.map(\.0))
        for (key, value) in reference {
            #expect(o[key] == .int(value))
        }
        for i in 0..<60 where !reference.contains(where: { $0.0 == "k\(i)" }) {
            #expect(o["k\(i)"] == nil)
        }
    }

    @Test func equalityIgnoresOrderButKeysKeepIt() {
        let a: JSONObject = ["x": 1, "y": [true]]
        let b: JSONObject = ["y": [true], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.keys != b.keys)
        #expect(a != ["x": 1, "y": [false]])
        #expect(a != ["x": 1])
        #expect(a != ["x": 1, "z": [true]])
        #expect(Set([JSONValue.object(a), .object(b)]).count == 1)
    }

    @Test func uniqueKeysInitializer() {
        let o = JSONObject(uniqueKeysWithValues: [("b", JSONValue.int(1)), ("a", .int(2))])
        #expect(o.keys == ["b", "a"])
        #expect(o.description == #"{"b":1,"a":2}"#)
    }

    @Test func duplicateLiteralKeysStopTheProgram() async {
        await #expect(processExitsWith: .failure) {
            _ = JSONObject(uniqueKeysWithValues: [("a", JSONValue.int(1)), ("a", .int(2))])
        }
    }
}
