/* target_local_int.h - private to the `local` target (target_local*.c,
 * ready.c). Nothing here is part of a shared contract.
 *
 * Lifetimes (libuv rules): every handle below is closed before its memory
 * goes away, and memory is released only from close callbacks. The target
 * counts its own open handles in `refs`; once destroy() was called and the
 * count drops to zero, the last close callback frees the whole target.
 */
#ifndef FL_TARGET_LOCAL_INT_H
#define FL_TARGET_LOCAL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "core/model.h"
#include "core/target.h"
#include "targets/local/contain.h"
#include "targets/local/local.h"

/* ---- readiness checks (ready.c) -------------------------------------- */

struct fl_ready_check;

/* What one check probes. Strings are copied by fl_ready_start. */
struct fl_ready_spec {
    enum fl_ready_kind kind;     /* TCP, HTTP or EXEC (not NONE) */
    const char *target;          /* tcp "host:port", http URL */
    char *const *argv;           /* exec: NULL-terminated, expanded */
    char *const *env;            /* exec: child environment (NULL: inherit) */
    const char *cwd;             /* exec: working directory or NULL */
    int log_fd;                  /* exec: stdout+stderr go here (-1: ignore) */
    const char *self_exe;        /* exec: spawn through the shim when set */
    uint64_t timeout_ms;         /* give up after */
    uint64_t interval_ms;        /* between attempts */
};

/* ok: 1 ready, 0 gave up after timeout_ms; last_err describes the last
 * failed attempt (valid during the call only); elapsed_ms since start.
 * Called exactly once unless the check is cancelled first; the check frees
 * itself after the callback returns, so the caller forgets its pointer. */
typedef void (*fl_ready_cb)(struct fl_ready_check *c, int ok, const char *last_err,
                            uint64_t elapsed_ms, void *ud);

/* Start polling now. Returns 0 and sets *out, or FL_EINVAL/FL_ENOMEM with
 * err set (the callback is then never called). */
int fl_ready_start(uv_loop_t *loop, const struct fl_ready_spec *spec, fl_ready_cb cb,
                   void *ud, struct fl_ready_check **out, struct fl_error *err);

/* Stop a running check: no callback afterwards. An exec attempt still
 * running is SIGKILLed and reaped synchronously (bounded), so nothing is
 * left behind. Memory is released once the check's handles have closed. */
void fl_ready_cancel(struct fl_ready_check *c);

/* The last attempt's error ("" before the first failure). */
const char *fl_ready_last_error(const struct fl_ready_check *c);

/* ---- spawning (target_local_proc.c) ---------------------------------- */

/* Spawn argv detached (own session and process group), stdin /dev/null,
 * stdout+stderr to log_fd (or ignored when < 0), through the exec shim when
 * self_exe is set. h must be uninitialised; h->data is set to data. On
 * success the caller owns an active handle to close from its exit
 * callback. On failure returns FL_ESYS with err set and h is already being
 * closed with free_on_fail as close callback (libuv wants a failed spawn's
 * handle closed; on FL_ENOMEM before uv_spawn, free_on_fail is called at
 * once), so the caller must not touch h again. */
int fl_local_spawn(uv_loop_t *loop, uv_process_t *h, const char *self_exe,
                   char *const *argv, char *const *env, const char *cwd, int log_fd,
                   uv_exit_cb exit_cb, void *data, uv_close_cb free_on_fail,
                   struct fl_error *err);
/* fl_local_spawn, and when cgroup is set the command starts as a member of
 * that cgroup: the shim joins it before exec (no window in which the
 * command could fork outside it); without the shim the parent moves the
 * child right after the spawn, which a command that forks at once could
 * outrun. With init set (and the shim), the shim stays as the instance's
 * mini-init instead of exec'ing the command (exec_shim.c). */
int fl_local_spawn_in(uv_loop_t *loop, uv_process_t *h, const char *self_exe,
                      const char *cgroup, int init, char *const *argv, char *const *env,
                      const char *cwd, int log_fd, uv_exit_cb exit_cb, void *data,
                      uv_close_cb free_on_fail, struct fl_error *err);

/* Last resort: SIGKILL the process group of pid (and pid itself), then reap
 * pid with waitpid for at most wait_ms. Returns 1 if pid was reaped. */
int fl_local_kill_reap(int pid, int wait_ms);

/* Send sig to the group led by pid, falling back to pid alone when the
 * group is gone (ESRCH). Returns 0 or -errno. */
int fl_local_kill_group(int pid, int sig);

/* ---- the target ------------------------------------------------------ */

struct local_target;
struct local_svc;

