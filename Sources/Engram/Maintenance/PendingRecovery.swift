import EngramJSON

/// Work a crash left that the next writer open finishes by itself: `verify` reports it apart from the problems,
/// calmly, and it does not make a store inconsistent.
///
/// After `kill -9` of a writer the store holds every acknowledged write, but not yet in its final form: temp
/// files of the write that was in flight, journal lines the index does not include yet, vectors older than their
/// records. Calling these "problems" would tell a user something is wrong when nothing is, so `verify` replays
/// the recovery in memory and lists each of these here, with what the next open does about it.
public struct PendingRecovery: Sendable, Hashable {
    /// What is pending. The raw values are stable: scripts match on them (`jq '.recovery_pending[].kind'`).
    /// Where a pending item used to be reported as a ``VerifyProblem/Kind`` it keeps that name.
    public enum Kind: String, Sendable, CaseIterable {
        /// A temp file of a write that was never acknowledged (removed at open).
        case temporaryFile = "temporary_file"
        /// A complete temp file of a committed write whose rename did not happen (renamed into place at open).
        case committedWriteNotRenamed = "committed_write_not_renamed"
        /// A single save's journal line whose record never reached the disk: its line and its temp file are
        /// written concurrently, so the save was never acknowledged (the line replays as a no-op).
        case unacknowledgedWrite = "unacknowledged_write"
        /// A journal line carries a record (or deletes it) but the record file does not say so yet: record files
        /// become durable only at checkpoints, so a power cut can leave one missing, cut off, older, or deleted
        /// yet present (rewritten from the journal line, or unlinked, at open).
        case recordBehindJournal = "record_behind_journal"
        /// The journal's last line is incomplete: an append cut off by the crash, never acknowledged (dropped).
        case journalTornTail = "journal_torn_tail"
        /// Journal lines after the index's checkpoint: the index is behind (replayed at open).
        case journalReplay = "journal_replay"
        /// The vector index holds an older version of the record's vector (re-read at open).
        case vectorStale = "vector_stale"
        /// A record with an embedding has no vector yet (added at open).
        case vectorMissing = "vector_missing"
        /// A vector of a deleted record or of one without an embedding (removed at open).
        case vectorOrphan = "vector_orphan"
        /// The vector index was never checkpointed, or a checkpoint of it was cut off between its files (rebuilt
        /// from the records at open).
        case vectorCheckpointPending = "vector_checkpoint_pending"
        /// An assembly not yet brought up to date with a member changed or deleted just before the crash.
        case assemblyBehindMembers = "assembly_behind_members"
        /// The keyword index lags the records (changes since its last checkpoint, or never checkpointed): open
        /// re-indexes those records.
        case keywordBehind = "keyword_behind"

        /// A short phrase for `count` items of this kind, for the human summary.
        public func summary(_ count: Int) -> String {
            switch self {
            case .temporaryFile: "\(count) temp file\(count == 1 ? "" : "s") of an unacknowledged write"
            case .committedWriteNotRenamed: "\(count) record\(count == 1 ? "" : "s") of a committed write still in temp files"
            case .unacknowledgedWrite: "\(count) journaled save\(count == 1 ? "" : "s") that never reached the disk (never acknowledged)"
            case .recordBehindJournal: "\(count) record file\(count == 1 ? "" : "s") behind the journal lines that carry \(count == 1 ? "it" : "them")"
            case .journalTornTail: "a partial last journal line (never acknowledged)"
            case .journalReplay: "the index is behind the journal"
            case .vectorStale, .vectorMissing: "\(count) vector\(count == 1 ? "" : "s") behind \(count == 1 ? "its record" : "their records")"
            case .vectorOrphan: "\(count) vector\(count == 1 ? "" : "s") of deleted or unembedded records"
            case .vectorCheckpointPending: "the vector index files are not from a complete checkpoint"
            case .keywordBehind: "the keyword index behind \(count == 1 ? "a record" : "some records")"
            case .assemblyBehindMembers: "\(count) assembl\(count == 1 ? "y" : "ies") behind \(count == 1 ? "its" : "their") members"
            }
        }
    }

    public var kind: Kind
    /// The file concerned, relative to the store (e.g. `memories/.m1.json.3f2a….tmp`).
    public var path: String?
    public var id: String?
    public var detail: String
    /// What the next writer open does about it.
    public var nextOpen: String

    public init(kind: Kind, path: String? = nil, id: String? = nil, detail: String, nextOpen: String) {
        self.kind = kind
        self.path = path
        self.id = id
        self.detail = detail
        self.nextOpen = nextOpen
    }

    public var json: JSONValue {
        var o: JSONObject = ["kind": .string(kind.rawValue)]
        if let path { o["path"] = .string(path) }
        if let id { o["id"] = .string(id) }
        o["detail"] = .string(detail)
        o["next_open"] = .string(nextOpen)
        return .object(o)
    }
}
