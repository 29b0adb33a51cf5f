/// How a file reached a snapshot (backup, restore, pre-upgrade snapshot).
package enum CopyMethod: String, Sendable {
    /// A copy-on-write clone (`FICLONE`: btrfs, xfs with reflink): instant, and independent of the source's
    /// inode — a later write into the source changes nothing in the clone.
    case cloned
    /// A real copy of the bytes (`copy_file_range`, else read/write).
    case copied
    /// A hard link: the same inode. Free, but a write *into* the source file (an editor, `>`, bit rot) changes
    /// the snapshot too; only used when asked for (`engram backup --link`).
    case linked
}
