import EngramJSON

/// One thing `verify` found wrong, with what `repair` will do about it.
public struct VerifyProblem: Sendable, Hashable {
    /// What kind of problem. The raw values are stable: scripts match on them (`jq '.problems[].kind'`).
    public enum Kind: String, Sendable, CaseIterable {
        case indexMissing = "index_missing"
        case indexUnreadable = "index_unreadable"
        case indexCountsWrong = "index_counts_wrong"
        case indexEntryWithoutFile = "index_entry_without_file"
        case indexEntryDisagrees = "index_entry_disagrees"
        case recordNotIndexed = "record_not_indexed"
        case recordUnparseable = "record_unparseable"
        case recordWrongShape = "record_wrong_shape"
        case recordNonFinite = "record_non_finite"
        case recordWrongDimension = "record_wrong_dimension"
        case recordIDMismatch = "record_id_mismatch"
        case recordHashMismatch = "record_hash_mismatch"
        case recordBadFileName = "record_bad_file_name"
        case journalDamaged = "journal_damaged"
        /// Reported as ``PendingRecovery/Kind/journalTornTail`` since verify separates pending recovery; kept
        /// so that scripts and callers matching on it still compile.
        case journalTornTail = "journal_torn_tail"
        case backupChecksumFailed = "backup_checksum_failed"
        case backupChecksumMissing = "backup_checksum_missing"
        case vectorFilesMissing = "vector_files_missing"
        case vectorFilesDamaged = "vector_files_damaged"
        case vectorMissing = "vector_missing"
        case vectorStale = "vector_stale"
        case vectorOrphan = "vector_orphan"
        case vectorMismatch = "vector_mismatch"
        /// The L2 graph fails a checksum or a structural check (or `CURRENT` names nothing): ignored by search.
        case graphDamaged = "graph_damaged"
        /// The L2 graph is of another metric or dimension than the store: ignored by search.
        case graphForeign = "graph_foreign"
        /// The L2 graph was built from another history, or most of its nodes no longer stand for their records.
        case graphStale = "graph_stale"
        /// The vector index holds a version newer than its record's (vectors come only from durable records).
        case vectorAhead = "vector_ahead"
        /// A committed batch's journal line promises a record version that is neither in the record file nor in a
        /// complete temp file (a batch's temp files are fsynced before its line: the write was lost afterwards).
        case journalWriteLost = "journal_write_lost"
        /// The keyword index's files fail their checksum or a structural check: open rebuilds it from the records.
        case keywordFilesDamaged = "keyword_files_damaged"
        /// The keyword index holds a version newer than its record's (documents come only from durable records).
        case keywordAhead = "keyword_ahead"
        case assemblyMissingMember = "assembly_missing_member"
        case assemblyCompositeStale = "assembly_composite_stale"
        case temporaryFile = "temporary_file"
        case foreignFile = "foreign_file"
        case symbolicLink = "symbolic_link"

        /// Problems whose record file `repair` moves to `quarantine/`.
        var quarantinesRecord: Bool {
            [.recordUnparseable, .recordWrongShape, .recordNonFinite, .recordWrongDimension, .recordIDMismatch, .recordBadFileName].contains(self)
        }
    }

    public var kind: Kind
    /// The file concerned, relative to the store (e.g. `memories/m1.json`).
    public var path: String?
    public var id: String?
    public var detail: String
    /// What `engram repair` will do.
    public var repair: String

    public init(kind: Kind, path: String? = nil, id: String? = nil, detail: String, repair: String) {
        self.kind = kind
        self.path = path
        self.id = id
        self.detail = detail
        self.repair = repair
    }

    public var json: JSONValue {
        var o: JSONObject = ["kind": .string(kind.rawValue)]
        if let path { o["path"] = .string(path) }
        if let id { o["id"] = .string(id) }
        o["detail"] = .string(detail)
        o["repair"] = .string(repair)
        return .object(o)
    }
}
