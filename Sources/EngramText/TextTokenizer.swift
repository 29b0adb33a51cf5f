/// Splits text into search terms for the keyword index. The same rules serve documents and queries.
///
/// Why these rules: agents search memories for identifiers, error codes and paths, which embedding models blur.
/// So a term is not only a plain word but also a whole identifier, and each identifier is findable by its pieces.
///
/// - **Word characters** are letters and digits of any script, `_`, and combining marks after a letter or digit.
///   Everything else (spaces, punctuation, symbols, emoji) separates words.
/// - **Compounds**: `.` `-` `/` `:` (and `::`) join word characters on both sides into one word:
///   `os.path.join`, `x86_64-linux-gnu`, `/usr/lib/libfoo.so.1` (→ `usr/lib/libfoo.so.1`), `std::vector`, `3.14`.
///   A connector not followed by a word character ends the word (`end.` → `end`).
/// - **Folding**: lowercase (ASCII by table; other scripts by Unicode's lowercase mapping, final sigma to σ);
///   fullwidth ASCII forms (`ＡＢＣ１`) become ASCII. No stemming, no other normalisation: `café` written with a
///   combining accent does not match the precomposed one.
/// - **Emitted per word**: the whole folded word; then, if it has several segments (split at `_ . - / :`), each
///   segment; then, if a segment has several parts, each part. Parts split at camelCase (`getBest` → get|best),
///   at the end of an acronym (`HTTPServer` → http|server) and between letters and digits (`utf8` → utf|8,
///   `x86` → x|86). A part is not emitted again when it equals its segment, nor a segment when it equals the whole.
///   Example: `XauGetBestAuthByAddr` → `xaugetbestauthbyaddr xau get best auth by addr`.
/// - **Numbers** stay findable: `404`, `3.14` (→ `3.14 3 14`), `v1.2` (→ `v1.2 v1 2 v 1`); a hex literal
///   (`0x1F`) is not split into parts (→ `0x1f`).
/// - **Limits**: a term longer than ``maxTermBytes`` UTF-8 bytes is not emitted (its shorter segments and parts
///   still are), and a segment of more than ``maxParts`` parts (hashes, base64) emits no parts.
/// - **CJK** (Han, Hiragana, Katakana), written without spaces: each character is a term, and so is each pair of
///   adjacent characters (a bigram), so `東京都` → `東 京 東京 都 京都` and a query `東京` matches it.
///
/// Works on UTF-8 bytes with an ASCII fast path (it runs on every save and on every document at rebuild).
public struct TextTokenizer: Sendable {
    /// Longer terms are dropped: base64 blobs and hashes are not worth a dictionary entry each.
    public static let maxTermBytes = 64
    /// A segment with more parts than this is opaque (a hash, base64): its parts are noise.
    public static let maxParts = 10

    public init() {}

    /// A document's terms, with repeats (their count is the term frequency).
    public func terms(_ text: String) -> [String] {
        var out: [String] = []
        forEachTerm(text) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// A query's terms (same rules; what search uses).
    public func queryTerms(_ text: String) -> [String] { terms(text) }

    /// Calls `body` with each term's folded UTF-8 bytes (valid only during the call), in text order.
    func forEachTerm(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes)
            scanner.run(body)
        }
    }
}

/// What a scalar is to the tokenizer.
private enum Kind: UInt8 {
    case lower, upper, otherLetter, digit, underscore, connector, mark, cjk, separator

    var isLetter: Bool { self == .lower || self == .upper || self == .otherLetter }
    var isAlphanumeric: Bool { isLetter || self == .digit }
    /// Can start or continue a word (a mark only continues one).
    var isWord: Bool { isAlphanumeric || self == .underscore }
}

/// ASCII classes by table: the hot path of tokenizing English-and-code text.
private let asciiKinds: [Kind] = (0..<128).map { (c: Int) -> Kind in
    switch c {
    case 0x61...0x7A: .lower
    case 0x41...0x5A: .upper
    case 0x30...0x39: .digit
    case 0x5F: .underscore
    case 0x2E, 0x2D, 0x2F, 0x3A: .connector
    default: .separator
    }
}

