/* ioerr_ctl.h - the control block of the I/O error library (disk.errors).
 *
 * faultline creates a small file per disk.errors fault and maps it; every
 * process started with the library (LD_PRELOAD=faultline-ioerr.so,
 * FAULTLINE_IOERR_CTL=FILE) maps the same file read-mostly and consults it
 * on each intercepted call, so arming, disarming and changing the errno
 * take effect at once in processes that are already running (libfiu's
 * fiu-ctrl idea, without a control thread). The writer follows a seqlock:
 * `seq` is odd while the block changes; a reader that sees an odd or
 * changed seq treats the block as disarmed for that call.
 *
 * This header is shared with the library (libs/ioerr), which links
 * nothing of faultline: keep it plain C with fixed-size fields.
 */
#ifndef FL_IOERR_CTL_H
#define FL_IOERR_CTL_H

#include <stdint.h>

#define FL_IOERR_MAGIC 0x464c494fu   /* "FLIO" */
#define FL_IOERR_VERSION 1
#define FL_IOERR_ENV "FAULTLINE_IOERR_CTL"
#define FL_IOERR_PREFIX_MAX 512

/* Calls the library can fail (bits of fl_ioerr_ctl.calls). */
enum {
    FL_IOERR_OPEN = 1 << 0,      /* open, open64, openat, openat64, creat, creat64,
                                  * __open_2, __open64_2, __openat_2, __openat64_2, fopen */
    FL_IOERR_WRITE = 1 << 1,     /* write, __write_chk, writev, copy_file_range; fopen for writing */
    FL_IOERR_PWRITE = 1 << 2,    /* pwrite, pwrite64, __pwrite_chk, __pwrite64_chk, pwritev(64) */
    FL_IOERR_FSYNC = 1 << 3,     /* fsync, fdatasync, sync_file_range */
    FL_IOERR_READ = 1 << 4,      /* read, pread(64), __read_chk, __pread(64)_chk, readv */
    FL_IOERR_FALLOCATE = 1 << 5, /* fallocate, fallocate64, posix_fallocate(64) */
};

struct fl_ioerr_ctl {
    uint32_t magic;              /* FL_IOERR_MAGIC once initialised */
    uint32_t version;
    volatile uint32_t seq;       /* seqlock: odd while being written */
    volatile uint32_t armed;     /* 1: inject */
    int32_t err;                 /* errno to fail with (ENOSPC, EIO, ...) */
    uint32_t calls;              /* FL_IOERR_* */
    uint32_t prob_ppm;           /* probability per call, parts per million */
    uint32_t delay_us;           /* sleep this long before failing a call */
    char prefix[FL_IOERR_PREFIX_MAX];  /* only files under this path ("" = all files) */
    volatile uint64_t hits;      /* calls failed so far (all processes, atomic adds) */
    volatile uint64_t seen;      /* matching calls seen while armed */
    volatile uint32_t attached;  /* processes that loaded the library and mapped this block */
};

/* ---- faultline's side (harness/base/ioerr_ctl.c) ---------------------- */

/* Create (or truncate) path as an initialised, disarmed block and map it.
 * Returns 0 and *out (unmap with fl_ioerr_ctl_close), or -errno. */
int fl_ioerr_ctl_create(const char *path, struct fl_ioerr_ctl **out);
/* Copy cfg's err, calls, prob_ppm, delay_us and prefix into c and arm it. */
void fl_ioerr_ctl_arm(struct fl_ioerr_ctl *c, const struct fl_ioerr_ctl *cfg);
void fl_ioerr_ctl_disarm(struct fl_ioerr_ctl *c);
void fl_ioerr_ctl_close(struct fl_ioerr_ctl *c);
/* Recovery: disarm the block in path (if it is one) and remove the file.
 * Returns 0 when it was armed, 1 when there was nothing to do, -errno. */
int fl_ioerr_ctl_disarm_file(const char *path);

#endif
