import CXXHash

/// The keyword index file (docs/KEYWORDS.md): one immutable segment, little-endian, fixed widths.
///
/// ```
/// header      72 bytes   magic "ENGRAMKW", u32 version, u32 flags, f32 k1, f32 b, u64 docCount,
///                        u64 totalLength, u64 keyBytes, 16 reserved zero bytes, u64 XXH3-64 of bytes 0..<64
/// doc table   docCount × 24: u32 keyOffset, u32 keyLength, i64 version, u32 length, u32 0  (sorted by key bytes)
/// key blob    keyBytes
/// postings    per term: [skip table if df ≥ 256] varint stream
/// term blob   termBytes
/// term table  termCount × 24: u32 termOffset, u32 termLength, u32 df, u32 postingsLength, u64 postingsOffset
///                        (sorted by term bytes)
/// trailer     32 bytes: u64 termCount, u64 termBytes, u64 postingsBytes, u64 XXH3-64 of everything before it
/// ```
/// The postings come before the term table so a writer can stream them: the trailer, written last, carries what
/// is only known at the end.
enum KeywordFormat {
    static let magic: [UInt8] = Array("ENGRAMKW".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 72
    static let headerChecked = 64
    static let docEntryBytes = 24
    static let termEntryBytes = 24
    static let trailerBytes = 32
    /// Postings per block of the skip table.
    static let blockSize = 128
    /// Terms with at least this many postings get a skip table (shorter lists are cheaper to decode whole).
    static let skipThreshold = 256
    static let skipEntryBytes = 8
    static let remedy = "rebuild the keyword index from the records (it is derived data)"

    static func hash(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 { XXH3_64bits(p, count) }

    static func skipEntries(df: Int) -> Int { df >= skipThreshold ? (df + blockSize - 1) / blockSize : 0 }
}

/// Little-endian loads from mapped bytes (callers check bounds first).
extension UnsafeRawPointer {
    @inline(__always) func le32(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    @inline(__always) func le64(_ at: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}

/// Little-endian appends for the writer.
extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func appendLE(_ v: UInt64) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }

    /// LEB128: 7 bits a byte, low first; most doc gaps and term frequencies take one byte.
    mutating func appendVarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }
}