/// One pass over a text's bytes; holds the word being built.
private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The current word, folded.
    var folded: [UInt8] = []
    /// Per scalar of the current word: where its folded bytes start, and its kind.
    var starts: [Int] = []
    var kinds: [Kind] = []
    /// The folded bytes of the previous scalar when it was CJK and ended where the current one starts (bigrams).
    var previousCJK: [UInt8] = []
    var previousCJKEnd = -1

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        folded.reserveCapacity(128)
        starts.reserveCapacity(64)
        kinds.reserveCapacity(64)
    }

    /// Decodes the scalar at `i` (the bytes are valid UTF-8: they come from a String).
    func scalar(at i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3) }
        return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F), 4)
    }

    /// The kind of a scalar after folding fullwidth forms (which `fold` applies too).
    static func kind(_ v: UInt32) -> Kind {
        if v < 0x80 { return asciiKinds[Int(v)] }
        if (0xFF01...0xFF5E).contains(v) { return kind(v - 0xFEE0) }
        if isCJK(v) { return .cjk }
        guard let s = Unicode.Scalar(v) else { return .separator }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: return .upper
        case .lowercaseLetter: return .lower
        case .otherLetter, .modifierLetter: return .otherLetter
        case .decimalNumber, .letterNumber, .otherNumber: return .digit
        case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
        case .connectorPunctuation: return .underscore
        default: return .separator
        }
    }

    static func isCJK(_ v: UInt32) -> Bool {
        (0x3040...0x30FF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x20000...0x2FFFF).contains(v)
    }

    /// Appends the case-folded UTF-8 of `v` to `out`.
    static func fold(_ v: UInt32, into out: inout [UInt8]) {
        if v < 0x80 {
            out.append(v >= 0x41 && v <= 0x5A ? UInt8(v + 0x20) : UInt8(v))
            return
        }
        if (0xFF01...0xFF5E).contains(v) { return fold(v - 0xFEE0, into: &out) }
        if v == 0x3C2 { return append(0x3C3, to: &out) }  // final sigma folds to σ
        guard let s = Unicode.Scalar(v) else { return }
        if s.properties.changesWhenLowercased {
            for l in s.properties.lowercaseMapping.unicodeScalars { append(l.value, to: &out) }
        } else {
            append(v, to: &out)
        }
    }

    static func append(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
        } else if v < 0x800 {
            out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
        } else if v < 0x10000 {
            out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | (v >> 6) & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        } else {
            out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | (v >> 12) & 0x3F))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    mutating func run(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            // ASCII fast path: no decoding, no Unicode tables.
            let (v, length) = b < 0x80 ? (UInt32(b), 1) : scalar(at: i)
            let kind = b < 0x80 ? asciiKinds[Int(b)] : Scanner.kind(v)
            switch kind {
            case .lower, .upper, .otherLetter, .digit, .underscore:
                starts.append(folded.count)
                kinds.append(kind)
                Scanner.fold(v, into: &folded)
            case .mark:
                // A mark belongs to the letter before it; alone it is nothing.
                if let last = kinds.last, last.isWord {
                    starts.append(folded.count)
                    kinds.append(.mark)
                    Scanner.fold(v, into: &folded)
                }
            case .connector:
                // Joins only between word characters: `a.b`, `a::b`; never leading, trailing or doubled (`a..b`).
                var joined = false
                if let last = kinds.last, last != .connector, last != .mark || kinds.count > 1 {
                    let width = (v == 0x3A && i + 1 < n && bytes[i + 1] == 0x3A) ? 2 : 1
                    if i + width < n {
                        let next = bytes[i + width] < 0x80 ? asciiKinds[Int(bytes[i + width])] : Scanner.kind(scalar(at: i + width).value)
                        if next.isWord {
                            for k in 0..<width {
                                starts.append(folded.count)
                                kinds.append(.connector)
                                folded.append(bytes[i + k])
                            }
                            i += width
                            joined = true
                        }
                    }
                }
                if joined { continue }
                flush(body)
            case .cjk:
                flush(body)
                var unit: [UInt8] = []
                Scanner.fold(v, into: &unit)
                emit(unit, body)
                if previousCJKEnd == i { emit(previousCJK + unit, body) }
                previousCJK = unit
                previousCJKEnd = i + length
            case .separator:
                flush(body)
            }
            i += length
        }
        flush(body)
    }

    func emit(_ term: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if term.isEmpty || term.count > TextTokenizer.maxTermBytes { return }
        term.withUnsafeBufferPointer(body)
    }

    func emit(_ from: Int, _ to: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if to <= from || to - from > TextTokenizer.maxTermBytes { return }
        folded.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[from..<to])) }
    }

    /// Emits the word built so far (whole, segments, parts) and starts a new one.
    mutating func flush(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        defer { folded.removeAll(keepingCapacity: true); starts.removeAll(keepingCapacity: true); kinds.removeAll(keepingCapacity: true) }
        guard kinds.contains(where: { $0.isAlphanumeric }) else { return }  // `___` is not a word
        let count = kinds.count
        func byte(_ scalar: Int) -> Int { scalar < count ? starts[scalar] : folded.count }
        emit(0, folded.count, body)
        // Segments: runs between `_` and connectors.
        var segments: [(Int, Int)] = []
        var a = 0
        for j in 0...count where j == count || kinds[j] == .underscore || kinds[j] == .connector {
            if j > a { segments.append((a, j)) }
            a = j + 1
        }
        let single = segments.count == 1 && segments[0] == (0, count)
        for (a, b) in segments {
            if !single { emit(byte(a), byte(b), body) }
            if isHexLiteral(a, b) { continue }
            var cuts = [a]
            var previous = kinds[a]
            for j in (a + 1)..<b {
                let k = kinds[j]
                if k == .mark { continue }
                var cut = false
                if k == .upper && previous == .lower { cut = true }  // getBest
                if k == .upper && previous == .upper && j + 1 < b && kinds[j + 1] == .lower { cut = true }  // HTTPServer
                if (k == .digit && previous.isLetter) || (k.isLetter && previous == .digit) { cut = true }  // utf8, 3d
                if cut { cuts.append(j) }
                previous = k
            }
            guard cuts.count > 1, cuts.count <= TextTokenizer.maxParts else { continue }
            cuts.append(b)
            for p in 0..<(cuts.count - 1) { emit(byte(cuts[p]), byte(cuts[p + 1]), body) }
        }
    }

    /// `0x1f`: a number written in hex; its "parts" (`0`, `x`, `1`, `f`) would be noise.
    func isHexLiteral(_ a: Int, _ b: Int) -> Bool {
        let from = starts[a], to = b < kinds.count ? starts[b] : folded.count
        guard to - from >= 3, folded[from] == 0x30, folded[from + 1] == 0x78 else { return false }
        return folded[(from + 2)..<to].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
