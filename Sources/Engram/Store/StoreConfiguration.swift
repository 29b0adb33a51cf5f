import EngramIO
import Logging

/// How a ``MemoryStore`` behaves. Every property documents its default.
public struct StoreConfiguration: Sendable {
    /// Open without the writer lock; every write fails with ``EngramError/Code/readOnlyStore``.
    /// Any number of read-only openers can work beside the one writer. Default: `false`.
    public var readOnly = false

    /// How many rotated copies of `memory_index.json` are kept in `backups/`. 0 keeps none. Default: 3.
    public var indexBackupCount = 3

    /// The minimum time, in seconds, between two index backups: a checkpoint keeps a copy of the index it
    /// replaces only if the newest backup is at least this old. 0 keeps one before every checkpoint. Default: 3600.
    public var backupInterval: Double = 3600

    /// How long, in seconds, a write waits for the store's commit lock while another process commits, before it
    /// fails with ``EngramError/Code/locked`` naming that process (as SQLite's `busy_timeout`). Writers take the
    /// lock per commit, so any number of processes can have a store open for writing. Default: 10.
    public var busyTimeout: Double = 10

    /// The number of changes after which the store is checkpointed (the record files written since made durable
    /// with one `syncfs`, the index rewritten, the journal emptied) at the most; large stores checkpoint less
    /// often (every `max(flushThreshold, count / 64)` changes) so that keeping the index current stays O(1) per
    /// write. The store is also checkpointed at `close()`. Lower: less journal to replay at open (each line
    /// carries its records); higher: the checkpoint's cost spread over more saves. Default: 200.
    public var flushThreshold = 200

    /// How many records (memories and assemblies each) the LRU cache keeps decoded. Default: 10,000.
    public var cacheCapacity = 10_000

    /// At open, recover without being asked: replay the journal, rebuild the index from the records when it is
    /// missing or unreadable, remove stale temp files — and log what was done. When `false`, a missing or
    /// unreadable index is an error. Default: `true`.
    public var autoRepair = true

    /// The dimension every embedding must have. `nil`: fixed by the first embedding saved. Default: `nil`.
    public var embeddingDimension: Int?

    /// How the vector tier compares vectors. Part of the store's vector files: changing it rebuilds them.
    /// Default: `.l2` (squared Euclidean distance, as FAISS's `IndexFlatL2`).
    public var metric: DistanceMetric = .l2

    /// What a save of a memory without an id of its own does when a memory with the same content exists
    /// (see ``DuplicatePolicy``). Default: `.reuse`.
    public var duplicates = DuplicatePolicy.reuse

    /// Load the vector tier at open (and keep it in sync). Tools that never search (list, get, stats) turn it
    /// off to open large stores faster; search then fails with a clear error. Default: `true`.
    public var loadVectorTier = true

    /// Load the keyword index at open (and keep it in sync): text search and hybrid search use it. Like
    /// ``loadVectorTier``, tools that never search turn it off. Default: `true`.
    public var loadKeywordTier = true

    /// What the keyword index holds (content, chosen metadata fields, assemblies) and BM25's parameters.
    public var keywords = KeywordConfiguration()

    /// FAISS/OpenBLAS threads per search. OpenMP threads busy-wait, so more than the cores you can spare
    /// slows everything down. Default: 1.
    public var searchThreads = 1

    /// When a writer builds its L2 graph in the background (`engram-graph build` as a child process). See
    /// ``GraphRebuildPolicy``: by default only stores of 20,000 memories or more get a graph.
    public var graphRebuild = GraphRebuildPolicy()

    /// Rebuild the index and the vector tier from the records at open, whatever their state (what
    /// `engram repair` does after fixing the records). O(store size). Default: `false`.
    package var rebuildDerivedData = false

    /// The command that turns text into vectors (see ``EmbedderConfiguration`` and `docs/EMBEDDER.md`). With one,
    /// saving a memory without an embedding embeds its content first (a failure saves nothing), and
    /// ``MemoryStore/embed(_:)`` works. The child process starts on the first text and stops at `close()`.
    /// Default: `nil` (memories without an embedding are saved without one).
    public var embedder: EmbedderConfiguration?

    /// Create the store (the layout of `storage-template/`) if the directory is missing or empty. Default: `true`.
    public var createIfMissing = true

    /// Where recovery and checkpoint problems are reported. Default: a logger that discards everything.
    public var logger = Logger(label: "engram", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The event loop all file I/O runs on (the process-wide shared loop). Package-internal: host programs need
    /// not know the I/O runs on libuv; tests use it to run blocking checks on the loop's pool.
    package var eventLoop: EventLoop = .shared

    public init() {}
}
