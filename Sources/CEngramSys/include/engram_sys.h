#ifndef ENGRAM_SYS_H
#define ENGRAM_SYS_H

/// Atomically exchanges two paths (Linux `renameat2(..., RENAME_EXCHANGE)`): both must exist; afterwards each
/// name refers to what the other did. Used by `engram restore` to swap a fully written snapshot copy with the
/// store in one step, so the store path never shows a half-restored store.
/// Returns 0, or -1 with errno set (ENOSYS/EINVAL where the kernel or file system does not support it).
/// Glibc declares renameat2 only with _GNU_SOURCE, which Swift's Glibc module does not see: hence this shim.
int engram_rename_exchange(const char *from, const char *to);

#endif

#ifndef ENGRAM_SYS_H_LOCKS
#define ENGRAM_SYS_H_LOCKS
/// Open-file-description byte-range lock (`fcntl(F_OFD_SETLK[W])`) on one byte at `offset` of `fd`: shared
/// (`exclusive` = 0) or exclusive, waiting or not. Independent of `flock` locks on the same file, and released
/// when the file description is closed (so a killed process never leaves one behind). Used as the store's
/// checkpoint gate: checkpoints take it shared, a backup in another process takes it exclusive.
/// Returns 0, or -1 with errno (EAGAIN when `wait` is 0 and another holder conflicts).
int engram_range_lock(int fd, int exclusive, int wait, long long offset);
/// Releases the byte-range lock of `engram_range_lock`.
int engram_range_unlock(int fd, long long offset);
/// Whether another file description holds a lock on the byte at `offset` (F_OFD_GETLK: needs only a readable
/// descriptor). 1 held, 0 free, -1 with errno.
int engram_range_held(int fd, long long offset);
#endif

#ifndef ENGRAM_SYS_H_SHUTDOWN
#define ENGRAM_SYS_H_SHUTDOWN
/// `ioctl(FS_IOC_SHUTDOWN)` on the file system mounted at `mountpoint` with `flags` (2 = "no log flush":
/// everything not yet durable is lost, exactly like a power cut). For the fault suite's power-cut tests only.
/// Swift cannot call the variadic `ioctl` itself. Returns 0, or -1 with errno.
int engram_fs_shutdown(const char *mountpoint, unsigned int flags);
#endif

#ifndef ENGRAM_SYS_H_COPY
#define ENGRAM_SYS_H_COPY
/// Makes `dst_fd` (an empty regular file open for writing) a copy-on-write clone of `src_fd`
/// (`ioctl(FICLONE)`): instant, shares no bytes that a later write could change. Returns 0, or -1 with errno
/// (EOPNOTSUPP/ENOTTY/EINVAL where the file system cannot clone, e.g. ext4; EXDEV across file systems).
/// Swift cannot call the variadic `ioctl` itself.
int engram_clone_file(int dst_fd, int src_fd);
/// One `copy_file_range(2)` call: copies up to `length` bytes from the current offset of `src_fd` to that of
/// `dst_fd` inside the kernel. Returns the bytes copied (0 at end of file), or -1 with errno (EXDEV, ENOSYS,
/// EINVAL, EOPNOTSUPP where it cannot: the caller falls back to read/write). Retries EINTR.
long long engram_copy_range(int src_fd, int dst_fd, unsigned long long length);
/// `syncfs(2)` of the file system holding `fd`: makes every file written on it durable in one call (a
/// backup of 100,000 files fsyncs them all at once instead of one by one). Returns 0, or -1 with errno;
/// since Linux 5.8 a writeback error on that file system since `fd` was opened is reported here.
int engram_syncfs(int fd);
#endif
