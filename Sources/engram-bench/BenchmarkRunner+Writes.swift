import Engram
import EngramIO
import EngramJSON

/// Figures 1 and 2: durable saves through the store against a plain POSIX writer, one file at a time.
extension BenchmarkRunner {
    static let sequentialCount = 500
    static let sequentialRounds = 5
    static let inFlightCount = 2_000
    static let inFlightLimit = 64
    static let batchCount = 10_000
    static let warmUpCount = 10

    /// Figure 1: saves awaited one at a time, against the POSIX baseline, in alternating rounds (so that
    /// whatever else the machine does hits both alike). Two more writers run in the same rounds to break the
    /// difference down: EngramIO's `FileEngine.writeAtomically` alone (the protocol and the loop hops, no
    /// journal, no index), and the store with checkpoints pushed past the end of the run.
    mutating func durableSavesOneAtATime() async throws {
        let n = Self.sequentialCount
        let rounds = Self.sequentialRounds
        Progress.say("figure 1: \(n) durable saves one at a time, Engram and the POSIX baseline in \(rounds) alternating rounds")
        let raw = try RawWriter(root: scratch("posix-sequential"))
        let engineDirectory = scratch("engine-sequential") + "/memories"
        try FileTree.makeDirectories(engineDirectory)
        let engine = FileEngine()
        let store = try await MemoryStore.open(at: scratch("store-sequential"), configuration: .bench)
        var noCheckpoints = StoreConfiguration.bench
        noCheckpoints.flushThreshold = .max
        let quietStore = try await MemoryStore.open(at: scratch("store-sequential-no-checkpoint"), configuration: noCheckpoints)
        let entries = (0..<n).map { dataset.memory($0, prefix: "seq") }
        let bytes = entries.map { $0.jsonBytes() }

        for i in 0..<Self.warmUpCount {
            let warm = dataset.memory(i, prefix: "warm")
            try raw.save(name: warm.id + ".json", bytes: warm.jsonBytes())
            try await engine.writeAtomically(PendingFile(directory: engineDirectory, name: warm.id + ".json", bytes: warm.jsonBytes()))
            try await store.save(warm)
            try await quietStore.save(warm)
        }
        await settle()

        var rawSeconds = 0.0
        var engineSeconds = 0.0
        var storeSeconds = 0.0
        var quietSeconds = 0.0
        // Context switches of the whole process while each writer ran: the cost of handing work between threads.
        var switches = (raw: 0, engine: 0, store: 0, quiet: 0)
        let perRound = (n + rounds - 1) / rounds
        for start in stride(from: 0, to: n, by: perRound) {
            let range = start..<min(n, start + perRound)
            var before = Timing.contextSwitches()
            rawSeconds += try Timing.seconds {
                for i in range { try raw.save(name: entries[i].id + ".json", bytes: bytes[i]) }
            }
            switches.raw += Timing.contextSwitches() - before
            before = Timing.contextSwitches()
            engineSeconds += try await Timing.seconds {
                for i in range { try await engine.writeAtomically(PendingFile(directory: engineDirectory, name: entries[i].id + ".json", bytes: bytes[i])) }
            }
            switches.engine += Timing.contextSwitches() - before
            before = Timing.contextSwitches()
            storeSeconds += try await Timing.seconds {
                for i in range { try await store.save(entries[i]) }
            }
            switches.store += Timing.contextSwitches() - before
            await settle()
            before = Timing.contextSwitches()
            quietSeconds += try await Timing.seconds {
                for i in range { try await quietStore.save(entries[i]) }
            }
            switches.quiet += Timing.contextSwitches() - before
        }
        let stored = await store.statistics().memoryCount
        try await store.close()
        try await quietStore.close()
        guard stored == n + Self.warmUpCount else { throw BenchmarkFailure(description: "figure 1: the store holds \(stored) memories, expected \(n + Self.warmUpCount)") }

        let rawRate = Double(n) / rawSeconds
        posixSavesPerSecond = rawRate
        var figure = Figure(key: "1", title: "durable saves, 1 in flight, N=\(Format.grouped(n))", measure: .rate(unit: "saves/s"),
                            engram: Double(n) / storeSeconds, baseline: rawRate, baselineName: "POSIX",
                            goal: .ratioAtLeast(2))
        func perWrite(_ seconds: Double) -> String { Format.duration(seconds / Double(n)) }
        figure.notes.append("per write: POSIX \(perWrite(rawSeconds)); FileEngine.writeAtomically alone \(perWrite(engineSeconds)) "
                            + "(\(Format.ratio(rawSeconds / engineSeconds)) of POSIX: the same protocol through the libuv loop, no journal); "
                            + "store without checkpoints \(perWrite(quietSeconds)) (\(Format.ratio(rawSeconds / quietSeconds))); "
                            + "store \(perWrite(storeSeconds)) (checkpoint — syncfs, index, journal emptied — every \(StoreConfiguration().flushThreshold) saves by default)")
        func perWriteCount(_ total: Int) -> String { Format.fixed(Double(total) / Double(n), 1) }
        figure.notes.append("context switches per write (whole process, getrusage): POSIX \(perWriteCount(switches.raw)), "
                            + "FileEngine \(perWriteCount(switches.engine)), store without checkpoints \(perWriteCount(switches.quiet)), "
                            + "store \(perWriteCount(switches.store))")
        figure.notes.append("\(rounds) alternating rounds of \(perRound) per writer, after \(Self.warmUpCount) warm-up writes each")
        report.figures.append(figure)
        report.baselines.append("1, 2a, 2b: POSIX = open(O_CREAT|O_EXCL|O_WRONLY) → write loop → fsync → close → rename → "
                                + "open dir → fsync dir → close, one file at a time in one thread, the same record bytes, into <dir>/memories/ "
                                + "(measured in figure 1: \(Format.rate(rawRate, "files/s")))")
    }

