import CFaissShim

/// An error from the FAISS layer: either rejected by validation in Swift (code
/// ``badArgument``) or reported by the C shim (an exception caught inside it, an I/O
/// error or malformed index bytes).
public struct FaissError: Error, Sendable, CustomStringConvertible {
    /// 0 never; the negative `ENGRAM_FAISS_E_*` code (see the constants below).
    public let code: Int32
    /// A complete sentence naming the operation (and the path, if any) and what went wrong.
    public let message: String
    /// The operation that failed, e.g. `search`, `init(readingPath: "/x/y.faiss")`.
    public let operation: String

    /// FAISS threw a `faiss::FaissException`.
    public static let faissException: Int32 = ENGRAM_FAISS_E_FAISS
    /// Another `std::exception` was thrown inside FAISS.
    public static let cxxException: Int32 = ENGRAM_FAISS_E_STD
    /// An exception of unknown type was thrown inside FAISS.
    public static let unknownException: Int32 = ENGRAM_FAISS_E_UNKNOWN
    /// An argument was rejected (wrong length, NaN, duplicate id, k <= 0, ...).
    public static let badArgument: Int32 = ENGRAM_FAISS_E_BAD_ARGUMENT
    /// An allocation failed.
    public static let outOfMemory: Int32 = ENGRAM_FAISS_E_OUT_OF_MEMORY
    /// Opening, reading or writing a path failed (missing file, permissions, disk full...).
    public static let ioError: Int32 = ENGRAM_FAISS_E_IO
    /// The bytes are not a valid IndexIDMap2/IndexIDMap over a flat index
    /// (empty, truncated, garbage, trailing bytes, other index type, duplicate ids).
    public static let formatError: Int32 = ENGRAM_FAISS_E_FORMAT

    public init(code: Int32, operation: String, detail: String) {
        self.code = code
        self.operation = operation
        self.message = "\(operation) failed: \(detail)"
    }

    /// A short name for ``code``.
    public var codeName: String {
        switch code {
        case Self.faissException: return "faiss exception"
        case Self.cxxException: return "C++ exception"
        case Self.unknownException: return "unknown exception"
        case Self.badArgument: return "bad argument"
        case Self.outOfMemory: return "out of memory"
        case Self.ioError: return "I/O error"
        case Self.formatError: return "invalid index data"
        default: return "error"
        }
    }

    public var description: String { "FaissError(\(code), \(codeName)): \(message)" }

    static func bad(_ operation: String, _ detail: String) -> FaissError {
        FaissError(code: badArgument, operation: operation, detail: detail)
    }
}
