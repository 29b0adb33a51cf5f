import EngramJSON

/// A named group of memories (SPEC §2), stored as `assemblies/<id>.json`.
public struct MemoryAssembly: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    /// The members, by id. Every one must exist when the assembly is saved.
    public var memoryIds: [String]
    /// The mean of the members' embeddings, computed by the store on save (nil when no member has one).
    public var compositeEmbedding: [Float]?
    public var keywords: [String]
    public var tags: [String]
    public var metadata: JSONObject
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var schemaVersion: Int
    /// Fields this version of Engram does not know, kept and written back unchanged.
    public var extraFields: JSONObject

    public init(
        id: String = RecordID.generate(prefix: "asm"), name: String, description: String = "", memoryIds: [String] = [],
        keywords: [String] = [], tags: [String] = [], metadata: JSONObject = [:]
    ) {
        let now = Timestamp.now()
        self.id = id
        self.name = name
        self.description = description
        self.memoryIds = memoryIds
        self.compositeEmbedding = nil
        self.keywords = keywords
        self.tags = tags
        self.metadata = metadata
        self.createdAt = now
        self.updatedAt = now
        self.schemaVersion = MemoryEntry.currentSchemaVersion
        self.extraFields = [:]
    }
}
