import Dispatch
import EngramGraph
import EngramIO
import EngramJSON
import EngramVector
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `engram verify`: checks every part of a store against the records and reports each problem. Read-only: it
/// takes no lock, changes nothing, and works beside a running writer.
///
/// The records are read once, in parallel; the index, the journal, the backups and the vector tier are each
/// checked against what the records say.
public struct StoreVerifier: Sendable {
    public let layout: StoreLayout
    /// Called with (phase, done, total) as records are checked (for a progress line on a terminal).
    public var progress: (@Sendable (String, Int, Int) -> Void)?

    public init(layout: StoreLayout) { self.layout = layout }

    /// The names a store directory may hold (SPEC §1 and docs/FORMAT.md).
    static let expectedTopLevel: Set<String> = [
        "memory_index.json", "memory_index.journal", "memory_index.bin", ".clean_shutdown", ".lock", "memories", "assemblies", "vector_index", "graph_index", "keyword_index", "backups", "quarantine",
    ]

    /// What one record file turned out to be.
    struct Scanned: Sendable {
        var id: String
        var createdAt: Timestamp
        var updatedAt: Timestamp
        var score: Double
        var hash: String
        var dimension: Int?
        var memberIDs: [String] = []
        var composite: [Float]?
        /// Kept only for memories that are members of an assembly (to check composites).
        var embedding: [Float]?
    }

