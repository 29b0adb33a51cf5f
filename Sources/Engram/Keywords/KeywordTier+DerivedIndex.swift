import EngramIO
import EngramJSON
import EngramText

/// The keyword tier as a ``DerivedIndex``: every memory (and, when configured, every assembly) is a document
/// taken at the record's version.
extension KeywordTier: DerivedIndex {
    var name: String { "keyword index" }
    static var directoryName: String { KeywordFiles.directory }

    static func empty(_ context: DerivedIndexContext) -> Self {
        Self(configuration: context.keywords, index: KeywordIndex(parameters: BM25Parameters(k1: context.keywords.k1, b: context.keywords.b)))
    }

    static func load(directory: String, context: DerivedIndexContext) -> (KeywordTier?, String?) {
        load(directory: directory, configuration: context.keywords)
    }

    func apply(_ changes: DerivedChanges) throws {
        guard !changes.isEmpty else { return }
        // Texts are built outside the lock; only the index update holds it.
        var documents: [(key: String, version: Int64, text: String?)] = []
        documents.reserveCapacity(changes.count)
        for removal in changes.removals { documents.append((KeywordTier.key(removal.kind, removal.id), 0, nil)) }
        for upsert in changes.upserts {
            let key = KeywordTier.key(upsert.kind, upsert.id)
            if let memory = upsert.memory {
                documents.append((key, upsert.version.microseconds, text(of: memory)))
            } else if let assembly = upsert.assembly, configuration.assemblies {
                documents.append((key, upsert.version.microseconds, text(of: assembly)))
            } else {
                documents.append((key, 0, nil))
            }
        }
        state.withLock { state in
            for document in documents {
                if let text = document.text {
                    state.index.upsert(key: document.key, version: document.version, text: text)
                } else {
                    state.index.remove(key: document.key)
                }
            }
        }
    }

    func differences(from index: CentralIndex) -> DerivedDifferences {
        var held: [String: Timestamp] = [:]
        var differences = DerivedDifferences()
        for document in documents() {
            let current = document.kind == .memory ? index.memories[document.id]?.updatedAt
                : (configuration.assemblies ? index.assemblies[document.id]?.updatedAt : nil)
            if current == nil { differences.remove.append((document.kind, document.id)) }
            held[KeywordTier.key(document.kind, document.id)] = document.version
        }
        for (id, entry) in index.memories where held[KeywordTier.key(.memory, id)] != entry.updatedAt {
            differences.reload.append((.memory, id))
        }
        if configuration.assemblies {
            for (id, entry) in index.assemblies where held[KeywordTier.key(.assembly, id)] != entry.updatedAt {
                differences.reload.append((.assembly, id))
            }
        }
        return differences
    }

    static func note(rebuiltReason: String?, resynced: Int, in report: inout RecoveryReport) {
        report.rebuiltKeywordIndexReason = rebuiltReason
        report.resyncedKeywordDocuments = resynced
    }

    var changesSincePersist: Int { state.withLock { $0.index.changesSinceWrite } }

    func adopt(_ other: KeywordTier) {
        // The loaded tier's index moves here (the loader drops the loaded instance): it is handed over, not shared,
        // which the compiler cannot see through two mutexes.
        struct Handover: @unchecked Sendable { var index: KeywordIndex; var generation: Int64 }
        let moved = other.state.withLock { state -> Handover in
            let taken = state.index
            state.index = KeywordIndex(parameters: taken.parameters)
            return Handover(index: taken, generation: state.generation)
        }
        state.withLock { state in
            state.index = moved.index
            state.generation = moved.generation
        }
    }

    func persist(to directory: String, journalSequence: Int64) throws {
        try writeFiles(to: directory, journalSequence: journalSequence)
    }
}
