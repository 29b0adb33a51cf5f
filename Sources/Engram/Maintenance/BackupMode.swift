/// How a backup holds the store's files.
public enum BackupMode: String, Sendable, CaseIterable {
    /// Every file is a copy of its own (the default): a copy-on-write clone where the file system supports one
    /// (btrfs, xfs with reflink: instant, no extra space until a file changes), else a real copy. Nothing done to
    /// the store's files afterwards — a hand edit in place, `>` redirection, bit rot — can reach the backup.
    case copy
    /// Hard links to the store's record files (`engram backup --link`): fast and free of space, but the backup
    /// shares each file with the store, so a record modified *in place* afterwards (an editor that rewrites
    /// the file, `>`, a tool that opens it for writing, bit rot) changes the backup too. Engram itself only ever
    /// replaces records by rename, which does not. Across file systems files are copied anyway.
    case hardLink = "link"
}
