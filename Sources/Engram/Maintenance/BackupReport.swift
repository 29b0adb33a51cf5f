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
    /// How the files were taken (``BackupMode/copy`` unless asked otherwise).
    public var mode = BackupMode.copy
    /// Files shared with the store by hard link (``BackupMode/hardLink`` only).
    public var linked = 0
    /// Files cloned copy-on-write (`FICLONE`, where the file system supports it): independent of the store's.
    public var cloned = 0
    /// Files copied byte for byte (and the journal, which is appended in place, always).
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
            "destination": .string(destination), "files": .int(Int64(files)), "mode": .string(mode.rawValue), "linked": .int(Int64(linked)),
            "cloned": .int(Int64(cloned)), "copied": .int(Int64(copied)),
            "bytes_copied": .int(Int64(bytesCopied)), "memories": .int(Int64(memories)), "assemblies": .int(Int64(assemblies)),
            "verified": .bool(verified), "writer_was_active": .bool(writerWasActive), "seconds": .double((seconds * 1000).rounded() / 1000),
        ])
    }
}
