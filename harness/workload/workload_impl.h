/* workload_impl.h - internals shared by workload.c, workload_follow.c and
 * probe.c. Not a public contract: use workload.h. */
#ifndef FL_WORKLOAD_IMPL_H
#define FL_WORKLOAD_IMPL_H

#include "proto/http.h"
#include "proto/redis.h"
#include "workload/workload.h"

#define WL_ID_MAX 64              /* instance ids: "api.1" */
#define WL_MAX_SENTINELS 32

/* Pacing (workload.c). A driver issues what is due in batches of at most
 * WL_BATCH_MAX operations or WL_BATCH_US of work, and yields to the loop
 * between two batches, so that a fault's timer, I/O and probes run while a
 * workload catches up. Operations due more than WL_LAG_MAX_US ago are
 * skipped (one "skipped" record with their count), except the newest
 * WL_LAG_KEEP of them: a short stall at a low rate is caught up, only a
 * backlog the loop cannot work off is dropped. */
#define WL_BATCH_MAX 256
#define WL_BATCH_US 2000
#define WL_LAG_MAX_US 100000
#define WL_LAG_KEEP 1000

struct wl_var {
    char *name;
    char *value;
};

/* One operation chain: a main request and, with `follow`, its polls. It
 * lives from its invoke until its last completion; it is "pending" for
 * the whole time. */
struct wl_op {
    struct fl_workers *w;
    struct wl_driver *d;
    int32_t process;
    struct fl_http_req *req;      /* request in flight, or NULL */
    char *key;                    /* value of the first capture, or NULL */
    struct wl_var *vars;          /* captures: ${name} for the follow */
    size_t nvars;
    char *last;                   /* last value polled */
    int following;
    int64_t deadline_us;          /* run clock: follow gives up here */
    uv_timer_t timer;             /* next poll; initialised on follow */
    int timer_init;
    struct wl_op *prev, *next;    /* w->ops */
};

struct wl_redis;

struct wl_driver {
    struct fl_workers *w;
    const struct fl_workload *m;
    struct wl_redis *redis;       /* kind FL_WORKLOAD_REDIS, else NULL */
    uv_timer_t timer;             /* the next operation, when ahead */
    uv_idle_t idle;               /* the next batch, when behind */
    int running;
    int64_t start_us, stop_us;    /* run clock */
    uint64_t k;                   /* index of the next operation */
    uint64_t skipped;             /* operations skipped, never issued */
    size_t inflight;              /* main requests in flight */
};

/* ---- managed Redis connections (redis_discover.c) ---- */

enum wl_rconn_state { WL_RC_IDLE, WL_RC_ASKING, WL_RC_CONNECTING, WL_RC_UP, WL_RC_CLOSED };

struct wl_rconn;
struct fl_sentinel_query;
/* An attempt ended (status 0: connected; FL_EABORT: closed meanwhile;
 * else failed, why says so) or an established connection was lost
 * (FL_EIO). why is valid during the call only. */
typedef void (*wl_rconn_event)(struct wl_rconn *c, int status, const char *why);

/* The connection to where a struct fl_redis_at points, rediscovered on
 * demand. Lives inside its owner; every Redis handle it closes is counted
 * in w->closes_pending. */
struct wl_rconn {
    struct fl_workers *w;
    const struct fl_redis_at *at;
    char each_id[WL_ID_MAX];      /* ${each} of a per-replica probe, or "" */
    uint64_t timeout_ms;          /* connect and sentinel query bound */
    wl_rconn_event on_event;
    void *ud;
    enum wl_rconn_state state;
    struct fl_redis *r;           /* connecting or connected, or NULL */
    struct fl_sentinel_query *ask;/* asking the sentinels, or NULL */
    int in_start, start_status;
    uv_timer_t retry;
    char addr[160];               /* host:port of r */
    char why[512];                /* why the last attempt failed */
};

/* Initialise c (IDLE; the retry timer is initialised and must be closed
 * with wl_rconn_close). each_id may be NULL. Returns 0. */
int wl_rconn_init(struct wl_rconn *c, struct fl_workers *w, const struct fl_redis_at *at,
                  const char *each_id, uint64_t timeout_ms, wl_rconn_event cb, void *ud);
/* Start an attempt when IDLE. Returns 1 when already connected (no event),
 * 0 when an attempt is under way (on_event follows), or a negative FL_E*
 * when it failed at once (no event; why in c->why). */
int wl_rconn_connect(struct wl_rconn *c);
/* Try again in ms (if still IDLE then): the attempt's failure is reported
 * through on_event like any other. */
void wl_rconn_retry_later(struct wl_rconn *c, uint64_t ms);
/* The connection when it can take commands, else NULL. */
struct fl_redis *wl_rconn_ready(struct wl_rconn *c);
/* Close the current connection (commands pending on it complete with
 * FL_EABORT before this returns); IDLE afterwards, no event. */
void wl_rconn_drop(struct wl_rconn *c, const char *why);
/* Close everything for good; an attempt under way ends with FL_EABORT. */
void wl_rconn_close(struct wl_rconn *c);

/* ${each} and ${each.port} for replica `id` (NULL: none), then the run's
 * names. A fl_resolve_fn; ud is a struct wl_each. */
