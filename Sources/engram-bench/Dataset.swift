import Engram
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The texts and embeddings the benchmark's records are made of: the 1,000 real memories of
/// `shared/data/sample_memories.jsonl` when they can be found, else deterministic pseudo-random ones.
struct Dataset: Sendable {
    struct Sample: Sendable {
        var content: String
        var embedding: [Float]
        var metadata: JSONObject
        var embeddingModel: String?
    }

    static let dimension = 384

    /// Where the samples came from, for the report.
    let source: String
    let isReal: Bool
    let samples: [Sample]

    /// Record `n` of a benchmark: sample `n` modulo the sample count, with an id unique to (`prefix`, `n`).
    func memory(_ n: Int, prefix: String) -> MemoryEntry {
        let sample = samples[n % samples.count]
        var metadata = sample.metadata
        metadata["bench_n"] = .int(Int64(n))
        return MemoryEntry(id: Dataset.id(n, prefix: prefix), content: sample.content, embedding: sample.embedding,
                           metadata: metadata, embeddingModel: sample.embeddingModel)
    }

    static func id(_ n: Int, prefix: String) -> String {
        let digits = String(n)
        return "mem_" + prefix + "_" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    // MARK: Loading

    /// The sample file's candidate locations: beside the package root, beside the working directory, `/work/shared`.
    static var candidatePaths: [String] {
        let relative = "shared/data/sample_memories.jsonl"
        return [packageRoot + "/../" + relative, "../" + relative, "/work/" + relative]
    }

    /// The package root, from this source file's path (`<root>/Sources/engram-bench/Dataset.swift`).
    static var packageRoot: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    static func load() -> Dataset {
        for path in candidatePaths where Sys.fileType(path) == .file {
            if let samples = try? readSamples(path), !samples.isEmpty {
                return Dataset(source: "real: \(samples.count) memories from \(normalised(path)), cycled", isReal: true, samples: samples)
            }
        }
        return Dataset(source: "synthetic: 1,000 deterministic pseudo-random \(dimension)-d unit vectors and texts (sample_memories.jsonl not found)",
                       isReal: false, samples: synthetic(count: 1_000))
    }

    private static func readSamples(_ path: String) throws -> [Sample] {
        let bytes = try Sys.readFile(path, operation: "read benchmark data")
        var samples: [Sample] = []
        try bytes.withUnsafeBytes { raw in
            try JSONReader.parseSequence(raw) { value, _ in
                guard let content = value["content"]?.stringValue,
                      let values = value["embedding"]?.arrayValue, values.count == dimension else { return }
                let embedding = values.compactMap { $0.doubleValue.map(Float.init) }
                guard embedding.count == dimension else { return }
                samples.append(Sample(content: content, embedding: embedding, metadata: value["metadata"]?.objectValue ?? [:],
                                      embeddingModel: value["embedding_model"]?.stringValue))
            }
        }
        return samples
    }

    /// `a/b/../c` → `a/c`, for display.
    private static func normalised(_ path: String) -> String {
        var out: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part == "..", let last = out.last, last != "..", !last.isEmpty { out.removeLast() } else if part != "." { out.append(part) }
        }
        return out.joined(separator: "/")
    }

    // MARK: Synthetic data

    private static let words = [
        "the", "agent", "remembers", "that", "a", "user", "asked", "about", "file", "system", "journal", "index",
        "vector", "memory", "durable", "write", "kernel", "page", "cache", "directory", "rename", "fsync", "record",
        "embedding", "model", "query", "answer", "context", "session", "tool", "result", "error", "retry", "store",
    ]

    static func synthetic(count: Int) -> [Sample] {
        var generator = SplitMix64(state: 0x454E_4752_414D)
        return (0..<count).map { n in
            var vector = (0..<dimension).map { _ in Float(generator.nextGaussian()) }
            let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            for i in vector.indices { vector[i] /= norm }
            let wordCount = 20 + Int(generator.next() % 60)
            let text = (0..<wordCount).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined(separator: " ")
            return Sample(content: "Synthetic memory \(n): \(text).", embedding: vector,
                          metadata: ["source": .string("engram-bench"), "corpus": .string("synthetic")], embeddingModel: "synthetic")
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal deviate (Box–Muller).
    mutating func nextGaussian() -> Double {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
