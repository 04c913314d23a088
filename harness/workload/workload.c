/* workload.c - open-loop HTTP workloads on the run's loop.
 *
 * Scheduling is by the clock, not by completions: operation k of a
 * workload is due at start + k/rate, so a slow server never lowers the
 * offered rate (no coordinated omission). When `concurrency` main requests
 * are already in flight, a due operation is not queued (the queue would
 * grow without bound and shift every later operation): it gets an invoke
 * and an immediate fail with error "concurrency cap reached". It certainly
 * never reached the server, and the overload stays visible in the
 * history instead of hiding in a counter.
 *
 * Completion records (history.h): ok when the status is in ok_status
 * (value "202", key = first capture); fail "http:500" for other statuses,
 * and for transport errors that certainly happened before anything was
 * sent (connection refused, bad URL); info for timeouts and for transport
 * errors after which the server may have acted (connection reset mid-way):
 * "fail" is reserved for operations that certainly did not happen.
 *
 * Pacing (when operation k goes out, and what a loop that falls behind
 * does) is in workload_pace.c.
 *
 * Redis workloads (workload_redis.c) share the scheduling; their writes in
 * flight and final reads count as pending (w->rpending). A drain starts
 * the final reads; its timeout ends the follows still polling, but Redis
 * operations are never cut by it: each is bounded by its own timeout (the
 * final read by its 5s retry budget), and the drain callback comes once
 * they are done.
 */
#include "workload/workload_impl.h"
#include "base/jsonptr.h"
#include "base/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URL (64 * 1024)
#define MAX_BODY (1024 * 1024)
#define MAX_HEADER (16 * 1024)
#define MAX_VALUE (64 * 1024)     /* captured / recorded values */

/* ---- chains ---- */

void wl_record(struct wl_op *op, enum fl_optype type, const char *f, const char *key,
               const char *value, const char *error)
{
    fl_run_record(op->w->run, op->process, type, op->d->m->name, f, key, value, error);
}

void wl_handle_closed(struct fl_workers *w)
{
    w->closes_pending--;
    if (!w->close_armed || w->closes_pending)
        return;
    void (*cb)(void *) = w->close_cb;
    void *ud = w->close_ud;
    for (size_t i = 0; i < w->nwl; i++)
        wl_redis_free(&w->wl[i]);
    for (size_t i = 0; i < w->npr; i++)
        wl_probe_free(&w->pr[i]);
    free(w->wl);
    free(w->pr);
    free(w);
    if (cb)
        cb(ud);
}

static void op_free(struct wl_op *op)
{
    for (size_t i = 0; i < op->nvars; i++) {
        free(op->vars[i].name);
        free(op->vars[i].value);
    }
    free(op->vars);
    free(op->last);
    free(op);
}

static void on_op_timer_closed(uv_handle_t *h)
{
    struct wl_op *op = h->data;
    struct fl_workers *w = op->w;
    op_free(op);
    wl_handle_closed(w);
}

void wl_check_drained(struct fl_workers *w)
{
    if (!w->drain_cb || w->nops || w->rpending)
        return;
    void (*cb)(void *) = w->drain_cb;
    w->drain_cb = NULL;
    uv_timer_stop(&w->drain_timer);
    cb(w->drain_ud);
}

void wl_op_end(struct wl_op *op)
{
    struct fl_workers *w = op->w;
    if (op->prev)
        op->prev->next = op->next;
    else
        w->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    w->nops--;
    if (op->timer_init) {
        w->closes_pending++;
        uv_close((uv_handle_t *)&op->timer, on_op_timer_closed);
    } else {
        op_free(op);
    }
    wl_check_drained(w);
}

/* ---- templates and requests ---- */

