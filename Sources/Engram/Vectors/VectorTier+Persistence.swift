import EngramIO
import EngramJSON
import EngramVector

/// The files of `vector_index/` and how they prove they belong together.
///
/// - `memory_vectors.faiss`, `assembly_vectors.faiss`: FAISS `IndexIDMap2` over a flat index, exactly as
///   `faiss.write_index` writes it (Python's `faiss.read_index` loads it).
/// - `mapping.json`: record id → int64 FAISS id per kind, the `updated_at` each vector was taken from, and the
///   next id to hand out (ids are never reused).
/// - `manifest.json`, written last: a generation number and each file's size and XXH3-64. A crash between the
///   files leaves a manifest that does not match them — detected at open, and the tier is rebuilt from the
///   records, never used.
package enum VectorFiles {
    package static let memoryIndex = "memory_vectors.faiss"
    package static let assemblyIndex = "assembly_vectors.faiss"
    package static let mapping = "mapping.json"
    package static let manifest = "manifest.json"
}

extension VectorTier {
    /// Everything needed to persist the tier, taken under the lock so the files agree with each other.
    struct Snapshot: Sendable {
        var files: [(name: String, bytes: [UInt8])]
        var generation: Int64
    }

    /// Compacts and serialises both indexes and the mapping, and bumps the generation.
    func snapshot(journalSequence: Int64) throws -> Snapshot {
        try state.withLock { (state: inout State) throws -> Snapshot in
            for kind in RecordKind.allCases {
                try state.update(kind) { (set: inout VectorSet) throws(FaissError) in try set.compact(force: true) }
            }
            state.generation += 1
            var files: [(name: String, bytes: [UInt8])] = []
            if let index = state.memories.index { files.append((VectorFiles.memoryIndex, try index.serialized())) }
            if let index = state.assemblies.index { files.append((VectorFiles.assemblyIndex, try index.serialized())) }
            func ids(_ set: VectorSet) -> JSONValue {
                .object(JSONObject(uniqueKeysWithValues: set.ids.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) }))
            }
            func versions(_ set: VectorSet) -> JSONValue {
                .object(JSONObject(uniqueKeysWithValues: set.versions.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value.description)) }))
            }
            let mapping: JSONValue = .object([
                "format": "engram-vector-mapping", "version": 1,
                "generation": .int(state.generation),
                "metric": .string(metric.rawValue),
                "dimension": (state.memories.dimension ?? state.assemblies.dimension).map { .int(Int64($0)) } ?? .null,
                "next_id": .int(state.nextID),
                "journal_seq": .int(journalSequence),
                "memories": ids(state.memories),
                "assemblies": ids(state.assemblies),
                "memory_versions": versions(state.memories),
                "assembly_versions": versions(state.assemblies),
            ])
            files.append((VectorFiles.mapping, JSONWriter.pretty(mapping)))
            var described = JSONObject()
            for file in files {
                described[file.name] = .object(["bytes": .int(Int64(file.bytes.count)), "xxh3": .string(ContentHash.checksum(file.bytes))])
            }
            let manifest: JSONValue = .object([
                "format": "engram-vector-manifest", "version": 1,
                "generation": .int(state.generation),
                "written_at": .string(Timestamp.now().description),
                "metric": .string(metric.rawValue),
                "memory_count": .int(Int64(state.memories.count)),
                "assembly_count": .int(Int64(state.assemblies.count)),
                "files": .object(described),
            ])
            files.append((VectorFiles.manifest, JSONWriter.pretty(manifest)))
            state.changesSincePersist = 0
            return Snapshot(files: files, generation: state.generation)
        }
    }

    /// Writes a snapshot: each file atomically, the manifest last; an index file the tier no longer has is removed.
    static func write(_ snapshot: Snapshot, to directory: String) throws(EngramError) {
        for file in snapshot.files {
            try FileEngine.writeAtomicallyBlocking(PendingFile(directory: directory, name: file.name, bytes: file.bytes), operation: "checkpoint vector index")
        }
        let names = Set(snapshot.files.map(\.name))
        for stale in [VectorFiles.memoryIndex, VectorFiles.assemblyIndex] where !names.contains(stale) {
            if try Sys.unlink(directory + "/" + stale, operation: "checkpoint vector index") {
                try Sys.fsyncDirectory(directory, operation: "checkpoint vector index")
            }
        }
    }

    /// Loads the tier from `vector_index/`. Returns nil and the reason when the files are missing, damaged or do
    /// not match each other or the store's dimension and metric: the caller then rebuilds from the records.
    static func load(directory: String, metric: DistanceMetric, dimension: Int?) -> (VectorTier?, String?) {
        func read(_ name: String) -> [UInt8]? {
            guard Sys.fileType(directory + "/" + name) == .file else { return nil }
            return try? Sys.readFile(directory + "/" + name, maxSize: 1 << 40, operation: "load vector index")
        }
        guard let manifestBytes = read(VectorFiles.manifest) else { return (nil, "vector_index/manifest.json is missing") }
        guard let manifest = try? JSONReader.parse(manifestBytes), let files = manifest["files"]?.objectValue else {
            return (nil, "vector_index/manifest.json is unreadable")
        }
        var contents: [String: [UInt8]] = [:]
        for (name, info) in files {
            guard [VectorFiles.memoryIndex, VectorFiles.assemblyIndex, VectorFiles.mapping].contains(name) else {
                return (nil, "vector_index/manifest.json names an unknown file '\(name)'")
            }
            guard let bytes = read(name) else { return (nil, "vector_index/\(name) is missing") }
            guard info["bytes"]?.int64Value == Int64(bytes.count), info["xxh3"]?.stringValue == ContentHash.checksum(bytes) else {
                return (nil, "vector_index/\(name) does not match its checksum in manifest.json (a crash between checkpoint files, or damage)")
            }
            contents[name] = bytes
        }
        guard let mappingBytes = contents[VectorFiles.mapping], let mapping = try? JSONReader.parse(mappingBytes),
              mapping["format"]?.stringValue == "engram-vector-mapping"
        else { return (nil, "vector_index/mapping.json is missing or unreadable") }
        guard mapping["generation"]?.int64Value == manifest["generation"]?.int64Value else {
            return (nil, "mapping.json and manifest.json are from different checkpoints")
        }
        guard mapping["metric"]?.stringValue == metric.rawValue else {
            return (nil, "the vector index uses metric '\(mapping["metric"]?.stringValue ?? "?")', the store is configured for '\(metric.rawValue)'")
        }
        var state = State(memories: VectorSet(kind: .memory, metric: metric), assemblies: VectorSet(kind: .assembly, metric: metric))
        state.generation = mapping["generation"]?.int64Value ?? 0
        state.nextID = mapping["next_id"]?.int64Value ?? 1
        for kind in RecordKind.allCases {
            let key = kind == .memory ? "memories" : "assemblies"
            let file = kind == .memory ? VectorFiles.memoryIndex : VectorFiles.assemblyIndex
            guard let idsObject = mapping[key]?.objectValue, let versionsObject = mapping[kind == .memory ? "memory_versions" : "assembly_versions"]?.objectValue else {
                return (nil, "mapping.json lacks '\(key)'")
            }
            var ids: [String: Int64] = [:]
            var versions: [String: Timestamp] = [:]
            var seen = Set<Int64>()
            for (id, value) in idsObject {
                guard RecordID.isValid(id), let fid = value.int64Value, fid > 0, fid < state.nextID, seen.insert(fid).inserted,
                      let version = versionsObject[id]?.stringValue.flatMap(Timestamp.init(parsing:))
                else { return (nil, "mapping.json has a bad entry for '\(id.prefix(140))'") }
                ids[id] = fid
                versions[id] = version
            }
            var index: FaissIndex?
            if let bytes = contents[file] {
                do {
                    index = try FaissIndex(serialized: bytes)
                } catch {
                    return (nil, "vector_index/\(file) cannot be loaded: \(error.message)")
                }
            }
            let count = index?.count ?? 0
            guard count == ids.count else {
                return (nil, "vector_index/\(file) holds \(count) vectors, mapping.json lists \(ids.count)")
            }
            if let index {
                guard index.metric == metric.faissMetric else { return (nil, "vector_index/\(file) has the wrong metric") }
                if let dimension, index.dimension != dimension {
                    return (nil, "vector_index/\(file) has dimension \(index.dimension), the store \(dimension)")
                }
                for fid in ids.values where !index.contains(id: fid) {
                    return (nil, "FAISS id \(fid) of mapping.json is not in vector_index/\(file)")
                }
            }
            state[kind] = VectorSet(kind: kind, metric: metric, index: index, ids: ids, versions: versions)
        }
        return (VectorTier(metric: metric, restored: state), nil)
    }
}
