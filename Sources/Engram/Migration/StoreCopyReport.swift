import EngramJSON

/// What `engram migrate --to DEST` did (``StoreCopier/copy(progress:)``).
public struct StoreCopyReport: Sendable {
    public var source: String
    public var destination: String
    /// Files in the finished copy.
    public var filesCopied = 0
    /// Their total size.
    public var bytesCopied: Int64 = 0
    /// Files copied again because a writer changed them in the source during an earlier pass.
    public var filesRecopied = 0
    /// Record files whose bytes in the copy have the XXH3-64 of the source's bytes.
    public var recordsVerified = 0
    /// Every file of the copy was read back and matched the source's XXH3-64 (not only the records).
    public var filesVerified = 0
    /// The copy's counts, as the store opened from it (read-only, without repair) reports them.
    public var memoryCount = 0
    public var assemblyCount = 0
    /// Copy passes: 1 when nothing changed in the source while it was copied.
    public var passes = 0
    /// Why the copy is not an exact snapshot of the source and how its index was made to agree with its records
    /// (a writer kept changing the source, or the source's index needs repair); nil for an exact snapshot.
    public var indexReconciledReason: String?
    /// A writer held the source's lock when the copy started (another process, or this one).
    public var writerWasActive = false
    /// A `DEST.partial-migrate` left by an interrupted run was removed first.
    public var removedLeftoverPartial = false
    public var skipped: [StoreCopyPlan.Skipped] = []
    public var seconds: Double = 0

    public var json: JSONValue {
        .object([
            "source": .string(source),
            "destination": .string(destination),
            "files_copied": .int(Int64(filesCopied)),
            "bytes": .int(bytesCopied),
            "files_recopied": .int(Int64(filesRecopied)),
            "records_verified": .int(Int64(recordsVerified)),
            "files_verified": .int(Int64(filesVerified)),
            "memory_count": .int(Int64(memoryCount)),
            "assembly_count": .int(Int64(assemblyCount)),
            "passes": .int(Int64(passes)),
            "exact_snapshot": .bool(indexReconciledReason == nil),
            "index_reconciled_reason": indexReconciledReason.map { .string($0) } ?? .null,
            "writer_was_active": .bool(writerWasActive),
            "removed_leftover_partial": .bool(removedLeftoverPartial),
            "skipped": .array(skipped.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            "seconds": .double((seconds * 1000).rounded() / 1000),
        ])
    }
}
