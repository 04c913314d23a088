/* workload_redis.c - open-loop Redis writes and the final read (the
 * Jepsen set test: history.h "write" and "read" rows, checked by no_loss).
 *
 * Operation k writes a unique element, "w<k>" ("<workload>-w<k>" when the
 * scenario has several Redis workloads), by sending `command` with
 * ${value} = the element. Scheduling, the concurrency cap and process
 * numbers are the HTTP workload's (workload.c). Records, key = `key`,
 * value = the element on the invoke and on the completion:
 *   ok    any reply that is not an error (acknowledged)
 *   fail  an error reply (-READONLY, -ERR ...: certainly not applied), and
 *         writes issued while no connection is up ("no primary known")
 *   info  timeout, connection lost, aborted: unknown
 * With `wait`, WAIT n timeout follows each acknowledged write and its
 * answer goes into the completion's error field: "wait=2" on an ok when
 * at least n replicas acknowledged; fewer makes the write info ("wait=0,
 * wanted 1"): the store applied it but not as durably as the client
 * demanded, so losing it later is not a lost acknowledged write.
 *
 * The connection goes to `addr` or to the primary the sentinels name; a
 * timeout, a lost connection or -READONLY drops it and the primary is
 * rediscovered (a failed attempt is retried every 100ms).
 *
 * The final read (`read`, once, from fl_workers_drain or else from
 * fl_workers_close) is one invoke and one completion: attempts are
 * retried every 100ms for up to 5s, and the completion is ok with a JSON
 * array of the strings read, or the last attempt's fail/info.
 */
#include "workload/workload_impl.h"
#include "base/template.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARG (64 * 1024)
#define RETRY_MS 100
#define READ_BUDGET_MS 5000

enum { RD_NONE, RD_RUNNING, RD_DONE };

struct wl_redis {
    struct wl_driver *d;
    struct wl_rconn conn;
    int read_state;
    int read_inflight;
    int32_t read_process;
    int64_t read_deadline_us;
    enum fl_optype read_last;     /* completion if the budget runs out */
    char read_why[512];
    uv_timer_t read_timer;
    int closing;                  /* tear down once the read is done */
    int torn_down;
};

struct rw_op {
    struct wl_redis *wr;
    int32_t process;
    int waiting;                  /* the WAIT after the write is in flight */
    char elem[128];
};

struct value_ctx {
    struct fl_run *run;
    const char *value;
};

static int value_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                         struct fl_error *err)
{
    struct value_ctx *v = ud;
    if (v->value && len == 5 && memcmp(name, "value", 5) == 0)
        return fl_buf_adds(out, v->value) ? FL_ENOMEM : 0;
    return fl_run_resolve(v->run, name, len, out, err);
}

/* Expand argv templates and send them on r. 0 (cb will be called) or an
 * FL_E* code with err set and nothing sent. */
static int send_argv(struct wl_redis *wr, struct fl_redis *r, const char *const *tpl, size_t n,
                     const char *value, fl_redis_reply_cb cb, void *ud, struct fl_error *err)
{
    struct value_ctx vc = {wr->d->w->run, value};
    struct fl_buf *args = calloc(n ? n : 1, sizeof *args);
    const char **argv = calloc(n ? n : 1, sizeof *argv);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    int rc = !args || !argv || !lens ? fl_error_set(err, FL_ENOMEM, "out of memory") : 0;
    if (!rc && n == 0)
        rc = fl_error_set(err, FL_EINVAL, "empty command");
    for (size_t i = 0; !rc && i < n; i++) {
        fl_buf_init(&args[i], MAX_ARG);
        rc = fl_template_expand(tpl[i], value_resolve, &vc, &args[i], err);
        argv[i] = fl_buf_str(&args[i]);
        lens[i] = args[i].len;
    }
    uint64_t timeout = wr->d->m->redis.timeout_ms ? wr->d->m->redis.timeout_ms : 1000;
    if (!rc)
        rc = fl_redis_command_argv(r, timeout, cb, ud, err, (int)n, argv, lens);
    for (size_t i = 0; args && i < n; i++)
        fl_buf_free(&args[i]);
    free(args);
    free(argv);
    free(lens);
    return rc;
}

static void ensure_connecting(struct wl_redis *wr)
{
    if (wr->conn.state == WL_RC_IDLE && !uv_is_active((uv_handle_t *)&wr->conn.retry))
        wl_rconn_retry_later(&wr->conn, 0);
}

