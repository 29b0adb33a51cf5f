import EngramIO
import EngramJSON

/// `engram --store DEST migrate --from-synthians SRC`: imports a store written by the Python "Synthians Memory
/// Core" into an Engram store.
///
/// - Reads `SRC/memories/*.json` and `SRC/assemblies/*.json` (bare NaN/±Infinity tokens tolerated, see
///   ``SynthiansJSON``), maps each record (``SynthiansRecordMapper`` documents every field), and never reads
///   the FAISS files: the store builds its vector tier from the records it is given.
/// - Ids are kept, so running the import again updates instead of duplicating; records already identical in
///   the destination are not rewritten.
/// - Memories are saved with ``MemoryStore/saveBatch(_:)`` (all-or-nothing batches), then assemblies with
///   ``MemoryStore/save(_:expectedUpdatedAt:)``, which recomputes each composite embedding from the members.
/// - A memory whose embedding cannot be stored (NaN, not numbers, another dimension than the store's) is
///   imported without one, and the report names it and says why. A record that cannot be imported at all
///   (invalid id, no content, not JSON) is skipped and reported. A failed write is a failure.
public struct SynthiansImporter: Sendable {
    public let source: String
    /// The loop whose thread pool reads the source. Default: ``EventLoop/shared``.
    package var eventLoop: EventLoop = .shared
    /// Memories per all-or-nothing batch. Default: 256.
    public var batchSize = 256

    /// Reports progress: the phase (`memories`, `assemblies`), records done, records in the phase.
    public typealias Progress = @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void
    typealias Item = SynthiansImportReport.Item
    typealias MappedMemory = SynthiansRecordMapper.MappedMemory
    typealias MappedAssembly = SynthiansRecordMapper.MappedAssembly

    public init(source: String) {
        self.source = StoreLayout(root: source).root
    }

    /// What the import would do, writing nothing (`--dry-run`). `destination`, if given (opened read-only is
    /// enough), decides the embedding dimension and which records exist already.
    public func plan(destination: MemoryStore?) async throws -> SynthiansImportReport {
        let start = ContinuousClock.now
        var report = SynthiansImportReport(source: source, destination: destination?.layout.root ?? "", dryRun: true)
        let plan = try await prepare(dimension: await destination?.embeddingDimension, into: &report)
        for memory in plan.memories {
            if let destination, await destination.containsMemory(memory.entry.id) { report.updated += 1 } else { report.created += 1 }
        }
        for assembly in plan.assemblies {
            if let destination, await destination.containsAssembly(assembly.assembly.id) { report.updated += 1 } else { report.created += 1 }
        }
        report.importedMemories = plan.memories.map(\.entry.id)
        report.importedAssemblies = plan.assemblies.map(\.assembly.id)
        report.seconds = MigrationFileSystem.seconds(since: start)
        return report
    }

    /// Imports into `store` (opened for writing). Throws only when the source cannot be read at all; failed
    /// writes are in ``SynthiansImportReport/failures``.
    public func run(into store: MemoryStore, progress: Progress? = nil) async throws -> SynthiansImportReport {
        let start = ContinuousClock.now
        var report = SynthiansImportReport(source: source, destination: store.layout.root, dryRun: false)
        let plan = try await prepare(dimension: await store.embeddingDimension, into: &report)

        var imported: [String] = []
        var done = 0
        for first in stride(from: 0, to: plan.memories.count, by: max(1, batchSize)) {
            let batch = Array(plan.memories[first..<min(plan.memories.count, first + max(1, batchSize))])
            // A record that exists but does not read (damaged) is simply overwritten by the import.
            let existing = Dictionary((try? await store.memories(batch.map(\.entry.id)))?.map { ($0.id, $0) } ?? [], uniquingKeysWith: { a, _ in a })
            var toSave: [MemoryEntry] = []
            for memory in batch {
                if let old = existing[memory.entry.id] {
                    if SynthiansImporter.same(old, memory.entry) { report.unchanged += 1; imported.append(memory.entry.id) } else { toSave.append(memory.entry) }
                } else {
                    toSave.append(memory.entry)
                }
            }
            if !toSave.isEmpty {
                var existed: Set<String> = []
                for memory in toSave where await store.containsMemory(memory.id) { existed.insert(memory.id) }
                do {
                    try await store.saveBatch(toSave)
                    for memory in toSave {
                        if existed.contains(memory.id) { report.updated += 1 } else { report.created += 1 }
                        imported.append(memory.id)
                    }
                } catch {
                    // The batch is all-or-nothing: none of it was written.
                    for memory in toSave { report.failures.append(Item(id: memory.id, reason: "not saved: \(error)")) }
                }
            }
            done += batch.count
            progress?("memories", done, plan.memories.count)
        }

        var importedAssemblies: [String] = []
        for (n, mapped) in plan.assemblies.enumerated() {
            var assembly = mapped.assembly
            var members: [String] = []
            for id in assembly.memoryIds {
                if await store.containsMemory(id) {
                    members.append(id)
                } else {
                    report.notes.append(Item(id: assembly.id, reason: "member \(id) dropped: it could not be saved (see failures)"))
                }
            }
            assembly.memoryIds = members
            do {
                if let old = try? await store.assembly(assembly.id), SynthiansImporter.same(old, assembly) {
                    report.unchanged += 1
                } else {
                    let existed = await store.containsAssembly(assembly.id)
                    try await store.save(assembly)
                    if existed { report.updated += 1 } else { report.created += 1 }
                }
                importedAssemblies.append(assembly.id)
            } catch {
                report.failures.append(Item(id: assembly.id, reason: "not saved: \(error)"))
            }
            progress?("assemblies", n + 1, plan.assemblies.count)
        }

        let failed = Set(report.failures.map(\.id))
        report.importedMemories = imported.sorted()
        report.importedAssemblies = importedAssemblies.sorted()
        report.memoriesWithoutEmbedding.removeAll { failed.contains($0.id) }
        report.memoriesFromAssemblyCopies.removeAll { failed.contains($0.id) }
        report.seconds = MigrationFileSystem.seconds(since: start)
        return report
    }

