/* compose_int.h - private to the `compose` target (compose.c, start.c,
 * events.c, ops.c, ready.c). Nothing here is part of a shared contract.
 *
 * Lifetimes (libuv rules): every handle is closed before its memory goes
 * away. The target counts its open handles and clients in `refs`; once
 * free() was called and the count drops to zero, the memory is released.
 */
#ifndef FL_COMPOSE_INT_H
#define FL_COMPOSE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <jansson.h>

#include "base/error.h"
#include "core/model.h"
#include "core/target.h"
#include "targets/compose/docker.h"

#define COMPOSE_LABEL_PROJECT "com.docker.compose.project"
#define COMPOSE_LABEL_SERVICE "com.docker.compose.service"
#define COMPOSE_LABEL_NUMBER "com.docker.compose.container-number"
#define COMPOSE_LABEL_ONEOFF "com.docker.compose.oneoff"

struct compose_target;
struct op_call;
struct fl_http;
struct fl_http_req;

#define COMPOSE_NETS_MAX 4

/* A network a container is on, as the last inspect before a partition
 * saw it: what the heal connects it to again. */
struct compose_net {
    char id[72];
    char name[128];
    char aliases[512];           /* JSON array, e.g. ["api","2378b2b4be95"] */
    uint64_t seq;                /* journal: docker.connect (while cut off) */
};

/* One container of a service the scenario names. */
struct compose_inst {
    struct fl_instance pub;      /* what injectors see (first member) */
    struct compose_target *ct;
    int index;                   /* across all services: history process */
    char cid[72];                /* container id */
    char name[128];              /* container name, without the leading '/' */
    char image[256];             /* the image reference it was created from */
    int number;                  /* compose's container-number label */
    char policy[32];             /* restart policy found at start ("always") */
    long policy_retries;         /* its MaximumRetryCount */
    int running;                 /* from the events: started and not died since */
    int has_health;              /* the container has a HEALTHCHECK */
    char health[16];             /* its last status ("healthy") */
    int http_ready;              /* the scenario's ready: http check passed */
    int stopped_by_us;           /* faultline killed or stopped it */
    uint64_t seq_unpause;        /* journal: docker.unpause (while paused) */
    uint64_t seq_policy;         /* journal: docker.policy (while blocked) */
    uint64_t seq_start;          /* journal: docker.start (after a kill/stop) */
    uint64_t seq_cont;           /* journal: docker.cont (after SIGSTOP) */
    int policy_deferred;         /* restore the restart policy at the next start */
    int restart_waiting;         /* died while blocked, its policy wanted a restart */
    struct compose_net nets[COMPOSE_NETS_MAX];
    int nnets;
    struct op_call *q_head, *q_tail;  /* Docker calls waiting their turn (ops.c) */
    int q_busy;                  /* one of them is in flight */
    char block_reason[128];
    uv_timer_t term_timer;       /* terminate: SIGKILL after the grace */
    unsigned term_incarnation;   /* the incarnation the timer is meant for */
    uv_timer_t ready_timer;      /* readiness polling */
    struct fl_http_req *ready_req;
    int64_t ready_since_us;      /* start of the current readiness wait */
    int ready_logged;            /* "not ready" recorded for this start */
};

struct compose_svc {
    const struct fl_service *svc;
    struct compose_inst **inst;  /* in container-number order */
    int n;
    unsigned rr;                 /* round-robin cursor for resolve */
};

struct compose_waiter {
    fl_target_cb cb;
    void *ud;
    struct compose_waiter *next;
};

struct compose_target {
    struct fl_target base;       /* base.ctx == this */
    struct fl_run *run;
    char project[128];
    char socket[4096];
    char desc[256];              /* containment() */
    struct fl_docker *docker;
    struct fl_http *http;        /* readiness checks (TCP, 127.0.0.1) */
    struct compose_svc *svcs;
    size_t nsvcs;
    struct compose_inst *insts;  /* all instances */
    size_t ninsts;
    size_t refs;                 /* open handles and clients */
    int freed, destroyed, stopping;
    int clients_closed;          /* docker and http clients closed */
    int events_up;               /* the event stream is open */
    /* start() */
    fl_target_cb start_cb;
    void *start_ud;
    int started;                 /* instances known */
    uv_timer_t start_timer;      /* start deadline, then polls readiness */
    int64_t start_deadline_us;
    size_t inspects_pending;
    /* stop() */
    struct compose_waiter *stop_waiters;
    uv_timer_t stop_timer;
    int64_t stop_deadline_us;
    size_t calls_pending;        /* restore calls in flight */
    /* destroy() */
    struct compose_waiter *destroy_waiters;
    uv_timer_t *destroy_timer;   /* reports destroy on the next turn */
};

/* compose.c */
void fl_compose_unref(struct compose_target *ct);
/* Record a target event for in (no-op without a history). */
void fl_compose_record(struct compose_inst *in, enum fl_optype type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set pub.state from running, readiness and the restart block. */
void fl_compose_set_state(struct compose_inst *in);
/* A Docker call for in whose only consequence is a record when it fails
 * (what: "kill", "pause"). Returns 0 or FL_E* with err set. */
int fl_compose_call(struct compose_inst *in, const char *what, const char *method,
                    const char *path, const char *body, struct fl_error *err);

/* ops.c: the operations (target.h documents each). */
int fl_compose_op_signal(struct fl_target *t, struct fl_instance *in, int sig,
                         struct fl_error *err);
int fl_compose_op_kill(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_compose_op_terminate(struct fl_target *t, struct fl_instance *in, uint64_t grace_ms,
                            struct fl_error *err);
int fl_compose_op_freeze(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_compose_op_thaw(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_compose_op_block(struct fl_target *t, struct fl_instance *in, const char *reason,
                        struct fl_error *err);
int fl_compose_op_unblock(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_compose_op_start_instance(struct fl_target *t, struct fl_instance *in,
                                 struct fl_error *err);
int fl_compose_op_fs_path(struct fl_target *t, struct fl_instance *in, const char *path,
                          struct fl_buf *out, struct fl_error *err);
int fl_compose_op_partition(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
int fl_compose_op_unpartition(struct fl_target *t, struct fl_instance *in, struct fl_error *err);
/* events.c: ask the engine for in's state again (pid, port, networks);
 * apply an inspect answer; the event stream's handlers. */
void fl_compose_inspect(struct compose_inst *in);
void fl_compose_apply_inspect(struct compose_inst *in, json_t *j);
void fl_compose_on_event(void *ud, json_t *ev);
void fl_compose_on_events_end(void *ud, const char *error);
/* start.c: the target's start(), and its one report (status 0 or FL_E*
 * with a message). */
int fl_compose_start(struct fl_target *t, fl_target_cb cb, void *ud);
void fl_compose_start_done(struct compose_target *ct, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fl_compose_on_term_timer(uv_timer_t *t);
/* After a start: the restart policy an unblock could not restore while
 * the container was stopped goes back now. */
void fl_compose_policy_due(struct compose_inst *in);
/* The restore at stop(): unpause, restore policies, start what faultline
 * stopped. Returns the number of calls issued. */
size_t fl_compose_restore(struct compose_target *ct);

/* ready.c: readiness of one instance after it (re)started. */
void fl_compose_ready_begin(struct compose_inst *in);
void fl_compose_ready_cancel(struct compose_inst *in);

#endif
