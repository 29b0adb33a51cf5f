import Engram
import EngramIO
import EngramJSON

/// Figures 7, 9 and 10, on the large store of figures 3 and 4 (built here if this run has not built it yet):
/// opening it from its vector checkpoint against rebuilding the vector tier from the records, `verify`, and a
/// full `repair`. They run in that order; the store is consistent before and after each.
extension BenchmarkRunner {
    static let checkpointOpenRepetitions = 3
    /// Context for figure 10, not measured here.
    static let synthiansRebuildRate = 1_300.0

    mutating func maintenanceFigures() async throws {
        if largeStore == nil { try await buildLargeStore() }
        guard let large = largeStore else { throw BenchmarkFailure(description: "figures 7, 9 and 10 need the large store") }
        // The baseline first: it reads every record, so figure 7's rebuild reads from a warm page cache too.
        let rawRate = try rawRecordRate(large)
        try await openCheckpointVersusRebuild(large)
        let verifySeconds = try verifyLargeStore(large, rawRate: rawRate)
        try await repairLargeStore(large, rawRate: rawRate, verifySeconds: verifySeconds)
    }

    // MARK: Figure 7

    /// Figure 7: from `MemoryStore.open` (writer) until the first search answers, with the vector tier loaded from
    /// `vector_index/` (median of 3), against the same with `rebuildDerivedData = true` (every record read, the
    /// index and the tier rebuilt), once. The first search is the clock's stop because an engine may return from
    /// open before the tier is loaded (searches then wait for it). Closes are not timed.
    private mutating func openCheckpointVersusRebuild(_ large: LargeStore) async throws {
        let countText = Format.grouped(large.count)
        let n = Self.checkpointOpenRepetitions
        Progress.say("figure 7: opening the \(countText)-memory store from its vector checkpoint (median of \(n)) and with rebuildDerivedData (once)")
        var fromCheckpoint: [VectorOpen] = []
        for _ in 0..<n { fromCheckpoint.append(try await timeVectorOpen(large, rebuild: false)) }
        let cpuBefore = CPUUsage.now()
        let rebuilt = try await timeVectorOpen(large, rebuild: true)
        let cpu = CPUUsage.now().summary(since: cpuBefore, cores: CPUUsage.cores)
        let checkpointReady = Timing.median(fromCheckpoint.map(\.ready))
        let checkpointReturned = Timing.median(fromCheckpoint.map(\.returned))
        let search = Timing.median(fromCheckpoint.map(\.search) + [rebuilt.search])
        let dimension = Dataset.dimension
        let directory = large.path + "/vector_index"
        let faissBytes = FileTree.size(directory + "/" + VectorFiles.memoryIndex)
        let mappingBytes = FileTree.size(directory + "/" + VectorFiles.mapping)
        var figure = Figure(key: "7", title: "open \(countText) × \(dimension)-d to first search, rebuilding vectors", measure: .time,
                            engram: rebuilt.ready, baseline: checkpointReady, baselineName: "from vector_index/", goal: .none)
        figure.notes.append("MemoryStore.open (writer) + statistics() + one search(vector:k:1), timed together: with rebuildDerivedData = true, once, "
                            + "\(Format.duration(rebuilt.ready)) (the index rebuilt from every record, the vector tier from every record again; "
                            + "recovery.rebuiltVectorIndexReason: \"\(rebuilt.reason ?? "none")\") vs the default open, vectors loaded from vector_index/ "
                            + "(\(Format.bytes(faissBytes)) .faiss + \(Format.bytes(mappingBytes)) mapping.json; no vector re-read), median of \(n): "
                            + "\(Format.duration(checkpointReady)); ratio = rebuild ÷ checkpoint")
        figure.notes.append("open itself returned after \(Format.duration(rebuilt.returned)) (rebuild) and \(Format.duration(checkpointReturned)) (checkpoint, median); "
                            + "the k=1 search alone takes \(Format.duration(search)) once the tier is ready (a second search, median); "
                            + "closes, not timed: \(Format.duration(rebuilt.close)) after the rebuild (writes the rebuilt files if the open did not), "
                            + "\(Format.duration(Timing.median(fromCheckpoint.map(\.close)))) after a checkpoint open; during the rebuild open and its close, " + cpu)
        figure.notes.append("the store: \(Format.grouped(large.count)) records of \(dimension)-float embeddings from the benchmark data (\(dataset.isReal ? "real" : "synthetic"), "
                            + "\(dataset.samples.count) distinct vectors cycled; a flat index's load and add costs do not depend on the values); "
                            + "its \(VectorFiles.memoryIndex) is \(Format.fixed(Double(faissBytes) / Double(large.count), 1)) B/vector "
                            + "(4 × dimension = \(4 * dimension)), mapping.json \(Format.fixed(Double(mappingBytes) / Double(large.count), 1)) B/vector")
        report.figures.append(figure)
    }

