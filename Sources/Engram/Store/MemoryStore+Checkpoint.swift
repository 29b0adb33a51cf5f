import EngramIO

extension MemoryStore {
    /// Changes after which a checkpoint is due: `flushThreshold`, or a 64th of the index when that is larger,
    /// so that rewriting the index costs O(1) per change however big the store grows.
    var checkpointInterval: Int { max(1, configuration.flushThreshold, (index.memories.count + index.assemblies.count) / 64) }

    func noteChanges(_ count: Int) {
        changesSinceCheckpoint += count
        considerGraphRebuild()
        guard changesSinceCheckpoint >= checkpointInterval, checkpointTask == nil, !configuration.readOnly else { return }
        // Off the caller's path: the save that crossed the threshold is already durable through the journal.
        checkpointTask = Task {
            do {
                try await self.checkpoint(force: false, writeVectors: false)
            } catch {
                self.logger.warning("engram: checkpoint failed (the journal keeps every change): \(error)")
            }
            self.checkpointFinished()
        }
    }

    private func checkpointFinished() { checkpointTask = nil }

    /// Writes `memory_index.json` (after keeping the previous one in `backups/`) and empties the journal.
    ///
    /// New writes wait while it runs, and it waits for writes in progress, so the checkpoint holds exactly the
    /// changes whose journal lines it makes redundant.
    public func checkpoint() async throws {
        try checkWritable("checkpoint")
        try await checkpoint(force: true, writeVectors: true)
    }

    /// Changes after which the vector tier is written too. Less often than the index: its files are large
    /// (4 bytes × dimension per vector), and a lagging tier costs only re-reading the changed records at open.
    var vectorCheckpointInterval: Int {
        // Saturating: `flushThreshold = .max` (checkpoints only at close) must not overflow.
        let tenFold = configuration.flushThreshold.multipliedReportingOverflow(by: 10)
        return max(tenFold.overflow ? Int.max : tenFold.partialValue, 1000, index.memories.count / 8)
    }

    func checkpoint(force: Bool, writeVectors: Bool) async throws {
        guard let journal, !configuration.readOnly else { return }
        // Not in the middle of a memory-then-assemblies operation (see compoundOperations): a routine checkpoint
        // waits for a later change; a forced one waits for them to finish.
        if compoundOperations > 0 && !force { return }
        // The record files written since the last checkpoint are flushed first, while writes go on, so that the
        // `syncfs` under the gate below (which stalls writes) has little left to do. Its error is not dropped: a
        // writeback error is reported once, so a failure here sends the gated step to the rewrite fallback.
        var presyncFailed = false
        if let lock, changesSinceCheckpoint > 0 {
            let root = layout.root
            do { try await engine.loop.run { () throws in try lock.syncFileSystem(root: root, operation: "checkpoint") } } catch {
                presyncFailed = true
                logger.warning("engram: syncfs failed before a checkpoint (\(error)); the journaled records will be rewritten one by one, each fsynced")
            }
        }
        // Both conditions re-checked with no suspension before taking the flag; once it is set, a compound
        // operation that starts cannot write (beginWrite waits), so none can be half done at the checkpoint.
        while compoundOperations > 0 || checkpointing {
            if compoundOperations > 0 {
                await withCheckedContinuation { compoundWaiters.append($0) }
            } else {
                await withCheckedContinuation { gateWaiters.append($0) }
            }
        }
        checkpointing = true
        defer {
            checkpointing = false
            wakeGate()
        }
        while activeWrites > 0 { await withCheckedContinuation { drainWaiters.append($0) } }
        // A backup in another process holds the gate while it links files: a checkpoint now would empty the
        // journal it relies on. Routine checkpoints wait for the next change; forced ones (close) wait.
        guard let lock else { return }
        guard lock.enterCheckpointGate(wait: force) else {
            logger.debug("engram: checkpoint postponed while a backup runs")
            return
        }
        defer { lock.leaveCheckpointGate() }
        let derivedDue = derivedPersistDue(all: writeVectors, interval: vectorCheckpointInterval)
        let journalSequence = try await checkpointIndex(force: force, derivedDue: derivedDue, journal: journal, presyncFailed: presyncFailed)
        if derivedDue, let journalSequence {
            // After the index: a tier's files are checked against the index at open, never the reverse. Not under
            // the commit lock (the tiers' files are large: other writers keep committing meanwhile), but under the
            // derived-files lock, so that two processes never interleave their files.
            try await lock.acquireDerivedFiles()
            defer { lock.releaseDerivedFiles() }
            try await persistDerived(all: writeVectors, interval: vectorCheckpointInterval, journalSequence: journalSequence)
        }
    }