/* Drop a connection that timed out, broke or turned read-only. */
static void rediscover(struct wl_redis *wr, const char *why)
{
    wl_rconn_drop(&wr->conn, why);
    ensure_connecting(wr);
}

static void on_conn_event(struct wl_rconn *c, int status, const char *why)
{
    (void)why;
    struct wl_redis *wr = c->ud;
    if (status != 0 && status != FL_EABORT && !wr->torn_down)
        wl_rconn_retry_later(c, RETRY_MS);
}

/* ---- writes ---- */

static void write_done(struct rw_op *op, enum fl_optype type, const char *error)
{
    struct wl_redis *wr = op->wr;
    struct wl_driver *d = wr->d;
    struct fl_workers *w = d->w;
    d->inflight--;
    w->rpending--;
    if (type == FL_OK)
        w->ok++;
    else if (type == FL_FAIL)
        w->fail++;
    else
        w->info++;
    fl_run_record(w->run, op->process, type, d->m->name, FL_F_WRITE, d->m->redis.key, op->elem,
                  error);
    free(op);
}

static int needs_rediscovery(int status)
{
    return status == FL_ETIMEDOUT || status == FL_EIO;
}

static void on_wait_reply(struct wl_redis *wr, struct rw_op *op, const redisReply *reply,
                          int status, const char *errmsg)
{
    int want = wr->d->m->redis.wait_replicas;
    char note[600];
    if (reply && reply->type == REDIS_REPLY_INTEGER) {
        if (reply->integer >= want) {
            snprintf(note, sizeof note, "wait=%lld", reply->integer);
            write_done(op, FL_OK, note);
        } else {
            snprintf(note, sizeof note, "wait=%lld, wanted %d", reply->integer, want);
            write_done(op, FL_INFO, note);
        }
        return;
    }
    if (reply)
        snprintf(note, sizeof note, "wait: %s", reply->type == REDIS_REPLY_ERROR ? reply->str
                                                                             : "unexpected reply");
    else
        snprintf(note, sizeof note, "wait: %s", errmsg ? errmsg : fl_strerror(status));
    write_done(op, FL_INFO, note);
    if (!reply && needs_rediscovery(status))
        rediscover(wr, note);
}

static void on_write_reply(struct fl_redis *r, const redisReply *reply, int status,
                           const char *errmsg, void *ud)
{
    struct rw_op *op = ud;
    struct wl_redis *wr = op->wr;
    struct fl_workers *w = wr->d->w;
    const struct fl_redis_work *m = &wr->d->m->redis;
    if (op->waiting) {
        on_wait_reply(wr, op, reply, status, errmsg);
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        int readonly = strncmp(reply->str, "READONLY", 8) == 0;
        write_done(op, FL_FAIL, reply->str);
        if (readonly)
            rediscover(wr, "the primary turned read-only");
    } else if (reply && m->wait_replicas > 0) {
        struct fl_error err = {0};
        char n[32], t[32];
        snprintf(n, sizeof n, "%d", m->wait_replicas);
        snprintf(t, sizeof t, "%llu", (unsigned long long)(m->wait_timeout_ms ? m->wait_timeout_ms
                                                                                : 100));
        const char *argv[3] = {"WAIT", n, t};
        uint64_t timeout = (m->timeout_ms ? m->timeout_ms : 1000) +
                           (m->wait_timeout_ms ? m->wait_timeout_ms : 100);
        op->waiting = 1;
        if (fl_redis_command_argv(r, timeout, on_write_reply, op, &err, 3, argv, NULL)) {
            char note[600];
            snprintf(note, sizeof note, "wait: not sent: %s", err.msg);
            write_done(op, FL_INFO, note);
        }
    } else if (reply) {
        write_done(op, FL_OK, NULL);
    } else {
        write_done(op, FL_INFO, errmsg ? errmsg : fl_strerror(status));
        if (needs_rediscovery(status))
            rediscover(wr, errmsg);
    }
    wl_check_drained(w);
}

