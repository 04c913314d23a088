/* target.h - where services live and how faultline acts on their instances.
 *
 * A target type is a const vtable (the curl/Redis pattern) listed in the
 * registry (targets/registry.c); an instance of a target is struct
 * fl_target { type, ctx, run }. `local` runs services as supervised child
 * processes, each instance in its own containment (a cgroup: its "pod");
 * `compose` (later) drives a docker-compose project. Injectors only use
 * this interface, through the fl_target_* wrappers below, and declare which
 * operations they need (FL_TOP_*): the loader refuses a scenario whose
 * target lacks one.
 *
 * Lifetime: create, start, (operations), stop, destroy, free. destroy()
 * kills everything at once and is final: every operation afterwards
 * answers FL_EABORT, but the struct stays valid until free(), which the
 * runner calls only after its loop has closed. So an injector that still
 * holds the target in a callback never touches freed memory.
 */
#ifndef FL_TARGET_H
#define FL_TARGET_H

#include <stddef.h>

#include "core/run_context.h"

/* What an instance is doing. */
enum fl_inst_state {
    FL_INST_STOPPED,     /* no process (never started, exited, killed) */
    FL_INST_STARTING,    /* running, readiness not (yet) passed */
    FL_INST_READY,       /* running and passed its readiness check */
    FL_INST_BLOCKED      /* stopped, and (re)starts are refused */
};

/* One replica of a service ("pod"). Owned by the target; pointers stay
 * valid until the target is freed. Fields are read-only outside the
 * target. */
struct fl_instance {
    const char *service;
    int replica;            /* 0-based */
    char id[64];            /* "api.1" */
    char host[64];          /* where faultline reaches it: "127.0.0.1" */
    int port;               /* allocated port for ${port}, 0 if none */
    int pid;                /* main process, 0 when not running */
    enum fl_inst_state state;
    unsigned incarnation;   /* 0 before the first start, +1 at every start */
    int restarts;           /* restarts so far */
    int frozen;             /* freeze() in effect */
    int stopped_by_signal;  /* SIGSTOP sent by signal() and not yet SIGCONT */
    int restart_blocked;    /* block_restarts() in effect */
    int partitioned;        /* partition() in effect */
};

static inline int fl_inst_running(const struct fl_instance *in)
{
    return in->state == FL_INST_STARTING || in->state == FL_INST_READY;
}

static inline int fl_inst_ready(const struct fl_instance *in)
{
    return in->state == FL_INST_READY;
}

const char *fl_inst_state_name(enum fl_inst_state s);   /* "ready" */

/* Operations a target implements (fl_target_type.ops) and an injector
 * needs (fl_injector_type.needs). */
enum {
    FL_TOP_SIGNAL = 1 << 0,   /* signal(): a signal to every process */
    FL_TOP_KILL = 1 << 1,     /* kill(): the whole containment at once */
    FL_TOP_TERMINATE = 1 << 2,/* terminate(): SIGTERM, then kill after grace */
    FL_TOP_FREEZE = 1 << 3,   /* freeze()/thaw() */
    FL_TOP_BLOCK = 1 << 4,    /* block_restarts()/unblock_restarts() */
    FL_TOP_START = 1 << 5,    /* start_instance() */
    FL_TOP_FS = 1 << 6,       /* fs_path() */
    FL_TOP_ENV = 1 << 7,      /* add_env_hook() */
    FL_TOP_NETWORK = 1 << 8,  /* partition()/unpartition() */
};

/* Names of the bits in ops, for messages ("freeze, block"). */
void fl_target_ops_names(unsigned ops, char *buf, size_t len);

struct fl_target;

/* Completion of an asynchronous target operation: status is 0 or FL_E*,
 * err describes a failure. Called exactly once per accepted call, never
 * from inside the call itself. */
typedef void (*fl_target_cb)(struct fl_target *t, int status,
                             const struct fl_error *err, void *ud);