struct wl_each {
    struct fl_run *run;
    const char *id;
};
int wl_each_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                    struct fl_error *err);
/* Instance ids of a service (all, or running and not paused only) into
 * ids; without a target, "svc.N" for as long as the name resolves.
 * Returns the count. */
size_t wl_replica_ids(struct fl_run *run, const char *service, int running_only,
                      char (*ids)[WL_ID_MAX], size_t max);

/* ---- probes ---- */

/* One sampled address: the probe itself, or one replica of `each`. */
struct probe_target {
    struct probe_driver *p;
    char id[WL_ID_MAX];           /* instance id (history key), "" if none */
    int32_t process;
    int busy;                     /* a sample is in flight */
    int waiting;                  /* Redis: the sample waits for its connect */
    struct fl_http_req *req;      /* HTTP sample in flight, or NULL */
    struct wl_rconn conn;         /* Redis probes */
    int conn_init;
};

struct probe_driver {
    struct fl_workers *w;
    const struct fl_probe *m;
    size_t index;
    uv_timer_t timer;
    int running;
    struct probe_target *t;       /* allocated once, never moved */
    size_t nt;
    size_t skipped;               /* samples not taken: previous still running */
};

struct fl_workers {
    struct fl_run *run;
    struct fl_http *http;
    struct wl_driver *wl;
    size_t nwl;
    struct probe_driver *pr;
    size_t npr;
    struct wl_op *ops;            /* live chains */
    size_t nops;
    int32_t next_process;
    size_t rpending;              /* Redis writes in flight, final reads running */
    size_t issued, ok, fail, info, capped;
    uint64_t skipped;             /* over every workload */
    uv_timer_t drain_timer;
    void (*drain_cb)(void *ud);
    void *drain_ud;
    uint64_t drain_ms;
    int drain_expired;            /* no new follows start after this */
    int closing;
    int close_armed;
    size_t closes_pending;
    void (*close_cb)(void *ud);
    void *close_ud;
};

/* workload.c */
/* Issue the next operation of d (its index is d->k - 1): always an invoke,
 * then a request in flight or an immediate fail (Redis: workload_redis.c). */
void wl_issue(struct wl_driver *d);
/* Expand tpl with the op's captures first, then the run's names. */
int wl_expand(struct wl_op *op, const char *tpl, struct fl_buf *out, struct fl_error *err);
/* Expand and submit rq for op (op->req is set). 0, or an FL_E* code with
 * err set and nothing submitted. */
int wl_send(struct wl_op *op, const struct fl_request *rq, fl_http_cb cb, struct fl_error *err);
/* End op's chain: unlink, free (after its timer closed), wake a drain. */
void wl_op_end(struct wl_op *op);
/* Write an op record for a workload chain. */
void wl_record(struct wl_op *op, enum fl_optype type, const char *f, const char *key,
               const char *value, const char *error);
/* Records the give-up and ends the chain. */
void wl_follow_give_up(struct wl_op *op, const char *why);

/* workload_follow.c */
/* Start polling op->key (op->key must be set). Returns 0 or FL_ENOMEM. */
int wl_follow_start(struct wl_op *op);
/* Abort the follow: cancel a poll in flight (recorded as info "aborted")
 * and record the give-up with why; ends the chain. */
void wl_follow_abort(struct wl_op *op, const char *why);

/* workload_pace.c */
/* Initialise d's timer and idle handle (d->w, d->m set); both are closed by
 * fl_workers_close. */
void wl_pace_init(struct wl_driver *d);
/* Begin at d->start_us (the timer fires after the workload's start
 * offset); d->running, start_us, stop_us and k must be set. */
void wl_pace_start(struct wl_driver *d);
/* No further operations: stop the timer and the idle handle. */
void wl_pace_stop(struct wl_driver *d);

/* probe.c */
void wl_probe_init(struct fl_workers *w, struct probe_driver *p, size_t index,
                   const struct fl_probe *m);
void wl_probe_start(struct probe_driver *p);
void wl_probe_stop(struct probe_driver *p);
/* Cancel the samples in flight (info "aborted") and close the probe's
 * Redis connections. */
void wl_probe_abort(struct probe_driver *p);
/* Free what the probe allocated (after every handle closed). */
void wl_probe_free(struct probe_driver *p);

/* The closes_pending bookkeeping of every handle the workers close. */
void wl_handle_closed(struct fl_workers *w);
/* Call the drain callback if nothing is pending any more. */
void wl_check_drained(struct fl_workers *w);

/* workload_redis.c */
/* A zeroed client (NULL when out of memory), then its setup as d->redis
 * (kind FL_WORKLOAD_REDIS); split so that nothing is initialised in libuv
 * before every allocation succeeded. */
struct wl_redis *wl_redis_new(void);
void wl_redis_init(struct wl_driver *d, struct wl_redis *wr);
/* Connect (or discover the primary) now if not connected. */
void wl_redis_connect(struct wl_driver *d);
/* Operation k of the workload: invoke, then a write or an immediate fail. */
void wl_redis_issue(struct wl_driver *d);
/* Start the final read (once; no-op without `read`). */
void wl_redis_read(struct wl_driver *d);
/* Close once the final read (started here if it never was) is done; one
 * count of w->closes_pending until then. */
void wl_redis_close(struct wl_driver *d);
void wl_redis_free(struct wl_driver *d);

#endif
