import EngramIO
import EngramJSON

/// What opening a store found and did (``MemoryStore/recovery``).
public struct RecoveryReport: Sendable, Equatable {
    /// Journal lines applied on top of the checkpoint.
    public var replayedOperations = 0
    /// Committed writes whose temp files were renamed into place at open.
    public var rolledForward: [String] = []
    /// Stale temp files removed (writes that were never acknowledged).
    public var removedTemporaryFiles: [String] = []
    /// The index was rebuilt by reading every record, and why.
    public var rebuiltIndexReason: String?
    /// The journal ended in a partial line (an append that never completed).
    public var tornJournalTail = false
    /// Record files that could not be read or parsed (left in place; `engram repair` quarantines them).
    public var unreadableRecords: [String] = []
    /// The vector tier was rebuilt from the records, and why (its files were missing, damaged or mismatched).
    public var rebuiltVectorIndexReason: String?
    /// Vectors re-read from their records because they were missing or stale (changes since the vector checkpoint).
    public var resyncedVectors = 0
    /// The keyword index was rebuilt from the records, and why.
    public var rebuiltKeywordIndexReason: String?
    /// Records re-indexed for keyword search because the keyword index held another version of them.
    public var resyncedKeywordDocuments = 0
    /// Assemblies brought up to date at open (a member deleted or changed just before a crash).
    public var repairedAssemblies: [String] = []
    /// Whether open parsed `memory_index.json` (O(store)); false when it mapped a current `memory_index.bin`.
    public var parsedIndexJSON = false
    /// Why `memory_index.bin` was not used (missing, stale, damaged), when open parsed the JSON instead. Derived
    /// data: not a problem, and not in ``didSomething``.
    public var binaryIndexProblem: String?
    /// The previous writer closed cleanly (`.clean_shutdown`), so the listing of the record directories for stale
    /// temp files was skipped.
    public var trustedCleanShutdown = false
    /// A writer's open wrote `memory_index.bin` afresh from the parsed JSON.
    public var rewroteBinaryIndex = false
    /// Memories the replayed journal changed (their assemblies are checked at open).
    var journaledMemoryIDs: Set<String> = []
    /// A read-only open: committed writes not yet renamed, read from their temp files (nothing is renamed).
    var committedRecords = CommittedRecords()

    public var didSomething: Bool {
        replayedOperations > 0 || !rolledForward.isEmpty || !removedTemporaryFiles.isEmpty || rebuiltIndexReason != nil
            || tornJournalTail || !unreadableRecords.isEmpty || rebuiltVectorIndexReason != nil || resyncedVectors > 0
            || rebuiltKeywordIndexReason != nil || resyncedKeywordDocuments > 0
            || !repairedAssemblies.isEmpty
    }

    public var summary: String {
        var parts: [String] = []
        if let reason = rebuiltIndexReason { parts.append("rebuilt the index from the records (\(reason))") }
        if replayedOperations > 0 { parts.append("replayed \(replayedOperations) journal operations") }
        if !rolledForward.isEmpty { parts.append("completed \(rolledForward.count) committed writes") }
        if !removedTemporaryFiles.isEmpty { parts.append("removed \(removedTemporaryFiles.count) stale temp files") }
        if let reason = rebuiltVectorIndexReason { parts.append("rebuilt the vector index from the records (\(reason))") }
        if resyncedVectors > 0 { parts.append("brought \(resyncedVectors) vectors up to date from their records") }
        if let reason = rebuiltKeywordIndexReason { parts.append("rebuilt the keyword index from the records (\(reason))") }
        if resyncedKeywordDocuments > 0 { parts.append("re-indexed \(resyncedKeywordDocuments) records for keyword search") }
        if !repairedAssemblies.isEmpty { parts.append("brought \(repairedAssemblies.count) assemblies up to date with their members: \(repairedAssemblies.prefix(5).joined(separator: ", "))") }
        if tornJournalTail { parts.append("dropped a partial journal line (an unacknowledged write)") }
        if !unreadableRecords.isEmpty { parts.append("\(unreadableRecords.count) unreadable records left for `engram repair`: \(unreadableRecords.prefix(5).joined(separator: ", "))") }
        return parts.isEmpty ? "nothing to do" : parts.joined(separator: "; ")
    }
}