    struct VectorOpen {
        /// Seconds until `open` and `statistics()` returned.
        var returned: Double
        /// Seconds until the first search returned (open included).
        var ready: Double
        /// Seconds of a second search.
        var search: Double
        var close: Double
        var reason: String?
    }

    /// Opens the large store as a writer, with or without `rebuildDerivedData`, and searches it once.
    private func timeVectorOpen(_ large: LargeStore, rebuild: Bool) async throws -> VectorOpen {
        var configuration = StoreConfiguration.bench
        configuration.rebuildDerivedData = rebuild
        let probe = dataset.samples[0].embedding
        let clock = ContinuousClock()
        let start = clock.now
        let store = try await MemoryStore.open(at: large.path, configuration: configuration)
        let opened = await store.statistics()
        let returned = (clock.now - start).seconds
        let hits = try await store.search(vector: probe, k: 1)
        let ready = (clock.now - start).seconds
        let search = try await Timing.seconds { _ = try await store.search(vector: probe, k: 1) }
        let statistics = await store.statistics()
        let recovery = await store.recovery
        let close = try await Timing.seconds { try await store.close() }
        guard opened.memoryCount == large.count, statistics.indexedVectors == large.count, hits.count == 1 else {
            throw BenchmarkFailure(description: "figure 7: the store opened with \(opened.memoryCount) memories and \(statistics.indexedVectors ?? -1) vectors "
                                   + "(\(hits.count) search hits), expected \(large.count)")
        }
        if rebuild {
            guard recovery.rebuiltVectorIndexReason != nil else { throw BenchmarkFailure(description: "figure 7: rebuildDerivedData did not rebuild the vector tier") }
        } else {
            guard recovery.rebuiltVectorIndexReason == nil, recovery.resyncedVectors == 0 else {
                throw BenchmarkFailure(description: "figure 7: the plain open did not load the vector checkpoint as it was: \(recovery.summary)")
            }
        }
        return VectorOpen(returned: returned, ready: ready, search: search, close: close, reason: recovery.rebuiltVectorIndexReason)
    }

    // MARK: Figure 9

    /// The baseline of figures 9 and 10: `Sys.readFile` + `JSONReader.parse` of every record file of the large
    /// store, one after the other in one thread; records per second.
    private mutating func rawRecordRate(_ large: LargeStore) throws -> Double {
        let directory = large.path + "/memories"
        let names = try Sys.listDirectory(directory).filter { $0.hasSuffix(".json") && !Sys.isTemporaryName($0) }
        guard names.count == large.count else { throw BenchmarkFailure(description: "figure 9: memories/ holds \(names.count) records, expected \(large.count)") }
        // Figures 3 and 4 may have dropped the page cache: read everything once, untimed, so the baseline is warm like the figures.
        let warmUp = canDropCaches == true
        if warmUp {
            Progress.say("figures 7, 9 and 10: reading all \(Format.grouped(names.count)) record files once to warm the page cache (dropped by a cold figure)")
            for name in names { _ = try Sys.readFile(directory + "/" + name) }
        }
        Progress.say("figures 9 and 10, baseline: reading and parsing all \(Format.grouped(names.count)) record files in one thread")
        var embeddings = 0
        let seconds = try Timing.seconds {
            for name in names {
                let value = try JSONReader.parse(try Sys.readFile(directory + "/" + name))
                embeddings += value["embedding"]?.arrayValue?.count ?? 0
            }
        }
        guard embeddings == names.count * Dataset.dimension else { throw BenchmarkFailure(description: "figure 9: the records hold \(embeddings) embedding values") }
        report.baselines.append("9, 10: raw read+parse = Sys.readFile + JSONReader.parse of every record file of the \(Format.grouped(names.count))-memory store "
                                + "(names from one listing of memories/), one after the other in one thread (warm page cache\(warmUp ? ", after an untimed reading pass" : ""); "
                                + "no decoding, no checks): \(Format.duration(seconds)), \(Format.rate(Double(names.count) / seconds, "records/s"))")
        return Double(names.count) / seconds
    }

