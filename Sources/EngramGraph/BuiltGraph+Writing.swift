import CXXHash
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

extension BuiltGraph {
    /// Writes the graph into `directory` (created if absent): nodes.bin, pq.bin, keys.bin, each fsynced,
    /// then manifest.json (sizes, XXH3-64s, parameters, `metadata`) through a temporary name, fsync and
    /// rename, then the directory fsynced. Until the manifest lands the directory is "no graph"; a manifest
    /// from an earlier write is removed first so it never describes files being rewritten.
    package func write(to directory: String, metadata: JSONObject) throws(EngramError) {
        let op = "write graph"
        try Sys.mkdir(directory, operation: op)
        if try Sys.unlink(directory + "/" + GraphFormat.manifestName, operation: op) {
            try Sys.fsyncDirectory(directory, operation: op)
        }
        var files = JSONObject()
        for name in GraphFormat.fileNames {
            let path = directory + "/" + name
            var writer = try HashingFileWriter(path: path, operation: op)
            do {
                switch name {
                case GraphFormat.nodesName: try writeNodes(&writer)
                case GraphFormat.pqName: try writePQ(&writer)
                default: try writeKeys(&writer)
                }
            } catch {
                writer.abandon()
                throw error
            }
            let (size, hash) = try writer.finish()
            files[name] = .object(["size": .int(Int64(size)), "xxh3": .string(GraphFormat.hex(hash))])
        }
        let manifest: JSONObject = [
            "format": .string(GraphFormat.formatName),
            "format_version": .int(Int64(GraphFormat.formatVersion)),
            "count": .int(Int64(count)),
            "dimension": .int(Int64(dimension)),
            "metric": .string(metric.rawValue),
            "degree": .int(Int64(degree)),
            "medoid": .int(Int64(medoid)),
            "sector_size": .int(Int64(GraphFormat.sectorSize)),
            "pq": .object(["sub_quantizers": .int(Int64(pqSubQuantizers)), "bits": 8]),
            "parameters": .object([
                "degree": .int(Int64(parameters.degree)), "complexity": .int(Int64(parameters.complexity)),
                "alpha": .double(Double(parameters.alpha)), "passes": .int(Int64(parameters.passes)),
                "pq_bytes": .int(Int64(pqSubQuantizers)), "seed": .string(String(parameters.seed)),
            ]),
            "files": .object(files),
            "metadata": .object(metadata),
        ]
        let bytes = JSONWriter.pretty(.object(manifest))
        let temporary = directory + "/" + Sys.temporaryName(for: GraphFormat.manifestName)
        var writer = try HashingFileWriter(path: temporary, operation: op)
        do {
            try writer.write(bytes)
        } catch {
            writer.abandon()
            _ = try? Sys.unlink(temporary)
            throw error
        }
        _ = try writer.finish()
        try Sys.rename(temporary, directory + "/" + GraphFormat.manifestName, operation: op)
        try Sys.fsyncDirectory(directory, operation: op)
    }

