import EngramJSON

/// What one ``FormatMigration`` step would do (survey) or did (apply).
public struct FormatMigrationStepReport: Sendable, Equatable {
    public var fromVersion: String
    public var toVersion: String
    public var description: String
    /// Record files rewritten (or, in a survey, to be rewritten).
    public var recordsRewritten = 0
    /// Record files already in the new format (left by an interrupted run), left as they are.
    public var recordsAlreadyCurrent = 0
    /// Anything the user should know, one sentence each (e.g. a record without a timestamp).
    public var notes: [String] = []

    public init(fromVersion: String, toVersion: String, description: String) {
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.description = description
    }

    public init(_ migration: any FormatMigration) {
        self.init(fromVersion: migration.fromVersion, toVersion: migration.toVersion, description: migration.description)
    }

    public var json: JSONValue {
        .object([
            "from_version": .string(fromVersion),
            "to_version": .string(toVersion),
            "description": .string(description),
            "records_rewritten": .int(Int64(recordsRewritten)),
            "records_already_current": .int(Int64(recordsAlreadyCurrent)),
            "notes": .array(notes.map { .string($0) }),
        ])
    }
}
