import Engram
import EngramIO
import EngramJSON

/// Figures 3 and 4: opening a large store, and bulk-loading records that are not in its cache.
extension BenchmarkRunner {
    static let buildChunk = 5_000
    static let openRepetitions = 5
    static let loadCount = 10_000
    static let loadChunk = 1_000
    static let loadRepetitions = 3

    var readOnly: StoreConfiguration {
        var configuration = StoreConfiguration.bench
        configuration.readOnly = true
        return configuration
    }

    /// Builds the large store once, quickly: `saveBatch` in chunks of 5,000.
    mutating func buildLargeStore() async throws {
        let count = options.count
        let path = scratch("store-large")
        Progress.say("building a \(Format.grouped(count))-memory store with saveBatch in chunks of \(Format.grouped(Self.buildChunk)) (not a figure)")
        let store = try await MemoryStore.open(at: path, configuration: .bench)
        let seconds = try await Timing.seconds {
            var done = 0
            let clock = ContinuousClock()
            let started = clock.now
            while done < count {
                let batch = (done..<min(count, done + Self.buildChunk)).map { dataset.memory($0, prefix: LargeStore.prefix) }
                try await store.saveBatch(batch)
                done += batch.count
                let elapsed = (clock.now - started).seconds
                Progress.update("built \(Format.grouped(done)) / \(Format.grouped(count)) in \(Format.duration(elapsed)) (\(Format.rate(Double(done) / elapsed, "saves/s")))")
            }
            Progress.finishUpdates()
            try await store.close()
        }
        let check = try await MemoryStore.open(at: path, configuration: readOnly)
        let stored = await check.statistics().memoryCount
        try await check.close()
        guard stored == count else { throw BenchmarkFailure(description: "the large store holds \(stored) memories, expected \(count)") }
        largeStore = LargeStore(path: path, count: count, buildSeconds: seconds)
        report.notes.append("the \(Format.grouped(count))-memory store took \(Format.duration(seconds)) to build "
                            + "(\(Format.rate(Double(count) / seconds, "saves/s")), saveBatch of \(Format.grouped(Self.buildChunk)), close included); "
                            + "its memory_index.json is \(Format.bytes(FileTree.size(path + "/memory_index.json"))), "
                            + "its vector_index/ \(Format.bytes(FileTree.treeSize(path + "/vector_index")))")
    }

    // MARK: Figure 3

    /// Figure 3: `MemoryStore.open` + `statistics()`, read-only and writer, median of 5; baseline: reading and
    /// parsing `memory_index.json` raw. A read-only open without the vector tier runs in the same rounds, to
    /// show what loading the vectors costs.
    mutating func openLargeStore() async throws {
        guard let large = largeStore else { throw BenchmarkFailure(description: "figure 3 needs the large store") }
        let n = Self.openRepetitions
        let countText = Format.grouped(large.count)
        Progress.say("figure 3: opening the \(countText)-memory store, median of \(n), read-only and writer")

        let baseline = Timing.median(try (0..<n).map { _ in try parseIndexRaw(large) })
        var withoutVectors = readOnly
        withoutVectors.loadVectorTier = false
        var readOnlyTimes: [Double] = []
        var writerTimes: [Double] = []
        var withoutVectorTimes: [Double] = []
        for _ in 0..<n {
            readOnlyTimes.append(try await timeOpen(large, configuration: readOnly))
            writerTimes.append(try await timeOpen(large, configuration: StoreConfiguration.bench))
            withoutVectorTimes.append(try await timeOpen(large, configuration: withoutVectors))
        }
        let readOnlyOpen = Timing.median(readOnlyTimes)
        let writerOpen = Timing.median(writerTimes)
        let withoutVectorsOpen = Timing.median(withoutVectorTimes)

        let goal = Figure.Goal.secondsBelow(0.5)
        let baselineName = "raw index parse"
        report.figures.append(Figure(key: "3a", title: "open \(countText) memories, read-only", measure: .time,
                                     engram: readOnlyOpen, baseline: baseline, baselineName: baselineName, goal: goal,
                                     notes: ["MemoryStore.open + statistics(), median of \(n) (warm page cache); "
                                             + "read-only without the vector tier (loadVectorTier = false): \(Format.duration(withoutVectorsOpen)); "
                                             + "the vector tier loads in the background after open returns (the first search waits for it: figure 7)"]))
        report.figures.append(Figure(key: "3b", title: "open \(countText) memories, writer", measure: .time,
                                     engram: writerOpen, baseline: baseline, baselineName: baselineName, goal: goal,
                                     notes: ["as 3a, plus the lock, the stale-temp-file scan of memories/ and the journal; close not timed"]))
        report.baselines.append("3: raw index parse = Sys.readFile + JSONReader.parse of memory_index.json "
                                + "(\(Format.bytes(FileTree.size(large.indexPath)))), median of \(n), one thread")

        if dropCaches() {
            Progress.say("figure 3, cold: the same after dropping the page cache")
            let coldBaseline = try parseIndexRaw(large)
            _ = dropCaches()
            let coldReadOnly = try await timeOpen(large, configuration: readOnly)
            _ = dropCaches()
            let coldWriter = try await timeOpen(large, configuration: StoreConfiguration.bench)
            report.figures.append(Figure(key: "3c", title: "open \(countText) memories, read-only, cold", measure: .time,
                                         engram: coldReadOnly, baseline: coldBaseline, baselineName: baselineName, goal: goal,
                                         notes: ["one open right after drop_caches; the baseline also ran right after one"]))
            report.figures.append(Figure(key: "3d", title: "open \(countText) memories, writer, cold", measure: .time,
                                         engram: coldWriter, baseline: coldBaseline, baselineName: baselineName, goal: goal,
                                         notes: ["one open right after drop_caches"]))
        }
    }

