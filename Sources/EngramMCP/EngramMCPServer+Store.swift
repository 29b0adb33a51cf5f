import Engram
import EngramIO
import EngramJSON
import MCP

/// store_stats and store_verify: the same JSON as `engram stats` and `engram verify --format json`.
extension EngramMCPServer {
    func storeStats(_ arguments: ToolArguments) async throws -> JSONValue {
        // Another process's writes count too: catch up before counting.
        try await store.refresh()
        return await store.statistics().json
    }

    func storeVerify(_ arguments: ToolArguments) async throws -> JSONValue {
        let verifier = StoreVerifier(layout: store.layout)
        let report = try await EventLoop.shared.run { try verifier.run() }
        return EngramMCPServer.boundedReport(report.json, budget: limits.characterBudget)
    }

    /// A damaged store can have thousands of problems: keep the report within the budget by listing only the
    /// first problems, and say how many there are (`problem_count` stays the true total).
    static func boundedReport(_ report: JSONValue, budget: Int) -> JSONValue {
        guard var object = report.objectValue, let problems = object["problems"]?.arrayValue,
              report.compactText.utf8.count > budget else { return report }
        object["problems"] = .array([])
        var builder = PageBuilder(budget: max(0, budget - JSONValue.object(object).compactText.utf8.count - 64))
        for problem in problems where !builder.add(problem) { break }
        object["problems"] = .array(builder.items)
        object["problems_shown"] = .int(Int64(builder.items.count))
        return .object(object)
    }
}