/* One spawned process. Heap-allocated per spawn so a restart never waits
 * for the previous handle to finish closing. */
struct local_proc {
    uv_process_t h;
    struct local_inst *in;       /* NULL once the instance forgot it */
    struct local_target *lt;
    int pid;
    int init;                    /* pid is the instance's mini-init, not the command */
};

#define FL_VOL_PATH_MAX 1024
/* The exec shim binds these into the instance's private mount namespace:
 * "HOST\tDST\n" per volume (volume.c, exec_shim.c). */
#define FL_VOLUMES_ENV "FAULTLINE_VOLUMES"

/* One mounted volume of an instance (volume.c). */
struct local_vol {
    const struct fl_volume *v;
    char host[FL_VOL_PATH_MAX];  /* the tmpfs in faultline's namespace */
    char dst[FL_VOL_PATH_MAX];   /* where the instance sees it */
    uint64_t seq;                /* journal: unmount */
    int mounted;
};

struct local_inst {
    struct fl_instance pub;      /* what injectors see (first member) */
    struct local_target *lt;
    struct local_svc *ls;
    int index;                   /* across all services: history process */
    struct local_proc *proc;     /* running process or NULL */
    struct fl_ready_check *check;/* readiness check in flight or NULL */
    uv_timer_t restart_timer;    /* backoff before a restart */
    uv_timer_t kill_timer;       /* kill the containment after a grace period */
    int kill_pid;                /* the pid kill_timer is meant for */
    /* The main process exited but other members of the containment were
     * still alive: they are killed, and the instance counts as stopped
     * only once its containment is empty (a pod dies whole). */
    uv_timer_t drain_timer;
    int draining;
    int64_t drain_deadline_us;
    int drain_restart;           /* restart once drained */
    char cgroup[FL_CONTAIN_PATH_MAX];  /* cgroup mode: the instance's cgroup */
    char marker[160];            /* FAULTLINE_INSTANCE value */
    uint64_t seq_cgroup;         /* journal: remove the cgroup */
    uint64_t seq_proc;           /* journal: kill the running process */
    uint64_t seq_thaw;           /* journal: thaw (while frozen) */
    uint64_t seq_cont;           /* journal: SIGCONT (while SIGSTOPped) */
    char block_reason[128];
    uint64_t backoff_ms;         /* next restart delay */
    int64_t started_us;          /* fl_now_us() of the last spawn */
    int restart_pending;         /* restart_timer armed */
    int blocked_logged;          /* "restart blocked" already recorded */
    int last_status;             /* of the last exit */
    int last_signal;
    char last_check_err[256];
    int log_fd;
    char log_path[4096];
    struct local_vol *vols;      /* the service's volumes, mounted (volume.c) */
    size_t nvols;
};

struct local_svc {
    const struct fl_service *svc;
    struct local_inst *inst;     /* replicas, in order */
    int n;
    unsigned rr;                 /* round-robin cursor for resolve */
};

struct stop_waiter {
    fl_target_cb cb;
    void *ud;
    struct stop_waiter *next;
};

#define LOCAL_MAX_HOOKS 8

struct local_hook {
    fl_env_hook fn;
    void *ud;
};

struct local_target {
    struct fl_target base;       /* base.ctx == this */
    struct fl_run *run;
    struct fl_contain contain;
    char contain_desc[FL_CONTAIN_PATH_MAX + 128];
    uint64_t seq_root;           /* journal: the run's cgroup folder / marker sweep */
    struct local_hook hooks[LOCAL_MAX_HOOKS];
    size_t nhooks;
    struct local_svc *svcs;
    size_t nsvcs;
    struct local_inst *insts;    /* all instances, service by service */
    size_t ninsts;
    size_t refs;                 /* open handles owned by the target */
    int destroyed;               /* destroy() called */
    int freed;                   /* free() called: memory goes with the last handle */
    int stopping;                /* stop() called: no more restarts */
    /* start() */
    int start_called, starting;
    size_t start_svc;
    fl_target_cb start_cb;
    void *start_ud;
    uv_timer_t start_timer;
    /* stop() */
    struct stop_waiter *waiters;
    uv_timer_t stop_timer;
    int stop_timer_armed;
    size_t stop_svc;             /* services still to stop: [0, stop_svc) */
    int stop_sent;               /* SIGTERM sent to svcs[stop_svc - 1] */
    /* destroy() */
    struct stop_waiter *destroy_waiters;
    uv_timer_t *destroy_timer;   /* reports destroy on the next turn */
};

/* contain glue (local.c) */
/* Kill every member of in's containment but leave the bookkeeping to the
 * exit handlers. Returns 0 or -errno. */