    /// Writes `memory_index.json` and empties the journal, under the commit lock and caught up with the other
    /// writers: the index written holds their changes too, and no line of theirs is appended between the index
    /// and the journal's reset. Returns the journal sequence it covers (nil: nothing to do).
    private func checkpointIndex(force: Bool, derivedDue: Bool, journal: AppendOnlyFile, presyncFailed: Bool) async throws -> Int64? {
        try await holdStoreLock("checkpoint")
        defer { releaseStoreLock() }
        guard force || changesSinceCheckpoint > 0 || derivedDue else { return nil }
        index.journalSequence = sequence
        let snapshot = index
        let layout = self.layout
        let backupCount = configuration.indexBackupCount
        let due = backupDue()
        // A backup that cannot be kept (backups/ unwritable, disk full) must not stop the checkpoint: the index
        // and the journal are what keep the store correct; the backup is a convenience. Say so, naming the path.
        do {
            let backedUp = try await engine.loop.run { () -> Bool in
                guard due, backupCount > 0 else { return false }
                return try IndexBackups(layout: layout).keep(count: backupCount)
            }
            if backedUp { lastIndexBackup = .now() }
        } catch {
            lastIndexBackup = .now()  // do not retry on every checkpoint
            logger.warning("engram: could not keep a backup of memory_index.json in \(layout.backupsDirectory): \(error)")
        }
        try await makeRecordFilesDurable(knownFailed: presyncFailed)
        let bytes = snapshot.jsonBytes(lastUpdated: .now())
        try await engine.writeAtomically(PendingFile(directory: layout.root, name: CentralIndex.fileName, bytes: bytes), operation: "checkpoint index")
        await writeBinaryIndex(snapshot)
        try await journal.reset()
        noteFilesSeen()
        changesSinceCheckpoint = 0
        return snapshot.journalSequence
    }

    /// Makes every record file written since the last checkpoint durable, before the journal lines that carry
    /// them are dropped: commits rename their files in without fsync (the line is the commit point). One
    /// `syncfs` of the store's file system covers them all, whichever process wrote them (this one holds the
    /// commit lock: every commit's files are in place). Through a descriptor held since the store was opened,
    /// so that a writeback error another process's `syncfs` reported first is not missed here.
    ///
    /// If `syncfs` fails, the kernel may have dropped dirty pages it could not write, and a second call would
    /// succeed without them (PostgreSQL's fsyncgate). So a failure is never retried: every record the journal
    /// carries is rewritten through the full protocol (temp file, fsync, rename, directory fsync) from the
    /// journal itself. If that fails too, the checkpoint fails and the journal is kept whole.
    func makeRecordFilesDurable(knownFailed: Bool) async throws {
        let layout = self.layout
        guard let lock else { return }
        if !knownFailed {
            do {
                try await engine.loop.run { () throws in try lock.syncFileSystem(root: layout.root, operation: "checkpoint") }
                return
            } catch {
                logger.warning("engram: syncfs failed at a checkpoint (\(error)); rewriting the journaled records one by one, each fsynced")
            }
        }
        try await engine.loop.run { () throws in
            let last = JournalOperation.lastChanges(try Journal.read(path: layout.journalPath).entries.compactMap(\.operation))
            _ = try StoreOpener.finishCommitted(last, layout: layout, operation: "checkpoint", rewriting: true)
        }
    }

    /// Writes `memory_index.bin` from the checkpoint just written, tagged with that JSON's identity, and moves
    /// the live index onto it (its overlay empties: lookups of unchanged records go to the mapped table).
    ///
    /// After the JSON, never before: a crash in between leaves a binary form tagged with the previous JSON,
    /// which open sees is stale and ignores. A failure here is logged, not thrown: the file is derived, and the
    /// next open parses the JSON and writes it again.
    private func writeBinaryIndex(_ snapshot: CentralIndex) async {
        let layout = self.layout
        do {
            let file = try await engine.loop.run { () throws -> BinaryIndexFile in
                guard let identity = IndexFileIdentity(path: layout.indexPath) else {
                    throw EngramError(code: .io, message: "cannot stat the index just written", operation: "write binary index", path: layout.indexPath)
                }
                try BinaryIndexWriter.write(snapshot, source: identity, directory: layout.root)
                do throws(BinaryIndexFile.Unusable) {
                    return try BinaryIndexFile.open(path: layout.binaryIndexPath, matching: identity)
                } catch {
                    throw EngramError(code: .corrupt, message: "the binary index just written reads back as \(error.reason)",
                                      operation: "write binary index", path: layout.binaryIndexPath)
                }
            }
            // Writes wait for the checkpoint, so this is the common case; otherwise the overlay stays until the next.
            if index.isUnchanged(since: snapshot) { index.rebase(onto: file) }
        } catch {
            logger.warning("engram: could not write \(layout.binaryIndexPath) (open will parse memory_index.json instead): \(error)")
        }
    }

    private func backupDue() -> Bool {
        if lastIndexBackup == nil { lastIndexBackup = IndexBackups(layout: layout).newestTime() }
        guard let last = lastIndexBackup else { return true }
        return Double(Timestamp.now().microseconds - last.microseconds) / 1e6 >= configuration.backupInterval
    }
}
