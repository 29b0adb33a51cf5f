import EngramIO
import EngramJSON

/// A graph written by ``BuiltGraph/write(to:metadata:)``, opened memory-mapped for search.
///
/// Opening reads only the manifest and the three headers: node records, PQ codes and the key tables stay
/// in the page cache, shared by every process that opens the same directory. Instances are immutable and
/// may be searched from many threads at once.
package final class DiskGraph: Sendable {
    package let directory: String
    package let count: Int
    package let dimension: Int
    package let metric: GraphMetric
    /// R: the most neighbours a node has.
    package let degree: Int
    package let medoid: Int32
    /// The object given to ``BuiltGraph/write(to:metadata:)``.
    package let metadata: JSONObject
    /// The whole manifest.json.
    package let manifest: JSONObject
    /// PQ bytes per vector.
    package let pqSubQuantizers: Int
    let layout: GraphFormat.NodeLayout
    let nodes: MappedFile
    let pq: MappedFile
    let keys: MappedFile
    let codesOffset: Int
    let lookupOffset: Int
    let blobOffset: Int

    /// Sum of the sizes of the graph's files (manifest included).
    package let bytesOnDisk: Int

    /// What a search keeps in memory: the PQ codes and centroids it reads on every query, and the key
    /// tables (entries and hash lookup) — not the node records, which are paged in on demand and shared.
    package var residentBytes: Int {
        count * pqSubQuantizers + 256 * dimension * 4 + count * (GraphFormat.keyEntryBytes + GraphFormat.lookupEntryBytes)
    }

    /// Opens the graph in `directory`. A directory without manifest.json holds no graph (`notFound`). With
    /// `verifyChecksums` every file is hashed against the manifest (reads every byte once); without, only
    /// sizes and headers are checked (milliseconds, whatever the size).
    package static func open(directory: String, verifyChecksums: Bool) throws(EngramError) -> DiskGraph {
        let graph = try DiskGraph(directory: directory)
        if verifyChecksums, let problem = graph.checksumProblems().first {
            throw EngramError(code: .corrupt, message: problem, operation: "open graph", path: directory,
                              remedy: "rebuild the graph (`engram-graph build`); the store answers from L1 meanwhile")
        }
        return graph
    }

    private init(directory: String) throws(EngramError) {
        let op = "open graph"
        let manifestPath = directory + "/" + GraphFormat.manifestName
        guard Sys.fileType(manifestPath) != nil else {
            throw EngramError(code: .notFound, message: "no graph: \(GraphFormat.manifestName) is missing (no build finished here)",
                              operation: op, path: directory, remedy: "build the graph with `engram-graph build`")
        }
        let manifestBytes = try Sys.readFile(manifestPath, maxSize: 16 << 20, operation: op)
        func corrupt(_ message: String, _ path: String) -> EngramError {
            EngramError(code: .corrupt, message: message, operation: op, path: path,
                        remedy: "rebuild the graph (`engram-graph build`); the store answers from L1 meanwhile")
        }
        let parsed: JSONValue
        do { parsed = try JSONReader.parse(manifestBytes) } catch {
            throw corrupt("manifest is not valid JSON: \(error)", manifestPath)
        }
        guard let m = parsed.objectValue else { throw corrupt("manifest is not a JSON object", manifestPath) }
        guard m["format"]?.stringValue == GraphFormat.formatName else {
            throw corrupt("manifest \"format\" is not \"\(GraphFormat.formatName)\"", manifestPath)
        }
        guard m["format_version"]?.int64Value == Int64(GraphFormat.formatVersion) else {
            throw EngramError(code: .unsupportedFormat, message: "graph format version \(m["format_version"].map { "\($0)" } ?? "missing") is not \(GraphFormat.formatVersion)",
                              operation: op, path: manifestPath, remedy: "rebuild the graph with this Engram (`engram-graph build`)")
        }
        guard let count = m["count"]?.int64Value, count >= 0, count < Int64(Int32.max),
              let dimension = m["dimension"]?.int64Value, dimension > 0, dimension <= 65536,
              let metric = m["metric"]?.stringValue.flatMap(GraphMetric.init(rawValue:)),
              let degree = m["degree"]?.int64Value, degree >= 1, degree <= 1024,
              let medoid = m["medoid"]?.int64Value, medoid >= 0, medoid < max(1, count),
              let pqM = m["pq"]?["sub_quantizers"]?.int64Value, pqM >= 1, pqM <= dimension, dimension % pqM == 0,
              let files = m["files"]?.objectValue else {
            throw corrupt("manifest lacks or has out-of-range count, dimension, metric, degree, medoid, pq or files", manifestPath)
        }
        self.directory = directory
        self.manifest = m
        self.metadata = m["metadata"]?.objectValue ?? JSONObject()
        self.count = Int(count)
        self.dimension = Int(dimension)
        self.metric = metric
        self.degree = Int(degree)
        self.medoid = Int32(medoid)
        self.pqSubQuantizers = Int(pqM)
        self.layout = GraphFormat.NodeLayout(dimension: Int(dimension), degree: Int(degree))
        var mapped: [String: MappedFile] = [:]
        var total = manifestBytes.count
        for name in GraphFormat.fileNames {
            let path = directory + "/" + name
            guard let expected = files[name]?["size"]?.int64Value, files[name]?["xxh3"]?.stringValue != nil else {
                throw corrupt("manifest has no size and xxh3 for \(name)", manifestPath)
            }
            let file = try MappedFile(path: path, operation: op, remedy: "rebuild the graph (`engram-graph build`)")
            guard file.size == Int(expected) else {
                throw corrupt("\(name) is \(file.size) bytes, the manifest says \(expected) (truncated or overwritten)", path)
            }
            mapped[name] = file
            total += file.size
        }
        nodes = mapped[GraphFormat.nodesName]!
        pq = mapped[GraphFormat.pqName]!
        keys = mapped[GraphFormat.keysName]!
        bytesOnDisk = total
        codesOffset = GraphFormat.pqHeaderBytes + 256 * Int(dimension) * 4
        lookupOffset = GraphFormat.keysHeaderBytes + Int(count) * GraphFormat.keyEntryBytes
        blobOffset = lookupOffset + Int(count) * GraphFormat.lookupEntryBytes
        if let problem = headerProblems().first { throw corrupt(problem, directory) }
        nodes.adviseRandom()
    }

    // MARK: Header checks (open and verify)

    /// Every disagreement between a file's header, its size and the manifest; one sentence each, naming
    /// the file. Empty when the headers are sound. Reads only the headers.
    func headerProblems() -> [String] {
        var problems: [String] = []
        func check(_ ok: Bool, _ file: String, _ what: @autoclosure () -> String) {
            if !ok { problems.append("\(file): \(what())") }
        }
        /// What every file's header shares: long enough to hold it, its magic, its own checksum, the format
        /// version. The header to check further, or nil when the file is too short to hold one.
        func header(_ file: MappedFile, _ name: String, bytes: Int, magic: [UInt8], checked: Int, kind: String) -> UnsafeRawPointer? {
            guard file.size >= bytes else {
                problems.append("\(name): \(file.size) bytes is shorter than its \(bytes)-byte header")
                return nil
            }
            let h = file.base
            check(memoryEquals(h, magic), name, "bad magic (not a graph \(kind) file)")
            check(h.u64(checked) == GraphFormat.hash(h, checked), name, "header checksum mismatch")
            check(h.u32(8) == GraphFormat.formatVersion, name, "format version \(h.u32(8)), expected \(GraphFormat.formatVersion)")
            return h
        }
        // nodes.bin
        let n = GraphFormat.nodesName
        if let h = header(nodes, n, bytes: GraphFormat.sectorSize, magic: GraphFormat.nodesMagic, checked: GraphFormat.nodesHeaderChecked, kind: "node") {
            check(h.u32(12) == UInt32(GraphFormat.sectorSize), n, "sector size \(h.u32(12)), expected \(GraphFormat.sectorSize)")
            check(h.u32(16) == UInt32(dimension), n, "dimension \(h.u32(16)), the manifest says \(dimension)")
            check(h.u32(20) == metric.code, n, "metric code \(h.u32(20)) disagrees with the manifest's \(metric.rawValue)")
            check(h.u64(24) == UInt64(count), n, "count \(h.u64(24)), the manifest says \(count)")
            check(h.u32(32) == UInt32(degree), n, "degree \(h.u32(32)), the manifest says \(degree)")
            check(h.i32(36) == medoid, n, "medoid \(h.i32(36)), the manifest says \(medoid)")
            check(h.u32(40) == UInt32(layout.recordBytes) && h.u32(44) == UInt32(layout.nodesPerSector) && h.u32(48) == UInt32(layout.sectorsPerNode),
                  n, "record layout (\(h.u32(40)) bytes, \(h.u32(44)) per sector, \(h.u32(48)) sectors per node) disagrees with dimension and degree")
            check(h.u32(52) == UInt32(pqSubQuantizers) && h.u32(56) == 8, n, "PQ parameters disagree with the manifest")
            check(nodes.size == layout.fileSize(count: count), n, "\(nodes.size) bytes, \(layout.fileSize(count: count)) expected for \(count) nodes")
        }
        // pq.bin
        let p = GraphFormat.pqName
        let pqSize = codesOffset + count * pqSubQuantizers
        if let h = header(pq, p, bytes: GraphFormat.pqHeaderBytes, magic: GraphFormat.pqMagic, checked: GraphFormat.pqHeaderChecked, kind: "PQ") {
            check(h.u32(12) == UInt32(dimension) && h.u32(16) == UInt32(pqSubQuantizers) && h.u32(20) == 256, p,
                  "dimension \(h.u32(12)), M \(h.u32(16)), centroids \(h.u32(20)) disagree with the manifest")
            check(h.u64(24) == UInt64(count), p, "count \(h.u64(24)), the manifest says \(count)")
            check(h.u64(32) == UInt64(GraphFormat.pqHeaderBytes) && h.u64(40) == UInt64(codesOffset), p, "section offsets are wrong")
            check(pq.size == pqSize, p, "\(pq.size) bytes, \(pqSize) expected")
        }
        // keys.bin
        let k = GraphFormat.keysName
        if let h = header(keys, k, bytes: GraphFormat.keysHeaderBytes, magic: GraphFormat.keysMagic, checked: GraphFormat.keysHeaderChecked, kind: "key") {
            check(h.u64(16) == UInt64(count), k, "count \(h.u64(16)), the manifest says \(count)")
            check(h.u64(24) == UInt64(GraphFormat.keysHeaderBytes) && h.u64(32) == UInt64(lookupOffset) && h.u64(40) == UInt64(blobOffset),
                  k, "section offsets are wrong")
            check(UInt64(keys.size) == UInt64(blobOffset) &+ h.u64(48), k, "\(keys.size) bytes, \(UInt64(blobOffset) &+ h.u64(48)) expected")
        }
        return problems
    }

    /// Files whose XXH3-64 differs from the manifest's.
    func checksumProblems() -> [String] {
        var problems: [String] = []
        let files = manifest["files"]?.objectValue ?? JSONObject()
        for (name, file) in [(GraphFormat.nodesName, nodes), (GraphFormat.pqName, pq), (GraphFormat.keysName, keys)] {
            let expected = files[name]?["xxh3"]?.stringValue ?? ""
            let actual = GraphFormat.hex(GraphFormat.hash(file.base, file.size))
            if actual != expected { problems.append("\(name): checksum mismatch (XXH3-64 \(actual), the manifest says \(expected))") }
        }
        return problems
    }

    private func memoryEquals(_ p: UnsafeRawPointer, _ bytes: [UInt8]) -> Bool {
        for (i, b) in bytes.enumerated() where p.load(fromByteOffset: i, as: UInt8.self) != b { return false }
        return true
    }
}
