import EngramTestSupport
import Testing
@testable import EngramText

/// Keyword recall@10 on the dev texts: a query's relevant rows found in its top 10, averaged per kind.
@Suite(.serialized) struct DevDataRecallTests {
    @Test(.enabled(if: DevData.hasTexts, Comment(rawValue: DevData.textSkipMessage)))
    func recallAtTenPerKind() throws {
        let index = KeywordIndex()
        for (row, text) in DevData.texts().enumerated() { index.upsert(key: String(row), version: 1, text: text) }
        #expect(index.count == 20_000)
        var recall: [String: Double] = [:]
        var counts: [String: Int] = [:]
        for q in DevData.textQueries() {
            let top = Set(index.search(q.text, k: 10).map(\.key))
            recall[q.kind, default: 0] += Double(q.relevant.filter { top.contains(String($0)) }.count) / Double(max(1, q.relevant.count))
            counts[q.kind, default: 0] += 1
        }
        for kind in recall.keys { recall[kind]! /= Double(counts[kind]!) }
        print("keyword recall@10:", recall.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(recall["identifier"]! >= 0.95)
        #expect(recall["fragment"]! >= 0.95)
        #expect(recall["semantic"]! >= 0.7)
    }
}
