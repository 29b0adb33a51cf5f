import CXXHash
import EngramIO

#if canImport(Glibc)
import Glibc
#endif

/// `memory_index.bin` mapped read-only: the binary form of `memory_index.json`, derived from it at checkpoints
/// (layout in docs/FORMAT.md, written by ``BinaryIndexWriter``).
///
/// Why it exists: parsing the JSON index is O(store) (0.6 s at 100,000 memories) and every CLI command and MCP
/// server pays it at open. Mapping this file costs a `stat`, an `mmap` and one checksum pass at memory speed;
/// lookups binary-search the sorted id tables in place. The file is trusted only when its checksum holds and its
/// header names the `memory_index.json` on disk (size, mtime, inode); anything else makes open parse the JSON.
/// Every read of the mapping is bounds-checked, so even a file forged with a valid checksum cannot crash a reader:
/// an out-of-bounds entry reads as absent.
final class BinaryIndexFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    enum Section: Sendable { case memories, assemblies }

    static let fileName = "memory_index.bin"
    static let magic: [UInt8] = Array("ENGIXBIN".utf8)
    static let fileVersion: UInt32 = 1
    static let headerSize = 128
    static let entrySize = 48
    static let trailerSize = 8

    private let mapped: MappedFile
    let memoryCount: Int
    let assemblyCount: Int
    /// Entries with an embedding dimension (memories, assemblies): statistics without iterating.
    let memoriesWithDimension: Int
    let assembliesWithDimension: Int
    let journalSequence: Int64
    let embeddingDimension: Int?
    let indexVersion: UInt32
    let source: IndexFileIdentity
    private let memoryTable: Int
    private let assemblyTable: Int
    private let blob: Int
    private let blobSize: Int

    var path: String { mapped.path }
    var byteCount: Int { mapped.size }

    /// Why a file could not be used (a stale or damaged binary index is not an error: open parses the JSON).
    struct Unusable: Error, Sendable { var reason: String }

    /// Maps and checks the file: header, sizes, checksum. Throws ``Unusable`` with the reason otherwise.
    init(path: String) throws(Unusable) {
        let file: MappedFile
        do {
            // Populated: the checksum below reads it all.
            file = try MappedFile(path: path, operation: "map binary index", remedy: "remove it: it is rebuilt from memory_index.json", populate: true)
        } catch {
            throw Unusable(reason: error.code == .notFound ? "missing" : "cannot be mapped: \(error.message)")
        }
        let bytes = file.bytes
        guard bytes.count >= Self.headerSize + Self.trailerSize else { throw Unusable(reason: "truncated (\(bytes.count) bytes)") }
        guard Self.magic.indices.allSatisfy({ bytes[$0] == Self.magic[$0] }) else { throw Unusable(reason: "not a binary index (bad magic)") }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        guard u32(8) == Self.fileVersion, u32(12) == UInt32(Self.headerSize), u32(16) == UInt32(Self.entrySize) else {
            throw Unusable(reason: "of another layout version")
        }
        // Counts bounded by the file size before any multiplication, so nothing below can overflow.
        let limit = UInt64(bytes.count)
        let memories = u64(24), assemblies = u64(32)
        guard memories <= limit / UInt64(Self.entrySize), assemblies <= limit / UInt64(Self.entrySize) else { throw Unusable(reason: "damaged (counts)") }
        let memoryTable = Self.headerSize
        let assemblyTable = memoryTable + Int(memories) * Self.entrySize
        let blob = assemblyTable + Int(assemblies) * Self.entrySize
        guard u64(80) == UInt64(memoryTable), u64(88) == UInt64(assemblyTable), u64(96) == UInt64(blob), u64(104) <= limit,
              blob + Int(u64(104)) + Self.trailerSize == bytes.count
        else { throw Unusable(reason: "damaged (section offsets do not match the file size)") }
        guard u64(112) <= memories, u64(120) <= assemblies else { throw Unusable(reason: "damaged (counts)") }
        let stored = u64(bytes.count - Self.trailerSize)
        let computed = XXH3_64bits(bytes.baseAddress, bytes.count - Self.trailerSize)
        guard stored == computed else { throw Unusable(reason: "damaged (checksum mismatch)") }
        let dimension = Int64(bitPattern: u64(48))
        self.mapped = file
        self.indexVersion = u32(20)
        self.memoryCount = Int(memories)
        self.assemblyCount = Int(assemblies)
        self.memoriesWithDimension = Int(u64(112))
        self.assembliesWithDimension = Int(u64(120))
        self.journalSequence = Int64(bitPattern: u64(40))
        self.embeddingDimension = dimension < 0 ? nil : Int(dimension)
        self.source = IndexFileIdentity(size: u64(56), mtimeNanoseconds: Int64(bitPattern: u64(64)), inode: u64(72))
        self.memoryTable = memoryTable
        self.assemblyTable = assemblyTable
        self.blob = blob
        self.blobSize = Int(u64(104))
        file.adviseRandom()  // lookups touch a few pages each; read-ahead would only evict others
    }

    /// Maps `path` and checks that it was derived from the JSON index whose identity is `json` (and is of the
    /// format version this Engram reads).
    static func open(path: String, matching json: IndexFileIdentity) throws(Unusable) -> BinaryIndexFile {
        let file = try BinaryIndexFile(path: path)
        guard file.source == json else { throw Unusable(reason: "stale (derived from another memory_index.json)") }
        guard String(file.indexVersion) == CentralIndex.currentVersion else { throw Unusable(reason: "of another index format version") }
        return file
    }

    // MARK: Reading (every access bounds-checked)

    func count(_ section: Section) -> Int { section == .memories ? memoryCount : assemblyCount }

    func countWithDimension(_ section: Section) -> Int { section == .memories ? memoriesWithDimension : assembliesWithDimension }

    /// The fixed-width entry at `position` of `section` (position < count: callers iterate or binary-search).
    func entry(_ section: Section, _ position: Int) -> UnsafeRawBufferPointer {
        let start = (section == .memories ? memoryTable : assemblyTable) + position * Self.entrySize
        return UnsafeRawBufferPointer(rebasing: mapped.bytes[start..<start + Self.entrySize])
    }

    /// `length` bytes at `offset` of the string blob, or nil when that range is outside it.
    func blobBytes(_ offset: UInt64, _ length: Int) -> UnsafeRawBufferPointer? {
        guard length >= 0, offset <= UInt64(blobSize), UInt64(length) <= UInt64(blobSize) - offset else { return nil }
        let start = blob + Int(offset)
        return UnsafeRawBufferPointer(rebasing: mapped.bytes[start..<start + length])
    }

    func string(_ offset: UInt64, _ length: Int) -> String? {
        blobBytes(offset, length).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The id bytes of the entry at `position` (an entry starts with its id's blob offset and length).
    func idBytes(_ section: Section, _ position: Int) -> UnsafeRawBufferPointer? {
        let e = entry(section, position)
        return blobBytes(UInt64(e.u32(0)), Int(e.u16(4)))
    }

    func id(_ section: Section, _ position: Int) -> String? {
        idBytes(section, position).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The position of `id` in `section` by binary search over the sorted table (byte order), or nil.
    func position(of id: String, in section: Section) -> Int? {
        var id = id
        return id.withUTF8 { key -> Int? in
            var low = 0, high = count(section)
            while low < high {
                let mid = (low + high) / 2
                guard let candidate = idBytes(section, mid) else { return nil }  // damaged: absent, never a crash
                let order = Self.compare(candidate, UnsafeRawBufferPointer(key))
                if order == 0 { return mid }
                if order < 0 { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    /// memcmp order, shorter first on a common prefix: the order ``BinaryIndexWriter`` sorts ids in.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }
}

extension UnsafeRawBufferPointer {
    func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}
