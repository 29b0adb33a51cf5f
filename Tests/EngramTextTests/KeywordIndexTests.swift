import EngramTestSupport
import Foundation
import Testing
@testable import EngramText

@Suite struct KeywordIndexTests {
    /// Lucene's BM25, written out: idf = ln(1 + (N − df + 0.5) / (df + 0.5)),
    /// term score = idf × tf × (k1 + 1) / (tf + k1 × (1 − b + b × len / avgdl)).
    func bm25(tf: Double, df: Double, n: Double, length: Double, average: Double, k1: Double = 1.2, b: Double = 0.75) -> Double {
        let idf = log(1 + (n - df + 0.5) / (df + 0.5))
        return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
    }

    func tiny() -> KeywordIndex {
        let index = KeywordIndex()
        index.upsert(key: "a", version: 1, text: "apple banana")  // length 2
        index.upsert(key: "b", version: 2, text: "apple apple cherry")  // length 3
        index.upsert(key: "c", version: 3, text: "banana cherry cherry durian")  // length 4
        return index
    }

    @Test func scoresMatchAHandComputedExample() {
        let index = tiny()
        // N = 3, avgdl = (2 + 3 + 4) / 3 = 3; apple: df 2 (a tf 1, b tf 2).
        let hits = index.search("apple", k: 10)
        #expect(hits.map(\.key) == ["b", "a"])
        let b = bm25(tf: 2, df: 2, n: 3, length: 3, average: 3), a = bm25(tf: 1, df: 2, n: 3, length: 2, average: 3)
        #expect(abs(Double(hits[0].score) - b) < 1e-5)
        #expect(abs(Double(hits[1].score) - a) < 1e-5)
        // Two terms add up: cherry (df 2), durian (df 1).
        let c = bm25(tf: 2, df: 2, n: 3, length: 4, average: 3) + bm25(tf: 1, df: 1, n: 3, length: 4, average: 3)
        let cd = index.search("cherry durian", k: 1)
        #expect(cd.map(\.key) == ["c"])
        #expect(abs(Double(cd[0].score) - c) < 1e-5)
        #expect(abs(Double(index.score("cherry durian", key: "c")!) - c) < 1e-5)
        #expect(index.score("zebra", key: "a") == 0)
        #expect(index.score("apple", key: "nope") == nil)
    }

    @Test func tiesBreakByKeyAndAcceptFilters() {
        let index = KeywordIndex()
        for key in ["k3", "k1", "k2"] { index.upsert(key: key, version: 1, text: "same words here") }
        #expect(index.search("words", k: 3).map(\.key) == ["k1", "k2", "k3"])
        #expect(index.search("words", k: 2).map(\.key) == ["k1", "k2"])
        #expect(index.search("words", k: 3, accept: { $0 != "k1" }).map(\.key) == ["k2", "k3"])
        #expect(index.search("", k: 3).isEmpty)
        #expect(index.search("words", k: 0).isEmpty)
    }

    @Test func upsertReplacesAndRemoveForgets() {
        let index = tiny()
        #expect(index.count == 3)
        index.upsert(key: "a", version: 7, text: "kiwi only")
        #expect(index.count == 3)
        #expect(index.version(of: "a") == 7)
        #expect(index.search("apple", k: 10).map(\.key) == ["b"])
        #expect(index.search("kiwi", k: 10).map(\.key) == ["a"])
        index.remove(key: "b")
        index.remove(key: "b")
        #expect(index.count == 2)
        #expect(index.version(of: "b") == nil)
        #expect(index.search("apple", k: 10).isEmpty)
        #expect(index.changesSinceWrite == 5)
        var seen: [String: Int64] = [:]
        index.forEachDocument { seen[$0] = $1 }
        #expect(seen == ["a": 7, "c": 3])
    }

