import CXXHash

/// `content_hash` (SPEC §2): `xxh3:` + 16 lowercase hex digits of XXH3-64 over the UTF-8 bytes of the content.
public enum ContentHash {
    public static func of(_ content: String) -> String {
        var content = content
        let hash = content.withUTF8 { buffer in XXH3_64bits(buffer.baseAddress, buffer.count) }
        return "xxh3:" + RecordID.hex16(hash)
    }

    /// XXH3-64 of raw bytes as 16 hex digits: the checksum of journal lines, index backups and manifests.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> String {
        RecordID.hex16(XXH3_64bits(bytes.baseAddress, bytes.count))
    }

    public static func checksum(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
