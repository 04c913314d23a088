/* faultline-ioerr.so - make chosen file calls under a path prefix fail with
 * a chosen errno, live (disk.errors).
 *
 * Loaded with LD_PRELOAD by processes faultline starts; FAULTLINE_IOERR_CTL
 * names the control block (harness/base/ioerr_ctl.h) that faultline maps
 * too: arming, disarming and every setting take effect on the next call,
 * in processes that are already running. Without the variable, or when the
 * block cannot be mapped, every call goes straight through.
 *
 * What it catches: the plain calls, their 64-bit variants (open64,
 * pwrite64, ...) and glibc's fortified entry points (__open_2, __openat_2,
 * __read_chk, __pread_chk, ...), which programs built with
 * -D_FORTIFY_SOURCE call instead of the plain ones and which a wrapper of
 * `open` alone misses. Calls on a file descriptor are matched by the path
 * it was opened with: the library remembers it per descriptor (open*,
 * creat*, dup, dup2, dup3, fcntl F_DUPFD, close). What it cannot catch:
 * glibc-internal calls that do not go through the dynamic symbol table
 * (stdio's own writes, which is why fopen is wrapped and fails at open),
 * descriptors opened before the library was loaded, io_uring and mmap'ed
 * writes.
 *
 * The library uses no faultline code and allocates nothing: the path table
 * is static (descriptors below FDS_MAX are tracked; others never match).
 * It takes no lock: two threads racing on one descriptor number (one
 * closing it while another writes) can at worst make that one call match
 * or miss wrongly, never crash (slots are fixed arrays, always terminated).
 */
#include "base/ioerr_ctl.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define FDS_MAX 4096
#define PATH_SLOT 512

static struct fl_ioerr_ctl *ctl;
static char fd_path[FDS_MAX][PATH_SLOT];   /* "" = unknown / not tracked */
static __thread uint64_t rng;

/* ---- the real functions ------------------------------------------------ */

/* The next definition after ours (another interposer, or libc). When libc
 * itself was preloaded before us (LD_PRELOAD="libc.so.6:..."), there is no
 * next one: then libc's own, looked up in libc (never our wrapper). */
static void *real_sym(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (f)
        return f;
    static void *libc;
    if (!libc)
        libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    return libc ? dlsym(libc, name) : NULL;
}

/* ---- control block ----------------------------------------------------- */

__attribute__((constructor)) static void ioerr_init(void)
{
    const char *p = getenv(FL_IOERR_ENV);
    if (!p || !p[0])
        return;
    char path[4096];   /* copied: the environment may change under us */
    if (snprintf(path, sizeof path, "%s", p) >= (int)sizeof path)
        return;
    int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...))real_sym("open");
    if (!real_open)
        return;
    int fd = real_open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    void *m = mmap(NULL, sizeof(struct fl_ioerr_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int (*real_close)(int) = (int (*)(int))real_sym("close");
    if (real_close)
        real_close(fd);
    if (m == MAP_FAILED)
        return;
    struct fl_ioerr_ctl *c = m;
    if (c->magic != FL_IOERR_MAGIC || c->version != FL_IOERR_VERSION) {
        munmap(m, sizeof *c);
        return;
    }
    __atomic_add_fetch(&c->attached, 1, __ATOMIC_RELAXED);
    ctl = c;
}

static uint32_t next_rand(void)
{
    if (!rng) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts;
        rng |= 1;
    }
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static int under(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (pl == 0)
        return 1;
    if (!path || strncmp(path, prefix, pl) != 0)
        return 0;
    return path[pl] == 0 || path[pl] == '/' || prefix[pl - 1] == '/';
}

/* 1 (and errno set) when this call must fail. */
static int should_fail(uint32_t call, const char *path)
{
    struct fl_ioerr_ctl *c = ctl;
    if (!c)
        return 0;
    uint32_t s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    if ((s1 & 1) || !c->armed || !(c->calls & call))
        return 0;
    int match = under(path, c->prefix);
    int e = c->err;
    uint32_t prob = c->prob_ppm, delay = c->delay_us;
    if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != s1 || !match)
        return 0;
    __atomic_add_fetch(&c->seen, 1, __ATOMIC_RELAXED);
    if (prob < 1000000 && next_rand() % 1000000 >= prob)
        return 0;
    if (delay) {
        struct timespec ts = {delay / 1000000, (long)(delay % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    __atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
    errno = e;
    return 1;
}

static const char *path_of(int fd)
{
    return fd >= 0 && fd < FDS_MAX && fd_path[fd][0] ? fd_path[fd] : NULL;
}

/* Remember the absolute path fd was opened with (relative to dirfd). */
static void track(int fd, int dirfd, const char *path)
{
    if (fd < 0 || fd >= FDS_MAX)
        return;
    char *slot = fd_path[fd];
    slot[0] = 0;
    if (!path)
        return;
    char base[PATH_SLOT] = "";
    if (path[0] != '/') {
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base))
                return;
        } else if (path_of(dirfd)) {
            snprintf(base, sizeof base, "%s", path_of(dirfd));
        } else {
            return;
        }
    }
    int n = base[0] ? snprintf(slot, PATH_SLOT, "%s/%s", base, path)
                    : snprintf(slot, PATH_SLOT, "%s", path);
    if (n < 0 || n >= PATH_SLOT)
        slot[0] = 0;   /* too long to match reliably: never matched */
}

