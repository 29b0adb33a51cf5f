import EngramIO

/// The known ``FormatMigration`` steps and the current format version; plans the chain of steps that takes a
/// store from its version to the current one.
public struct FormatMigrationRegistry: Sendable {
    /// The version this Engram writes (`metadata.version` of a new `memory_index.json`).
    public let currentVersion: String
    public let migrations: [any FormatMigration]

    public init(currentVersion: String, migrations: [any FormatMigration]) {
        self.currentVersion = currentVersion
        self.migrations = migrations
    }

    /// The steps this version of Engram ships: 0 → 1 (see docs/FORMAT-v0.md).
    public static let standard = FormatMigrationRegistry(currentVersion: CentralIndex().formatVersion, migrations: [FormatMigrationV0ToV1()])

    /// Every version a store can be upgraded from, and the current one.
    public var knownVersions: [String] { (migrations.map(\.fromVersion) + [currentVersion]).sorted() }

    /// The steps, in order, from `version` to ``currentVersion``; empty when `version` is current.
    ///
    /// - Throws: ``EngramError/Code/usage`` when no chain exists (a version newer than this Engram, or an
    ///   unknown one), two steps start from the same version, or the steps loop.
    public func plan(from version: String) throws(EngramError) -> [any FormatMigration] {
        var steps: [any FormatMigration] = []
        var visited: Set<String> = []
        var at = version
        while at != currentVersion {
            guard visited.insert(at).inserted else {
                throw EngramError(code: .usage, message: "the migrations loop back to version \(at)", operation: "plan upgrade",
                                  remedy: "this is a bug in the registered migrations: each step must lead towards version \(currentVersion)")
            }
            let candidates = migrations.filter { $0.fromVersion == at }
            guard candidates.count <= 1 else {
                throw EngramError(code: .usage, message: "\(candidates.count) migrations start from version \(at)", operation: "plan upgrade",
                                  remedy: "register one step per version")
            }
            guard let step = candidates.first else {
                let newer = (Int(at) ?? Int.min) > (Int(currentVersion) ?? Int.max)
                throw EngramError(code: .usage,
                                  message: newer
                                      ? "the store has format version \(at), newer than this Engram's \(currentVersion)"
                                      : "no migration from format version \(at) (this Engram upgrades versions \(knownVersions.joined(separator: ", ")) to \(currentVersion))",
                                  operation: "plan upgrade",
                                  remedy: newer ? "use the newer Engram that wrote this store" : "check memory_index.json's metadata.version")
            }
            steps.append(step)
            at = step.toVersion
        }
        return steps
    }
}
