import EngramJSON
import Testing

@Suite("JSONValue conveniences")
struct JSONValueTests {
    @Test func accessorsMatchOnlyTheirCase() {
        let values: [JSONValue] = [nil, true, 7, 2.5, "s", [1], ["k": 1]]
        #expect(values.map(\.isNull) == [true, false, false, false, false, false, false])
        #expect(values.map(\.boolValue) == [nil, true, nil, nil, nil, nil, nil])
        #expect(values.map(\.stringValue) == [nil, nil, nil, nil, "s", nil, nil])
        #expect(values.map(\.doubleValue) == [nil, nil, 7.0, 2.5, nil, nil, nil])
        #expect(values.map(\.int64Value) == [nil, nil, 7, nil, nil, nil, nil])
        #expect(values.map { $0.arrayValue != nil } == [false, false, false, false, false, true, false])
        #expect(values.map { $0.objectValue != nil } == [false, false, false, false, false, false, true])
        #expect(JSONValue.double(3.0).int64Value == 3)
        #expect(JSONValue.double(1e300).int64Value == nil)
    }

    @Test func intAndDoubleAreDifferentValues() {
        #expect(JSONValue.int(1) != JSONValue.double(1.0))
        #expect(JSONValue.int(1).doubleValue == JSONValue.double(1.0).doubleValue)
    }

    @Test func memberLookupThroughValues() throws {
        let v = try JSONReader.parse(#"{"meta": {"source": "chat"}, "n": 1}"#)
        #expect(v["meta"]?["source"]?.stringValue == "chat")
        #expect(v["missing"] == nil)
        #expect(v["n"]?["x"] == nil)
    }

    @Test func floatArrayConvertsNumbersOnly() throws {
        #expect(JSONValue.array([1, 2.5, -0.125, 1e-3]).floatArray() == [1, 2.5, -0.125, 0.001])
        #expect(JSONValue.array([]).floatArray() == [])
        #expect(JSONValue.array([1, "2"]).floatArray() == nil)
        #expect(JSONValue.array([1, nil]).floatArray() == nil)
        #expect(JSONValue.array([[1]]).floatArray() == nil)
        #expect(JSONValue.string("1").floatArray() == nil)
        #expect(JSONValue.double(1).floatArray() == nil)
        let parsed = try JSONReader.parse("[0.1, 0.2, 16777217, -3.4028235e38]")
        #expect(parsed.floatArray() == [0.1, 0.2, 16777216, -Float.greatestFiniteMagnitude])
        // Beyond Float's range becomes infinity, which callers can detect.
        #expect(try JSONReader.parse("[1e39]").floatArray()?.first?.isInfinite == true)
    }

    @Test func descriptionIsCompactJSON() {
        let v: JSONValue = ["a": [1, 2.5, "x"], "b": nil]
        #expect(v.description == #"{"a":[1,2.5,"x"],"b":null}"#)
        // Never crashes, even for a value that cannot be written as JSON.
        #expect(JSONValue.double(.nan).description == "nan")
    }
}
