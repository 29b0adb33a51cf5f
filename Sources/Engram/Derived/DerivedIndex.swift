import EngramIO

/// What every derived tier shares: data computed from the records alone, which can always be rebuilt from them.
///
/// Each one is fed the same ``DerivedChanges`` after every durable write, persists itself beside the records
/// (its own directory, files written atomically, a manifest last) at checkpoints, is loaded and caught up *by
/// version* at open (only the records whose `updated_at` differs from what it holds are re-read: nothing after a
/// clean close, the changes since its last checkpoint after a crash, everything after damage), and is rebuilt
/// from the records by repair. The store drives every tier through this interface (see ``DerivedTierSlot``),
/// so adding one — the L2 graph, the keyword index — does not grow ``MemoryStore``.
protocol DerivedIndex: AnyObject, Sendable {
    /// What it is, for logs and errors ("vector index").
    var name: String { get }
    /// Its directory in the store (`vector_index`).
    static var directoryName: String { get }

    /// An empty index (before a rebuild from the records).
    static func empty(_ context: DerivedIndexContext) -> Self
    /// Loads the persisted index from `directory`. Nil and the reason when its files are missing, damaged, from
    /// different checkpoints, or of another dimension or metric: the caller then rebuilds from the records.
    static func load(directory: String, context: DerivedIndexContext) -> (Self?, String?)

    /// Applies durable changes. A failure does not undo the write (the records are the truth): the caller
    /// marks the tier broken and it is rebuilt at the next open.
    func apply(_ changes: DerivedChanges) throws
    /// What it holds that disagrees with the central index (see ``DerivedDifferences``).
    func differences(from index: CentralIndex) -> DerivedDifferences
    /// Changes applied since it was last persisted.
    var changesSincePersist: Int { get }
    /// Takes over the state of an instance loaded elsewhere (the background load at open).
    func adopt(_ other: Self)
    /// Gives a freshly loaded instance what this live one knows of its surroundings before the loader computes
    /// its differences (L1: which records the L2 graph covers, so it does not read them back from disk).
    func prepare(_ loaded: Self)
    /// Writes its files into `directory` (blocking, on a pool thread): each atomically, the manifest last.
    func persist(to directory: String, journalSequence: Int64) throws

    /// Before a load at open, on the loading thread (L1: FAISS's thread count).
    static func prepareLoad(_ configuration: StoreConfiguration)
    /// Records in the open's report what loading found (rebuilt, and why; how many records were re-read).
    static func note(rebuiltReason: String?, resynced: Int, in report: inout RecoveryReport)
}

/// What a derived index needs to know about its store to load or rebuild itself.
struct DerivedIndexContext: Sendable {
    var metric: DistanceMetric
    /// The store's embedding dimension (nil: none yet).
    var dimension: Int?
    /// What the keyword index holds and how it ranks.
    var keywords = KeywordConfiguration()
}

extension DerivedIndex {
    func prepare(_ loaded: Self) {}
    static func prepareLoad(_ configuration: StoreConfiguration) {}
    static func note(rebuiltReason: String?, resynced: Int, in report: inout RecoveryReport) {}
}
