import EngramIO
import EngramJSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a backup wrote.
public struct BackupReport: Sendable {
    public var destination: String
    public var files = 0
    /// Files shared with the store by hard link (free: records are replaced by rename, never modified in place).
    public var linked = 0
    /// Files copied (across file systems, and the journal, which is appended in place).
    public var copied = 0
    public var bytesCopied = 0
    public var memories = 0
    public var assemblies = 0
    /// The snapshot verified clean after it was written.
    public var verified = false
    /// A writer was running during the backup (its committed writes are included whole, see ``StoreSnapshot``).
    public var writerWasActive = false
    /// The backup held the store's checkpoint gate during its pass (false: `.lock` could not be opened for
    /// writing, and the pass was checked against checkpoints instead).
    public var checkpointGateHeld = false
    /// Passes made (more than one when a checkpoint changed the index during a pass).
    public var passes = 0
    public var seconds = 0.0

    public var json: JSONValue {
        .object([
            "destination": .string(destination), "files": .int(Int64(files)), "linked": .int(Int64(linked)), "copied": .int(Int64(copied)),
            "bytes_copied": .int(Int64(bytesCopied)), "memories": .int(Int64(memories)), "assemblies": .int(Int64(assemblies)),
            "verified": .bool(verified), "writer_was_active": .bool(writerWasActive), "seconds": .double((seconds * 1000).rounded() / 1000),
        ])
    }
}