    public func run() throws -> VerifyReport {
        let started = Timestamp.now()
        guard Sys.fileType(layout.root + "/.") == .directory, layout.looksLikeStore else {
            throw EngramError(code: .notAStore, message: "not an Engram store (no memory_index.json, no memories/)", operation: "verify", path: layout.root,
                              remedy: "point --store at a store")
        }
        var report = VerifyReport()
        report.writerActive = StoreVerifier.writerActive(layout)
        var problems: [VerifyProblem] = []
        func add(_ kind: VerifyProblem.Kind, _ path: String?, _ id: String? = nil, _ detail: String, _ repair: String) {
            problems.append(VerifyProblem(kind: kind, path: path, id: id, detail: detail, repair: repair))
        }
        // What a crash left that the next writer open finishes (the recovery, replayed here in memory). Not
        // reported beside a writer: there it is work in flight.
        var pending: [PendingRecovery] = []
        func pend(_ kind: PendingRecovery.Kind, _ path: String?, _ id: String? = nil, _ detail: String, _ nextOpen: String) {
            if !report.writerActive { pending.append(PendingRecovery(kind: kind, path: path, id: id, detail: detail, nextOpen: nextOpen)) }
        }
        let removesTemp = "removes it (the write was never acknowledged)"

        // 1. The store directory itself.
        for name in try Sys.listDirectory(layout.root, operation: "verify").sorted() where !StoreVerifier.expectedTopLevel.contains(name) && !StoreLayout.isFileSystemEntry(name, in: layout.root) {
            if Sys.isTemporaryName(name) {
                pend(.temporaryFile, name, nil, "a temp file left by an interrupted write", removesTemp)
            } else {
                add(.foreignFile, name, nil, "does not belong in a store directory", "move it to quarantine/")
            }
        }
        for directory in ["memories", "assemblies", "vector_index", "backups"] where Sys.fileType(layout.root + "/" + directory) == .symlink {
            add(.symbolicLink, directory, nil, "is a symbolic link; Engram never follows links out of the store", "none: replace the link with a real directory by hand")
        }

        // 2. The index and the journal.
        var index: CentralIndex?
        var rawCounts: (memories: Int64?, assemblies: Int64?) = (nil, nil)
        switch Sys.fileType(layout.indexPath) {
        case nil:
            add(.indexMissing, CentralIndex.fileName, nil, "memory_index.json is missing", "rebuild it from the records")
        case .file:
            do {
                let bytes = try Sys.readFile(layout.indexPath, operation: "verify")
                index = try CentralIndex.decode(bytes, path: layout.indexPath)
                if let metadata = try? JSONReader.parse(bytes)["metadata"] {
                    rawCounts = (metadata["memory_count"]?.int64Value, metadata["assembly_count"]?.int64Value)
                }
            } catch {
                add(.indexUnreadable, CentralIndex.fileName, nil, "\(error.message)", "rebuild it from the records (the unreadable file is kept in quarantine/)")
            }
        default:
            add(.indexUnreadable, CentralIndex.fileName, nil, "is not a regular file", "move it to quarantine/ and rebuild the index")
        }
        let journal = try Journal.read(path: layout.journalPath)
        var touched: Set<String> = []  // "kind/id" changed since the checkpoint: the files are the truth for them
        if let line = journal.corruptLine {
            add(.journalDamaged, "memory_index.journal", nil, "line \(line) is damaged (bad checksum or not JSON) and is followed by other lines",
                "rebuild the index from the records and empty the journal")
        }
        if journal.tornTail {
            pend(.journalTornTail, "memory_index.journal", nil, "the last line is incomplete (an append cut off by a crash; it was never acknowledged)", "drops it")
        }
        // The last operation after the checkpoint per record, as open replays it, with the size of its put (a
        // batch's line promises that every item's temp file was durable before it).
        var lastPut: [String: (item: JournalOperation.Item, batch: Bool, sequence: Int64)] = [:]
        var lastDelete: [String: (kind: RecordKind, id: String, sequence: Int64)] = [:]
        var replayed: [Int64] = []
        for entry in journal.entries {
            guard let op = entry.operation else {
                add(.journalDamaged, "memory_index.journal", nil, "a line this version cannot read", "rebuild the index from the records and empty the journal")
                break
            }
            guard op.sequence > (index?.journalSequence ?? 0) else { continue }
            replayed.append(op.sequence)
            switch op {
            case .put(let sequence, let items):
                for item in items {
                    touched.insert("\(item.kind.rawValue)/\(item.id)")
                    lastDelete["\(item.kind.rawValue)/\(item.id)"] = nil
                    lastPut["\(item.kind.rawValue)/\(item.id)"] = (item, items.count > 1, sequence)
                }
            case .delete(let sequence, let kind, let id):
                touched.insert("\(kind.rawValue)/\(id)")
                lastPut["\(kind.rawValue)/\(id)"] = nil
                lastDelete["\(kind.rawValue)/\(id)"] = (kind, id, sequence)
            }
        }
        if let first = replayed.first, let last = replayed.last, index != nil, journal.corruptLine == nil {
            pend(.journalReplay, "memory_index.journal", nil,
                   "\(replayed.count) journal operation\(replayed.count == 1 ? "" : "s") (seq \(first)–\(last)) after the checkpoint memory_index.json holds",
                   "replays them into the index and checkpoints it")
        }
        // Committed writes' temp files by relative path (a complete one is rolled forward, not removed).
        var committedTemporary: [String: JournalOperation.Item] = [:]
        for (_, put) in lastPut { committedTemporary[put.item.kind.directoryName + "/" + put.item.temporaryName] = put.item }
        var rolledForward: Set<String> = []  // "kind/id" with a complete committed temp file
        // Records whose last line carries them whole: their files are rewritten from the journal at open when they
        // do not hold that version (record files become durable only at checkpoints), so a torn one is pending.
        let carried = Set(lastPut.filter { $0.value.item.record != nil }.map(\.key))

        // 3. The vector tier's files (loaded first, so records are compared with their vectors as they are read).
        let tierMetric = StoreVerifier.vectorMetric(layout)
        let (tier, tierProblem) = VectorTier.load(directory: layout.vectorIndexDirectory, metric: tierMetric, dimension: index?.embeddingDimension)

        // 4. The records, assemblies first (their members' embeddings are needed for the composite check).
        var assemblies: [String: Scanned] = [:]
        var memories: [String: Scanned] = [:]
        for kind in [RecordKind.assembly, .memory] {
            let directory = layout.directory(of: kind)
            guard Sys.fileType(directory) == .directory else { continue }
            var names: [String] = []
            for name in try Sys.listDirectory(directory, operation: "verify").sorted() {
                let relative = kind.directoryName + "/" + name
                if Sys.isTemporaryName(name) {
                    if let item = committedTemporary[relative], item.completeTemporaryContent(layout: layout) != nil {
                        rolledForward.insert("\(kind.rawValue)/\(item.id)")
                        pend(.committedWriteNotRenamed, relative, item.id, "the complete temp file of a committed write whose rename did not happen",
                               "renames it into place as \(kind.directoryName)/\(item.id).json")
                    } else {
                        pend(.temporaryFile, relative, nil, "a temp file left by an interrupted write", removesTemp)
                    }
                } else if name == ".gitkeep" {
                    continue
                } else if !name.hasSuffix(".json") {
                    add(.foreignFile, relative, nil, "not a record file", "move it to quarantine/")
                } else if !RecordID.isValid(String(name.dropLast(5))) {
                    add(.recordBadFileName, relative, nil, "the file name is not a valid record id", "move it to quarantine/")
                } else {
                    names.append(name)
                }
            }
            let members = Set(assemblies.values.flatMap(\.memberIDs))
            let dimension = index?.embeddingDimension
            let results = scan(names, kind: kind, dimension: dimension, keepEmbeddings: members, tier: tier)
            for result in results {
                if let scanned = result.scanned {
                    if kind == .memory { memories[scanned.id] = scanned } else { assemblies[scanned.id] = scanned }
                }
                for problem in result.problems {
                    if let id = problem.id, carried.contains("\(kind.rawValue)/\(id)") { continue }  // pending, see 4b
                    problems.append(problem)
                }
                if result.checkedVector { report.checkedVectors += 1 }
            }
        }
        report.checkedMemories = memories.count
        report.checkedAssemblies = assemblies.count

        // 4b. What the journal promises against what reached the disk.
        if !report.writerActive {
            for (key, put) in lastPut.sorted(by: { $0.key < $1.key }) where !rolledForward.contains(key) {
                let item = put.item
                let relative = "\(item.kind.directoryName)/\(item.id).json"
                let onDisk = item.kind == .memory ? memories[item.id]?.updatedAt : assemblies[item.id]?.updatedAt
                let promised = item.memory?.updatedAt ?? item.assembly?.updatedAt
                if onDisk != nil && onDisk == promised { continue }
                if item.record != nil {
                    let has = onDisk.map { "the file holds the version of \($0)" }
                        ?? (Sys.fileType(layout.path(of: item.kind, id: item.id)) == nil ? "there is no file" : "the file does not read (cut off)")
                    pend(.recordBehindJournal, relative, item.id,
                         "journal line \(put.sequence) carries the version of \(promised.map(String.init(describing:)) ?? "?"); \(has) (record files become durable at checkpoints)",
                         "rewrites the record file from the journal line")
                    continue
                }
                if onDisk == nil && Sys.fileType(layout.path(of: item.kind, id: item.id)) != nil { continue }  // unreadable: reported above
                let has = onDisk.map { "the file holds the version of \($0)" } ?? "there is no file"
                if put.batch {
                    add(.journalWriteLost, relative, item.id,
                        "journal line \(put.sequence) commits a batch including the version of \(promised.map(String.init(describing:)) ?? "?"), but \(has) and no complete temp file",
                        "make the index follow the record file as it is (the lost version is not in this store: restore it from a backup if you have one)")
                } else {
                    pend(.unacknowledgedWrite, relative, item.id,
                           "journal line \(put.sequence) names the version of \(promised.map(String.init(describing:)) ?? "?"); \(has): the save was cut off before it was acknowledged",
                           "replays the line as a no-op: the record keeps the version on disk")
                }
            }
        }

        if !report.writerActive {
            for (_, deleted) in lastDelete.sorted(by: { $0.key < $1.key }) where Sys.fileType(layout.path(of: deleted.kind, id: deleted.id)) != nil {
                pend(.recordBehindJournal, "\(deleted.kind.directoryName)/\(deleted.id).json", deleted.id,
                     "journal line \(deleted.sequence) deletes it, but the file is still there (unlinks become durable at checkpoints)", "unlinks it")
            }
        }

        // 5. Index against records.
        if let index {
            for (kind, files, entries) in [(RecordKind.memory, Set(memories.keys), Set(index.memories.keys)), (.assembly, Set(assemblies.keys), Set(index.assemblies.keys))] {
                for id in entries.subtracting(files).sorted() where !touched.contains("\(kind.rawValue)/\(id)") {
                    if Sys.fileType(layout.path(of: kind, id: id)) != nil { continue }  // present but unreadable: reported above
                    add(.indexEntryWithoutFile, "\(kind.directoryName)/\(id).json", id, "the index lists it but the file is missing", "remove it from the index")
                }
                for id in files.subtracting(entries).sorted() where !touched.contains("\(kind.rawValue)/\(id)") {
                    add(.recordNotIndexed, "\(kind.directoryName)/\(id).json", id, "the file is not in the index", "add it to the index")
                }
            }
            for (id, file) in memories.sorted(by: { $0.key < $1.key }) where !touched.contains("memory/\(id)") {
                guard let entry = index.memories[id] else { continue }
                var differences: [String] = []
                if entry.updatedAt != file.updatedAt { differences.append("updated_at \(entry.updatedAt) vs \(file.updatedAt)") }
                if entry.createdAt != file.createdAt { differences.append("created_at") }
                if entry.quickrecalScore != file.score { differences.append("quickrecal_score \(entry.quickrecalScore) vs \(file.score)") }
                if entry.contentHash != file.hash { differences.append("content_hash \(entry.contentHash) vs \(file.hash)") }
                if entry.dimension != file.dimension { differences.append("embedding_dim") }
                if !differences.isEmpty {
                    add(.indexEntryDisagrees, "memories/\(id).json", id, "the index says " + differences.joined(separator: ", ") + " (index vs file)", "update the index from the file")
                }
            }
            for (id, file) in assemblies.sorted(by: { $0.key < $1.key }) where !touched.contains("assembly/\(id)") {
                guard let entry = index.assemblies[id] else { continue }
                if entry.updatedAt != file.updatedAt || entry.memoryIds != file.memberIDs {
                    add(.indexEntryDisagrees, "assemblies/\(id).json", id, "the index's updated_at or memory_ids differ from the file", "update the index from the file")
                }
            }
            if journal.entries.isEmpty, rawCounts.memories != Int64(index.memories.count) || rawCounts.assemblies != Int64(index.assemblies.count) {
                add(.indexCountsWrong, CentralIndex.fileName, nil,
                    "metadata says \(rawCounts.memories.map(String.init) ?? "nothing") memories and \(rawCounts.assemblies.map(String.init) ?? "nothing") assemblies; it lists \(index.memories.count) and \(index.assemblies.count)",
                    "rewrite the index")
            }
        }

        // 6. Assemblies against their members. One listing a member the journal changed after the checkpoint is
        //    brought up to date by the next writer open (a crash between the memory's write and the assembly's).
        for (id, assembly) in assemblies.sorted(by: { $0.key < $1.key }) {
            let behind = !report.writerActive && assembly.memberIDs.contains { touched.contains("memory/\($0)") }
            let missing = assembly.memberIDs.filter { memories[$0] == nil }
            let vectors = assembly.memberIDs.compactMap { memories[$0]?.embedding }
            let stale = !StoreVerifier.nearlyEqual(StoreVerifier.mean(vectors), assembly.composite)
            if behind && (!missing.isEmpty || stale) {
                pend(.assemblyBehindMembers, "assemblies/\(id).json", id, "a member changed or was deleted just before the crash",
                       "drops deleted members and recomputes the composite embedding")
                continue
            }
            if !missing.isEmpty {
                add(.assemblyMissingMember, "assemblies/\(id).json", id, "lists memories that do not exist: \(missing.prefix(5).joined(separator: ", "))",
                    "remove them from memory_ids and recompute the composite embedding")
            }
            if stale {
                add(.assemblyCompositeStale, "assemblies/\(id).json", id, "composite_embedding is not the mean of its members' embeddings",
                    "recompute it")
            }
        }

        // 7a. The L2 graph: whole and sound (every checksum, header, neighbour ids), of the store's metric and
        // dimension, and how far it is behind the records. The memories it holds at their current version need
        // no L1 vector.
        var coveredByGraph = Set<String>()
        let graphDirectory = GraphDirectory(layout: layout)
        if Sys.fileType(graphDirectory.pointerPath) != nil {
            if let current = graphDirectory.current() {
                let relative = "graph_index/" + (current.split(separator: "/").last.map(String.init) ?? "")
                do {
                    // Opened without hashing: verify() hashes every file itself (and checks the structure after).
                    let graph = try DiskGraph.open(directory: current, verifyChecksums: false)
                    let issues = graph.verify()
                    let expected: GraphMetric = tierMetric == .l2 ? .l2 : .innerProduct
                    if !issues.isEmpty {
                        add(.graphDamaged, relative, nil, issues.prefix(3).joined(separator: "; "), "rebuild the graph from the records")
                    } else if graph.metric != expected || (index?.embeddingDimension).map({ $0 != graph.dimension }) == true {
                        add(.graphForeign, relative, nil, "the graph is of metric \(graph.metric.rawValue), dimension \(graph.dimension); the store's are \(tierMetric.rawValue), \(index?.embeddingDimension.map(String.init) ?? "none")",
                            "rebuild the graph from the records")
                    } else {
                        let standing = GraphTier.standing(graph, versions: GraphTier.nodeVersions(graph)) { id in
                            memories[id].flatMap { $0.dimension == nil ? nil : $0.updatedAt.microseconds }
                        }
                        coveredByGraph = Set(standing.covered)
                        let stale = standing.stale.count
                        report.graphNodes = graph.count
                        report.graphStaleNodes = stale
                        // Stale nodes are normal (tombstoned, L1 holds those records); a graph mostly stale, or built
                        // from a journal position the store never reached (a graph from another history), is
                        // stale as a whole: correct, but no longer worth its memory.
                        let builtFrom = graph.metadata["journal_seq"]?.int64Value ?? 0
                        let storeAt = max(index?.journalSequence ?? 0, journal.entries.compactMap { $0.operation?.sequence }.max() ?? 0)
                        if builtFrom > storeAt {
                            add(.graphStale, relative, nil, "built from journal sequence \(builtFrom), the store is at \(storeAt): a graph of another history (\(stale) of \(graph.count) nodes stale)",
                                "rebuild the graph from the records")
                        } else if graph.count > 0, stale * 2 > graph.count {
                            add(.graphStale, relative, nil, "\(stale) of \(graph.count) nodes no longer stand for their records", "rebuild the graph from the records")
                        }
                    }
                } catch {
                    add(.graphDamaged, relative, nil, error.message, "rebuild the graph from the records")
                }
            } else {
                add(.graphDamaged, "graph_index/CURRENT", nil, "names no graph directory", "rebuild the graph from the records")
            }
        }

        // 7. The vector tier against the records.
        let anyVectors = memories.values.contains { $0.dimension != nil } || assemblies.values.contains { $0.dimension != nil }
        if let tierProblem, anyVectors || Sys.fileType(layout.vectorIndexDirectory + "/" + VectorFiles.manifest) != nil {
            let missing = Sys.fileType(layout.vectorIndexDirectory + "/" + VectorFiles.manifest) == nil
            // No manifest: the tier was never checkpointed (it is written every thousand changes or so, and at
            // close) or its first checkpoint was cut off; files that are whole but of two successive checkpoints:
            // one was cut off between its files. Both are what a crash leaves, and open rebuilds from the records.
            if missing || StoreVerifier.vectorCheckpointInterrupted(layout) {
                pend(.vectorCheckpointPending, "vector_index", nil, tierProblem, "rebuilds the vector index from the records")
            } else {
                add(.vectorFilesDamaged, "vector_index", nil, tierProblem, "rebuild the vector index from the records")
            }
        }
        if let tier, !report.writerActive {
            for (kind, records) in [(RecordKind.memory, memories), (.assembly, assemblies)] {
                for (id, record) in records.sorted(by: { $0.key < $1.key }) where record.dimension != nil && !(kind == .memory && coveredByGraph.contains(id)) {
                    // Open re-reads every record whose version differs from its vector's (VectorTierLoader): a
                    // vector missing or older than its record is a checkpoint of the tier the crash came before.
                    guard let version = tier.version(of: id, kind: kind) else {
                        pend(.vectorMissing, "\(kind.directoryName)/\(id).json", id, "has an embedding but no vector in the vector index yet", "adds it from the record")
                        continue
                    }
                    if version < record.updatedAt {
                        pend(.vectorStale, "\(kind.directoryName)/\(id).json", id, "the vector index holds the version of \(version), the record is of \(record.updatedAt)",
                               "replaces the vector from the record")
                    } else if version > record.updatedAt {
                        // A vector is only ever taken from a durable record: one newer than the file means the
                        // record went back in time (restored by hand, or lost).
                        add(.vectorAhead, "\(kind.directoryName)/\(id).json", id,
                            "the vector index holds the version of \(version), newer than the record's \(record.updatedAt)", "replace the vector from the record")
                    }
                }
                for id in tier.ids(kind).sorted() where records[id]?.dimension == nil {
                    pend(.vectorOrphan, "vector_index", id, "the vector index holds a \(kind.rawValue) vector for '\(id)', which has no record or no embedding", "removes it")
                }
            }
        }

        // 7b. The keyword index against the records.
        let keywordFindings = StoreVerifier.checkKeywordIndex(layout, memories: memories.mapValues(\.updatedAt),
                                                              assemblies: assemblies.mapValues(\.updatedAt))
        for problem in keywordFindings.problems { problems.append(problem) }
        for item in keywordFindings.pending { pend(item.kind, item.path, item.id, item.detail, item.nextOpen) }

        // 8. Index backups.
        for name in IndexBackups(layout: layout).names() {
            let sum = layout.backupsDirectory + "/" + name + ".xxh3"
            if Sys.fileType(sum) == nil {
                add(.backupChecksumMissing, "backups/" + name, nil, "the backup has no .xxh3 checksum file", "move it to quarantine/")
            } else if !IndexBackups(layout: layout).isIntact(name) {
                add(.backupChecksumFailed, "backups/" + name, nil, "the backup does not match its checksum", "move it to quarantine/")
            }
        }

        report.problems = problems
        report.pending = pending
        report.seconds = Double(Timestamp.now().microseconds - started.microseconds) / 1e6
        return report
    }

