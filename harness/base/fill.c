/* fill.c - see fill.h. */
#include "base/fill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define CHUNK (1u << 20)

int fl_fs_usage(const char *path, struct fl_fs_usage *u)
{
    struct statvfs s;
    if (statvfs(path, &s) != 0)
        return -errno;
    uint64_t bs = s.f_frsize ? s.f_frsize : s.f_bsize;
    u->total = (uint64_t)s.f_blocks * bs;
    u->free = (uint64_t)s.f_bfree * bs;
    u->avail = (uint64_t)s.f_bavail * bs;
    u->used = u->total > u->free ? u->total - u->free : 0;
    return 0;
}

uint64_t fl_fill_amount(const struct fl_fs_usage *u, int percent, uint64_t leave_free)
{
    if (leave_free != UINT64_MAX)
        return u->free > leave_free ? u->free - leave_free : 0;
    if (percent <= 0)
        return 0;
    if (percent > 100)
        percent = 100;
    uint64_t goal = u->total / 100 * (uint64_t)percent + u->total % 100 * (uint64_t)percent / 100;
    return goal > u->used ? goal - u->used : 0;
}

/* Append zeros until len bytes were written, ENOSPC, or an error. */
static int write_zeros(int fd, uint64_t len, uint64_t *written)
{
    static const char zeros[64 * 1024];
    uint64_t left = len;
    /* Bounded: every round writes at least one byte or stops. */
    while (left > 0) {
        size_t n = left < sizeof zeros ? (size_t)left : sizeof zeros;
        ssize_t w = write(fd, zeros, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == ENOSPC || errno == EDQUOT ? 1 : -errno;
        if (w == 0)
            return 1;
        left -= (uint64_t)w;
        *written += (uint64_t)w;
    }
    return 0;
}

int fl_fill_file(const char *path, uint64_t bytes, int to_enospc, uint64_t max_bytes,
                 uint64_t *written)
{
    *written = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    if (bytes > max_bytes)
        bytes = max_bytes;
    int rc = 0;
    if (bytes > 0) {
        if (fallocate(fd, 0, 0, (off_t)bytes) == 0) {
            *written = bytes;
            if (lseek(fd, (off_t)bytes, SEEK_SET) < 0)
                rc = -errno;
        } else if (errno == ENOSPC || errno == EOPNOTSUPP || errno == ENOSYS) {
            /* Too big by a few blocks, or no fallocate here: write instead. */
            int r = write_zeros(fd, bytes, written);
            rc = r < 0 ? r : 0;
        } else {
            rc = -errno;
        }
    }
    if (rc == 0 && to_enospc && *written < max_bytes) {
        int r = write_zeros(fd, max_bytes - *written, written);
        rc = r < 0 ? r : 0;
    }
    if (rc == 0 && fsync(fd) != 0 && errno != EINVAL && errno != ENOSPC)
        rc = -errno;
    close(fd);
    return rc;
}