static int op_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                      struct fl_error *err)
{
    struct wl_op *op = ud;
    for (size_t i = 0; i < op->nvars; i++) {
        const char *n = op->vars[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return fl_buf_adds(out, op->vars[i].value) ? FL_ENOMEM : 0;
    }
    return fl_run_resolve(op->w->run, name, len, out, err);
}

int wl_expand(struct wl_op *op, const char *tpl, struct fl_buf *out, struct fl_error *err)
{
    return fl_template_expand(tpl, op_resolve, op, out, err);
}

int wl_send(struct wl_op *op, const struct fl_request *rq, fl_http_cb cb, struct fl_error *err)
{
    struct fl_buf url, body, *hdrs = NULL;
    const char **lines = NULL;
    fl_buf_init(&url, MAX_URL);
    fl_buf_init(&body, MAX_BODY);
    int rc = wl_expand(op, rq->url, &url, err);
    if (!rc && rq->body)
        rc = wl_expand(op, rq->body, &body, err);
    if (!rc && rq->nheaders) {
        hdrs = calloc(rq->nheaders, sizeof *hdrs);
        lines = calloc(rq->nheaders, sizeof *lines);
        if (!hdrs || !lines)
            rc = fl_error_set(err, FL_ENOMEM, "out of memory for request headers");
        for (size_t i = 0; !rc && i < rq->nheaders; i++) {
            fl_buf_init(&hdrs[i], MAX_HEADER);
            if (fl_buf_addf(&hdrs[i], "%s: ", rq->headers[i].key))
                rc = fl_error_set(err, FL_ENOMEM, "header %s too long", rq->headers[i].key);
            else
                rc = wl_expand(op, rq->headers[i].value, &hdrs[i], err);
            lines[i] = fl_buf_str(&hdrs[i]);
        }
    }
    if (!rc) {
        struct fl_http_request hr = {
            .method = rq->method,
            .url = fl_buf_str(&url),
            .body = rq->body ? fl_buf_str(&body) : NULL,
            .body_len = body.len,
            .headers = lines,
            .nheaders = rq->nheaders,
            .timeout_ms = rq->timeout_ms,
        };
        rc = fl_http_submit(op->w->http, &hr, cb, op, &op->req, err);
    }
    for (size_t i = 0; hdrs && i < rq->nheaders; i++)
        fl_buf_free(&hdrs[i]);
    free(hdrs);
    free(lines);
    fl_buf_free(&url);
    fl_buf_free(&body);
    return rc;
}

/* ---- the main request ---- */

static int status_ok(const int *list, size_t n, int status)
{
    if (n == 0)
        return status >= 200 && status <= 299;
    for (size_t i = 0; i < n; i++)
        if (list[i] == status)
            return 1;
    return 0;
}

/* Store the captures of a successful response as op->vars. Returns 0, or
 * a code with note describing the first capture that failed (the
 * response still counts as ok: the server did answer). */
static int capture(struct wl_op *op, const struct fl_http_result *res, char *note,
                   size_t notelen)
{
    const struct fl_workload *m = op->d->m;
    if (!m->ncapture)
        return 0;
    op->vars = calloc(m->ncapture, sizeof *op->vars);
    if (!op->vars)
        return FL_ENOMEM;
    json_error_t jerr;
    json_t *doc = json_loadb(res->body, res->body_len, JSON_DECODE_ANY, &jerr);
    int rc = 0;
    for (size_t i = 0; i < m->ncapture; i++) {
        const struct fl_capture *c = &m->capture[i];
        struct fl_error err = {0};
        struct fl_buf v;
        fl_buf_init(&v, MAX_VALUE);
        json_t *found = NULL;
        int r;
        if (!doc)
            r = fl_error_set(&err, FL_EINVAL, "response is not JSON%s (line %d: %s)",
                             res->truncated ? " (body over the size limit)" : "",
                             jerr.line, jerr.text);
        else if ((r = fl_jsonptr_get(doc, c->pointer, &found, &err)) == 0 &&
                 fl_jsonptr_render(found, &v))
            r = fl_error_set(&err, FL_ENOMEM, "value too long");
        if (r) {
            if (!rc)
                snprintf(note, notelen, "capture %s: %s", c->name, err.msg);
            rc = rc ? rc : r;
            fl_buf_free(&v);
            continue;
        }
        struct wl_var *var = &op->vars[op->nvars];
        var->name = fl_strdup(c->name);
        var->value = fl_strdup(fl_buf_str(&v));
        fl_buf_free(&v);
        if (!var->name || !var->value) {
            free(var->name);
            free(var->value);
            rc = rc ? rc : FL_ENOMEM;
            continue;
        }
        op->nvars++;
        if (i == 0)
            op->key = var->value;
    }
    json_decref(doc);
    return rc;
}

static void main_ok(struct wl_op *op, const struct fl_http_result *res)
{
    struct fl_workers *w = op->w;
    const struct fl_workload *m = op->d->m;
    char status[16], note[600] = "";
    snprintf(status, sizeof status, "%d", res->status);
    if (capture(op, res, note, sizeof note) == FL_ENOMEM && !note[0])
        snprintf(note, sizeof note, "capture: out of memory");
    w->ok++;
    wl_record(op, FL_OK, FL_F_REQUEST, op->key, status, note[0] ? note : NULL);
    if (!m->has_follow || !op->key) {
        wl_op_end(op);
        return;
    }
    if (w->drain_expired || w->closing) {
        wl_follow_give_up(op, "not followed: the drain timed out");
        return;
    }
    if (wl_follow_start(op))
        wl_follow_give_up(op, "not followed: out of memory");
}

static void on_main_done(void *ud, const struct fl_http_result *res)
{
    struct wl_op *op = ud;
    struct fl_workers *w = op->w;
    op->req = NULL;
    op->d->inflight--;
    if (res->outcome == FL_HTTP_DONE) {
        if (status_ok(op->d->m->ok_status, op->d->m->nok_status, res->status)) {
            main_ok(op, res);
            return;
        }
        char v[32];
        snprintf(v, sizeof v, FL_VALUE_HTTP_PREFIX "%d", res->status);
        w->fail++;
        wl_record(op, FL_FAIL, FL_F_REQUEST, NULL, v, NULL);
    } else if (res->outcome == FL_HTTP_ERROR && !res->sent_maybe) {
        w->fail++;
        wl_record(op, FL_FAIL, FL_F_REQUEST, NULL, NULL, res->error);
    } else {   /* timeout, aborted, broken after sending: unknown */
        w->info++;
        wl_record(op, FL_INFO, FL_F_REQUEST, NULL, NULL, res->error);
    }
    wl_op_end(op);
}

void wl_issue(struct wl_driver *d)
{
    if (d->redis) {
        wl_redis_issue(d);
        return;
    }
    struct fl_workers *w = d->w;
    struct fl_run *run = w->run;
    int32_t proc = w->next_process++;
    const char *name = d->m->name;
    w->issued++;
    fl_run_record(run, proc, FL_INVOKE, name, FL_F_REQUEST, NULL, NULL, NULL);
    int cap = d->m->concurrency > 0 ? d->m->concurrency : 64;
    if (d->inflight >= (size_t)cap) {
        w->fail++;
        w->capped++;
        fl_run_record(run, proc, FL_FAIL, name, FL_F_REQUEST, NULL, NULL,
                      "concurrency cap reached");
        return;
    }
    struct wl_op *op = calloc(1, sizeof *op);
    if (!op) {
        w->fail++;
        fl_run_record(run, proc, FL_FAIL, name, FL_F_REQUEST, NULL, NULL, "out of memory");
        return;
    }
    op->w = w;
    op->d = d;
    op->process = proc;
    op->next = w->ops;
    if (w->ops)
        w->ops->prev = op;
    w->ops = op;
    w->nops++;
    struct fl_error err = {0};
    if (wl_send(op, &d->m->request, on_main_done, &err)) {
        w->fail++;
        wl_record(op, FL_FAIL, FL_F_REQUEST, NULL, NULL, err.msg);
        wl_op_end(op);
        return;
    }
    d->inflight++;
}

/* ---- public API ---- */

int fl_workers_create(struct fl_workers **out, struct fl_run *run, struct fl_error *err)
{
    const struct fl_scenario *sc = run->sc;
    for (size_t i = 0; i < sc->nworkloads; i++)
        if (!(sc->workloads[i].rate > 0))
            return fl_error_set(err, FL_EINVAL, "workload %s: rate must be above 0",
                                sc->workloads[i].name);
    struct fl_workers *w = calloc(1, sizeof *w);
    if (!w)
        return fl_error_set(err, FL_ENOMEM, "out of memory for the workers");
    w->run = run;
    w->wl = calloc(sc->nworkloads ? sc->nworkloads : 1, sizeof *w->wl);
    w->pr = calloc(sc->nprobes ? sc->nprobes : 1, sizeof *w->pr);
    int rc = !w->wl || !w->pr ? fl_error_set(err, FL_ENOMEM, "out of memory for the workers") : 0;
    for (size_t i = 0; !rc && i < sc->nworkloads; i++)
        if (sc->workloads[i].kind == FL_WORKLOAD_REDIS && !(w->wl[i].redis = wl_redis_new()))
            rc = fl_error_set(err, FL_ENOMEM, "out of memory for the workers");
    if (!rc)
        rc = fl_http_new(&w->http, run->loop, err);
    if (rc) {
        for (size_t i = 0; w->wl && i < sc->nworkloads; i++)
            free(w->wl[i].redis);
        free(w->wl);
        free(w->pr);
        free(w);
        return rc;
    }
    w->nwl = sc->nworkloads;
    w->npr = sc->nprobes;
    for (size_t i = 0; i < w->nwl; i++) {
        struct wl_driver *d = &w->wl[i];
        d->w = w;
        d->m = &sc->workloads[i];
        wl_pace_init(d);
        if (d->redis)
            wl_redis_init(d, d->redis);
    }
    for (size_t i = 0; i < w->npr; i++)
        wl_probe_init(w, &w->pr[i], i, &sc->probes[i]);
    uv_timer_init(run->loop, &w->drain_timer);
    w->drain_timer.data = w;
    *out = w;
    return 0;
}

int fl_workers_start_probes(struct fl_workers *w)
{
    if (w->closing)
        return FL_EINVAL;
    for (size_t i = 0; i < w->npr; i++)
        wl_probe_start(&w->pr[i]);
    /* Connect the Redis workloads early: writes issued before a primary
     * is known fail. */
    for (size_t i = 0; i < w->nwl; i++)
        wl_redis_connect(&w->wl[i]);
    return 0;
}

int fl_workers_start_workloads(struct fl_workers *w)
{
    if (w->closing)
        return FL_EINVAL;
    int64_t base = fl_run_now(w->run);
    for (size_t i = 0; i < w->nwl; i++) {
        struct wl_driver *d = &w->wl[i];
        uint64_t stop_ms = d->m->stop_ms ? d->m->stop_ms : w->run->sc->duration_ms;
        d->start_us = base + (int64_t)d->m->start_ms * 1000;
        d->stop_us = stop_ms ? base + (int64_t)stop_ms * 1000 : INT64_MAX;
        d->k = 0;
        d->skipped = 0;
        d->running = 1;
        wl_redis_connect(d);
        wl_pace_start(d);
    }
    return 0;
}

void fl_workers_stop_workloads(struct fl_workers *w)
{
    for (size_t i = 0; i < w->nwl; i++)
        wl_pace_stop(&w->wl[i]);
}

size_t fl_workers_pending(const struct fl_workers *w)
{
    return w->nops + w->rpending;
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct fl_workers *w = t->data;
    char why[96], d[32];
    fl_format_duration(w->drain_ms, d, sizeof d);
    snprintf(why, sizeof why, "drain timed out after %s", d);
    w->drain_expired = 1;
    /* Ending a follow unlinks it: restart from the head each time. */
    for (int again = 1; again;) {
        again = 0;
        for (struct wl_op *op = w->ops; op; op = op->next) {
            if (op->following) {
                wl_follow_abort(op, why);
                again = 1;
                break;
            }
        }
    }
    if (w->rpending)
        return;   /* Redis operations end by their own bounds */
    void (*cb)(void *) = w->drain_cb;
    w->drain_cb = NULL;
    if (cb)
        cb(w->drain_ud);
}

int fl_workers_drain(struct fl_workers *w, uint64_t timeout_ms, void (*cb)(void *ud), void *ud)
{
    if (w->closing || w->drain_cb)
        return FL_EINVAL;
    for (size_t i = 0; i < w->nwl; i++)
        wl_redis_read(&w->wl[i]);
    if (w->nops == 0 && w->rpending == 0) {
        cb(ud);
        return 0;
    }
    w->drain_cb = cb;
    w->drain_ud = ud;
    w->drain_ms = timeout_ms;
    uv_timer_start(&w->drain_timer, on_drain_timeout, timeout_ms, 0);
    return 0;
}

void fl_workers_stop_probes(struct fl_workers *w)
{
    for (size_t i = 0; i < w->npr; i++)
        wl_probe_stop(&w->pr[i]);
}

static void on_timer_closed(uv_handle_t *h)
{
    wl_handle_closed(h->data);
}

static void on_http_closed(void *ud)
{
    wl_handle_closed(ud);
}

void fl_workers_close(struct fl_workers *w, void (*cb)(void *ud), void *ud)
{
    if (w->closing)
        return;
    w->closing = 1;
    fl_workers_stop_workloads(w);
    fl_workers_stop_probes(w);
    /* Every chain gets its completion: cancelling a main request records
     * info "aborted" and ends it; a follow records its poll (if any) and
     * its give-up. A pending drain callback runs once the last one ends. */
    while (w->ops) {
        struct wl_op *op = w->ops;
        if (op->following)
            wl_follow_abort(op, "aborted");
        else if (op->req)
            fl_http_cancel(op->req);
        else
            wl_op_end(op);
    }
    for (size_t i = 0; i < w->npr; i++)
        wl_probe_abort(&w->pr[i]);
    /* Redis workloads do their final read first if no drain did. */
    for (size_t i = 0; i < w->nwl; i++)
        wl_redis_close(&w->wl[i]);
    for (size_t i = 0; i < w->nwl; i++) {
        w->wl[i].timer.data = w;
        w->wl[i].idle.data = w;
        w->closes_pending += 2;
        uv_close((uv_handle_t *)&w->wl[i].timer, on_timer_closed);
        uv_close((uv_handle_t *)&w->wl[i].idle, on_timer_closed);
    }
    for (size_t i = 0; i < w->npr; i++) {
        w->pr[i].timer.data = w;
        w->closes_pending++;
        uv_close((uv_handle_t *)&w->pr[i].timer, on_timer_closed);
    }
    if (w->drain_cb) {   /* nothing is pending any more */
        void (*dcb)(void *) = w->drain_cb;
        w->drain_cb = NULL;
        dcb(w->drain_ud);
    }
    uv_timer_stop(&w->drain_timer);
    w->closes_pending++;
    uv_close((uv_handle_t *)&w->drain_timer, on_timer_closed);
    w->closes_pending++;
    fl_http_close(w->http, on_http_closed, w);
    w->close_cb = cb;
    w->close_ud = ud;
    w->close_armed = 1;
}

void fl_workers_counts(const struct fl_workers *w, size_t *issued, size_t *ok,
                       size_t *fail, size_t *info)
{
    if (issued)
        *issued = w->issued;
    if (ok)
        *ok = w->ok;
    if (fail)
        *fail = w->fail;
    if (info)
        *info = w->info;
}
