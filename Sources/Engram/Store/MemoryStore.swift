import EngramIO
import EngramJSON
import Logging

/// A storage directory of memories and assemblies, opened for writing (one process at a time) or read-only.
///
/// ```swift
/// let store = try await MemoryStore.open(at: "./storage")
/// let saved = try await store.save(MemoryEntry(content: "The cat sat on the mat", embedding: vector))
/// let again = try await store.memory(saved.id)
/// try await store.close()
/// ```
///
/// Every save returns only once the record is durable (file fsynced, renamed, directory fsynced, journal line
/// fsynced). Opening reads only `memory_index.json` and replays the journal; records are read lazily and kept
/// in an LRU cache.
public actor MemoryStore {
    public nonisolated let layout: StoreLayout
    public nonisolated let configuration: StoreConfiguration
    public nonisolated var isReadOnly: Bool { configuration.readOnly }
    let engine: FileEngine
    let logger: Logger
    /// The L1 vector tier (nil when opened with `loadVectorTier: false`).
    package nonisolated let vectors: VectorTier?
    /// The L2 graph tier (`graph_index/`), present with the vector tier; L1 holds only what it does not.
    nonisolated let graphTier: GraphTier?
    /// The keyword (BM25) tier, `keyword_index/` (nil when opened with `loadKeywordTier: false`).
    nonisolated let keywordTier: KeywordTier?
    /// Every derived tier (the vector tier among them), driven through one interface: see ``DerivedIndex``
    /// and `MemoryStore+DerivedData.swift`.
    var derivedTiers: [DerivedTierSlot] = []
    /// The child process that embeds text, when the configuration names one (see `MemoryStore+Embedding.swift`).
    nonisolated let embedder: Embedder?
    /// The background L2 graph build (see `MemoryStore+GraphRebuild.swift`).
    var graphBuild = GraphBuildState()

    var index: CentralIndex
    /// memory id → the assemblies that list it.
    var membership: [String: Set<String>] = [:]
    /// content hash → the memories with that content; built on first use by the duplicate policy (see
    /// `MemoryStore+Duplicates.swift`), then kept current by every write.
    var memoriesByContentHash: [String: [String]]?
    var journal: AppendOnlyFile?
    /// `.lock`: the commit lock shared with other writer processes, held per commit (see ``WriterLock``).
    var lock: WriterLock?
    /// This process's holding of the commit lock (its concurrent commits share one holding).
    var sharedLock = SharedLockState()
    /// How far this process has read the journal, and which `memory_index.json` its index is based on: what
    /// the catch-up before each commit compares with the files (see `MemoryStore+SharedWriters.swift`).
    var journalOffset = 0
    var indexIdentity: IndexFileIdentity?
    var memoryCache: LRUCache<String, MemoryEntry>
    var assemblyCache: LRUCache<String, MemoryAssembly>
    var sequence: Int64
    var changesSinceCheckpoint = 0
    var isClosed = false
    var lastIndexBackup: Timestamp?
    var checkpointTask: Task<Void, Never>?
    /// Set when a write failed in a way that left the journal and the records needing reconciliation.
    var damaged: EngramError?
    /// What open found and did.
    public internal(set) var recovery = RecoveryReport()

    // The write gate: per-id exclusion, and the checkpoint barrier.
    var busyIDs: Set<String> = []
    var gateWaiters: [CheckedContinuation<Void, Never>] = []
    var activeWrites = 0
    /// Operations that write a memory and then the assemblies listing it: no checkpoint may fall between the
    /// two, so that after a crash the journal still names the memory and open can finish the assemblies.
    var compoundOperations = 0
    var compoundWaiters: [CheckedContinuation<Void, Never>] = []
    var checkpointing = false
    /// Writes are paused (a point-in-time backup is linking files).
    var paused = false
    var drainWaiters: [CheckedContinuation<Void, Never>] = []

    init(layout: StoreLayout, configuration: StoreConfiguration, index: CentralIndex, vectors: VectorTier?) {
        self.vectors = vectors
        self.graphTier = vectors.map { _ in GraphTier(metric: configuration.metric) }
        self.keywordTier = configuration.loadKeywordTier
            ? KeywordTier.empty(DerivedIndexContext(metric: configuration.metric, dimension: nil, keywords: configuration.keywords)) : nil
        self.layout = layout
        self.configuration = configuration
        self.engine = FileEngine(loop: configuration.eventLoop)
        self.logger = configuration.logger
        self.embedder = configuration.embedder.map(Embedder.init)
        self.index = index
        self.sequence = index.journalSequence
        self.memoryCache = LRUCache(capacity: configuration.cacheCapacity)
        self.assemblyCache = LRUCache(capacity: configuration.cacheCapacity)
        // The graph first: the vector tier's catch-up asks it which records it covers.
        if let graphTier { derivedTiers.append(DerivedTierSlot(index: graphTier)) }
        if let vectors {
            vectors.layer(over: graphTier)
            derivedTiers.append(DerivedTierSlot(index: vectors))
        }
        if let keywordTier { derivedTiers.append(DerivedTierSlot(index: keywordTier)) }
    }

    /// Opens (and, with `createIfMissing`, creates) the store at `path`.
    ///
    /// A writer takes the commit lock of `.lock` for the span of its recovery (waiting up to
    /// ``StoreConfiguration/busyTimeout`` for another writer's commit), replays the journal, rolls forward
    /// committed writes, removes stale temp files and, with `autoRepair`, rebuilds a missing or unreadable index
    /// from the records — then releases it: any number of processes can have a store open for writing, each
    /// taking the lock per commit. A read-only open takes no lock and changes nothing.
    public static func open(at path: String, configuration: StoreConfiguration = StoreConfiguration()) async throws -> MemoryStore {
        let layout = StoreLayout(root: path)
        let prepared = try await configuration.eventLoop.run { () -> (CentralIndex, WriterLock?, RecoveryReport, Bool) in
            var opener = StoreOpener(layout: layout, configuration: configuration)
            return try opener.prepare()
        }
        let (index, lock, report, needsCheckpoint) = prepared
        let store = MemoryStore(layout: layout, configuration: configuration, index: index,
                                vectors: configuration.loadVectorTier ? VectorTier(metric: configuration.metric) : nil)
        await store.finishOpening(lock: lock, report: report, needsCheckpoint: needsCheckpoint)
        try await store.startJournalIfWriter(needsCheckpoint: needsCheckpoint)
        await store.finishRecovery()
        await store.startDerivedLoads(index: await store.index)
        if !configuration.readOnly { try await store.reconcileAssemblies(journaled: report.journaledMemoryIDs) }
        return store
    }

    private func finishOpening(lock: WriterLock?, report: RecoveryReport, needsCheckpoint: Bool) {
        self.lock = lock
        // Open's recovery holds the commit lock (taken by the opener); the checkpoint it may need joins it.
        if lock != nil {
            sharedLock.holders = 1
            noteFilesSeen()
        }
        self.recovery = report
        for (assemblyID, entry) in index.assemblies {
            for member in entry.memoryIds { membership[member, default: []].insert(assemblyID) }
        }
        if report.didSomething {
            logger.notice("engram: recovered store at \(layout.root): \(report.summary)")
        }
    }

    private func startJournalIfWriter(needsCheckpoint: Bool) async throws {
        guard !configuration.readOnly else { return }
        do {
            journal = try AppendOnlyFile(path: layout.journalPath, loop: configuration.eventLoop)
            if needsCheckpoint { try await checkpoint(force: true, writeVectors: derivedNeedsWrite) }
        } catch {
            lock?.close()
            lock = nil
            throw error
        }
    }

    /// The end of open's recovery: the commit lock is released (an idle open store holds none).
    private func finishRecovery() {
        guard lock != nil else { return }
        noteFilesSeen()
        releaseStoreLock()
    }

    /// Stops the embedder child (if one runs), checkpoints the index (when anything changed), closes the journal
    /// and releases the lock. Idempotent.
    public func close() async throws {
        guard !isClosed else { return }
        await embedder?.stop()
        defer {
            isClosed = true
            journal?.close()
            journal = nil
            lock?.close()
            lock = nil
        }
        if let task = checkpointTask { await task.value }
        await waitForDerivedLoads()
        if !configuration.readOnly, damaged == nil {
            try await checkpoint(force: false, writeVectors: true)
            // Every write finished without leaving a temp file, and no other writer process is open (one that is
            // could still die mid-write): the next writer may skip the scan for temp files. Under the commit lock,
            // so that a writer opening meanwhile either sees the mark (and consumes it) or is seen here.
            if activeWrites == 0, busyIDs.isEmpty, damaged == nil, let lock {
                let layout = self.layout
                do {
                    try await holdStoreLock("close store")
                    defer { releaseStoreLock() }
                    if !lock.othersPresent() { try await engine.loop.run { try StoreOpener.markCleanShutdown(layout) } }
                } catch {
                    logger.warning("engram: could not mark the clean close (the next open scans for temp files): \(error)")
                }
            }
        }
    }

    // MARK: Write gate

    /// Waits until none of `ids` is being written and no checkpoint is running, then claims them — and takes
    /// the commit lock shared with other writer processes (catching up with what they committed meanwhile), so
    /// that whatever the caller checks next (versions, duplicates) is the store's current state.
    func beginWrite(_ ids: [String], operation: String = "write") async throws {
        while checkpointing || paused || ids.contains(where: { busyIDs.contains($0) }) {
            await withCheckedContinuation { gateWaiters.append($0) }
        }
        busyIDs.formUnion(ids)
        activeWrites += 1
        do {
            try await holdStoreLock(operation)
        } catch {
            leaveGate(ids)
            throw error
        }
    }

    /// Runs `body` with new writes held back and writes in progress finished (checkpoints still run).
    func pauseWrites(_ body: () async throws -> Void) async throws {
        // Not in the middle of a memory-then-assemblies operation (see compoundOperations).
        while paused || compoundOperations > 0 {
            if compoundOperations > 0 {
                await withCheckedContinuation { compoundWaiters.append($0) }
            } else {
                await withCheckedContinuation { gateWaiters.append($0) }
            }
        }
        paused = true
        defer {
            paused = false
            wakeGate()
        }
        while activeWrites > 0 { await withCheckedContinuation { drainWaiters.append($0) } }
        try await body()
    }

    func endWrite(_ ids: [String]) {
        releaseStoreLock()
        leaveGate(ids)
    }

    private func leaveGate(_ ids: [String]) {
        busyIDs.subtract(ids)
        activeWrites -= 1
        wakeGate()
        if activeWrites == 0 {
            let waiters = drainWaiters
            drainWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    func wakeGate() {
        let waiters = gateWaiters
        gateWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Checks

    func checkWritable(_ operation: String) throws(EngramError) {
        try checkOpen(operation)
        if configuration.readOnly {
            throw EngramError(code: .readOnlyStore, message: "the store was opened read-only", operation: operation, path: layout.root,
                              remedy: "open it without `readOnly` (only one writer process at a time)")
        }
        if let damaged {
            throw EngramError(code: damaged.code, message: "an earlier write failed and left work for recovery: \(damaged.message)",
                              operation: operation, path: layout.root, errno: damaged.errno,
                              remedy: "close and reopen the store: open finishes or undoes the failed write")
        }
    }

    func checkOpen(_ operation: String) throws(EngramError) {
        if isClosed {
            throw EngramError(code: .closed, message: "the store is closed", operation: operation, path: layout.root,
                              remedy: "open the store again")
        }
    }

    func nextSequence() -> Int64 {
        sequence += 1
        return sequence
    }

    /// A timestamp after `previous` (the optimistic-update token must change on every save).
    func nextTimestamp(after previous: Timestamp?) -> Timestamp {
        let now = Timestamp.now()
        guard let previous, now <= previous else { return now }
        return Timestamp(microseconds: previous.microseconds + 1)
    }
}
