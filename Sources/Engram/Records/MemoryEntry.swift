import EngramJSON

/// One memory (SPEC §2): a text, its embedding, scores and free-form metadata. Stored as
/// `memories/<id>.json`, pretty-printed, one object.
public struct MemoryEntry: Sendable, Equatable {
    public var id: String
    public var content: String
    /// float32 values; every memory of a store has the store's dimension. `nil` for a text-only memory.
    public var embedding: [Float]?
    public var createdAt: Timestamp
    /// Set by the store on every save; strictly increasing per record (the optimistic-update token).
    public var updatedAt: Timestamp
    /// Relevance in [0, 1].
    public var quickrecalScore: Double
    public var metadata: JSONObject
    /// `xxh3:<16 hex>` of `content`, recomputed by the store on save.
    public var contentHash: String
    public var schemaVersion: Int
    public var accessCount: Int64?
    public var lastAccessTime: String?
    public var embeddingModel: String?
    /// Fields this version of Engram does not know, kept and written back unchanged (SPEC §2).
    public var extraFields: JSONObject
    /// Whether `id` was generated rather than given: only such a memory is subject to the store's
    /// ``DuplicatePolicy`` (a caller that names an id means that record). Not stored; never part of equality.
    var idOrigin = IDOrigin.given

    /// Whether a memory's id was given by the caller or generated (compares equal either way, so a memory read
    /// back from disk equals the one that was saved).
    struct IDOrigin: Sendable, Equatable {
        var generated = false
        static let given = IDOrigin()
        static let generated = IDOrigin(generated: true)
        static func == (_: IDOrigin, _: IDOrigin) -> Bool { true }
    }

    /// Whether the store generated this memory's id (it was created without one): such a save is checked
    /// against the store's duplicate policy.
    public var hasGeneratedID: Bool { idOrigin.generated }

    public static let currentSchemaVersion = 1
    public static let defaultScore = 0.5

    /// A new memory. `id` defaults to a generated `mem_<32 hex>` (and the save then follows the store's
    /// ``StoreConfiguration/duplicates`` policy); timestamps are set by the store on save.
    public init(
        id: String? = nil, content: String, embedding: [Float]? = nil,
        metadata: JSONObject = [:], quickrecalScore: Double = MemoryEntry.defaultScore, embeddingModel: String? = nil
    ) {
        let now = Timestamp.now()
        self.id = id ?? RecordID.generate(prefix: "mem")
        self.idOrigin = id == nil ? .generated : .given
        self.content = content
        self.embedding = embedding
        self.createdAt = now
        self.updatedAt = now
        self.quickrecalScore = quickrecalScore
        self.metadata = metadata
        self.contentHash = ContentHash.of(content)
        self.schemaVersion = MemoryEntry.currentSchemaVersion
        self.accessCount = nil
        self.lastAccessTime = nil
        self.embeddingModel = embeddingModel
        self.extraFields = [:]
    }
}