    /// Figure 9: `StoreVerifier.run()` on the large store (no writer open); returns its seconds.
    private mutating func verifyLargeStore(_ large: LargeStore, rawRate: Double) throws -> Double {
        Progress.say("figure 9: verify of the \(Format.grouped(large.count))-memory store")
        let verifier = StoreVerifier(layout: StoreLayout(root: large.path))
        var result: VerifyReport?
        let cpuBefore = CPUUsage.now()
        let seconds = try Timing.seconds { result = try verifier.run() }
        let cpu = CPUUsage.now().summary(since: cpuBefore, cores: CPUUsage.cores)
        guard let result else { throw BenchmarkFailure(description: "figure 9: no verify report") }
        guard result.isConsistent, result.checkedMemories == large.count else {
            let kinds = result.counts.map { "\($0.key.rawValue) × \($0.value)" }.joined(separator: ", ")
            throw BenchmarkFailure(description: "figure 9: verify checked \(result.checkedMemories) memories and found \(result.problems.count) problems (\(kinds))")
        }
        var figure = Figure(key: "9", title: "verify \(Format.grouped(large.count)) memories", measure: .rate(unit: "records/s"),
                            engram: Double(result.checkedMemories) / seconds, baseline: rawRate, baselineName: "raw read+parse, 1 thread",
                            goal: .rateAtLeast(20_000, unit: "records/s"))
        figure.notes.append("StoreVerifier(layout:).run(), called directly (wall clock \(Format.duration(seconds)); its own report says \(Format.duration(result.seconds))): "
                            + "lists the store, reads the index and the journal, loads vector_index/, reads, parses and decodes every record on all cores "
                            + "(DispatchQueue.concurrentPerform, chunks of 256), checks each content hash and each vector against the tier "
                            + "(\(Format.grouped(result.checkedVectors)) vectors checked), then the index against the records; no problems found; warm page cache")
        figure.notes.append("while it ran, " + cpu)
        report.figures.append(figure)
        return seconds
    }

    // MARK: Figure 10

    /// Figure 10: a full `StoreRepairer.run()` of the (consistent) large store.
    private mutating func repairLargeStore(_ large: LargeStore, rawRate: Double, verifySeconds: Double) async throws {
        Progress.say("figure 10: full repair of the \(Format.grouped(large.count))-memory store")
        let repairer = StoreRepairer(layout: StoreLayout(root: large.path))
        var result: RepairReport?
        let cpuBefore = CPUUsage.now()
        let seconds = try await Timing.seconds { result = try await repairer.run() }
        let cpu = CPUUsage.now().summary(since: cpuBefore, cores: CPUUsage.cores)
        guard let result, result.before.isConsistent, result.after?.isConsistent == true else {
            throw BenchmarkFailure(description: "figure 10: repair found or left problems: before \(result?.before.problems.count ?? -1), "
                                   + "after \(result?.after?.problems.count ?? -1)")
        }
        var figure = Figure(key: "10", title: "repair \(Format.grouped(large.count)) memories (full rebuild)", measure: .rate(unit: "records/s"),
                            engram: Double(large.count) / seconds, baseline: rawRate, baselineName: "raw read+parse, 1 thread", goal: .none)
        figure.notes.append("StoreRepairer(layout:).run() on a consistent store, \(Format.duration(seconds)) in all: verify (the plan), an open that recovers "
                            + "(nothing to do) and its close, verify again (the problems to fix, under the writer lock: none), an open with "
                            + "rebuildDerivedData = true (the index, then the vector tier, rebuilt from every record, each in one thread) and its close "
                            + "(checkpoint), verify a third time; figure 9's verify alone took \(Format.duration(verifySeconds)), figure 7's rebuild open "
                            + "to first search plus its close about the rest; actions: \(result.actions.joined(separator: "; "))")
        figure.notes.append("while it ran, " + cpu)
        figure.notes.append("for context, not measured here: the Python Synthians store rebuilt its vector index at about "
                            + "\(Format.rate(Self.synthiansRebuildRate, "records/s")) on this machine")
        report.figures.append(figure)
    }
}
