import Synchronization

/// The system calls through which Engram touches the disk, as named in fault rules and counters.
package enum Syscall: String, Sendable, CaseIterable {
    case open, read, write, fsync, rename, unlink, mkdir, link, opendir
}
