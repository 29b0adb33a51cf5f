import EngramJSON

/// Reading the JSON the Python "Synthians Memory Core" writes.
///
/// Python's `json.dump` writes float NaN and ±Infinity as the bare tokens `NaN`, `Infinity` and `-Infinity`,
/// which are not JSON: ``JSONReader`` (rightly) refuses them. Before parsing a Synthians file, those tokens —
/// outside strings only — are replaced by `null`, and the count is kept, so the importer can decide per record
/// what a value that became `null` means (an embedding holding one is imported without the embedding).
package enum SynthiansJSON {
    /// The bytes with every bare `NaN`, `Infinity` and `-Infinity` outside strings replaced by `null`, and how
    /// many were replaced. Text inside strings (`"vector with NaN"`) is never touched.
    package static func sanitize(_ bytes: [UInt8]) -> (bytes: [UInt8], replaced: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var replaced = 0
        var inString = false
        var escaped = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                if escaped {
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if let length = nonFiniteToken(bytes, at: i) {
                out.append(contentsOf: null)
                replaced += 1
                i += length
                continue
            }
            out.append(c)
            i += 1
        }
        return (out, replaced)
    }

    /// Parses Synthians JSON: ``sanitize(_:)``, then ``JSONReader``.
    package static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> (value: JSONValue, nonFinite: Int) {
        let (clean, replaced) = sanitize(bytes)
        return (try JSONReader.parse(clean), replaced)
    }

    private static let null: [UInt8] = Array("null".utf8)
    private static let tokens: [[UInt8]] = [Array("-Infinity".utf8), Array("Infinity".utf8), Array("NaN".utf8)]

    /// The length of a bare non-finite token starting at `i`, if one does: it must stand alone (a delimiter or
    /// the edge of the text on both sides), so `NaNa` or `xInfinity` are left for the parser to reject.
    private static func nonFiniteToken(_ bytes: [UInt8], at i: Int) -> Int? {
        let c = bytes[i]
        guard c == UInt8(ascii: "N") || c == UInt8(ascii: "I") || c == UInt8(ascii: "-") else { return nil }
        if i > 0, !isDelimiter(bytes[i - 1]) { return nil }
        for token in tokens where i + token.count <= bytes.count && bytes[i..<(i + token.count)].elementsEqual(token) {
            let end = i + token.count
            if end == bytes.count || isDelimiter(bytes[end]) { return token.count }
        }
        return nil
    }

    private static func isDelimiter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"),
             UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            return true
        default:
            return false
        }
    }
}
