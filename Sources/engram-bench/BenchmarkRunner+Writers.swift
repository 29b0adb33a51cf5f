import Engram
import EngramIO
import EngramJSON
import Foundation

/// Figures 21 and 22: many writer processes on one store. 21: `engram put --batch-size 1` (each memory saved
/// and acknowledged one at a time) as one process against four at once on one store, aggregate memories per
/// second. 22: a writer catching up 1,000 commits another writer made (two stores in this process: each has its
/// own `.lock` descriptor, so they exclude each other exactly as two processes do), against one ordinary save.
extension BenchmarkRunner {
    static let writerProcessCount = 4
    static let writerProcessMemories = 300
    static let catchUpCount = 1_000

    mutating func writerFigures() async throws {
        guard let engram = Self.siblingExecutable("engram") else {
            Progress.say("figures 21–22 skipped: the engram executable was not found beside engram-bench (swift build -c release --product engram)")
            report.notes.append("figures 21–22 were skipped: build the engram executable too (`swift build -c release --product engram`)")
            return
        }
        // Inputs: one JSON Lines file per process, distinct ids, the dataset's records (embedding included).
        var inputs: [String] = []
        for p in 0..<Self.writerProcessCount {
            var text = ""
            for n in 0..<Self.writerProcessMemories {
                text += String(decoding: dataset.memory(p * 100_000 + n, prefix: "proc\(p)").jsonBytes(), as: UTF8.self)
            }
            let path = scratch("writers-input-\(p).jsonl")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            inputs.append(path)
        }
        func run(_ count: Int, store: String) throws -> Double {
            let clock = ContinuousClock()
            let start = clock.now
            var children: [(process: Process, stderr: String)] = []
            for p in 0..<count {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: engram)
                child.arguments = ["--store", store, "put", "--batch-size", "1", inputs[p]]
                child.standardOutput = FileHandle.nullDevice
                // To a file, not a pipe nobody drains: a failure's message is quoted below.
                let errors = scratch("writers-stderr-\(p)-\(count).txt")
                _ = FileManager.default.createFile(atPath: errors, contents: nil)
                child.standardError = FileHandle(forWritingAtPath: errors)
                try child.run()
                children.append((child, errors))
            }
            for (child, errors) in children {
                child.waitUntilExit()
                guard child.terminationStatus == 0 else {
                    let message = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
                    throw BenchmarkFailure(description: "figure 21: engram put exited with \(child.terminationStatus): \(message.suffix(600))")
                }
            }
            return (clock.now - start).seconds
        }
        Progress.say("figure 21: engram put --batch-size 1 of \(Self.writerProcessMemories) memories, one process, then \(Self.writerProcessCount) at once")
        let one = try run(1, store: scratch("store-writers-1"))
        let many = try run(Self.writerProcessCount, store: scratch("store-writers-\(Self.writerProcessCount)"))
        let oneRate = Double(Self.writerProcessMemories) / one
        let manyRate = Double(Self.writerProcessMemories * Self.writerProcessCount) / many
        var figure = Figure(key: "21", title: "\(Self.writerProcessCount) writer processes at once, aggregate", measure: .rate(unit: "memories"),
                            engram: manyRate, baseline: oneRate, baselineName: "1 writer process", goal: .ratioAtLeast(2))
        figure.notes.append("each process `engram put --batch-size 1` (open, every memory saved and acknowledged alone, close), wall time including process start")
        report.figures.append(figure)

        Progress.say("figure 22: a writer catching up \(Self.catchUpCount) commits of another writer")
        let path = scratch("store-catch-up")
        var quiet = StoreConfiguration.bench
        quiet.flushThreshold = 1_000_000  // no checkpoint: the commits stay in the journal to be caught up
        let follower = try await MemoryStore.open(at: path, configuration: quiet)
        let writer = try await MemoryStore.open(at: path, configuration: quiet)
        try await follower.save(dataset.memory(0, prefix: "follower"))
        for n in 0..<Self.catchUpCount { try await writer.save(dataset.memory(n, prefix: "foreign")) }
        // The catch-up itself (under the lock: index, caches, duplicate map), then the search tiers' feed.
        let catchUp = try await Timing.seconds { try await follower.catchUpForBenchmark() }
        let feed = try await Timing.seconds { try await follower.refresh() }
        guard await follower.memoryIDs().count == Self.catchUpCount + 1 else { throw BenchmarkFailure(description: "figure 22: the catch-up missed commits") }
        var saves: [Double] = []
        for n in 1...20 { saves.append(try await Timing.seconds { try await follower.save(dataset.memory(n, prefix: "follower")) }) }
        figure = Figure(key: "22", title: "catching up \(Format.grouped(Self.catchUpCount)) foreign commits", measure: .time,
                        engram: catchUp, baseline: Timing.median(saves), baselineName: "one durable save", goal: .secondsBelow(0.020))
        figure.notes.append("reading and applying the journal lines under the lock (index, caches, duplicate map); then feeding the vector and keyword tiers "
                            + "the 1,000 records (read from their files, outside the lock) took \(Format.duration(feed))")
        report.figures.append(figure)
        try await writer.close()
        try await follower.close()
    }

    /// An executable built beside this one (`.build/release/engram` next to `.build/release/engram-bench`).
    static func siblingExecutable(_ name: String) -> String? {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let path = own.appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