void wl_redis_issue(struct wl_driver *d)
{
    struct wl_redis *wr = d->redis;
    struct fl_workers *w = d->w;
    struct fl_run *run = w->run;
    const struct fl_redis_work *m = &d->m->redis;
    int32_t proc = w->next_process++;
    size_t nredis = 0;
    for (size_t i = 0; i < w->nwl; i++)
        nredis += w->wl[i].m->kind == FL_WORKLOAD_REDIS;
    char elem[128];
    if (nredis > 1)
        snprintf(elem, sizeof elem, "%s-w%llu", d->m->name, (unsigned long long)(d->k - 1));
    else
        snprintf(elem, sizeof elem, "w%llu", (unsigned long long)(d->k - 1));
    w->issued++;
    fl_run_record(run, proc, FL_INVOKE, d->m->name, FL_F_WRITE, m->key, elem, NULL);
    int cap = d->m->concurrency > 0 ? d->m->concurrency : 64;
    const char *why = NULL;
    char buf[600];
    struct fl_redis *r = wl_rconn_ready(&wr->conn);
    struct rw_op *op = NULL;
    if (d->inflight >= (size_t)cap) {
        w->capped++;
        why = "concurrency cap reached";
    } else if (!r) {
        snprintf(buf, sizeof buf, "no primary known%s%s", wr->conn.why[0] ? ": " : "",
                 wr->conn.why);
        why = buf;
        ensure_connecting(wr);
    } else if (!(op = calloc(1, sizeof *op))) {
        why = "out of memory";
    }
    if (!why) {
        op->wr = wr;
        op->process = proc;
        memcpy(op->elem, elem, sizeof elem);
        struct fl_error err = {0};
        d->inflight++;
        w->rpending++;
        if (send_argv(wr, r, m->command, m->ncommand, elem, on_write_reply, op, &err) == 0)
            return;
        d->inflight--;
        w->rpending--;
        free(op);
        snprintf(buf, sizeof buf, "%s", err.msg);
        why = buf;
    }
    w->fail++;
    fl_run_record(run, proc, FL_FAIL, d->m->name, FL_F_WRITE, m->key, elem, why);
}

/* ---- the final read ---- */

static void teardown(struct wl_redis *wr);

/* The reply as a JSON array of strings (nil elements as null). */
static char *read_json(const redisReply *rep, char *why, size_t whylen)
{
    json_t *arr = json_array();
    int bad = !arr;
    if (!bad && rep->type == REDIS_REPLY_ARRAY) {
        char **v = NULL;
        size_t n = 0;
        struct fl_error err = {0};
        if (fl_redis_reply_strv(rep, &v, &n, &err)) {
            snprintf(why, whylen, "read: %.400s", err.msg);
            json_decref(arr);
            return NULL;
        }
        for (size_t i = 0; i < n && !bad; i++)
            bad = json_array_append_new(arr, v[i] ? json_string(v[i]) : json_null()) != 0;
        fl_redis_strv_free(v, n);
    } else if (!bad && rep->type == REDIS_REPLY_INTEGER) {
        char s[32];
        snprintf(s, sizeof s, "%lld", rep->integer);
        bad = json_array_append_new(arr, json_string(s)) != 0;
    } else if (!bad && rep->type != REDIS_REPLY_NIL) {   /* a string or status */
        bad = json_array_append_new(arr, json_stringn(rep->str, (size_t)rep->len)) != 0;
    }
    char *s = bad ? NULL : json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!s)
        snprintf(why, whylen, "read: out of memory (or not UTF-8)");
    return s;
}

static void read_done(struct wl_redis *wr, enum fl_optype type, const char *value,
                      const char *error)
{
    struct wl_driver *d = wr->d;
    struct fl_workers *w = d->w;
    wr->read_state = RD_DONE;
    uv_timer_stop(&wr->read_timer);
    w->rpending--;
    fl_run_record(w->run, wr->read_process, type, d->m->name, FL_F_READ, d->m->redis.key, value,
                  error);
    wl_check_drained(w);
    if (wr->closing)
        teardown(wr);
}

static void try_read(struct wl_redis *wr);

static void on_read_timer(uv_timer_t *t)
{
    try_read(t->data);
}

/* Next attempt in 100ms, or the last attempt's outcome once out of time. */
static void read_later(struct wl_redis *wr)
{
    if (fl_run_now(wr->d->w->run) >= wr->read_deadline_us) {
        read_done(wr, wr->read_last, NULL, wr->read_why);
        return;
    }
    uv_timer_start(&wr->read_timer, on_read_timer, RETRY_MS, 0);
}

