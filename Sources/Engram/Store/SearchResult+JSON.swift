import EngramJSON

extension SearchResult {
    /// The hit as `engram search` prints it: `{"id", "distance"?, "content", "bm25"?, "score"?, "kind"?}`, in that
    /// order. Shared by the command line and the MCP server, so a tool's results read exactly like the CLI's.
    ///
    /// - Parameter includeKind: add `"kind"` (the CLI does when the search scope is not memories alone).
    public func json(includeKind: Bool) -> JSONValue {
        // Float's shortest decimal form ("1.0908561"), not the Double widening of it ("1.0908560752868652").
        func number(_ value: Float) -> JSONValue { .double(Double(value.description) ?? Double(value)) }
        var line: JSONObject = ["id": .string(id)]
        if let distance { line["distance"] = number(distance) }
        line["content"] = .string(content)
        if let bm25 { line["bm25"] = number(bm25) }
        if let score { line["score"] = number(score) }
        if includeKind { line["kind"] = .string(kind.rawValue) }
        return .object(line)
    }
}
