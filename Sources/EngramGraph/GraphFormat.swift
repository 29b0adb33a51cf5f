import CXXHash

/// The constants and layout arithmetic of the on-disk format (docs/GRAPH.md), shared by the writer, the
/// reader and the verifier. Everything is little-endian.
enum GraphFormat {
    static let formatVersion: UInt32 = 1
    static let sectorSize = 4096
    static let manifestName = "manifest.json"
    static let nodesName = "nodes.bin"
    static let pqName = "pq.bin"
    static let keysName = "keys.bin"
    static let fileNames = [nodesName, pqName, keysName]
    /// The value of the manifest's "format" field.
    static let formatName = "engram-graph"

    static let nodesMagic: [UInt8] = Array("ENGRNODE".utf8)
    static let pqMagic: [UInt8] = Array("ENGRPQCB".utf8)
    static let keysMagic: [UInt8] = Array("ENGRKEYS".utf8)

    /// Bytes of each file's header that its header checksum covers (the checksum follows them).
    static let nodesHeaderChecked = 64
    static let pqHeaderChecked = 48
    static let keysHeaderChecked = 56
    static let pqHeaderBytes = 64
    static let keysHeaderBytes = 64
    static let keyEntryBytes = 16
    static let lookupEntryBytes = 16

    /// Where node records sit in nodes.bin: sector 0 is the header; then records of `recordBytes`
    /// (vector, neighbour count, `degree` ids), packed `nodesPerSector` to a sector so none straddles a
    /// sector boundary, or — when a record exceeds a sector — `sectorsPerNode` whole sectors each.
    struct NodeLayout: Equatable {
        let dimension: Int
        let degree: Int
        var recordBytes: Int { 4 * dimension + 4 + 4 * degree }
        var nodesPerSector: Int { recordBytes <= GraphFormat.sectorSize ? GraphFormat.sectorSize / recordBytes : 0 }
        var sectorsPerNode: Int { nodesPerSector > 0 ? 1 : (recordBytes + GraphFormat.sectorSize - 1) / GraphFormat.sectorSize }

        func offset(of node: Int) -> Int {
            if nodesPerSector > 0 {
                return GraphFormat.sectorSize * (1 + node / nodesPerSector) + (node % nodesPerSector) * recordBytes
            }
            return GraphFormat.sectorSize * (1 + node * sectorsPerNode)
        }

        func sectors(count: Int) -> Int {
            nodesPerSector > 0 ? (count + nodesPerSector - 1) / nodesPerSector : count * sectorsPerNode
        }

        func fileSize(count: Int) -> Int { GraphFormat.sectorSize * (1 + sectors(count: count)) }
    }

    static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 { XXH3_64bits(p, n) }

    /// XXH3-64 of a string's UTF-8 bytes (the key lookup table's hash).
    static func hash(_ string: String) -> UInt64 {
        let bytes = Array(string.utf8)
        return bytes.withUnsafeBytes { raw in
            raw.baseAddress.map { XXH3_64bits($0, raw.count) } ?? XXH3_64bits(nil, 0)
        }
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
