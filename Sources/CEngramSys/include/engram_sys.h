#ifndef ENGRAM_SYS_H
#define ENGRAM_SYS_H

/// Atomically exchanges two paths (Linux `renameat2(..., RENAME_EXCHANGE)`): both must exist; afterwards each
/// name refers to what the other did. Used by `engram restore` to swap a fully written snapshot copy with the
/// store in one step, so the store path never shows a half-restored store.
/// Returns 0, or -1 with errno set (ENOSYS/EINVAL where the kernel or file system does not support it).
/// Glibc declares renameat2 only with _GNU_SOURCE, which Swift's Glibc module does not see: hence this shim.
int engram_rename_exchange(const char *from, const char *to);

#endif