static void on_read_reply(struct fl_redis *r, const redisReply *reply, int status,
                          const char *errmsg, void *ud)
{
    (void)r;
    struct wl_redis *wr = ud;
    wr->read_inflight = 0;
    if (reply && reply->type != REDIS_REPLY_ERROR) {
        char *json = read_json(reply, wr->read_why, sizeof wr->read_why);
        if (json) {
            read_done(wr, FL_OK, json, NULL);
            free(json);
        } else {
            read_done(wr, FL_FAIL, NULL, wr->read_why);
        }
        return;
    }
    if (reply) {
        wr->read_last = FL_FAIL;
        snprintf(wr->read_why, sizeof wr->read_why, "%s", reply->str);
        if (strncmp(reply->str, "READONLY", 8) == 0)
            rediscover(wr, "the primary turned read-only");
    } else {
        wr->read_last = FL_INFO;
        snprintf(wr->read_why, sizeof wr->read_why, "%s", errmsg ? errmsg : fl_strerror(status));
        if (status == FL_EABORT && wr->conn.state == WL_RC_CLOSED) {
            read_done(wr, FL_INFO, NULL, "aborted");
            return;
        }
        if (needs_rediscovery(status))
            rediscover(wr, wr->read_why);
    }
    read_later(wr);
}

static void try_read(struct wl_redis *wr)
{
    if (wr->read_state != RD_RUNNING || wr->read_inflight)
        return;
    const struct fl_redis_work *m = &wr->d->m->redis;
    struct fl_redis *r = wl_rconn_ready(&wr->conn);
    if (r) {
        struct fl_error err = {0};
        wr->read_inflight = 1;
        if (send_argv(wr, r, m->read, m->nread, NULL, on_read_reply, wr, &err) == 0)
            return;
        wr->read_inflight = 0;
        wr->read_last = FL_FAIL;
        snprintf(wr->read_why, sizeof wr->read_why, "%s", err.msg);
    } else {
        ensure_connecting(wr);
        if (wr->conn.why[0]) {
            wr->read_last = FL_FAIL;
            snprintf(wr->read_why, sizeof wr->read_why, "%s", wr->conn.why);
        }
    }
    read_later(wr);
}

void wl_redis_read(struct wl_driver *d)
{
    struct wl_redis *wr = d->redis;
    if (!wr || wr->read_state != RD_NONE || wr->torn_down || !d->m->redis.nread)
        return;
    struct fl_workers *w = d->w;
    wr->read_state = RD_RUNNING;
    wr->read_process = w->next_process++;
    wr->read_deadline_us = fl_run_now(w->run) + (int64_t)READ_BUDGET_MS * 1000;
    wr->read_last = FL_FAIL;
    snprintf(wr->read_why, sizeof wr->read_why, "no primary known");
    w->rpending++;
    fl_run_record(w->run, wr->read_process, FL_INVOKE, d->m->name, FL_F_READ, d->m->redis.key,
                  NULL, NULL);
    try_read(wr);
}

/* ---- lifetime ---- */

struct wl_redis *wl_redis_new(void)
{
    return calloc(1, sizeof(struct wl_redis));
}

void wl_redis_init(struct wl_driver *d, struct wl_redis *wr)
{
    wr->d = d;
    d->redis = wr;
    const struct fl_redis_work *m = &d->m->redis;
    wl_rconn_init(&wr->conn, d->w, &m->at, NULL, m->timeout_ms ? m->timeout_ms : 1000,
                  on_conn_event, wr);
    uv_timer_init(d->w->run->loop, &wr->read_timer);
    wr->read_timer.data = wr;
}

void wl_redis_connect(struct wl_driver *d)
{
    if (d->redis && !d->redis->closing)
        ensure_connecting(d->redis);
}

static void on_read_timer_closed(uv_handle_t *h)
{
    struct wl_redis *wr = h->data;
    wl_handle_closed(wr->d->w);
}

/* Close the connection (writes still pending complete as info "aborted")
 * and the timer, then give back the close count taken by wl_redis_close. */
static void teardown(struct wl_redis *wr)
{
    if (wr->torn_down)
        return;
    wr->torn_down = 1;
    struct fl_workers *w = wr->d->w;
    w->closes_pending++;
    uv_close((uv_handle_t *)&wr->read_timer, on_read_timer_closed);
    wl_rconn_close(&wr->conn);
    wl_handle_closed(w);
}

void wl_redis_close(struct wl_driver *d)
{
    struct wl_redis *wr = d->redis;
    if (!wr || wr->closing)
        return;
    wr->closing = 1;
    d->w->closes_pending++;
    wl_redis_read(d);
    if (wr->read_state != RD_RUNNING)
        teardown(wr);
}

void wl_redis_free(struct wl_driver *d)
{
    free(d->redis);
    d->redis = NULL;
}
