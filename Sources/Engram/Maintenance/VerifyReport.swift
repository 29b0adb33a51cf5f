import EngramJSON

/// What `verify` checked and found.
public struct VerifyReport: Sendable {
    public var problems: [VerifyProblem] = []
    /// What a crash left that the next writer open finishes by itself (not problems: nothing acknowledged is
    /// missing). Empty when a writer is active.
    public var pending: [PendingRecovery] = []
    public var checkedMemories = 0
    public var checkedAssemblies = 0
    public var checkedVectors = 0
    /// Nodes of the L2 graph in use (0: none), and how many no longer stand for their records.
    public var graphNodes = 0
    public var graphStaleNodes = 0
    public var seconds = 0.0
    /// A writer had the store open: work in flight (temp files, a lagging vector checkpoint, a partial last
    /// journal line) is expected and not reported.
    public var writerActive = false

    /// No problems. Pending recovery does not count: it is the normal state of a store right after a crash.
    public var isConsistent: Bool { problems.isEmpty }

    /// Pending items per kind, in the order of ``PendingRecovery/Kind/allCases``.
    public var pendingSummary: [(kind: PendingRecovery.Kind, count: Int)] {
        PendingRecovery.Kind.allCases.compactMap { kind in
            let count = pending.count { $0.kind == kind }
            return count == 0 ? nil : (kind, count)
        }
    }

    public var counts: [VerifyProblem.Kind: Int] {
        problems.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    public var json: JSONValue {
        var byKind = JSONObject()
        for (kind, count) in counts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { byKind[kind.rawValue] = .int(Int64(count)) }
        return .object([
            "consistent": .bool(isConsistent),
            "problem_count": .int(Int64(problems.count)),
            "counts": .object(byKind),
            "checked": .object([
                "memories": .int(Int64(checkedMemories)), "assemblies": .int(Int64(checkedAssemblies)), "vectors": .int(Int64(checkedVectors)),
                "graph_nodes": .int(Int64(graphNodes)), "graph_stale_nodes": .int(Int64(graphStaleNodes)),
            ]),
            "writer_active": .bool(writerActive),
            "seconds": .double((seconds * 1000).rounded() / 1000),
            "problems": .array(problems.map(\.json)),
            "recovery_pending": .array(pending.map(\.json)),
        ])
    }
}
