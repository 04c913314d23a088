/* workload_follow.c - poll a captured key until a terminal value.
 *
 * After an accepted main request, the follow request is sent every
 * `every` (measured from the previous completion, so polls of one key
 * never overlap) until the value at `record` is one of `until`, or
 * `timeout` after the main request completed. Polls are reads: a non-2xx
 * answer is a completed read that returned "http:404", not a failure.
 */
#include "workload/workload_impl.h"
#include "base/jsonptr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUE (64 * 1024)

static void schedule(struct wl_op *op, uint64_t delay_ms);

void wl_follow_give_up(struct wl_op *op, const char *why)
{
    op->following = 0;
    wl_record(op, FL_INFO, FL_F_FOLLOW, op->key, op->last, why);
    wl_op_end(op);
}

static void give_up_timeout(struct wl_op *op)
{
    char d[32], why[80];
    uint64_t t = op->d->m->follow.timeout_ms;
    fl_format_duration(t ? t : 30000, d, sizeof d);
    snprintf(why, sizeof why, "no until-value after %s", d);
    wl_follow_give_up(op, why);
}

static int is_until(const struct fl_follow *f, const char *v)
{
    for (size_t i = 0; v && i < f->nuntil; i++)
        if (strcmp(f->until[i], v) == 0)
            return 1;
    return 0;
}

/* The value a 2xx poll records: the value at `record`, or the status when
 * there is no `record`. NULL with note set when the pointer finds
 * nothing. Returns a malloc'd string or NULL. */
static char *poll_value(const struct fl_follow *f, const struct fl_http_result *res,
                        char *note, size_t notelen)
{
    char status[16];
    if (!f->record) {
        snprintf(status, sizeof status, "%d", res->status);
        return fl_strdup(status);
    }
    struct fl_buf v;
    struct fl_error err = {0};
    fl_buf_init(&v, MAX_VALUE);
    char *out = NULL;
    if (fl_jsonptr_lookup(res->body, res->body_len, f->record, &v, &err) == 0)
        out = fl_strdup(fl_buf_str(&v));
    else
        snprintf(note, notelen, "record %s: %s%s", f->record, err.msg,
                 res->truncated ? " (body over the size limit)" : "");
    fl_buf_free(&v);
    return out;
}

static void on_poll_done(void *ud, const struct fl_http_result *res)
{
    struct wl_op *op = ud;
    const struct fl_follow *f = &op->d->m->follow;
    op->req = NULL;
    if (res->outcome == FL_HTTP_ABORTED) {
        /* Whoever cancelled ends the chain. */
        wl_record(op, FL_INFO, FL_F_POLL, op->key, NULL, res->error);
        return;
    }
    if (res->outcome == FL_HTTP_TIMEOUT) {
        wl_record(op, FL_INFO, FL_F_POLL, op->key, NULL, res->error);
    } else if (res->outcome == FL_HTTP_ERROR) {
        wl_record(op, FL_FAIL, FL_F_POLL, op->key, NULL, res->error);
    } else {
        char note[600] = "";
        char *v;
        if (res->status >= 200 && res->status <= 299) {
            v = poll_value(f, res, note, sizeof note);
        } else {
            char s[32];
            snprintf(s, sizeof s, FL_VALUE_HTTP_PREFIX "%d", res->status);
            v = fl_strdup(s);
        }
        wl_record(op, FL_OK, FL_F_POLL, op->key, v, note[0] ? note : NULL);
        if (v) {
            free(op->last);
            op->last = v;
        }
        if (v && is_until(f, v)) {
            op->following = 0;
            wl_op_end(op);
            return;
        }
    }
    if (op->w->closing || op->w->drain_expired) {
        wl_follow_give_up(op, "aborted");
        return;
    }
    schedule(op, f->every_ms ? f->every_ms : 250);
}

static void on_poll_timer(uv_timer_t *t)
{
    struct wl_op *op = t->data;
    if (fl_run_now(op->w->run) >= op->deadline_us) {
        give_up_timeout(op);
        return;
    }
    wl_record(op, FL_INVOKE, FL_F_POLL, op->key, NULL, NULL);
    struct fl_error err = {0};
    if (wl_send(op, &op->d->m->follow.request, on_poll_done, &err)) {
        /* Never sent (e.g. no ready replica to resolve ${api}): a failed
         * read; try again next interval. */
        wl_record(op, FL_FAIL, FL_F_POLL, op->key, NULL, err.msg);
        const struct fl_follow *f = &op->d->m->follow;
        schedule(op, f->every_ms ? f->every_ms : 250);
    }
}

/* Arm the next poll in delay_ms, or at the deadline if that is sooner
 * (the give-up is then recorded on time, not one interval late). */
static void schedule(struct wl_op *op, uint64_t delay_ms)
{
    int64_t left_us = op->deadline_us - fl_run_now(op->w->run);
    if (left_us <= 0) {
        give_up_timeout(op);
        return;
    }
    uint64_t left_ms = (uint64_t)((left_us + 999) / 1000);
    uv_timer_start(&op->timer, on_poll_timer, delay_ms < left_ms ? delay_ms : left_ms, 0);
}

int wl_follow_start(struct wl_op *op)
{
    const struct fl_follow *f = &op->d->m->follow;
    uint64_t timeout = f->timeout_ms ? f->timeout_ms : 30000;
    if (!op->timer_init) {
        uv_timer_init(op->w->run->loop, &op->timer);
        op->timer.data = op;
        op->timer_init = 1;
    }
    op->following = 1;
    op->deadline_us = fl_run_now(op->w->run) + (int64_t)timeout * 1000;
    schedule(op, f->every_ms ? f->every_ms : 250);
    return 0;
}

void wl_follow_abort(struct wl_op *op, const char *why)
{
    if (op->req)
        fl_http_cancel(op->req);   /* records the poll's info "aborted" */
    uv_timer_stop(&op->timer);
    wl_follow_give_up(op, why);
}