    // MARK: Preparing

    struct Plan: Sendable {
        /// Sorted by id: those of `memories/`, and members found only as copies inside assemblies.
        var memories: [MappedMemory]
        /// Sorted by id, `memoryIds` resolved.
        var assemblies: [MappedAssembly]
    }

    /// Reads and maps the source, resolves assembly members and embedding dimensions, and fills the report's
    /// skipped records, notes, ignored files and memories without embedding.
    func prepare(dimension storeDimension: Int?, into report: inout SynthiansImportReport) async throws -> Plan {
        let source = self.source
        let contents = try await eventLoop.run { try SynthiansSourceReader.read(source) }
        report.skipped = contents.skipped
        report.ignoredFiles = contents.ignoredFiles
        report.notes = contents.notes
        let now = Timestamp.now()

        var memories = contents.memories
        var assemblies = contents.assemblies
        for index in assemblies.indices {
            let assemblyID = assemblies[index].assembly.id
            var ids: [String] = []
            for member in assemblies[index].members {
                guard let id = member.id else {
                    report.notes.append(Item(id: assemblyID, reason: "a member without an id dropped"))
                    continue
                }
                if memories[id] != nil {
                    if !ids.contains(id) { ids.append(id) }
                    continue
                }
                guard RecordID.isValid(id) else {
                    report.notes.append(Item(id: assemblyID, reason: "member dropped: \(SynthiansRecordMapper.invalidIDReason(id))"))
                    continue
                }
                guard let copy = member.copy else {
                    report.notes.append(Item(id: assemblyID, reason: "member \(id) dropped: it is not in memories/ and the assembly holds no copy of it"))
                    continue
                }
                do throws(SynthiansRecordMapper.Failure) {
                    let mapped = try SynthiansRecordMapper.memory(copy, origin: "\(assemblies[index].origin) (copy of a member)", fallbackTime: nil, now: now)
                    memories[id] = mapped
                    ids.append(id)
                    report.memoriesFromAssemblyCopies.append(Item(id: id, reason: "not in memories/: imported from the copy inside assembly \(assemblyID)"))
                } catch {
                    guard case .skip(let reason) = error else { continue }
                    report.notes.append(Item(id: assemblyID, reason: "member \(id) dropped: its copy cannot be imported: \(reason)"))
                }
            }
            assemblies[index].assembly.memoryIds = ids
            for note in assemblies[index].notes { report.notes.append(Item(id: assemblyID, reason: note)) }
        }

        // One dimension per store: the store's, else the one most of the source's embeddings have.
        var counts: [Int: Int] = [:]
        for memory in memories.values { if let e = memory.entry.embedding { counts[e.count, default: 0] += 1 } }
        let dimension = storeDimension ?? counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
        var sorted = memories.values.sorted { $0.entry.id < $1.entry.id }
        for index in sorted.indices {
            if let e = sorted[index].entry.embedding, let dimension, e.count != dimension {
                sorted[index].entry.embedding = nil
                sorted[index].withoutEmbedding = "the embedding has \(e.count) values; the store's dimension is \(dimension)"
            }
            let memory = sorted[index]
            if let reason = memory.withoutEmbedding { report.memoriesWithoutEmbedding.append(Item(id: memory.entry.id, reason: reason)) }
            for note in memory.notes { report.notes.append(Item(id: memory.entry.id, reason: note)) }
        }
        return Plan(memories: sorted, assemblies: assemblies)
    }

    // MARK: Comparing

    /// Whether saving `new` over `old` would change what the record says (the store's timestamps aside).
    static func same(_ old: MemoryEntry, _ new: MemoryEntry) -> Bool {
        old.content == new.content && old.embedding == new.embedding && old.metadata == new.metadata
            && old.quickrecalScore == new.quickrecalScore && old.accessCount == new.accessCount && old.lastAccessTime == new.lastAccessTime
            && old.embeddingModel == new.embeddingModel && old.extraFields == new.extraFields
    }

    static func same(_ old: MemoryAssembly, _ new: MemoryAssembly) -> Bool {
        old.name == new.name && old.description == new.description && old.memoryIds == new.memoryIds && old.keywords == new.keywords
            && old.tags == new.tags && old.metadata == new.metadata && old.extraFields == new.extraFields
    }
}
