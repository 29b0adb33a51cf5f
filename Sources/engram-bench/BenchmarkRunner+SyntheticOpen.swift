import Engram
import EngramIO
import Foundation

extension BenchmarkRunner {
    /// Figure 3s: open at sizes whose records would take hours to write on this disk (`open-synthetic --count N`).
    ///
    /// A real store of 20 memories whose index (JSON and `memory_index.bin`) is extended with N synthetic entries
    /// that have no record files: open reads only the index and the journal, so it costs what a store of N + 20
    /// memories costs; `engram get` reads one real record. Measured: the old path (memory_index.bin removed, the
    /// JSON parsed), open with the binary index read-only and writer, and `engram get ID` as a whole process.
    mutating func syntheticOpenFigures() async throws {
        let count = options.count
        let path = scratch("synthetic-store")
        Progress.say("figure 3s: a store of 20 real memories + \(Format.grouped(count)) synthetic index entries (not a figure)")
        var build = StoreConfiguration.bench
        build.loadKeywordTier = false
        let store = try await MemoryStore.open(at: path, configuration: build)
        _ = try await store.saveBatch((0..<20).map { MemoryEntry(id: "real-\($0)", content: "real memory \($0)", embedding: (0..<384).map { Float(($0 * 7) % 13) / 13 }) })
        try await store.close()
        try SyntheticIndex.extend(storeAt: path, count: count, dimension: 384)
        let total = count + 20
        let n = 5
        var readOnly = StoreConfiguration.bench
        readOnly.readOnly = true
        readOnly.loadVectorTier = false
        readOnly.loadKeywordTier = false
        var writer = StoreConfiguration.bench
        writer.loadVectorTier = false
        writer.loadKeywordTier = false
        func timeOpen(_ configuration: StoreConfiguration) async throws -> (Double, Bool) {
            var parsed = false
            var found = 0
            var opened: MemoryStore?
            let seconds = try await Timing.seconds {
                let store = try await MemoryStore.open(at: path, configuration: configuration)
                found = await store.statistics().memoryCount
                opened = store
            }
            parsed = await opened?.recovery.parsedIndexJSON ?? true
            try await opened?.close()
            guard found == total else { throw BenchmarkFailure(description: "figure 3s: open found \(found) memories, expected \(total)") }
            return (seconds, parsed)
        }
        _ = try await timeOpen(readOnly)  // warm the page cache
        let bin = path + "/memory_index.bin", aside = path + "/bin-aside"
        try Sys.rename(bin, aside)
        let jsonOpen = Timing.median(try await (0..<3).asyncMap { _ in try await timeOpen(readOnly).0 })
        try Sys.rename(aside, bin)
        var mappedTimes: [Double] = [], writerTimes: [Double] = [], parsedAny = false
        for _ in 0..<n {
            let (a, p1) = try await timeOpen(readOnly)
            let (b, p2) = try await timeOpen(writer)
            mappedTimes.append(a); writerTimes.append(b); parsedAny = parsedAny || p1 || p2
        }
        guard !parsedAny else { throw BenchmarkFailure(description: "figure 3s: an open parsed memory_index.json instead of mapping memory_index.bin") }
        let countText = Format.grouped(total)
        let goal = Figure.Goal.secondsBelow(total > 500_000 ? 0.05 : 0.02)
        report.figures.append(Figure(key: "3s-a", title: "open \(countText) index entries, read-only, memory_index.bin", measure: .time,
                                     engram: Timing.median(mappedTimes), baseline: jsonOpen, baselineName: "same open parsing memory_index.json", goal: goal,
                                     notes: ["MemoryStore.open + statistics(), no vector/keyword tier, median of \(n); baseline: memory_index.bin moved away, median of 3; "
                                             + "memory_index.json \(Format.bytes(FileTree.size(path + "/memory_index.json"))), memory_index.bin \(Format.bytes(FileTree.size(bin)))"]))
        report.figures.append(Figure(key: "3s-b", title: "open \(countText) index entries, writer, memory_index.bin", measure: .time,
                                     engram: Timing.median(writerTimes), baseline: jsonOpen, baselineName: "same open parsing memory_index.json", goal: goal,
                                     notes: ["after a clean close (.clean_shutdown: no listing of memories/); lock, journal, mark unlink + directory fsync included"]))
        let engram = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("engram").path
        if FileManager.default.isExecutableFile(atPath: engram) {
            func timeGet(_ runs: Int) throws -> Double {
                var times: [Double] = []
                for _ in 0..<(runs + 1) {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: engram)
                    process.arguments = ["--store", path, "get", "real-7"]
                    process.standardOutput = FileHandle.nullDevice
                    let seconds = try Timing.seconds {
                        try process.run()
                        process.waitUntilExit()
                    }
                    guard process.terminationStatus == 0 else { throw BenchmarkFailure(description: "figure 3s: engram get exited \(process.terminationStatus)") }
                    times.append(seconds)
                }
                return Timing.median(Array(times.dropFirst()))
            }
            let mapped = try timeGet(n)
            try Sys.rename(bin, aside)
            let parsed = try timeGet(3)
            try Sys.rename(aside, bin)
            report.figures.append(Figure(key: "3s-c", title: "`engram get ID`, whole process, \(countText) index entries", measure: .time,
                                         engram: mapped, baseline: parsed, baselineName: "same command parsing memory_index.json",
                                         goal: .secondsBelow(0.03), notes: ["fork + exec + open + read one record + print + exit, median of \(n) after one warm-up; baseline median of 3"]))
        }
    }
}

private extension Range where Bound == Int {
    func asyncMap<T>(_ body: (Int) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for i in self { result.append(try await body(i)) }
        return result
    }
}
