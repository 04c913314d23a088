/* redis_restart.c - restart Redis instances by role: SIGTERM (SIGKILL after
 * the grace), then start again at once. The fault completes when the new
 * process runs; an in-memory Redis comes back empty unless it persists or
 * resyncs from a primary. Instant. */
#include "injectors/redis_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_ROLE, P_PICK, P_GRACE };

static const struct fl_param params[] = {
    FL_REDIS_ROLE_PARAMS,
    [P_GRACE] = {"grace", FL_PT_DURATION, 0, "2s", "time between SIGTERM and SIGKILL"},
};

struct restart {
    uv_timer_t timer;
    struct fl_fault_run *fr;
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
    int old_pid[FL_MAX_PICK];
    unsigned old_inc[FL_MAX_PICK];
    int started[FL_MAX_PICK];
    int64_t deadline_us;
};

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void finish(struct restart *r, int status, const char *err)
{
    struct fl_fault_run *fr = r->fr;
    fr->state = NULL;
    uv_close((uv_handle_t *)&r->timer, timer_closed);
    fl_fault_done(fr, status, err);
}

/* Wait for each old process to be gone, then start it again. */
static void on_tick(uv_timer_t *t)
{
    struct restart *r = t->data;
    struct fl_fault_run *fr = r->fr;
    size_t done = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct fl_instance *in = r->in[i];
        if (!r->started[i] && in->incarnation != r->old_inc[i]) {
            r->started[i] = 1; /* its restart policy was faster */
        } else if (!r->started[i] && !fl_inst_running(in) && in->state != FL_INST_BLOCKED &&
                   in->pid == 0) {
            struct fl_error e = {0};
            if (fl_target_start_instance(fr->run->target, in, &e)) {
                finish(r, FL_EINJECT, e.msg);
                return;
            }
            r->started[i] = 1;
        }
        if (r->started[i])
            done++;
    }
    if (done == r->n) {
        size_t len = 0;
        for (size_t i = 0; i < r->n; i++) {
            len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                    "%srestarted %s: pid %d, now pid %d", i ? "; " : "",
                                    r->in[i]->id, r->old_pid[i], r->in[i]->pid);
            if (len >= sizeof fr->desc)
                len = sizeof fr->desc - 1;
        }
        finish(r, 0, NULL);
        return;
    }
    if (fl_now_us() > r->deadline_us) {
        finish(r, FL_ETIMEDOUT, "the old process did not exit in time");
        return;
    }
    uv_timer_start(&r->timer, on_tick, 50, 0);
}

static void on_pick(struct fl_fault_run *fr, struct fl_instance **in, size_t n, const char *why)
{
    struct restart *r = fr->state;
    if (n == 0) {
        finish(r, FL_EINJECT, why);
        return;
    }
    uint64_t grace = fr->fault->args.v[P_GRACE].ms;
    for (size_t i = 0; i < n; i++) {
        struct fl_error e = {0};
        r->in[i] = in[i];
        r->old_pid[i] = in[i]->pid;
        r->old_inc[i] = in[i]->incarnation;
        r->n = i + 1;
        fl_inj_add_key(fr, in[i]);
        if (fl_target_terminate(fr->run->target, in[i], grace, &e)) {
            finish(r, FL_EINJECT, e.msg);
            return;
        }
    }
    r->deadline_us = fl_now_us() + (int64_t)(grace + 5000) * 1000;
    uv_timer_start(&r->timer, on_tick, 20, 0);
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    enum fl_redis_role role;
    if (fl_parse_role(a->v[P_ROLE].s, &role))
        return fl_error_set(err, FL_EINVAL, "role: expected primary, replica or any; got '%s'",
                            a->v[P_ROLE].s);
    struct restart *r = calloc(1, sizeof *r);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    r->fr = fr;
    uv_timer_init(fr->run->loop, &r->timer);
    r->timer.data = r;
    fr->state = r;
    int rc = fl_redis_pick(fr, a->v[P_SERVICE].s, role, &a->v[P_PICK].pick, on_pick, err);
    if (rc) {
        fr->state = NULL;
        uv_close((uv_handle_t *)&r->timer, timer_closed);
        return rc;
    }
    return FL_PENDING;
}

/* Abandoned while waiting for the old process to go (abort, watchdog). */
static void cancel(struct fl_fault_run *fr)
{
    struct restart *r = fr->state;
    if (!r)
        return;
    fr->state = NULL;
    uv_close((uv_handle_t *)&r->timer, timer_closed);
}

const struct fl_injector_type fl_injector_redis_restart = {
    .name = "redis.restart",
    .help = "restart Redis instances by role: SIGTERM (SIGKILL after the grace), then start again; "
            "instant",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = FL_TOP_TERMINATE | FL_TOP_START,
    .inject = inject,
    .cancel = cancel,
};
