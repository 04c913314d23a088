/* proc.h - processes named by more than their pid, and found by a marker
 * in their environment. Synchronous, bounded reads of /proc. */
#ifndef FL_PROC_H
#define FL_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* Read a small file (a /proc or cgroup file) into buf, NUL-terminated,
 * at most len - 1 bytes. Returns the length or -errno. */
ssize_t fl_read_small(const char *path, char *buf, size_t len);

/* The environment variable that marks every process of an instance
 * (value "RUN-TAG/INSTANCE"): inherited by all its descendants. */
#define FL_CONTAIN_ENV "FAULTLINE_INSTANCE"

/* Start time of pid in clock ticks since boot (/proc/PID/stat field 22):
 * with the pid, it names one process even after pid reuse. 0 on success,
 * -errno (-ESRCH: no such process). */
int fl_proc_start_time(int pid, uint64_t *ticks);
/* 1 when pid exists and started at ticks (a zombie counts as gone). */
int fl_proc_is(int pid, uint64_t ticks);
/* Pids whose environment holds FL_CONTAIN_ENV=marker exactly (or, with
 * prefix set, starting with marker), at most max. Only processes whose
 * environment we may read are seen (all of them as root). */
int fl_proc_find_marked(const char *marker, int prefix, int *pids, int max);
/* Reap pid if it is our (subreaper-adopted) child and has exited. */
void fl_proc_reap_adopted(int pid);

/* Every live process below root in the process tree (children,
 * grandchildren, ...; zombies excluded), at most max. Returns the count or
 * -errno. An instance's mini-init (exec_shim.c) is a child subreaper, so
 * what its service double-forks away stays below it. */
int fl_proc_descendants(int root, int *pids, int max);

#endif
