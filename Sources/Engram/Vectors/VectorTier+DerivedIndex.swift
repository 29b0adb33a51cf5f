import EngramIO
import EngramVector

/// The L1 vector tier as a ``DerivedIndex``: it keeps each record's vector (a memory's embedding, an assembly's
/// composite) at the version it was taken from.
extension VectorTier: DerivedIndex {
    var name: String { "vector index" }
    static var directoryName: String { "vector_index" }

    static func empty(_ context: DerivedIndexContext) -> Self { Self(metric: context.metric) }

    static func load(directory: String, context: DerivedIndexContext) -> (VectorTier?, String?) {
        load(directory: directory, metric: context.metric, dimension: context.dimension)
    }

    /// A record without a vector (or whose vector was left out) is a removal: the tier holds vectors only.
    func apply(_ changes: DerivedChanges) throws {
        var upserts: [(kind: RecordKind, id: String, vector: [Float], version: Timestamp)] = []
        var removals = changes.removals
        upserts.reserveCapacity(changes.upserts.count)
        for upsert in changes.upserts {
            if let vector = upsert.vector { upserts.append((upsert.kind, upsert.id, vector, upsert.version)) } else { removals.append((upsert.kind, upsert.id)) }
        }
        try apply(upserts: upserts, removals: removals)
    }

    func differences(from index: CentralIndex) -> DerivedDifferences {
        let (reload, remove) = vectorDifferences(from: index)
        return DerivedDifferences(reload: reload.map { (kind: $0.0, id: $0.1) }, remove: remove.map { (kind: $0.0, id: $0.1) })
    }

    static func prepareLoad(_ configuration: StoreConfiguration) { try? FaissIndex.setThreadCount(configuration.searchThreads) }

    static func note(rebuiltReason: String?, resynced: Int, in report: inout RecoveryReport) {
        report.rebuiltVectorIndexReason = rebuiltReason
        report.resyncedVectors = resynced
    }

    /// The loaded tier answers for the same graph as this one.
    func prepare(_ loaded: VectorTier) { loaded.layer(over: lower.withLock { $0 }) }

    func persist(to directory: String, journalSequence: Int64) throws {
        try VectorTier.write(try snapshot(journalSequence: journalSequence), to: directory)
    }
}
