import EngramIO

/// An index entry that ``IndexTable`` can read from a section of `memory_index.bin` (and ``BinaryIndexWriter``
/// can write): the fixed-width layouts of docs/FORMAT.md.
protocol MappedIndexEntry: Sendable, Equatable {
    static var section: BinaryIndexFile.Section { get }
    /// The embedding's length (nil: none); the table counts the entries that have one, for statistics.
    var dimension: Int? { get }
    /// The entry at `position`, or nil when it points outside the file (a damaged file reads as absent entries).
    static func read(from file: BinaryIndexFile, at position: Int) -> Self?
}

enum MappedEntryFlags {
    static let hasDimension: UInt8 = 1
    /// The content hash is `xxh3:` + 16 hex digits, kept as its 64-bit value instead of a string in the blob.
    static let inlineHash: UInt8 = 2
}

extension MemoryIndexEntry: MappedIndexEntry {
    static var section: BinaryIndexFile.Section { .memories }

    static func read(from file: BinaryIndexFile, at position: Int) -> MemoryIndexEntry? {
        let e = file.entry(.memories, position)
        let flags = e[6]
        let hash: String
        if flags & MappedEntryFlags.inlineHash != 0 {
            hash = "xxh3:" + RecordID.hex16(e.u64(40))
        } else {
            guard let s = file.string(e.u64(40), Int(e.u32(12))) else { return nil }
            hash = s
        }
        return MemoryIndexEntry(createdAt: Timestamp(microseconds: Int64(bitPattern: e.u64(16))),
                                updatedAt: Timestamp(microseconds: Int64(bitPattern: e.u64(24))),
                                quickrecalScore: Double(bitPattern: e.u64(32)), contentHash: hash,
                                dimension: flags & MappedEntryFlags.hasDimension != 0 ? Int(e.u32(8)) : nil)
    }

    /// The 64-bit value of an `xxh3:` + 16 lowercase hex digit hash (what ``ContentHash`` makes), else nil.
    static func inlineHash(_ hash: String) -> UInt64? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 21, bytes.starts(with: "xxh3:".utf8) else { return nil }
        var value: UInt64 = 0
        for c in bytes[5...] {
            switch c {
            case 0x30...0x39: value = value << 4 | UInt64(c - 0x30)
            case 0x61...0x66: value = value << 4 | UInt64(c - 0x61 + 10)
            default: return nil  // upper case or other: kept as written, in the blob
            }
        }
        return value
    }
}

extension AssemblyIndexEntry: MappedIndexEntry {
    static var section: BinaryIndexFile.Section { .assemblies }

    static func read(from file: BinaryIndexFile, at position: Int) -> AssemblyIndexEntry? {
        let e = file.entry(.assemblies, position)
        let memberCount = Int(e.u32(12))
        var offset = e.u64(32)
        var members: [String] = []
        members.reserveCapacity(min(memberCount, 1 << 16))
        for _ in 0..<memberCount {
            guard let length = file.blobBytes(offset, 2)?.u16(0), let id = file.string(offset + 2, Int(length)) else { return nil }
            members.append(id)
            offset += 2 + UInt64(length)
        }
        return AssemblyIndexEntry(createdAt: Timestamp(microseconds: Int64(bitPattern: e.u64(16))),
                                  updatedAt: Timestamp(microseconds: Int64(bitPattern: e.u64(24))), memoryIds: members,
                                  dimension: e[6] & MappedEntryFlags.hasDimension != 0 ? Int(e.u32(8)) : nil)
    }
}
