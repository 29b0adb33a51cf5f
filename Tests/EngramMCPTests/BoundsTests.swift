import EngramJSON
import Testing

@testable import EngramMCP

/// The character budget's pieces on their own.
@Suite("engram mcp: budgets")
struct BoundsTests {
    @Test("an item too large alone is cut to the budget on whole characters and says how long it was")
    func fitted() {
        let text = String(repeating: "é\"x", count: 5_000)  // multi-byte and escaped characters
        let item: JSONValue = ["id": "big", "content": .string(text)]
        let cut = PageBuilder.fitted(item, budget: 2_000)
        #expect(cut.compactText.utf8.count <= 2_000)
        #expect(cut["truncated"] == true && cut["content_length"] == .int(Int64(text.utf8.count)))
        #expect(text.hasPrefix(cut["content"]?.stringValue ?? "-"))
    }

    @Test("a verify report over the budget lists its first problems and keeps the true count")
    func verifyReport() {
        let problems = (0..<500).map { i -> JSONValue in ["kind": "missing_file", "id": .string("m\(i)"), "detail": "the index lists it; no file"] }
        let report: JSONValue = ["consistent": false, "problem_count": 500, "problems": .array(problems), "recovery_pending": []]
        let bounded = EngramMCPServer.boundedReport(report, budget: 3_000)
        #expect(bounded.compactText.utf8.count <= 3_000)
        let shown = bounded["problems"]?.arrayValue?.count ?? 0
        #expect(shown > 0 && shown < 500 && bounded["problems_shown"] == .int(Int64(shown)))
        #expect(bounded["problem_count"] == 500)
        #expect(EngramMCPServer.boundedReport(report, budget: 1_000_000) == report)
    }
}