    /// Reads and checks record files on all cores; one result per name.
    private func scan(_ names: [String], kind: RecordKind, dimension: Int?, keepEmbeddings: Set<String>, tier: VectorTier?) -> [ScanResult] {
        let results = Mutex([ScanResult?](repeating: nil, count: names.count))
        let done = Mutex(0)
        let chunk = 256
        let chunks = (names.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let range = (c * chunk)..<min(names.count, (c + 1) * chunk)
            var local: [(Int, ScanResult)] = []
            for i in range { local.append((i, check(names[i], kind: kind, dimension: dimension, keepEmbeddings: keepEmbeddings, tier: tier))) }
            results.withLock { for (i, r) in local { $0[i] = r } }
            let total = done.withLock { $0 += range.count; return $0 }
            progress?("verify \(kind.directoryName)", total, names.count)
        }
        return results.withLock { $0.map { $0! } }
    }

    struct ScanResult: Sendable {
        var scanned: Scanned?
        var problems: [VerifyProblem] = []
        var checkedVector = false
    }

    private func check(_ name: String, kind: RecordKind, dimension: Int?, keepEmbeddings: Set<String>, tier: VectorTier?) -> ScanResult {
        let id = String(name.dropLast(5))
        let relative = kind.directoryName + "/" + name
        let path = layout.directory(of: kind) + "/" + name
        var result = ScanResult()
        func problem(_ k: VerifyProblem.Kind, _ detail: String, _ repair: String) {
            result.problems.append(VerifyProblem(kind: k, path: relative, id: id, detail: detail, repair: repair))
        }
        let quarantine = "move it to quarantine/ with a note of why, and drop it from the index"
        let bytes: [UInt8]
        do {
            bytes = try Sys.readFile(path, operation: "verify")
        } catch {
            if error.code == .symlinkRefused { problem(.symbolicLink, "is a symbolic link", "move the link to quarantine/") } else { problem(.recordUnparseable, error.message, quarantine) }
            return result
        }
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            if case .nonFiniteNumber = error.reason { problem(.recordNonFinite, "\(error)", quarantine) } else { problem(.recordUnparseable, "not valid JSON: \(error)", quarantine) }
            return result
        }
        var scanned: Scanned
        var vector: [Float]?
        do {
            switch kind {
            case .memory:
                let memory = try MemoryEntry(json: value, source: relative, strict: true, operation: "verify")
                guard memory.id == id else {
                    problem(.recordIDMismatch, "the file holds id '\(memory.id)'", quarantine)
                    return result
                }
                scanned = Scanned(id: id, createdAt: memory.createdAt, updatedAt: memory.updatedAt, score: memory.quickrecalScore, hash: memory.contentHash,
                                  dimension: memory.embedding?.count)
                if keepEmbeddings.contains(id) { scanned.embedding = memory.embedding }
                vector = memory.embedding
                if memory.contentHash != ContentHash.of(memory.content) {
                    problem(.recordHashMismatch, "content_hash is \(memory.contentHash), the content hashes to \(ContentHash.of(memory.content)) (edited by hand?)",
                            "adopt the edit: recompute the hash and update the index and the vector index")
                }
            case .assembly:
                let assembly = try MemoryAssembly(json: value, source: relative, strict: true, operation: "verify")
                guard assembly.id == id else {
                    problem(.recordIDMismatch, "the file holds id '\(assembly.id)'", quarantine)
                    return result
                }
                scanned = Scanned(id: id, createdAt: assembly.createdAt, updatedAt: assembly.updatedAt, score: 0, hash: "",
                                  dimension: assembly.compositeEmbedding?.count, memberIDs: assembly.memoryIds, composite: assembly.compositeEmbedding)
                vector = assembly.compositeEmbedding
            }
        } catch {
            problem(error.code == .invalidVector ? .recordNonFinite : .recordWrongShape, error.message, quarantine)
            return result
        }
        if let vector, let dimension, vector.count != dimension {
            problem(.recordWrongDimension, "the embedding has \(vector.count) values; the store's dimension is \(dimension)", quarantine)
            return result
        }
        if let vector, let tier, tier.version(of: id, kind: kind) == scanned.updatedAt, let stored = tier.vector(of: id, kind: kind) {
            result.checkedVector = true
            let expected = tier.metric == .cosine ? FaissIndex.normalized(vector) : vector
            if !StoreVerifier.nearlyEqual(expected, stored) {
                problem(.vectorMismatch, "the vector index holds a different vector for this version of the record", "replace the vector")
            }
        }
        result.scanned = scanned
        return result
    }

    // MARK: Helpers

    /// Whether a writer holds the store's lock (a shared `flock` would block).
    /// Whether a writer process has the store open (idle or committing) or an exclusive operation holds it.
    package static func writerActive(_ layout: StoreLayout) -> Bool {
        if WriterLock.writersPresent(layout) { return true }
        let fd = Glibc.open(layout.lockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        flock(fd, LOCK_UN)
        return false
    }

    /// Whether `vector_index/` holds whole files of two successive checkpoints: each file either matches the
    /// manifest or is a complete file of the next generation (the files are each replaced atomically, the manifest
    /// last, so a crash between them leaves exactly this). Damage leaves files that fit neither.
    static func vectorCheckpointInterrupted(_ layout: StoreLayout) -> Bool {
        let directory = layout.vectorIndexDirectory
        guard let manifestBytes = try? Sys.readFile(directory + "/" + VectorFiles.manifest), let manifest = try? JSONReader.parse(manifestBytes),
              let generation = manifest["generation"]?.int64Value, let files = manifest["files"]?.objectValue,
              let mappingBytes = try? Sys.readFile(directory + "/" + VectorFiles.mapping), let mapping = try? JSONReader.parse(mappingBytes),
              let mappingGeneration = mapping["generation"]?.int64Value, mappingGeneration == generation || mappingGeneration == generation + 1
        else { return false }
        var newer = mappingGeneration == generation + 1
        for (name, info) in files {
            guard let bytes = try? Sys.readFile(directory + "/" + name, maxSize: 1 << 40) else { return false }
            if info["bytes"]?.int64Value == Int64(bytes.count), info["xxh3"]?.stringValue == ContentHash.checksum(bytes) { continue }
            if name == VectorFiles.mapping { continue }  // of the next generation (checked above)
            guard (try? FaissIndex(serialized: bytes)) != nil else { return false }
            newer = true
        }
        return newer
    }

    /// The metric the vector files were written with (their manifest says), `.l2` when unknown.
    static func vectorMetric(_ layout: StoreLayout) -> DistanceMetric {
        guard let bytes = try? Sys.readFile(layout.vectorIndexDirectory + "/" + VectorFiles.manifest),
              let raw = (try? JSONReader.parse(bytes))?["metric"]?.stringValue else { return .l2 }
        return DistanceMetric(rawValue: raw) ?? .l2
    }

    static func mean(_ vectors: [[Float]]) -> [Float]? {
        guard let first = vectors.first else { return nil }
        var sum = [Double](repeating: 0, count: first.count)
        for v in vectors where v.count == sum.count { for i in v.indices { sum[i] += Double(v[i]) } }
        return sum.map { Float($0 / Double(vectors.count)) }
    }

    static func nearlyEqual(_ a: [Float]?, _ b: [Float]?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        guard a.count == b.count else { return false }
        for i in a.indices where abs(a[i] - b[i]) > 1e-5 * max(1, abs(a[i])) { return false }
        return true
    }
}
