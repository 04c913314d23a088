/* fill.h - fill a filesystem with one file (disk.full) and measure usage
 * (the disk probe). Plain system calls, bounded, no event loop: filling a
 * volume of the size scenarios use (megabytes, tmpfs) takes milliseconds. */
#ifndef FL_FILL_H
#define FL_FILL_H

#include <stdint.h>

struct fl_fs_usage {
    uint64_t total;   /* bytes the filesystem holds */
    uint64_t used;    /* bytes in use */
    uint64_t avail;   /* bytes an unprivileged writer may still use */
    uint64_t free;    /* bytes free (root may use them all) */
};

/* statvfs of the filesystem holding path. 0 or -errno. */
int fl_fs_usage(const char *path, struct fl_fs_usage *u);

/* How many bytes to add to reach a goal, from usage u: percent (1..100) of
 * the total in use, or, when leave_free is not UINT64_MAX, exactly that
 * many bytes free. 0 when the goal is already met. */
uint64_t fl_fill_amount(const struct fl_fs_usage *u, int percent, uint64_t leave_free);

/* Create path (it must not exist) and make it occupy bytes: fallocate,
 * falling back to writing zeros in 1 MiB chunks. With to_enospc set it then
 * keeps writing until the filesystem says ENOSPC (whatever the first
 * estimate left), bounded by max_bytes in all. *written gets the size
 * reached. Returns 0 (also when ENOSPC stopped it early: the disk is full,
 * which is the goal) or -errno; on an error the file is left for the
 * caller to remove (it was journaled before). */
int fl_fill_file(const char *path, uint64_t bytes, int to_enospc, uint64_t max_bytes,
                 uint64_t *written);

#endif
