/* contain.h - what an instance of the local target lives in: its "pod".
 *
 * A pod kill must take every process of the instance with it, including
 * the ones that left its process group: a worker that forks each job with
 * setsid(), a daemon that double-forks. Two containments:
 *
 *   cgroup    (root and a cgroup v2 hierarchy with cgroup.kill and
 *             cgroup.freeze, kernel >= 5.14): each instance gets a cgroup
 *             RUN/INSTANCE under faultline's own cgroup; the exec shim puts
 *             the command in it before exec, so every descendant is a
 *             member. Kill is cgroup.kill, pause is cgroup.freeze (what
 *             `docker pause` does; the process cannot observe it).
 *   subreaper (anything else): faultline becomes a child subreaper, so
 *             escaped descendants are re-parented to it rather than to
 *             PID 1, and every instance's environment carries a marker
 *             (FAULTLINE_INSTANCE=RUN/INSTANCE) by which its escapees are
 *             found in /proc and killed one by one. Pause falls back to
 *             SIGSTOP of every member.
 *
 * FAULTLINE_CONTAINMENT=subreaper in faultline's environment forces the
 * fallback (tests, machines where cgroups misbehave).
 *
 * These functions are synchronous and bounded; they are also what
 * `faultline recover` uses on the leftovers of a run that died, so nothing
 * here needs a running target.
 */
#ifndef FL_CONTAIN_H
#define FL_CONTAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/proc.h"

#define FL_CONTAIN_PATH_MAX 512

enum fl_contain_mode { FL_CONTAIN_CGROUP, FL_CONTAIN_SUBREAPER };

struct fl_contain {
    enum fl_contain_mode mode;
    char run_tag[96];                 /* "run-PID-START": unique per run */
    char root[FL_CONTAIN_PATH_MAX];   /* cgroup: the run's cgroup folder */
    char why[256];                    /* why the fallback is in use */
};

/* Choose the containment for a run tagged tag (copied). cgroup mode
 * creates the run's cgroup folder. Never fails for lack of cgroups: the
 * subreaper fallback is always possible (why says what was missing).
 * Returns 0, or FL_ESYS when even the subreaper cannot be set up. */
int fl_contain_init(struct fl_contain *c, const char *tag, struct fl_error *err);

/* "cgroup v2 (/sys/fs/cgroup/unified/faultline/run-1-2)" or
 * "subreaper (no cgroup v2 mount)": for the run header and the JUnit. */
void fl_contain_describe(const struct fl_contain *c, char *buf, size_t len);

/* cgroup mode: the folder of instance id ("api.0") into buf; creates it
 * when create is set. Returns 0 or FL_ESYS. */
int fl_contain_inst_cgroup(const struct fl_contain *c, const char *id, int create, char *buf,
                           size_t len, struct fl_error *err);

/* The marker value for instance id ("RUN/api.0"). */
void fl_contain_marker(const struct fl_contain *c, const char *id, char *buf, size_t len);

/* ---- cgroup folders (path = an instance's cgroup) ---------------------- */

/* Remove the shared "faultline" folder above a run's cgroup folder when no
 * other run uses it any more. */
void fl_cgroup_remove_parent(const char *run_root);

/* The cgroup v2 mount point (from /proc/self/mountinfo). 0 or -errno. */
int fl_cgroup2_mount(char *buf, size_t len);

/* Move pid into the cgroup (0: the caller). Returns 0 or -errno. */
int fl_cgroup_enter(const char *path, int pid);
/* Members' pids, at most max; returns the count or -errno. */
int fl_cgroup_pids(const char *path, int *pids, int max);
/* 1 when the cgroup has no process (or does not exist), 0 when it has. */
int fl_cgroup_empty(const char *path);
/* cgroup.kill: SIGKILL every member, now and atomically (new forks too). */
int fl_cgroup_kill(const char *path);
/* Freeze (1) or thaw (0) and wait until cgroup.events says so, at most
 * wait_ms. Returns 0, -ETIMEDOUT or -errno. A missing cgroup is -ENOENT. */
int fl_cgroup_freeze(const char *path, int freeze, int wait_ms);
/* Thaw, kill, wait up to wait_ms for it to empty, remove the folder.
 * 0 when the folder is gone (or was never there), else -errno. */
int fl_cgroup_destroy(const char *path, int wait_ms);

#endif
