import EngramIO

/// Record ids (SPEC §2): 1–128 characters from `A-Z a-z 0-9 _ . : -`, the first a letter or digit.
///
/// Every id is validated here before it is used to build a path, so `../x`, `/etc/passwd`, `a/b`, `.`, `..`,
/// the empty string, NUL and newline can never reach the file system.
public enum RecordID {
    public static let maxLength = 128

    /// Whether `id` is a valid record id.
    public static func isValid(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        var first = true
        for byte in bytes {
            let alnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if first {
                guard alnum else { return false }
                first = false
            } else {
                guard alnum || byte == 0x5F || byte == 0x2E || byte == 0x3A || byte == 0x2D else { return false }
            }
        }
        return true
    }

    /// Throws ``EngramError/Code/invalidId`` with a message saying exactly what is wrong.
    public static func validate(_ id: String, operation: String) throws(EngramError) {
        guard !isValid(id) else { return }
        let shown = String(id.unicodeScalars.prefix(64).map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined())
        let reason: String
        if id.isEmpty {
            reason = "the id is empty"
        } else if id.utf8.count > maxLength {
            reason = "the id is \(id.utf8.count) bytes long; the limit is \(maxLength)"
        } else if let first = id.unicodeScalars.first, !(("0"..."9").contains(first) || ("A"..."Z").contains(first) || ("a"..."z").contains(first)) {
            reason = "the id must start with a letter or digit"
        } else {
            reason = "the id may contain only A-Z a-z 0-9 _ . : -"
        }
        throw EngramError(code: .invalidId, message: "invalid id '\(shown)': \(reason)", operation: operation,
                          remedy: "use an id of 1–128 characters from A-Z a-z 0-9 _ . : - starting with a letter or digit, or omit it to have one generated")
    }

    /// A new id: `prefix` + `_` + 32 lowercase hex digits of randomness.
    public static func generate(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        return prefix + "_" + hex16(high) + hex16(low)
    }

    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
