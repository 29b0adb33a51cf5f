import ArgumentParser
import EngramJSON
import Foundation

/// `engram hash-embedder`: the embedder shipped for tests and the demo, so that `--embedder "engram hash-embedder"`
/// works with no Python and no model.
///
/// It is lexical, not semantic: texts sharing words and spellings get near vectors, synonyms do not. Each
/// case-folded word and each character trigram of a word is hashed (64-bit FNV-1a, then a mixing step: the same
/// on every run and machine) to a bucket and a sign; the sum is L2-normalised. The algorithm is spelled out in
/// docs/EMBEDDER.md so that other implementations can reproduce its vectors. A text without words gets a fixed
/// unit vector, so no vector is ever zero or NaN.
struct HashEmbedderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-embedder",
        abstract: "The test/demo embedder: lexical feature hashing (not semantic), JSON Lines on stdin/stdout.",
        discussion: """
            Reads {"texts": ["…", …]} lines on stdin and answers each with one {"vectors": [[…], …]} line (a bad line \
            gets {"error": "…"} and the embedder keeps serving); exits at end of input. Use it as \
            --embedder "engram hash-embedder". Deterministic: the same text gives the same vector on every run and \
            machine. For meaning-aware vectors use a real model (see the README, "Embedding text").
            """)

    @Option(help: "The number of values per vector.")
    var dimension = 384

    func validate() throws {
        guard (1...65536).contains(dimension) else { throw ValidationError("--dimension must be between 1 and 65536") }
    }

    func run() throws {
        let console = Console.current
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy(\.isWhitespace) { continue }
            console.outBytes(Self.reply(to: line, dimension: dimension) + [UInt8(ascii: "\n")])
        }
    }

    /// The reply line (without newline) to one request line.
    static func reply(to line: String, dimension: Int) -> [UInt8] {
        var writer = JSONWriter(pretty: false)
        writer.beginObject()
        do {
            let request = try JSONReader.parse(line)
            guard let items = request["texts"]?.arrayValue else { throw RequestError("the request has no \"texts\" array") }
            let texts = try items.enumerated().map { i, item in
                guard let text = item.stringValue else { throw RequestError("texts[\(i)] is not a string") }
                return text
            }
            writer.key("vectors")
            writer.beginArray()
            for text in texts {
                // Value by value: `floatArray` reserves exactly what each vector needs, which re-copies a long
                // reply once per vector (quadratic in the texts of one request).
                writer.beginArray()
                for value in vector(for: text, dimension: dimension) { writer.float(value) }
                writer.endArray()
            }
            writer.endArray()
        } catch {
            writer = JSONWriter(pretty: false)
            writer.beginObject()
            writer.key("error")
            writer.string("bad request line: \(error)")
        }
        writer.endObject()
        return writer.finish()
    }

    private struct RequestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The unit vector of `text`: signed feature hashing of its words (weight 1) and their character trigrams
    /// (weight 0.5, the word padded with `^` and `$` so that beginnings and ends count). Works on Unicode scalars
    /// and hashes their UTF-8 directly: no string is built per feature.
    static func vector(for text: String, dimension: Int) -> [Float] {
        var sums = [Double](repeating: 0, count: dimension)
        func add(_ hash: UInt64, weight: Double) {
            let hash = finalized(hash)
            let bucket = Int((hash >> 1) % UInt64(dimension))
            sums[bucket] += hash & 1 == 0 ? weight : -weight
        }
        var word: [Unicode.Scalar] = ["^"]
        func endWord() {
            guard word.count > 1 else { return }
            add(fnv(word.dropFirst(), prefix: "w:"), weight: 1)
            word.append("$")
            for start in 0...(word.count - 3) { add(fnv(word[start..<start + 3], prefix: "t:"), weight: 0.5) }
            word.removeSubrange(1...)
        }
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil { word.append(scalar) } else { endWord() }
        }
        endWord()
        let norm = sums.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // No words (or features that cancelled out): a fixed unit vector rather than zeros.
        guard norm > 0 else { return [Float](repeating: Float(1 / Double(dimension).squareRoot()), count: dimension) }
        return sums.map { Float($0 / norm) }
    }

    /// 64-bit FNV-1a of `prefix` then the UTF-8 of `scalars`.
    private static func fnv(_ scalars: ArraySlice<Unicode.Scalar>, prefix: StaticString) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        prefix.withUTF8Buffer { for byte in $0 { feed(byte) } }
        for scalar in scalars { UTF8.encode(scalar) { feed($0) } }
        return hash
    }

    /// SplitMix64's finaliser, so that every bit depends on every byte (FNV's low bits alone would bucket similar
    /// trigrams together). Fixed constants: stable on every run and machine.
    static func finalized(_ value: UInt64) -> UInt64 {
        var hash = value
        hash ^= hash >> 30
        hash &*= 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash &*= 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }
}
