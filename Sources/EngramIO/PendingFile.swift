import CLibUV
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A file to be written with the atomic replacement protocol.
public struct PendingFile: Sendable {
    /// Absolute (or store-relative-to-cwd) directory; the temp file is created in the same directory so that
    /// `rename` is atomic.
    public let directory: String
    public let name: String
    public let bytes: [UInt8]
    /// The temp file's name: `.<name>.<random>.tmp`, never a valid record name.
    public let temporaryName: String

    public init(directory: String, name: String, bytes: [UInt8], temporaryName: String? = nil) {
        self.directory = directory
        self.name = name
        self.bytes = bytes
        self.temporaryName = temporaryName ?? Sys.temporaryName(for: name)
    }

    public var path: String { directory + "/" + name }
    public var temporaryPath: String { directory + "/" + temporaryName }
}
