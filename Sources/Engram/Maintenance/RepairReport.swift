import EngramIO
import EngramJSON

/// What `repair` did.
public struct RepairReport: Sendable {
    /// The problems found before repairing.
    public var before: VerifyReport
    /// The problems left after repairing (empty when the store is consistent).
    public var after: VerifyReport?
    /// One line per action taken, e.g. `quarantined memories/m1.json (record_unparseable)`.
    public var actions: [String] = []
    /// Where quarantined files went (`quarantine/<time>/`), if anywhere.
    public var quarantineDirectory: String?
    /// What opening the store recovered (journal replay, roll-forward, rebuilds).
    public var recovery: RecoveryReport?
    public var dryRun = false

    public var json: JSONValue {
        var o: JSONObject = [
            "dry_run": .bool(dryRun),
            "problems_found": .int(Int64(before.problems.count)),
            "plan": .array(before.problems.map(\.json)),
            "recovery_pending": .array(before.pending.map(\.json)),
            "actions": .array(actions.map { .string($0) }),
        ]
        if let after {
            o["consistent_after"] = .bool(after.isConsistent)
            o["remaining_problems"] = .array(after.problems.map(\.json))
        }
        if let quarantineDirectory { o["quarantine"] = .string(quarantineDirectory) }
        return .object(o)
    }
}