    @Test func writeThenOpenGivesIdenticalResults() throws {
        let dir = TemporaryDirectory()
        let index = KeywordIndex()
        var rng = SeededGenerator(seed: 7)
        let words = (0..<300).map { "w\($0)" } + ["alpha", "beta", "gamma", "delta", "common"]
        for i in 0..<600 {
            let text = (0..<Int.random(in: 3...30, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ") + " common"
            index.upsert(key: "doc\(i)", version: Int64(i), text: text)
        }
        let queries = ["common", "alpha beta", "w1 w2 w3 common", "gamma delta w299", "missing"]
        let before = queries.map { index.search($0, k: 10) }
        let path = dir.path + "/kw.bin"
        let (size, _) = try index.write(to: path)
        #expect(index.changesSinceWrite == 0)
        #expect(size == (try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int))
        // The writing index rebased itself onto the file; a fresh open agrees with both.
        let opened = try KeywordIndex.open(path: path, verifyChecksum: true)
        #expect(opened.count == 600)
        #expect(opened.check().isEmpty)
        for (q, expected) in zip(queries, before) {
            #expect(opened.search(q, k: 10) == expected, "query \(q)")
            #expect(index.search(q, k: 10) == expected, "query \(q)")
        }
        #expect(opened.version(of: "doc42") == 42)
        #expect(opened.version(of: "doc600") == nil)
        var n = 0
        opened.forEachDocument { key, version in n += 1; #expect(key == "doc\(version)") }
        #expect(n == 600)
    }

    @Test func changesOnAnOpenedBaseSurviveAnotherWrite() throws {
        let dir = TemporaryDirectory()
        let first = tiny()
        _ = try first.write(to: dir.path + "/1.bin")
        let index = try KeywordIndex.open(path: dir.path + "/1.bin")
        index.upsert(key: "a", version: 10, text: "apple pie")  // replaces a base document
        index.upsert(key: "d", version: 11, text: "durian durian")  // new
        index.remove(key: "c")  // base document gone
        index.upsert(key: "d", version: 12, text: "elderberry")  // replaces a delta document
        #expect(index.count == 3)
        #expect(index.search("durian", k: 10).isEmpty)
        #expect(index.search("apple", k: 10).map(\.key) == ["b", "a"])
        #expect(index.version(of: "d") == 12)
        let reference = KeywordIndex()
        reference.upsert(key: "a", version: 10, text: "apple pie")
        reference.upsert(key: "b", version: 2, text: "apple apple cherry")
        reference.upsert(key: "d", version: 12, text: "elderberry")
        _ = try index.write(to: dir.path + "/2.bin")
        let reopened = try KeywordIndex.open(path: dir.path + "/2.bin", verifyChecksum: true)
        #expect(reopened.check().isEmpty)
        for q in ["apple", "cherry", "elderberry", "pie apple", "durian banana"] {
            #expect(reopened.search(q, k: 10) == reference.search(q, k: 10), "query \(q)")
        }
        var keys: [String] = []
        reopened.forEachDocument { key, _ in keys.append(key) }
        #expect(keys == ["a", "b", "d"])
        // And once more on top of the rebased index.
        index.upsert(key: "e", version: 13, text: "fig")
        _ = try index.write(to: dir.path + "/3.bin")
        #expect(try KeywordIndex.open(path: dir.path + "/3.bin").search("fig", k: 1).map(\.key) == ["e"])
    }

    @Test func emptyIndexWritesAndOpens() throws {
        let dir = TemporaryDirectory()
        _ = try KeywordIndex().write(to: dir.path + "/e.bin")
        let opened = try KeywordIndex.open(path: dir.path + "/e.bin", verifyChecksum: true)
        #expect(opened.count == 0)
        #expect(opened.search("anything", k: 5).isEmpty)
        #expect(opened.check().isEmpty)
    }

    @Test func pruningGivesTheSameTopAsAFullEvaluation() throws {
        // Long lists (skip tables) plus rare terms: pruning kicks in; compare with scores computed one by one.
        let dir = TemporaryDirectory()
        let index = KeywordIndex()
        var rng = SeededGenerator(seed: 11)
        for i in 0..<3000 {
            var words = ["the", "of", "and"].filter { _ in Bool.random(using: &rng) }
            words += (0..<5).map { _ in "r\(Int.random(in: 0..<2000, using: &rng))" }
            index.upsert(key: String(i), version: 1, text: words.joined(separator: " "))
        }
        _ = try index.write(to: dir.path + "/p.bin")
        index.upsert(key: "extra", version: 1, text: "the of r5 r6")  // a delta doc too
        for q in ["r5 the of and", "r17 r18 the", "the of and", "r1999 and"] {
            let hits = index.search(q, k: 5)
            var all: [KeywordHit] = []
            index.forEachDocument { key, _ in
                if let s = index.score(q, key: key), s > 0 { all.append(KeywordHit(key: key, score: s)) }
            }
            all.sort { $0.score != $1.score ? $0.score > $1.score : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            #expect(hits == Array(all.prefix(5)), "query \(q)")
        }
    }
}
