import EngramIO
import EngramJSON
import EngramText
import Synchronization

/// The keyword tier: a BM25 index (``EngramText``'s `KeywordIndex`) over every memory's content — and the chosen
/// metadata fields and assemblies — kept in step with every write, persisted in `keyword_index/` at checkpoints
/// and memory-mapped when loaded (a reader process never parses it whole).
///
/// It is derived data like the vector and graph tiers (see ``DerivedIndex``): loaded and caught up by record
/// version at open, rebuilt from the records when its files are missing or damaged, checked by verify, rebuilt
/// by repair. Thread-safe (one mutex), so searches run outside the store's actor.
final class KeywordTier: Sendable {
    struct State: ~Copyable {
        var index: KeywordIndex
        var generation: Int64 = 0
    }

    let configuration: KeywordConfiguration
    let state: Mutex<State>

    init(configuration: KeywordConfiguration, index: sending KeywordIndex = KeywordIndex(), generation: Int64 = 0) {
        self.configuration = configuration
        state = Mutex(State(index: index, generation: generation))
    }

    /// A document's key: the record kind's letter and the id (`m:<id>`, `a:<id>`).
    static func key(_ kind: RecordKind, _ id: String) -> String { (kind == .memory ? "m:" : "a:") + id }

    static func record(of key: String) -> (kind: RecordKind, id: String)? {
        guard key.count > 2 else { return nil }
        let id = String(key.dropFirst(2))
        if key.hasPrefix("m:") { return (.memory, id) }
        if key.hasPrefix("a:") { return (.assembly, id) }
        return nil
    }

    /// The text indexed for a memory: its content, then the configured metadata fields' values.
    func text(of memory: MemoryEntry) -> String {
        guard !configuration.metadataFields.isEmpty else { return memory.content }
        var text = memory.content
        for field in configuration.metadataFields {
            if let value = memory.metadata[field] { KeywordTier.appendText(of: value, to: &text) }
        }
        return text
    }

    func text(of assembly: MemoryAssembly) -> String {
        ([assembly.name, assembly.description] + assembly.keywords + assembly.tags).joined(separator: "\n")
    }

    private static func appendText(of value: JSONValue, to text: inout String) {
        switch value {
        case .string(let s): text += "\n" + s
        case .array(let values): for v in values { appendText(of: v, to: &text) }
        case .int, .double, .bool: text += "\n" + value.description
        default: break
        }
    }

    /// The best `k` documents of the wanted kinds for `query`, best first.
    func search(_ query: String, k: Int, kinds: Set<RecordKind>) -> [(kind: RecordKind, id: String, score: Float)] {
        let memories = kinds.contains(.memory), assemblies = kinds.contains(.assembly)
        let hits = state.withLock { state in
            state.index.search(query, k: k, accept: memories && assemblies ? nil : { key in memories ? key.hasPrefix("m:") : key.hasPrefix("a:") })
        }
        return hits.compactMap { hit in KeywordTier.record(of: hit.key).map { ($0.kind, $0.id, hit.score) } }
    }

    /// The BM25 score of one record for `query` (nil if it is not indexed).
    func score(_ query: String, kind: RecordKind, id: String) -> Float? {
        state.withLock { $0.index.score(query, key: KeywordTier.key(kind, id)) }
    }

    func version(of id: String, kind: RecordKind) -> Timestamp? {
        state.withLock { $0.index.version(of: KeywordTier.key(kind, id)) }.map { Timestamp(microseconds: $0) }
    }

    var count: Int { state.withLock { $0.index.count } }

    /// Every indexed record and the version it was indexed at.
    func documents() -> [(kind: RecordKind, id: String, version: Timestamp)] {
        var out: [(kind: RecordKind, id: String, version: Timestamp)] = []
        state.withLock { state in
            out.reserveCapacity(state.index.count)
            state.index.forEachDocument { key, version in
                if let (kind, id) = KeywordTier.record(of: key) { out.append((kind, id, Timestamp(microseconds: version))) }
            }
        }
        return out
    }

    /// Damage a full check of the mapped files finds (verify).
    func check() -> [String] { state.withLock { $0.index.check() } }
}
