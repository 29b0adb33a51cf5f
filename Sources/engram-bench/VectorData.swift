import Engram
import EngramIO
import EngramJSON

/// The vector figures' data: `shared/data/dev_base.fvecs` (the base vectors), `dev_base.txt` (their texts),
/// `dev_query.fvecs` (the queries) and `dev_groundtruth.ivecs` (each query's exact nearest base rows by L2,
/// best first, 0-based). Nil when any of them cannot be found: the vector figures are then skipped, never faked.
struct VectorData: Sendable {
    let directory: String
    let dimension: Int
    /// Base row `n` is `base[n * dimension ..< (n + 1) * dimension]`.
    let base: [Float]
    let baseCount: Int
    let texts: [String]
    let queries: [[Float]]
    /// Per query, its exact nearest base rows, best first (100 in the shipped file).
    let groundTruth: [[Int]]

    static let files = ["dev_base.fvecs", "dev_base.txt", "dev_query.fvecs", "dev_groundtruth.ivecs"]

    /// The memory id of base row `n`: `v00000` … `v19999`.
    static func id(_ n: Int) -> String {
        let digits = String(n)
        return "v" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// The base row a memory id of `id(_:)` names, or nil.
    static func row(of id: String) -> Int? {
        guard id.first == "v" else { return nil }
        return Int(id.dropFirst())
    }

    func row(_ n: Int) -> [Float] { Array(base[n * dimension..<(n + 1) * dimension]) }

    /// The memory of base row `n`: its vector, its text, its row number in the metadata.
    func memory(_ n: Int) -> MemoryEntry {
        MemoryEntry(id: VectorData.id(n), content: texts[n], embedding: row(n),
                    metadata: ["source": .string("dev_base"), "row": .int(Int64(n))], embeddingModel: "all-MiniLM-L6-v2")
    }

    // MARK: Loading

    /// The candidate directories: beside the package root, beside the working directory, `/work/shared/data`.
    static var candidateDirectories: [String] {
        [Dataset.packageRoot + "/../shared/data", "../shared/data", "/work/shared/data"]
    }

    /// What `load()` looked for, for the message when it is missing.
    static var lookedFor: String {
        files.joined(separator: ", ") + " in " + candidateDirectories.joined(separator: " or ")
    }

    /// Loads the first candidate directory holding all four files; throws if one of them is malformed.
    static func load() throws -> VectorData? {
        guard let directory = candidateDirectories.first(where: { dir in files.allSatisfy { Sys.fileType(dir + "/" + $0) == .file } }) else {
            return nil
        }
        let (base, baseDimension, baseCount) = try readVectors(directory + "/dev_base.fvecs")
        let (queryFlat, queryDimension, queryCount) = try readVectors(directory + "/dev_query.fvecs")
        guard queryDimension == baseDimension else {
            throw BenchmarkFailure(description: "dev_query.fvecs has dimension \(queryDimension), dev_base.fvecs \(baseDimension)")
        }
        let (truthFlat, truthWidth, truthCount) = try readRows(directory + "/dev_groundtruth.ivecs") { Int(Int32(bitPattern: $0)) }
        guard truthCount == queryCount, truthWidth >= 10 else {
            throw BenchmarkFailure(description: "dev_groundtruth.ivecs has \(truthCount) rows of \(truthWidth), expected \(queryCount) rows of at least 10")
        }
        let texts = try readTexts(directory + "/dev_base.txt")
        guard texts.count == baseCount else {
            throw BenchmarkFailure(description: "dev_base.txt has \(texts.count) lines, dev_base.fvecs \(baseCount) vectors")
        }
        let queries = (0..<queryCount).map { Array(queryFlat[$0 * queryDimension..<($0 + 1) * queryDimension]) }
        let truth = (0..<truthCount).map { Array(truthFlat[$0 * truthWidth..<($0 + 1) * truthWidth]) }
        guard truth.allSatisfy({ $0.allSatisfy { (0..<baseCount).contains($0) } }) else {
            throw BenchmarkFailure(description: "dev_groundtruth.ivecs names rows outside 0..<\(baseCount)")
        }
        return VectorData(directory: directory, dimension: baseDimension, base: base, baseCount: baseCount,
                          texts: texts, queries: queries, groundTruth: truth)
    }

    /// A TEXMEX `.fvecs` file: per row a little-endian int32 dimension, then that many float32 values.
    private static func readVectors(_ path: String) throws -> (values: [Float], dimension: Int, count: Int) {
        let (values, dimension, count) = try readRows(path) { Float(bitPattern: $0) }
        guard values.allSatisfy(\.isFinite) else { throw BenchmarkFailure(description: "\(path) holds a value that is not finite") }
        return (values, dimension, count)
    }

    /// The rows of a `.fvecs`/`.ivecs` file, flattened; every row must have the first row's width.
    private static func readRows<T>(_ path: String, _ convert: (UInt32) -> T) throws -> (values: [T], width: Int, count: Int) {
        let bytes = try Sys.readFile(path, maxSize: 1 << 32, operation: "read benchmark data")
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        guard bytes.count >= 4 else { throw BenchmarkFailure(description: "\(path) is empty") }
        let width = Int(Int32(bitPattern: word(0)))
        let rowBytes = 4 + 4 * width
        guard width > 0, bytes.count % rowBytes == 0 else {
            throw BenchmarkFailure(description: "\(path) is not a sequence of rows of \(width) values (\(bytes.count) bytes)")
        }
        let count = bytes.count / rowBytes
        var values: [T] = []
        values.reserveCapacity(count * width)
        for row in 0..<count {
            let start = row * rowBytes
            guard Int(Int32(bitPattern: word(start))) == width else {
                throw BenchmarkFailure(description: "\(path): row \(row) has \(Int32(bitPattern: word(start))) values, the first row \(width)")
            }
            for i in 0..<width { values.append(convert(word(start + 4 + 4 * i))) }
        }
        return (values, width, count)
    }

    /// One text a line; inside a text a newline is written `\n` and a backslash `\\`.
    private static func readTexts(_ path: String) throws -> [String] {
        let bytes = try Sys.readFile(path, operation: "read benchmark data")
        var texts: [String] = []
        var line: [UInt8] = []
        var escaped = false
        for byte in bytes {
            if escaped {
                switch byte {
                case UInt8(ascii: "n"): line.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "\\"): line.append(byte)
                default: line.append(UInt8(ascii: "\\")); line.append(byte)
                }
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\n") {
                texts.append(String(decoding: line, as: UTF8.self))
                line.removeAll(keepingCapacity: true)
            } else {
                line.append(byte)
            }
        }
        if escaped { line.append(UInt8(ascii: "\\")) }
        if !line.isEmpty { texts.append(String(decoding: line, as: UTF8.self)) }
        return texts
    }
}
