import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

/// Many writer processes on one store. Each commit runs under the commit lock (``WriterLock``); on taking it, a
/// process first catches up with what others committed since it last looked: the journal lines appended after
/// the offset it has read (O(new lines)), or — when another process checkpointed (`memory_index.json` replaced)
/// — the new index and journal. Its index, caches, duplicate map and derived tiers then see every other
/// process's acknowledged writes, so its version checks (`expectedUpdatedAt`) hold across processes.
extension MemoryStore {
    /// Takes (or joins) the commit lock and catches up. No-op for a read-only store.
    func holdStoreLock(_ operation: String) async throws {
        guard let lock else { return }
        let clock = ContinuousClock()
        while true {
            if sharedLock.holders > 0, !sharedLock.acquiring, sharedLock.since.map({ clock.now - $0 < .milliseconds(50) }) ?? true {
                sharedLock.holders += 1
                return
            }
            if sharedLock.holders == 0, !sharedLock.acquiring { break }
            await withCheckedContinuation { sharedLock.waiters.append($0) }
        }
        sharedLock.acquiring = true
        defer {
            sharedLock.acquiring = false
            wakeLockWaiters()
        }
        try await lock.acquire(operation: operation, timeout: configuration.busyTimeout)
        do {
            try await catchUpWithOtherWriters(operation: operation)
        } catch {
            lock.release()
            throw error
        }
        sharedLock.holders = 1
        sharedLock.since = clock.now
    }

    func releaseStoreLock() {
        guard let lock, sharedLock.holders > 0 else { return }
        sharedLock.holders -= 1
        guard sharedLock.holders == 0 else { return }
        lock.release(unfinished: damaged != nil)
        sharedLock.since = nil
        wakeLockWaiters()
        if !sharedLock.foreignTouched.isEmpty || !sharedLock.foreignRemoved.isEmpty {
            let previous = sharedLock.feeding
            sharedLock.feeding = Task {
                await previous?.value
                await self.drainForeignChanges()
            }
        }
    }

    /// Feeds the derived tiers what other processes changed (see ``SharedLockState/foreignTouched``), after any
    /// feed already running: when this returns, the tiers hold every change this process has caught up with.
    func feedForeignChanges() async {
        if let feeding = sharedLock.feeding { await feeding.value }
        await drainForeignChanges()
    }

    private func drainForeignChanges() async {
        let touched = sharedLock.foreignTouched, removed = sharedLock.foreignRemoved
        guard !touched.isEmpty || !removed.isEmpty else { return }
        sharedLock.foreignTouched = []
        sharedLock.foreignRemoved = []
        // The records are read through `memory(_:)`, whose refresh must not wait for this very feed.
        await MemoryStore.$feedingDerived.withValue(true) { await feedDerived(touched: touched, removed: removed) }
    }

    /// Set while a task feeds other processes' changes to the derived tiers.
    @TaskLocal static var feedingDerived = false