int fl_local_kill_members(struct local_inst *in);
/* 1 when no process of in's containment is left. */
int fl_local_members_gone(struct local_inst *in);
/* Send sig to every member; returns how many got it, or -errno. */
int fl_local_signal_members(struct local_inst *in, int sig);
/* Make in's containment ready for a spawn (cgroup mode: its cgroup,
 * journaled once). Returns 0 or FL_E*. */
int fl_local_contain_prepare(struct local_inst *in, struct fl_error *err);

/* target_local_proc.c */
/* Spawn in's command (expanding templates), record "started pid N" and
 * start its readiness check. Returns 0 or FL_E* with err set. */
int fl_local_inst_spawn(struct local_inst *in, struct fl_error *err);
/* Forget p: close its handle without waiting for an exit (destroy, after
 * the process was reaped); freed from the close callback. */
void fl_local_proc_close(struct local_proc *p);
/* A restart waiting out its backoff (restart_pending) happens on the next
 * loop turn instead, with the backoff reset (restarts were unblocked). */
void fl_local_restart_now(struct local_inst *in);
/* Why a process stopped ("exited with status 1", "killed by SIGKILL"). */
void fl_local_exit_desc(int status, int sig, char *buf, size_t len);
/* Record a target event for in (no-op without a history). */
void fl_local_record(struct local_inst *in, enum fl_optype type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* target_local.c: one of the target's handles has closed; the last one
 * after destroy() frees the target. */
void fl_local_unref(struct local_target *lt);
/* target_local.c: events the supervisor reports to the start sequence. */
void fl_local_on_ready(struct local_inst *in);
void fl_local_on_not_ready(struct local_inst *in, const char *why);
/* The process exited; restarting says whether a restart is coming. */
void fl_local_on_exit(struct local_inst *in, int restarting);
/* local.c: the kill timer's callback (terminate, stop), and terminate. */
void fl_local_on_kill_timer(uv_timer_t *t);
void fl_local_terminate(struct local_inst *in, uint64_t grace_ms);

/* ops.c: the operations on one instance (target.h documents each). */
int fl_local_op_signal(struct fl_target *t, struct fl_instance *in, int sig,
                       struct fl_error *err);
int fl_local_op_kill(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_local_op_terminate(struct fl_target *t, struct fl_instance *in, uint64_t grace_ms,
                          struct fl_error *err);
int fl_local_op_freeze(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_local_op_thaw(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_local_op_block(struct fl_target *t, struct fl_instance *in, const char *reason,
                      struct fl_error *err);
int fl_local_op_unblock(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_local_op_start_instance(struct fl_target *t, struct fl_instance *in,
                               struct fl_error *err);
int fl_local_op_fs_path(struct fl_target *t, struct fl_instance *in, const char *path,
                        struct fl_buf *out, struct fl_error *err);
int fl_local_op_add_env_hook(struct fl_target *t, fl_env_hook fn, void *ud,
                             struct fl_error *err);

/* volume.c */
/* 1 when some service declares volumes. */
int fl_local_volumes_needed(const struct local_target *lt);
/* Mount every instance's volumes (journaled). Needs root and the exec
 * shim: otherwise FL_EINVAL saying why and what to use. On failure the
 * volumes mounted so far stay recorded for fl_local_volumes_release. */
int fl_local_volumes_create(struct local_target *lt, struct fl_error *err);
/* Unmount every volume (after the processes are gone), mark the journal,
 * free the arrays. Returns 0 or FL_EIO when one could not be unmounted. */
int fl_local_volumes_release(struct local_target *lt);
/* "FAULTLINE_VOLUMES=..." for in's environment (malloc'ed, caller frees),
 * NULL when in has no volume (or out of memory: err set). */
char *fl_local_volumes_env(const struct local_inst *in, struct fl_error *err);
/* The volume of in called name[0..len), or NULL. */
const struct local_vol *fl_local_volume(const struct local_inst *in, const char *name,
                                        size_t len);
/* path as in sees it, under one of its volumes: write faultline's path to
 * out and return 1; 0 when path is on no volume; FL_ENOMEM. */
int fl_local_volume_map(const struct local_inst *in, const char *path, struct fl_buf *out);
/* proc.c: expand a template for in (its names, then the run's); caller
 * frees; NULL with err set on failure. */
char *fl_local_expand(struct local_inst *in, const char *tpl, struct fl_error *err);

/* Count of instances with a process or a containment still draining. */
size_t fl_local_alive_count(const struct local_target *lt);
/* Set in's state from its process, readiness and restart block. */
void fl_local_set_state(struct local_inst *in, enum fl_inst_state s);

#endif
