import CLibUV
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A file to be written with the atomic replacement protocol.
package struct PendingFile: Sendable {
    /// Absolute (or store-relative-to-cwd) directory; the temp file is created in the same directory so that
    /// `rename` is atomic.
    package let directory: String
    package let name: String
    package let bytes: [UInt8]
    /// The temp file's name: `.<name>.<random>.tmp`, never a valid record name.
    package let temporaryName: String

    package init(directory: String, name: String, bytes: [UInt8], temporaryName: String? = nil) {
        self.directory = directory
        self.name = name
        self.bytes = bytes
        self.temporaryName = temporaryName ?? Sys.temporaryName(for: name)
    }

    package var path: String { directory + "/" + name }
    package var temporaryPath: String { directory + "/" + temporaryName }
}