/* An environment hook: called before each spawn of an instance, it may add
 * variables (LD_PRELOAD shims, libfaketime). env is NULL-terminated and
 * has room for at most max more entries at its end; a hook appends
 * malloc'ed "NAME=VALUE" strings (the target frees them) and returns how
 * many it added, or a negative FL_E* to refuse the spawn (err set). A
 * variable the hook sets overrides one of the same name set earlier. */
typedef int (*fl_env_hook)(void *ud, const struct fl_instance *in, char **env, size_t max,
                           struct fl_error *err);

struct fl_target_type {
    const char *name;             /* what `target:` names: "local" */
    const char *help;             /* one line for docs */
    unsigned ops;                 /* FL_TOP_* implemented */

    /* Prepare (allocate ports, no process yet). */
    int (*create)(struct fl_target **out, struct fl_run *run, struct fl_error *err);
    /* Start every service in file order, each waiting for its replicas'
     * readiness before the next starts. cb(0) when all are ready,
     * cb(FL_ENOTREADY) naming the service otherwise. */
    int (*start)(struct fl_target *t, fl_target_cb cb, void *ud);
    /* Stop everything: SIGTERM, kill after the service's stop_grace; cb
     * once every instance's containment is empty. Stops restarts. Safe in
     * any state, more than once. */
    int (*stop)(struct fl_target *t, fl_target_cb cb, void *ud);
    /* Final: kill every containment now, stop every timer and check, drop
     * pending start/stop callbacks; cb (may be NULL) once every process is
     * gone and the target's handles are closing. Afterwards every
     * operation answers FL_EABORT. Idempotent (a second call only adds a
     * callback). */
    void (*destroy)(struct fl_target *t, fl_target_cb cb, void *ud);
    /* Release the memory; only after destroy and once the loop has run
     * until no handle is left (uv_run returned 0). */
    void (*free)(struct fl_target *t);

    /* Instances of a service, in replica order; returns the count, writes
     * at most max pointers. */
    size_t (*instances)(struct fl_target *t, const char *service,
                        struct fl_instance **out, size_t max);
    /* Send sig to every process of the instance (SIGSTOP/SIGCONT tracked
     * in stopped_by_signal and journaled). */
    int (*signal)(struct fl_target *t, struct fl_instance *in, int sig, struct fl_error *err);
    /* Kill the whole containment at once (a pod kill, an OOM kill). */
    int (*kill)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* SIGTERM to the main process, kill the containment after grace_ms. */
    int (*terminate)(struct fl_target *t, struct fl_instance *in, uint64_t grace_ms,
                     struct fl_error *err);
    /* Freeze / thaw the containment (cgroup.freeze, `docker pause`): the
     * processes cannot observe it. Journaled: a crash leaves it healable. */
    int (*freeze)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    int (*thaw)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Refuse (and allow again) starts and restarts of the instance; reason
     * goes into the history with every refusal. */
    int (*block_restarts)(struct fl_target *t, struct fl_instance *in, const char *reason,
                          struct fl_error *err);
    int (*unblock_restarts)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Start a stopped instance now, whatever its restart policy or backoff.
     * A running instance is left alone; a blocked one is refused. */
    int (*start_instance)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Where path, as the instance sees it, is reachable from faultline. */
    int (*fs_path)(struct fl_target *t, struct fl_instance *in, const char *path,
                   struct fl_buf *out, struct fl_error *err);
    /* Register an environment hook for every later spawn. */
    int (*add_env_hook)(struct fl_target *t, fl_env_hook fn, void *ud, struct fl_error *err);
    /* Cut the instance off every network it is on (compose: disconnect
     * the container from its networks), and connect it again as it was
     * (with its aliases). Journaled: a crash leaves it healable. The
     * instance's address may change on the way back (a port Docker
     * picks is picked again). */
    int (*partition)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    int (*unpartition)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Resolve target names: "svc" (round-robin host:port over ready
     * replicas), "svc.port", "svc.host", "svc.N", "svc.N.port", "svc.N.pid",
     * "svc.N.host". FL_ENOTFOUND when the name is not the target's. */
    int (*resolve)(struct fl_target *t, const char *name, size_t len,
                   struct fl_buf *out, struct fl_error *err);
    /* What contains an instance, for the run header and the JUnit
     * properties ("cgroup v2 (/sys/fs/cgroup/...)"). */
    const char *(*containment)(struct fl_target *t);
};

