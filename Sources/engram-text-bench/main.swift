// Figures for the keyword engine on the dev texts (docs/KEYWORDS.md):
//   swift build -c release --product engram-text-bench && .build/release/engram-text-bench [data directory]
// Build, write and open times, bytes on disk against content bytes, µs per query (warm, one thread) at 50,000
// documents, recall@10 per query kind at 20,000.
import EngramIO
import EngramText
import Foundation

let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../shared/data"
guard let raw = try? String(contentsOfFile: directory + "/dev_base.txt", encoding: .utf8),
      let queryLines = try? String(contentsOfFile: directory + "/dev_text_queries.jsonl", encoding: .utf8) else {
    print("engram-text-bench: no dev_base.txt / dev_text_queries.jsonl in \(directory)")
    exit(1)
}
var lines = raw.split(separator: "\n", omittingEmptySubsequences: false).map { $0.replacingOccurrences(of: "\\n", with: "\n") }
if lines.last == "" { lines.removeLast() }
let texts = lines
struct Query { var kind: String; var text: String; var relevant: [Int] }
let queries: [Query] = queryLines.split(separator: "\n").compactMap { line in
    guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let kind = o["kind"] as? String, let text = o["text"] as? String, let relevant = o["relevant"] as? [Int] else { return nil }
    return Query(kind: kind, text: text, relevant: relevant)
}
let kinds = ["identifier", "fragment", "semantic"]

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// This thread's CPU time: on a shared, loaded machine wall time also counts other processes' turns.
func cpu() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Row i ≥ texts.count: an earlier text with its words rotated and a row tag (same vocabulary, different docs).
@MainActor func text(_ row: Int) -> String {
    if row < texts.count { return texts[row] }
    let words = texts[row % texts.count].split(separator: " ")
    let shift = words.isEmpty ? 0 : (row / texts.count) % words.count
    return (words[shift...] + words[..<shift]).joined(separator: " ") + " row\(row)"
}

@MainActor func recall(_ index: KeywordIndex, kind: String) -> Double {
    let qs = queries.filter { $0.kind == kind }
    var total = 0.0
    for q in qs {
        let top = Set(index.search(q.text, k: 10).map(\.key))
        total += Double(q.relevant.filter { top.contains(String($0)) }.count) / Double(max(1, q.relevant.count))
    }
    return total / Double(max(1, qs.count))
}

let tmp = FileManager.default.temporaryDirectory.path + "/engram-text-bench-\(getpid())"
try? FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

for n in [texts.count, 50_000] {
    let index = KeywordIndex()
    var contentBytes = 0
    let docs = (0..<n).map { text($0) }
    for d in docs { contentBytes += d.utf8.count }
    var t = now()
    for (row, d) in docs.enumerated() { index.upsert(key: String(row), version: Int64(row), text: d) }
    let build = now() - t
    let path = tmp + "/kw-\(n).bin"
    t = now()
    let (size, _) = try index.write(to: path)
    let write = now() - t
    t = now()
    let opened = try KeywordIndex.open(path: path)
    let open = now() - t
    t = now()
    _ = try KeywordIndex.open(path: path, verifyChecksum: true)
    let openChecked = now() - t
    print("n=\(n): build \(String(format: "%.0f", build * 1000)) ms (\(String(format: "%.1f", build / Double(n) * 1e6)) µs/doc), write \(String(format: "%.0f", write * 1000)) ms, open \(String(format: "%.0f", open * 1e6)) µs (with checksum \(String(format: "%.1f", openChecked * 1000)) ms)")
    print("  file \(size) bytes, content \(contentBytes) bytes: ratio \(String(format: "%.2f", Double(size) / Double(contentBytes)))")
    for kind in kinds {
        let qs = queries.filter { $0.kind == kind }
        for q in qs { _ = opened.search(q.text, k: 10) }  // warm: page in, scratch allocated
        let rounds = 5
        t = now()
        let c = cpu()
        for _ in 0..<rounds { for q in qs { _ = opened.search(q.text, k: 10) } }
        let perQuery = (now() - t) / Double(rounds * qs.count) * 1e6
        let perQueryCPU = (cpu() - c) / Double(rounds * qs.count) * 1e6
        var worst = 0.0
        for q in qs {
            let s = now()
            _ = opened.search(q.text, k: 10)
            worst = max(worst, now() - s)
        }
        print("  \(kind): \(String(format: "%.1f", perQuery)) µs/query wall, \(String(format: "%.1f", perQueryCPU)) µs CPU (max \(String(format: "%.0f", worst * 1e6)) µs), recall@10 \(String(format: "%.3f", recall(opened, kind: kind)))")
    }
    // Upserts on top of the mapped base (the delta), then a search that scores both layers.
    t = now()
    for row in 0..<1000 { opened.upsert(key: String(row), version: 1, text: docs[(row * 7) % n]) }
    let upsert = (now() - t) / 1000 * 1e6
    let fragments = queries.filter { $0.kind == "fragment" }
    t = now()
    for q in fragments { _ = opened.search(q.text, k: 10) }
    let withDelta = (now() - t) / Double(fragments.count) * 1e6
    print("  upsert \(String(format: "%.1f", upsert)) µs/doc over the mapped base; fragment search with 1000 delta docs \(String(format: "%.1f", withDelta)) µs/query")
}
