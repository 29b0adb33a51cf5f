// engram-graph-bench: figures for the L2 graph engine, each against a baseline measured in the same run.
//
//   swift build -c release --product engram-graph-bench
//   .build/release/engram-graph-bench [kernels|dev|scale|all] [--count N] [--data DIR] [--threads N] [--dir DIR]
//
// kernels: ns per 384-d distance, AVX2/FMA vs the scalar C loop vs a plain Swift loop.
// dev:     dev_base (20k MiniLM) — build time vs FAISS IndexHNSWFlat (M 32, efC 200), recall@10 vs
//          dev_groundtruth and latency at several L vs HNSW efSearch vs FAISS flat; open time; bytes.
// scale:   the same at --count rows (default 100,000: dev_base tiled with small noise, exact truth by FAISS flat).

#if canImport(Glibc)
import Glibc
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
var suite = "all"
if let first = arguments.first, !first.hasPrefix("--") { suite = first; arguments.removeFirst() }
var options: [String: String] = [:]
var i = 0
while i < arguments.count {
    let a = arguments[i]
    if a == "--skip-hnsw" { options["skip-hnsw"] = "1"; i += 1; continue }
    if a.hasPrefix("--"), i + 1 < arguments.count { options[String(a.dropFirst(2))] = arguments[i + 1]; i += 2 } else { i += 1 }
}
var bench = GraphBench(
    dataDirectory: options["data"] ?? "../shared/data",
    workDirectory: options["dir"] ?? "/tmp/engram-graph-bench-\(getpid())",
    threads: Int(options["threads"] ?? "") ?? 2,
    scaleCount: Int(options["count"] ?? "") ?? 100_000,
    complexities: (options["L"] ?? "").split(separator: ",").compactMap { Int($0) })
bench.skipHNSW = options["skip-hnsw"] != nil
do {
    switch suite {
    case "kernels": bench.kernels()
    case "dev": try bench.dev()
    case "scale": try bench.scale()
    case "all":
        bench.kernels()
        try bench.dev()
        try bench.scale()
    default:
        print("usage: engram-graph-bench [kernels|dev|scale|all] [--count N] [--data DIR] [--threads N] [--dir DIR] [--L 50,100]")
        exit(64)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
