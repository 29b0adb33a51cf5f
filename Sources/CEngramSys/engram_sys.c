#define _GNU_SOURCE
#include "engram_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int engram_rename_exchange(const char *from, const char *to) {
#if defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 2 /* RENAME_EXCHANGE */);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int engram_range_lock(int fd, int exclusive, int wait, long long offset) {
    struct flock fl = {0};
    fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)offset;
    fl.l_len = 1;
    int rc;
    do {
        rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

int engram_range_held(int fd, long long offset) {
    struct flock fl = {0};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)offset;
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) return -1;
    return fl.l_type == F_UNLCK ? 0 : 1;
}

int engram_range_unlock(int fd, long long offset) {
    struct flock fl = {0};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = (off_t)offset;
    fl.l_len = 1;
    return fcntl(fd, F_OFD_SETLK, &fl);
}

#include <sys/ioctl.h>
#ifndef FS_IOC_SHUTDOWN
#define FS_IOC_SHUTDOWN _IOR('X', 125, unsigned int)
#endif

int engram_fs_shutdown(const char *mountpoint, unsigned int flags) {
    int fd = open(mountpoint, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = ioctl(fd, FS_IOC_SHUTDOWN, &flags);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

#include <linux/fs.h>
#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

int engram_clone_file(int dst_fd, int src_fd) {
    int rc;
    do {
        rc = ioctl(dst_fd, FICLONE, src_fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

long long engram_copy_range(int src_fd, int dst_fd, unsigned long long length) {
    ssize_t n;
    do {
        n = copy_file_range(src_fd, NULL, dst_fd, NULL, (size_t)length, 0);
    } while (n < 0 && errno == EINTR);
    return (long long)n;
}

int engram_syncfs(int fd) {
    int rc;
    do {
        rc = syncfs(fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}