static void track_dup(int oldfd, int newfd)
{
    if (newfd < 0 || newfd >= FDS_MAX || oldfd == newfd)
        return;
    const char *p = path_of(oldfd);
    if (p)
        memcpy(fd_path[newfd], p, PATH_SLOT);
    else
        fd_path[newfd][0] = 0;
}

static void untrack(int fd)
{
    if (fd >= 0 && fd < FDS_MAX)
        fd_path[fd][0] = 0;
}

/* The path a call names, made absolute for matching (relative to dirfd). */
static const char *abs_path(int dirfd, const char *path, char *buf, size_t len)
{
    if (!path || path[0] == '/')
        return path;
    char base[PATH_SLOT];
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base))
            return path;
    } else if (path_of(dirfd)) {
        snprintf(base, sizeof base, "%s", path_of(dirfd));
    } else {
        return path;
    }
    int n = snprintf(buf, len, "%s/%s", base, path);
    return n > 0 && (size_t)n < len ? buf : path;   /* too long: never matches */
}

#define REAL(ret, name, ...)                                                   \
    static ret (*real_##name)(__VA_ARGS__);                                    \
    if (!real_##name)                                                          \
        *(void **)&real_##name = real_sym(#name);                              \
    if (!real_##name) {                                                        \
        errno = ENOSYS;                                                        \
        return (ret)-1;                                                        \
    }

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

/* ---- open family ------------------------------------------------------- */

static int do_openat(int (*real)(int, const char *, int, ...), int dirfd, const char *path,
                     int flags, mode_t mode)
{
    char buf[PATH_SLOT];
    if (should_fail(FL_IOERR_OPEN, abs_path(dirfd, path, buf, sizeof buf)))
        return -1;
    int fd = real(dirfd, path, flags, mode);
    if (fd >= 0)
        track(fd, dirfd, path);
    return fd;
}

static int do_open(int (*real)(const char *, int, ...), const char *path, int flags, mode_t mode)
{
    char buf[PATH_SLOT];
    if (should_fail(FL_IOERR_OPEN, abs_path(AT_FDCWD, path, buf, sizeof buf)))
        return -1;
    int fd = real(path, flags, mode);
    if (fd >= 0)
        track(fd, AT_FDCWD, path);
    return fd;
}

EXPORT int open(const char *path, int flags, ...)
{
    REAL(int, open, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open(real_open, path, flags, m);
}

EXPORT int open64(const char *path, int flags, ...)
{
    REAL(int, open64, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_open(real_open64, path, flags, m);
}

EXPORT int __open_2(const char *path, int flags)
{
    REAL(int, open, const char *, int, ...);
    return do_open(real_open, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
    REAL(int, open64, const char *, int, ...);
    return do_open(real_open64, path, flags, 0);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    REAL(int, openat, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_openat(real_openat, dirfd, path, flags, m);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    REAL(int, openat64, int, const char *, int, ...);
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    return do_openat(real_openat64, dirfd, path, flags, m);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    REAL(int, openat, int, const char *, int, ...);
    return do_openat(real_openat, dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    REAL(int, openat64, int, const char *, int, ...);
    return do_openat(real_openat64, dirfd, path, flags, 0);
}

EXPORT int creat(const char *path, mode_t mode)
{
    REAL(int, open, const char *, int, ...);
    return do_open(real_open, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
    REAL(int, open64, const char *, int, ...);
    return do_open(real_open64, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* stdio opens through glibc-internal calls: fail it at fopen instead. */
static int fopen_fails(const char *path, const char *mode)
{
    char buf[PATH_SLOT];
    int writes = mode && (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+'));
    return should_fail(writes ? FL_IOERR_OPEN | FL_IOERR_WRITE : FL_IOERR_OPEN,
                       abs_path(AT_FDCWD, path, buf, sizeof buf));
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (!real)
        *(void **)&real = real_sym("fopen");
    if (!real || fopen_fails(path, mode))
        return NULL;
    FILE *f = real(path, mode);
    if (f)
        track(fileno(f), AT_FDCWD, path);
    return f;
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
    static FILE *(*real)(const char *, const char *);
    if (!real)
        *(void **)&real = real_sym("fopen64");
    if (!real || fopen_fails(path, mode))
        return NULL;
    FILE *f = real(path, mode);
    if (f)
        track(fileno(f), AT_FDCWD, path);
    return f;
}

/* ---- descriptors ------------------------------------------------------- */

EXPORT int close(int fd)
{
    REAL(int, close, int);
    untrack(fd);
    return real_close(fd);
}

EXPORT int dup(int fd)
{
    REAL(int, dup, int);
    int r = real_dup(fd);
    track_dup(fd, r);
    return r;
}

EXPORT int dup2(int fd, int fd2)
{
    REAL(int, dup2, int, int);
    int r = real_dup2(fd, fd2);
    track_dup(fd, r);
    return r;
}

EXPORT int dup3(int fd, int fd2, int flags)
{
    REAL(int, dup3, int, int, int);
    int r = real_dup3(fd, fd2, flags);
    track_dup(fd, r);
    return r;
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, va_list ap)
{
    /* Every fcntl argument is an int or a pointer: pass it as a long. */
    long arg = va_arg(ap, long);
    int r = real(fd, cmd, arg);
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0)
        track_dup(fd, r);
    return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    REAL(int, fcntl, int, int, ...);
    va_list ap;
    va_start(ap, cmd);
    int r = do_fcntl(real_fcntl, fd, cmd, ap);
    va_end(ap);
    return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    REAL(int, fcntl64, int, int, ...);
    va_list ap;
    va_start(ap, cmd);
    int r = do_fcntl(real_fcntl64, fd, cmd, ap);
    va_end(ap);
    return r;
}

/* ---- writes ------------------------------------------------------------ */

#define FD_FAILS(call, fd) should_fail((call), path_of(fd))

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, write, int, const void *, size_t);
    return FD_FAILS(FL_IOERR_WRITE, fd) ? -1 : real_write(fd, buf, n);
}

/* glibc has no fortified write; programs built against other libcs or
 * future glibcs may call these names, so they are caught too. */
EXPORT ssize_t __write_chk(int fd, const void *buf, size_t n, size_t buflen)
{
    (void)buflen;
    return write(fd, buf, n);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    REAL(ssize_t, writev, int, const struct iovec *, int);
    return FD_FAILS(FL_IOERR_WRITE, fd) ? -1 : real_writev(fd, iov, cnt);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
    return FD_FAILS(FL_IOERR_PWRITE, fd) ? -1 : real_pwrite(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    REAL(ssize_t, pwrite64, int, const void *, size_t, off64_t);
    return FD_FAILS(FL_IOERR_PWRITE, fd) ? -1 : real_pwrite64(fd, buf, n, off);
}

EXPORT ssize_t __pwrite_chk(int fd, const void *buf, size_t n, off_t off, size_t buflen)
{
    (void)buflen;
    return pwrite(fd, buf, n, off);
}

EXPORT ssize_t __pwrite64_chk(int fd, const void *buf, size_t n, off64_t off, size_t buflen)
{
    (void)buflen;
    return pwrite64(fd, buf, n, off);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t);
    return FD_FAILS(FL_IOERR_PWRITE, fd) ? -1 : real_pwritev(fd, iov, cnt, off);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    REAL(ssize_t, pwritev64, int, const struct iovec *, int, off64_t);
    return FD_FAILS(FL_IOERR_PWRITE, fd) ? -1 : real_pwritev64(fd, iov, cnt, off);
}

EXPORT ssize_t copy_file_range(int in, off64_t *oin, int out, off64_t *oout, size_t n,
                               unsigned flags)
{
    REAL(ssize_t, copy_file_range, int, off64_t *, int, off64_t *, size_t, unsigned);
    return FD_FAILS(FL_IOERR_WRITE, out) ? -1 : real_copy_file_range(in, oin, out, oout, n, flags);
}

/* ---- sync, allocation -------------------------------------------------- */

EXPORT int fsync(int fd)
{
    REAL(int, fsync, int);
    return FD_FAILS(FL_IOERR_FSYNC, fd) ? -1 : real_fsync(fd);
}

EXPORT int fdatasync(int fd)
{
    REAL(int, fdatasync, int);
    return FD_FAILS(FL_IOERR_FSYNC, fd) ? -1 : real_fdatasync(fd);
}

EXPORT int sync_file_range(int fd, off64_t off, off64_t n, unsigned flags)
{
    REAL(int, sync_file_range, int, off64_t, off64_t, unsigned);
    return FD_FAILS(FL_IOERR_FSYNC, fd) ? -1 : real_sync_file_range(fd, off, n, flags);
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    REAL(int, fallocate, int, int, off_t, off_t);
    return FD_FAILS(FL_IOERR_FALLOCATE, fd) ? -1 : real_fallocate(fd, mode, off, len);
}

EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    REAL(int, fallocate64, int, int, off64_t, off64_t);
    return FD_FAILS(FL_IOERR_FALLOCATE, fd) ? -1 : real_fallocate64(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
    static int (*real)(int, off_t, off_t);
    if (!real)
        *(void **)&real = real_sym("posix_fallocate");
    if (FD_FAILS(FL_IOERR_FALLOCATE, fd))
        return errno;
    return real ? real(fd, off, len) : ENOSYS;
}

EXPORT int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    static int (*real)(int, off64_t, off64_t);
    if (!real)
        *(void **)&real = real_sym("posix_fallocate64");
    if (FD_FAILS(FL_IOERR_FALLOCATE, fd))
        return errno;
    return real ? real(fd, off, len) : ENOSYS;
}

/* ---- reads --------------------------------------------------------------- */

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    REAL(ssize_t, read, int, void *, size_t);
    return FD_FAILS(FL_IOERR_READ, fd) ? -1 : real_read(fd, buf, n);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    (void)buflen;
    return read(fd, buf, n);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    REAL(ssize_t, pread, int, void *, size_t, off_t);
    return FD_FAILS(FL_IOERR_READ, fd) ? -1 : real_pread(fd, buf, n, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    REAL(ssize_t, pread64, int, void *, size_t, off64_t);
    return FD_FAILS(FL_IOERR_READ, fd) ? -1 : real_pread64(fd, buf, n, off);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    (void)buflen;
    return pread(fd, buf, n, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    (void)buflen;
    return pread64(fd, buf, n, off);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    REAL(ssize_t, readv, int, const struct iovec *, int);
    return FD_FAILS(FL_IOERR_READ, fd) ? -1 : real_readv(fd, iov, cnt);
}