    private func writeNodes(_ writer: inout HashingFileWriter) throws(EngramError) {
        let layout = GraphFormat.NodeLayout(dimension: dimension, degree: degree)
        var header = [UInt8](repeating: 0, count: GraphFormat.sectorSize)
        header.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            p.put(GraphFormat.nodesMagic, 0)
            p.put(GraphFormat.formatVersion, 8)
            p.put(UInt32(GraphFormat.sectorSize), 12)
            p.put(UInt32(dimension), 16)
            p.put(metric.code, 20)
            p.put(UInt64(count), 24)
            p.put(UInt32(degree), 32)
            p.put(medoid, 36)
            p.put(UInt32(layout.recordBytes), 40)
            p.put(UInt32(layout.nodesPerSector), 44)
            p.put(UInt32(layout.sectorsPerNode), 48)
            p.put(UInt32(pqSubQuantizers), 52)
            p.put(UInt32(8), 56)
            p.put(GraphFormat.hash(p, GraphFormat.nodesHeaderChecked), GraphFormat.nodesHeaderChecked)
        }
        try writer.write(header)
        // Records a few MB at a time; padding stays zero.
        let sectorsPerChunk = 1024
        let totalSectors = layout.sectors(count: count)
        var chunk = [UInt8](repeating: 0, count: sectorsPerChunk * GraphFormat.sectorSize)
        var sector = 0
        while sector < totalSectors {
            let sectorsNow = min(sectorsPerChunk, totalSectors - sector)
            let firstNode = layout.nodesPerSector > 0 ? sector * layout.nodesPerSector : sector / layout.sectorsPerNode
            let endNode = min(count, layout.nodesPerSector > 0 ? (sector + sectorsNow) * layout.nodesPerSector : (sector + sectorsNow) / layout.sectorsPerNode)
            let base = GraphFormat.sectorSize * (1 + sector)
            chunk.withUnsafeMutableBytes { raw in
                let p = raw.baseAddress!
                p.initializeMemory(as: UInt8.self, repeating: 0, count: raw.count)
                vectors.withUnsafeBytes { v in
                    for node in firstNode..<endNode {
                        let at = layout.offset(of: node) - base
                        (p + at).copyMemory(from: v.baseAddress! + node * dimension * 4, byteCount: dimension * 4)
                        p.put(UInt32(degrees[node]), at + dimension * 4)
                        for e in 0..<degree { p.put(adjacency[node * degree + e], at + dimension * 4 + 4 + e * 4) }
                    }
                }
            }
            try withBytes(chunk) { (raw) throws(EngramError) in
                try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<sectorsNow * GraphFormat.sectorSize]))
            }
            sector += sectorsNow
        }
    }

    private func writePQ(_ writer: inout HashingFileWriter) throws(EngramError) {
        var header = [UInt8](repeating: 0, count: GraphFormat.pqHeaderBytes)
        let codesOffset = GraphFormat.pqHeaderBytes + pqCentroids.count * 4
        header.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            p.put(GraphFormat.pqMagic, 0)
            p.put(GraphFormat.formatVersion, 8)
            p.put(UInt32(dimension), 12)
            p.put(UInt32(pqSubQuantizers), 16)
            p.put(UInt32(256), 20)
            p.put(UInt64(count), 24)
            p.put(UInt64(GraphFormat.pqHeaderBytes), 32)
            p.put(UInt64(codesOffset), 40)
            p.put(GraphFormat.hash(p, GraphFormat.pqHeaderChecked), GraphFormat.pqHeaderChecked)
        }
        try writer.write(header)
        try withBytes(pqCentroids) { (b) throws(EngramError) in try writer.write(b) }
        try writer.write(pqCodes)
    }

    private func writeKeys(_ writer: inout HashingFileWriter) throws(EngramError) {
        let entriesOffset = GraphFormat.keysHeaderBytes
        let lookupOffset = entriesOffset + count * GraphFormat.keyEntryBytes
        let blobOffset = lookupOffset + count * GraphFormat.lookupEntryBytes
        var entries = [UInt8](repeating: 0, count: count * GraphFormat.keyEntryBytes)
        var blob = [UInt8]()
        var lookup: [(hash: UInt64, node: UInt32)] = []
        lookup.reserveCapacity(count)
        entries.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            for i in 0..<count {
                let key = Array(keys[i].utf8), version = Array(versions[i].utf8)
                p.put(UInt64(blob.count), i * 16)
                p.put(UInt32(key.count), i * 16 + 8)
                p.put(UInt32(version.count), i * 16 + 12)
                lookup.append((GraphFormat.hash(keys[i]), UInt32(i)))
                blob.append(contentsOf: key)
                blob.append(contentsOf: version)
            }
        }
        lookup.sort { $0.hash < $1.hash || ($0.hash == $1.hash && $0.node < $1.node) }
        var lookupBytes = [UInt8](repeating: 0, count: count * GraphFormat.lookupEntryBytes)
        lookupBytes.withUnsafeMutableBytes { raw in
            for (i, e) in lookup.enumerated() {
                raw.baseAddress!.put(e.hash, i * 16)
                raw.baseAddress!.put(e.node, i * 16 + 8)
            }
        }
        var header = [UInt8](repeating: 0, count: GraphFormat.keysHeaderBytes)
        header.withUnsafeMutableBytes { raw in
            let p = raw.baseAddress!
            p.put(GraphFormat.keysMagic, 0)
            p.put(GraphFormat.formatVersion, 8)
            p.put(UInt64(count), 16)
            p.put(UInt64(entriesOffset), 24)
            p.put(UInt64(lookupOffset), 32)
            p.put(UInt64(blobOffset), 40)
            p.put(UInt64(blob.count), 48)
            p.put(GraphFormat.hash(p, GraphFormat.keysHeaderChecked), GraphFormat.keysHeaderChecked)
        }
        try writer.write(header)
        try writer.write(entries)
        try writer.write(lookupBytes)
        try writer.write(blob)
    }
}