    private func wakeLockWaiters() {
        let waiters = sharedLock.waiters
        sharedLock.waiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Brings this store up to date with what other writer processes committed since its last commit (a
    /// long-lived writer — an MCP server — that mostly reads). Reads do this by themselves when the files
    /// changed; call it to be sure before a read that must see another process's latest write.
    public func refresh() async throws {
        guard lock != nil else { return }
        try checkOpen("refresh")
        try await holdStoreLock("refresh")
        releaseStoreLock()
        await feedForeignChanges()
    }

    /// The catch-up alone, without feeding the search tiers (the benchmark's figure 22).
    package func catchUpForBenchmark() async throws {
        try await holdStoreLock("refresh")
        releaseStoreLock()
    }

    /// Before a read in a writer process: two `stat`s; when another process committed or checkpointed since this
    /// one last looked, catch up (under the lock, which waits at most for a commit in flight). Skipped while
    /// this process holds or is taking the lock (it is then current, or catching up already).
    func refreshIfChanged() async throws {
        guard lock != nil, journal != nil, sharedLock.holders == 0, !sharedLock.acquiring, !MemoryStore.feedingDerived else { return }
        var st = stat()
        let journalSize = lstat(layout.journalPath, &st) == 0 ? Int(st.st_size) : 0
        if journalSize != journalOffset || IndexFileIdentity(path: layout.indexPath) != indexIdentity {
            try await holdStoreLock("refresh")
            releaseStoreLock()
        }
        await feedForeignChanges()
    }

    /// Records the index file and journal length this process's state corresponds to (holding the lock).
    func noteFilesSeen() {
        indexIdentity = IndexFileIdentity(path: layout.indexPath)
        var st = stat()
        journalOffset = lstat(layout.journalPath, &st) == 0 ? Int(st.st_size) : 0
    }

    /// What another process changed since this one last looked.
    private enum ForeignChanges: Sendable {
        case none
        case lines([JournalOperation], end: Int)
        case checkpointed
    }

    /// Brings this process's state up to the files (holding the lock).
    func catchUpWithOtherWriters(operation: String) async throws {
        guard journal != nil else { return }
        let layout = self.layout
        let offset = journalOffset
        let known = indexIdentity
        let found = try await engine.loop.run { () throws -> ForeignChanges in
            if IndexFileIdentity(path: layout.indexPath) != known { return .checkpointed }
            return try MemoryStore.readJournal(layout: layout, from: offset, operation: operation)
        }
        switch found {
        case .none:
            return
        case .checkpointed:
            try await reloadAfterForeignCheckpoint(operation: operation)
            await journal?.resynchronize()
        case .lines(let operations, let end):
            // The file as it now is (others' lines, a torn tail cut off): a correcting line appended by the
            // catch-up, or a failed append of ours, is measured from here.
            journalOffset = end
            await journal?.resynchronize()
            try await applyForeign(operations, operation: operation)
        }
    }

    /// The journal lines after `offset`. A torn last line is an append of a process that died holding the lock
    /// (never acknowledged): it is cut off here, so the next line follows a whole one. A bad line followed by
    /// good ones is damage.
    private static func readJournal(layout: StoreLayout, from offset: Int, operation: String) throws(EngramError) -> ForeignChanges {
        let path = layout.journalPath
        var st = stat()
        guard lstat(path, &st) == 0 else { return offset == 0 ? .none : .checkpointed }
        let size = Int(st.st_size)
        if size == offset { return .none }
        if size < offset { return .checkpointed }  // emptied by a checkpoint whose index we have not seen: reload
        let fd = try Sys.open(path, O_RDONLY | O_NOFOLLOW, operation: operation)
        defer { Sys.close(fd) }
        var bytes = [UInt8](repeating: 0, count: size - offset)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw EngramError.system("pread", errno: errno, path: path, operation: operation)
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(bytes.count - done)
        let contents = Journal.parse(bytes)
        if let line = contents.corruptLine {
            throw EngramError(code: .corrupt, message: "the journal is damaged at line \(line) after the part this process has read", operation: operation,
                              path: path, remedy: "close every process using the store and run `engram repair`")
        }
        var operations: [JournalOperation] = []
        for entry in contents.entries {
            guard let op = entry.operation else {
                throw EngramError(code: .corrupt, message: "the journal has a line this version cannot read", operation: operation, path: path,
                                  remedy: "use the same Engram version in every process writing this store")
            }
            operations.append(op)
        }
        let end = offset + contents.validByteCount
        if contents.tornTail {
            let wfd = try Sys.open(path, O_WRONLY | O_NOFOLLOW, operation: operation)
            defer { Sys.close(wfd) }
            if ftruncate(wfd, off_t(end)) != 0 { throw EngramError.system("ftruncate", errno: errno, path: path, operation: operation) }
            try Sys.fsync(wfd, path: path, operation: operation)
        }
        return .lines(operations, end: end)
    }

    /// Applies other processes' journal operations: index, caches, duplicate map and membership at once; the
    /// derived tiers after the lock is released (see ``releaseStoreLock()``).
    ///
    /// Every line read here is committed: it carries its records, and a torn tail was cut off. A holder that
    /// released normally left the record files as its lines say. One that died (or could not complete its
    /// files) may have left a line whose files were never written, renamed or unlinked: they are finished from
    /// the journal here, durably, as open would — O(records the new lines touch), and only in that case.
    private func applyForeign(_ operations: [JournalOperation], operation: String) async throws {
        var touched: [(kind: RecordKind, id: String)] = []
        var removed: [(kind: RecordKind, id: String)] = []
        let layout = self.layout
        let fresh = operations.filter { $0.sequence > sequence }
        if lock?.previousHolderDied == true {
            let finishing = JournalOperation.lastChanges(fresh)
            _ = try await engine.loop.run { () throws in try StoreOpener.finishCommitted(finishing, layout: layout, operation: operation) }
        }
        for op in fresh {
            switch op {
            case .put(_, let items):
                for item in items {
                    if let entry = item.memory {
                        setIndexEntry(memory: item.id, entry)
                        memoryCache.removeValue(for: item.id)
                    } else if let entry = item.assembly {
                        setIndexEntry(assembly: item.id, entry)
                        assemblyCache.removeValue(for: item.id)
                    }
                    touched.append((item.kind, item.id))
                }
            case .delete(_, let kind, let id):
                switch kind {
                case .memory:
                    setIndexEntry(memory: id, nil)
                    memoryCache.removeValue(for: id)
                case .assembly:
                    setIndexEntry(assembly: id, nil)
                    assemblyCache.removeValue(for: id)
                }
                removed.append((kind, id))
            }
            sequence = max(sequence, op.sequence)
        }
        guard !touched.isEmpty || !removed.isEmpty else { return }
        sharedLock.foreignTouched += touched
        sharedLock.foreignRemoved += removed
        noteChanges(touched.count + removed.count)
    }

    /// Another process checkpointed (rewrote `memory_index.json`, emptied the journal): load its index and
    /// journal as open does, and apply what differs from this process's index. O(store) — once per foreign
    /// checkpoint, which happens every `max(flushThreshold, count / 64)` changes.
    private func reloadAfterForeignCheckpoint(operation: String) async throws {
        let layout = self.layout
        let configuration = self.configuration
        let fresh = try await engine.loop.run { () throws -> CentralIndex in
            var opener = StoreOpener(layout: layout, configuration: configuration)
            return try opener.reloadIndex()
        }
        var touched: [(kind: RecordKind, id: String)] = []
        var removed: [(kind: RecordKind, id: String)] = []
        for (id, entry) in fresh.memories where index.memories[id]?.updatedAt != entry.updatedAt { touched.append((.memory, id)) }
        for (id, _) in index.memories where fresh.memories[id] == nil { removed.append((.memory, id)) }
        for (id, entry) in fresh.assemblies where index.assemblies[id]?.updatedAt != entry.updatedAt { touched.append((.assembly, id)) }
        for (id, _) in index.assemblies where fresh.assemblies[id] == nil { removed.append((.assembly, id)) }
        index = fresh
        sequence = max(sequence, fresh.journalSequence)
        membership = [:]
        for (assemblyID, entry) in index.assemblies {
            for member in entry.memoryIds { membership[member, default: []].insert(assemblyID) }
        }
        memoriesByContentHash = nil
        for (kind, id) in touched + removed {
            if kind == .memory { memoryCache.removeValue(for: id) } else { assemblyCache.removeValue(for: id) }
        }
        noteFilesSeen()
        changesSinceCheckpoint = 0
        sharedLock.foreignTouched += touched
        sharedLock.foreignRemoved += removed
    }

    /// Feeds other processes' changes to the derived tiers, reading the records as they are now (fed late, a
    /// record may have changed again since: what counts is its current state, removed or not).
    private func feedDerived(touched: [(kind: RecordKind, id: String)], removed: [(kind: RecordKind, id: String)]) async {
        var reading = touched
        var removing: [(kind: RecordKind, id: String)] = []
        for (kind, id) in removed {
            let exists = kind == .memory ? index.memories[id] != nil : index.assemblies[id] != nil
            if exists { reading.append((kind, id)) } else { removing.append((kind, id)) }
        }
        applyToDerived(await currentChanges(reading: reading, removing: removing))
    }
}