struct fl_target {
    const struct fl_target_type *type;
    void *ctx;
    struct fl_run *run;
    int destroyed;                /* set by destroy: operations answer FL_EABORT */
};

/* The registry (targets/registry.c). */
extern const struct fl_target_type *const fl_targets[];   /* NULL-terminated */
const struct fl_target_type *fl_target_find(const char *name);

/* ---- wrappers: what injectors call ------------------------------------- */

/* FL_EABORT after destroy, FL_EINVAL when the type lacks the operation. */
int fl_target_op_check(struct fl_target *t, const char *op, int present, struct fl_error *err);

static inline int fl_target_signal(struct fl_target *t, struct fl_instance *in, int sig,
                                   struct fl_error *err)
{
    int rc = fl_target_op_check(t, "signal", t && t->type->signal != NULL, err);
    return rc ? rc : t->type->signal(t, in, sig, err);
}

static inline int fl_target_kill(struct fl_target *t, struct fl_instance *in,
                                 struct fl_error *err)
{
    int rc = fl_target_op_check(t, "kill", t && t->type->kill != NULL, err);
    return rc ? rc : t->type->kill(t, in, err);
}

static inline int fl_target_terminate(struct fl_target *t, struct fl_instance *in,
                                      uint64_t grace_ms, struct fl_error *err)
{
    int rc = fl_target_op_check(t, "terminate", t && t->type->terminate != NULL, err);
    return rc ? rc : t->type->terminate(t, in, grace_ms, err);
}

static inline int fl_target_freeze(struct fl_target *t, struct fl_instance *in,
                                   struct fl_error *err)
{
    int rc = fl_target_op_check(t, "freeze", t && t->type->freeze != NULL, err);
    return rc ? rc : t->type->freeze(t, in, err);
}

static inline int fl_target_thaw(struct fl_target *t, struct fl_instance *in,
                                 struct fl_error *err)
{
    int rc = fl_target_op_check(t, "thaw", t && t->type->thaw != NULL, err);
    return rc ? rc : t->type->thaw(t, in, err);
}

static inline int fl_target_block_restarts(struct fl_target *t, struct fl_instance *in,
                                           const char *reason, struct fl_error *err)
{
    int rc = fl_target_op_check(t, "block_restarts", t && t->type->block_restarts != NULL, err);
    return rc ? rc : t->type->block_restarts(t, in, reason, err);
}

static inline int fl_target_unblock_restarts(struct fl_target *t, struct fl_instance *in,
                                             struct fl_error *err)
{
    int rc = fl_target_op_check(t, "unblock_restarts", t && t->type->unblock_restarts != NULL,
                                err);
    return rc ? rc : t->type->unblock_restarts(t, in, err);
}

static inline int fl_target_start_instance(struct fl_target *t, struct fl_instance *in,
                                           struct fl_error *err)
{
    int rc = fl_target_op_check(t, "start_instance", t && t->type->start_instance != NULL, err);
    return rc ? rc : t->type->start_instance(t, in, err);
}

static inline int fl_target_partition(struct fl_target *t, struct fl_instance *in,
                                      struct fl_error *err)
{
    int rc = fl_target_op_check(t, "partition", t && t->type->partition != NULL, err);
    return rc ? rc : t->type->partition(t, in, err);
}

static inline int fl_target_unpartition(struct fl_target *t, struct fl_instance *in,
                                        struct fl_error *err)
{
    int rc = fl_target_op_check(t, "unpartition", t && t->type->unpartition != NULL, err);
    return rc ? rc : t->type->unpartition(t, in, err);
}

static inline size_t fl_target_instances(struct fl_target *t, const char *service,
                                         struct fl_instance **out, size_t max)
{
    return t && !t->destroyed ? t->type->instances(t, service, out, max) : 0;
}

#endif
