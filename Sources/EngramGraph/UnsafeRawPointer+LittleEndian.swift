/// Little-endian field access on raw bytes.
extension UnsafeRawPointer {
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    func i32(_ at: Int) -> Int32 { Int32(littleEndian: loadUnaligned(fromByteOffset: at, as: Int32.self)) }
}

extension UnsafeMutableRawPointer {
    func put(_ v: UInt32, _ at: Int) { storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self) }
    func put(_ v: UInt64, _ at: Int) { storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt64.self) }
    func put(_ v: Int32, _ at: Int) { storeBytes(of: v.littleEndian, toByteOffset: at, as: Int32.self) }
    func put(_ bytes: [UInt8], _ at: Int) { bytes.withUnsafeBytes { (self + at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
}
