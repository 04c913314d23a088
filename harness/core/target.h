/* target.h - where services live and how faultline acts on their instances.
 *
 * A target type is a const vtable (the curl/Redis pattern); an instance of a
 * target is struct fl_target { type, ctx }. `local` runs services as
 * supervised child processes; `compose` (later) drives a docker-compose
 * project. Injectors only use this interface, so they work on every target
 * that implements the operations they need.
 */
#ifndef FL_TARGET_H
#define FL_TARGET_H

#include <stddef.h>

#include "core/run_context.h"

/* One running (or stopped) replica of a service ("pod"). Owned by the
 * target; pointers stay valid until the target is destroyed. */
struct fl_instance {
    const char *service;
    int replica;          /* 0-based */
    char id[64];          /* "api.1" */
    int port;             /* allocated loopback port for ${port}, 0 if none */
    int pid;              /* current process (group leader), 0 when not running */
    int ready;            /* passed its readiness check since last start */
    int paused;           /* SIGSTOPped by an injector */
    int restarts;         /* restarts so far */
    int blocked;          /* restarts blocked (fault: capacity loss) */
};

struct fl_target;

/* Completion of an asynchronous target operation: status is 0 or FL_E*,
 * err describes a failure. Called exactly once per accepted call. */
typedef void (*fl_target_cb)(struct fl_target *t, int status,
                             const struct fl_error *err, void *ud);

struct fl_target_type {
    const char *name;
    /* Prepare (allocate ports, open nothing yet). */
    int (*create)(struct fl_target **out, struct fl_run *run, struct fl_error *err);
    /* Start every service in file order, each replica waiting for its
     * readiness check before the next service starts. cb(0) when all are
     * ready, cb(FL_ENOTREADY) naming the service otherwise. */
    int (*start)(struct fl_target *t, fl_target_cb cb, void *ud);
    /* Stop everything: SIGTERM to each process group, SIGKILL after
     * stop_grace; cb once every process has been reaped. Also stops
     * restarts. Safe to call in any state, more than once. */
    int (*stop)(struct fl_target *t, fl_target_cb cb, void *ud);
    /* Instances of a service, in replica order; returns the count, writes
     * at most max pointers. */
    size_t (*instances)(struct fl_target *t, const char *service,
                        struct fl_instance **out, size_t max);
    /* Send sig to the instance's process group. */
    int (*signal)(struct fl_target *t, struct fl_instance *in, int sig, struct fl_error *err);
    /* SIGTERM, then SIGKILL after grace_ms if still alive. */
    int (*terminate)(struct fl_target *t, struct fl_instance *in, uint64_t grace_ms,
                     struct fl_error *err);
    /* SIGSTOP / SIGCONT the group, tracking `paused`. */
    int (*pause)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    int (*resume)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Start a stopped instance now, whatever its restart policy or backoff
     * (clears `blocked`). A running instance is left alone. Readiness is
     * checked in the background (in->ready). Returns 0 or FL_E*. */
    int (*start_instance)(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
    /* Resolve target names: "svc" (round-robin host:port over ready
     * replicas), "svc.port", "svc.host", "svc.N" (host:port), "svc.N.port",
     * "svc.N.pid". FL_ENOTFOUND when the name is not the target's. */
    int (*resolve)(struct fl_target *t, const char *name, size_t len,
                   struct fl_buf *out, struct fl_error *err);
    /* Synchronous last resort: SIGKILL every process group still alive and
     * free everything. Never leaves a process behind. Handles are closed and
     * memory is freed from close callbacks: run the loop until it returns 0
     * afterwards. */
    void (*destroy)(struct fl_target *t);
};

struct fl_target {
    const struct fl_target_type *type;
    void *ctx;
    struct fl_run *run;
};

extern const struct fl_target_type fl_target_local;

#endif
