/* workload_impl.h - internals shared by workload.c, workload_follow.c and
 * probe.c. Not a public contract: use workload.h. */
#ifndef FL_WORKLOAD_IMPL_H
#define FL_WORKLOAD_IMPL_H

#include "http.h"
#include "workload.h"

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

struct wl_driver {
    struct fl_workers *w;
    const struct fl_workload *m;
    uv_timer_t timer;
    int running;
    int64_t start_us, stop_us;    /* run clock */
    uint64_t k;                   /* index of the next operation */
    size_t inflight;              /* main requests in flight */
};

struct probe_driver {
    struct fl_workers *w;
    const struct fl_probe *m;
    int32_t process;
    uv_timer_t timer;
    int running;
    struct fl_http_req *req;      /* sample in flight, or NULL */
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
    size_t issued, ok, fail, info, capped;
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

/* probe.c */
void wl_probe_init(struct fl_workers *w, struct probe_driver *p, size_t index,
                   const struct fl_probe *m);
void wl_probe_start(struct probe_driver *p);
void wl_probe_stop(struct probe_driver *p);
/* Cancel a sample in flight (info "aborted"). */
void wl_probe_abort(struct probe_driver *p);

/* The closes_pending bookkeeping of every handle the workers close. */
void wl_handle_closed(struct fl_workers *w);

#endif