    /// Figure 2a: a task group keeping 64 saves outstanding.
    mutating func durableSavesInFlight() async throws {
        let n = Self.inFlightCount
        let limit = Self.inFlightLimit
        Progress.say("figure 2a: \(Format.grouped(n)) durable saves, \(limit) in flight")
        let store = try await MemoryStore.open(at: scratch("store-in-flight"), configuration: .bench)
        let entries = (0..<n).map { dataset.memory($0, prefix: "conc") }
        for i in 0..<Self.warmUpCount { try await store.save(dataset.memory(i, prefix: "warm")) }
        await settle()

        let seconds = try await Timing.seconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                while next < min(limit, n) {
                    let entry = entries[next]
                    group.addTask { _ = try await store.save(entry) }
                    next += 1
                }
                while try await group.next() != nil, next < n {
                    let entry = entries[next]
                    group.addTask { _ = try await store.save(entry) }
                    next += 1
                }
                try await group.waitForAll()
            }
        }
        let stored = await store.statistics().memoryCount
        try await store.close()
        guard stored == n + Self.warmUpCount else { throw BenchmarkFailure(description: "figure 2a: the store holds \(stored) memories, expected \(n + Self.warmUpCount)") }

        var figure = Figure(key: "2a", title: "durable saves, \(limit) in flight, N=\(Format.grouped(n))", measure: .rate(unit: "saves/s"),
                            engram: Double(n) / seconds, baseline: try baselineRate(), baselineName: "POSIX", goal: .ratioAtLeast(6))
        figure.notes.append("\(Format.duration(seconds)) in all; each save still returns only once durable (its journal line fdatasynced, group-committed)")
        report.figures.append(figure)
    }

    /// Figure 2b: one all-or-nothing batch through `saveBatch`.
    mutating func durableBatch() async throws {
        let n = Self.batchCount
        Progress.say("figure 2b: one saveBatch of \(Format.grouped(n))")
        let store = try await MemoryStore.open(at: scratch("store-batch"), configuration: .bench)
        let entries = (0..<n).map { dataset.memory($0, prefix: "batch") }
        try await store.saveBatch((0..<Self.warmUpCount).map { dataset.memory($0, prefix: "warm") })
        await settle()

        let seconds = try await Timing.seconds {
            try await store.saveBatch(entries)
        }
        let stored = await store.statistics().memoryCount
        try await store.close()
        guard stored == n + Self.warmUpCount else { throw BenchmarkFailure(description: "figure 2b: the store holds \(stored) memories, expected \(n + Self.warmUpCount)") }

        var figure = Figure(key: "2b", title: "saveBatch of \(Format.grouped(n)), all or nothing", measure: .rate(unit: "saves/s"),
                            engram: Double(n) / seconds, baseline: try baselineRate(), baselineName: "POSIX", goal: .ratioAtLeast(6))
        figure.notes.append("\(Format.duration(seconds)) for the batch (encoding, \(Format.grouped(n)) temp files written, one journal line carrying them all and its fdatasync, renames; the files are made durable by the next checkpoint's syncfs)")
        report.figures.append(figure)
    }

    private func baselineRate() throws -> Double {
        guard let posixSavesPerSecond else { throw BenchmarkFailure(description: "figure 2 needs figure 1's baseline") }
        return posixSavesPerSecond
    }
}