    /// Seconds to open the large store and read its statistics; the close afterwards is not timed.
    private func timeOpen(_ large: LargeStore, configuration: StoreConfiguration) async throws -> Double {
        var opened: MemoryStore?
        var count = 0
        let seconds = try await Timing.seconds {
            let store = try await MemoryStore.open(at: large.path, configuration: configuration)
            count = await store.statistics().memoryCount
            opened = store
        }
        try await opened?.close()
        guard count == large.count else { throw BenchmarkFailure(description: "figure 3: open found \(count) memories, expected \(large.count)") }
        return seconds
    }

    /// Seconds to read and parse the index raw: what any open has to do at the least.
    private func parseIndexRaw(_ large: LargeStore) throws -> Double {
        var members = 0
        let seconds = try Timing.seconds {
            let value = try JSONReader.parse(try Sys.readFile(large.indexPath))
            members = value["memories"]?.objectValue?.count ?? 0
        }
        guard members == large.count else { throw BenchmarkFailure(description: "figure 3: the index lists \(members) memories, expected \(large.count)") }
        return seconds
    }

    // MARK: Figure 4

    /// Figure 4: `memories(ids)` for 10,000 random ids that are not in the (fresh) cache, in chunks of 1,000;
    /// baseline: `Sys.readFile` + `JSONReader.parse` of the same files in one thread.
    mutating func loadUncached() async throws {
        guard let large = largeStore else { throw BenchmarkFailure(description: "figure 4 needs the large store") }
        let n = min(Self.loadCount, large.count)
        let countText = Format.grouped(n)
        var generator = SplitMix64(state: 4)
        var picks = Array(0..<large.count)
        for i in 0..<n { picks.swapAt(i, Int.random(in: i..<picks.count, using: &generator)) }
        let numbers = Array(picks.prefix(n))
        let ids = numbers.map { Dataset.id($0, prefix: LargeStore.prefix) }
        let paths = numbers.map(large.recordPath)
        let r = Self.loadRepetitions
        Progress.say("figure 4: loading \(countText) uncached memories (random ids) from the \(Format.grouped(large.count))-memory store, median of \(r)")

        _ = try parseRecordsRaw(paths)  // warm the page cache: these are the warm figures
        var storeTimes: [Double] = []
        var baselineTimes: [Double] = []
        for _ in 0..<r {
            storeTimes.append(try await timeLoad(large, ids: ids, coldPageCache: false))
            baselineTimes.append(try parseRecordsRaw(paths))
        }
        let goal = Figure.Goal.rateAtLeast(20_000, unit: "records/s")
        let baselineName = "raw read+parse"
        report.figures.append(Figure(key: "4a", title: "load \(countText) uncached memories", measure: .rate(unit: "records/s"),
                                     engram: Double(n) / Timing.median(storeTimes), baseline: Double(n) / Timing.median(baselineTimes),
                                     baselineName: baselineName, goal: goal,
                                     notes: ["memories(ids) in chunks of \(Format.grouped(Self.loadChunk)) on a freshly opened store (empty cache), "
                                             + "median of \(r) (warm page cache); decoding into MemoryEntry included"]))
        report.baselines.append("4: raw read+parse = Sys.readFile + JSONReader.parse of the same \(countText) files, "
                                + "one after the other in one thread (no MemoryEntry decoding)")

        if dropCaches() {
            Progress.say("figure 4, cold: the same after dropping the page cache")
            let coldStore = try await timeLoad(large, ids: ids, coldPageCache: true)
            _ = dropCaches()
            let coldBaseline = try parseRecordsRaw(paths)
            report.figures.append(Figure(key: "4b", title: "load \(countText) uncached memories, cold", measure: .rate(unit: "records/s"),
                                         engram: Double(n) / coldStore, baseline: Double(n) / coldBaseline,
                                         baselineName: baselineName, goal: goal,
                                         notes: ["one load right after drop_caches (the store was opened before the drop); the baseline likewise"]))
        }
    }

    /// Seconds for `memories(ids)` in chunks on a freshly opened store (its cache empty); the open is not timed.
    private mutating func timeLoad(_ large: LargeStore, ids: [String], coldPageCache: Bool) async throws -> Double {
        let store = try await MemoryStore.open(at: large.path, configuration: readOnly)
        if coldPageCache { _ = dropCaches() }
        var loaded = 0
        let chunk = Self.loadChunk
        let seconds = try await Timing.seconds {
            for start in stride(from: 0, to: ids.count, by: chunk) {
                loaded += try await store.memories(Array(ids[start..<min(ids.count, start + chunk)])).count
            }
        }
        let statistics = await store.statistics()
        try await store.close()
        guard loaded == ids.count, statistics.cacheHits == 0 else {
            throw BenchmarkFailure(description: "figure 4: loaded \(loaded) of \(ids.count) (cache hits \(statistics.cacheHits))")
        }
        return seconds
    }

    /// Seconds to read and parse the files one after the other.
    private func parseRecordsRaw(_ paths: [String]) throws -> Double {
        var embeddings = 0
        let seconds = try Timing.seconds {
            for path in paths {
                let value = try JSONReader.parse(try Sys.readFile(path))
                embeddings += value["embedding"]?.arrayValue?.count ?? 0
            }
        }
        guard embeddings == paths.count * Dataset.dimension else { throw BenchmarkFailure(description: "figure 4: the records hold \(embeddings) embedding values") }
        return seconds
    }
}
