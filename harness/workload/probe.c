/* probe.c - HTTP and Redis probes: one sample every `every`, recorded in
 * the history.
 *
 * A sample is an invoke plus ok (HTTP: status in ok_status, value = the
 * value at `record` or the status; Redis: any reply that is not an error,
 * value = the INFO `field` or the reply as text), fail ("http:503", an
 * error reply, a transport error, a refused connection) or info (timeout).
 * A sample that is still running when the next one is due is not doubled:
 * the due sample is skipped and counted, so a hung endpoint shows up as one
 * long sample instead of a pile of them.
 *
 * A per-replica probe (`each: api`) samples every replica of the service
 * each tick, running or not (a dead replica's refused connection is
 * information), with the instance id as the history key. Each replica is
 * its own process: FL_PROC_PROBE + probe index + 1000 * replica, so
 * replica 0 (and a plain probe) is FL_PROC_PROBE + index and samples of
 * one process never overlap.
 *
 * Redis probes keep one connection per sampled address open and reuse it;
 * after an error the next sample reconnects.
 */
#include "workload/workload_impl.h"
#include "base/fill.h"
#include "base/jsonptr.h"
#include "base/prom.h"
#include "base/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_URL (64 * 1024)
#define MAX_VALUE (64 * 1024)
#define MAX_ARG (64 * 1024)
#define MAX_TARGETS 256
#define PROC_REPLICA_STRIDE 1000

static void record(struct probe_target *t, enum fl_optype type, const char *value,
                   const char *error)
{
    struct probe_driver *p = t->p;
    fl_run_record(p->w->run, t->process, type, p->m->name, FL_F_PROBE, t->id[0] ? t->id : NULL,
                  value, error);
}

/* A sample's completion: recorded, and the target free for the next one. */
static void complete(struct probe_target *t, enum fl_optype type, const char *value,
                     const char *error)
{
    t->busy = 0;
    record(t, type, value, error);
}

/* ---- HTTP ---- */

static int status_ok(const struct fl_probe *m, int status)
{
    if (m->nok_status == 0)
        return status >= 200 && status <= 299;
    for (size_t i = 0; i < m->nok_status; i++)
        if (m->ok_status[i] == status)
            return 1;
    return 0;
}

static void on_http_done(void *ud, const struct fl_http_result *res)
{
    struct probe_target *t = ud;
    const struct fl_probe *m = t->p->m;
    t->req = NULL;
    if (res->outcome == FL_HTTP_ABORTED || res->outcome == FL_HTTP_TIMEOUT) {
        complete(t, FL_INFO, NULL, res->error);
        return;
    }
    if (res->outcome == FL_HTTP_ERROR) {
        complete(t, FL_FAIL, NULL, res->error);
        return;
    }
    char s[32];
    if (!status_ok(m, res->status)) {
        snprintf(s, sizeof s, FL_VALUE_HTTP_PREFIX "%d", res->status);
        complete(t, FL_FAIL, s, NULL);
        return;
    }
    snprintf(s, sizeof s, "%d", res->status);
    if (m->metric) {
        struct fl_buf v;
        struct fl_error err = {0};
        fl_buf_init(&v, MAX_VALUE);
        if (fl_prom_lookup(res->body, res->body_len, m->metric, &v, &err) == 0)
            complete(t, FL_OK, fl_buf_str(&v), NULL);
        else
            complete(t, FL_OK, NULL, err.msg);
        fl_buf_free(&v);
        return;
    }
    if (!m->record) {
        complete(t, FL_OK, s, NULL);
        return;
    }
    struct fl_buf v;
    struct fl_error err = {0};
    fl_buf_init(&v, MAX_VALUE);
    if (fl_jsonptr_lookup(res->body, res->body_len, m->record, &v, &err) == 0)
        complete(t, FL_OK, fl_buf_str(&v), NULL);
    else   /* it answered, but not with the field: visible, not guessed */
        complete(t, FL_OK, NULL, err.msg);
    fl_buf_free(&v);
}

static void http_sample(struct probe_target *t)
{
    struct fl_workers *w = t->p->w;
    struct fl_buf url;
    struct fl_error err = {0};
    struct wl_each e = {w->run, t->id[0] ? t->id : NULL};
    fl_buf_init(&url, MAX_URL);
    int rc = fl_template_expand(t->p->m->url, wl_each_resolve, &e, &url, &err);
    if (!rc) {
        struct fl_http_request rq = {
            .url = fl_buf_str(&url),
            .timeout_ms = t->p->m->timeout_ms ? t->p->m->timeout_ms : 2000,
        };
        rc = fl_http_submit(w->http, &rq, on_http_done, t, &t->req, &err);
    }
    fl_buf_free(&url);
    if (rc)
        complete(t, FL_FAIL, NULL, err.msg);
}

/* ---- Redis ---- */

/* The recorded value of a reply: `field` of INFO-style text, or the reply
 * as text. Returns 0, or an error with the reason in note. */
static int redis_value(const struct fl_probe *m, const redisReply *rep, struct fl_buf *v,
                       char *note, size_t notelen)
{
    if (!m->field) {
        struct fl_error err = {0};
        if (fl_redis_reply_text(rep, v, &err)) {
            snprintf(note, notelen, "reply: %.200s", err.msg);
            return FL_ENOMEM;
        }
        return 0;
    }
    if (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS) {
        snprintf(note, notelen, "field %s: the reply is not INFO-style text", m->field);
        return FL_EINVAL;
    }
    char *out = malloc(MAX_VALUE);
    if (!out) {
        snprintf(note, notelen, "field %s: out of memory", m->field);
        return FL_ENOMEM;
    }
    int rc = fl_redis_info_field(rep->str, (size_t)rep->len, m->field, out, MAX_VALUE);
    if (rc == 0 && fl_buf_adds(v, out))
        rc = FL_ENOMEM;
    if (rc)
        snprintf(note, notelen, "field %s: %s", m->field,
                 rc == FL_ENOTFOUND ? "not in the reply" : "value too long");
    free(out);
    return rc;
}

static void on_redis_reply(struct fl_redis *r, const redisReply *reply, int status,
                           const char *errmsg, void *ud)
{
    (void)r;
    struct probe_target *t = ud;
    if (!reply) {
        if (status == FL_ETIMEDOUT) {
            complete(t, FL_INFO, NULL, errmsg);
            wl_rconn_drop(&t->conn, "sample timed out");
        } else {
            complete(t, status == FL_EABORT ? FL_INFO : FL_FAIL, NULL,
                     status == FL_EABORT ? "aborted" : errmsg);
        }
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        complete(t, FL_FAIL, NULL, reply->str);
        return;
    }
    struct fl_buf v;
    char note[300] = "";
    fl_buf_init(&v, MAX_VALUE);
    if (redis_value(t->p->m, reply, &v, note, sizeof note))
        complete(t, FL_OK, NULL, note);   /* it answered, without the field */
    else
        complete(t, FL_OK, fl_buf_str(&v), NULL);
    fl_buf_free(&v);
}

static void redis_send(struct probe_target *t, struct fl_redis *r)
{
    const struct fl_probe *m = t->p->m;
    struct wl_each e = {t->p->w->run, t->id[0] ? t->id : NULL};
    struct fl_error err = {0};
    struct fl_buf *args = calloc(m->ncommand ? m->ncommand : 1, sizeof *args);
    const char **argv = calloc(m->ncommand ? m->ncommand : 1, sizeof *argv);
    size_t *lens = calloc(m->ncommand ? m->ncommand : 1, sizeof *lens);
    int rc = !args || !argv || !lens ? fl_error_set(&err, FL_ENOMEM, "out of memory") : 0;
    for (size_t i = 0; !rc && i < m->ncommand; i++) {
        fl_buf_init(&args[i], MAX_ARG);
        rc = fl_template_expand(m->command[i], wl_each_resolve, &e, &args[i], &err);
        argv[i] = fl_buf_str(&args[i]);
        lens[i] = args[i].len;
    }
    if (!rc && m->ncommand == 0)
        rc = fl_error_set(&err, FL_EINVAL, "no command");
    if (!rc)
        rc = fl_redis_command_argv(r, m->timeout_ms ? m->timeout_ms : 2000, on_redis_reply, t,
                                   &err, (int)m->ncommand, argv, lens);
    for (size_t i = 0; args && i < m->ncommand; i++)
        fl_buf_free(&args[i]);
    free(args);
    free(argv);
    free(lens);
    if (rc)
        complete(t, FL_FAIL, NULL, err.msg);
}

static void on_conn_event(struct wl_rconn *c, int status, const char *why)
{
    struct probe_target *t = c->ud;
    if (!t->waiting)
        return;   /* a lost connection between samples: the next reconnects */
    t->waiting = 0;
    if (status == 0) {
        struct fl_redis *r = wl_rconn_ready(c);
        if (r)
            redis_send(t, r);
        else
            complete(t, FL_FAIL, NULL, "connection lost");
    } else if (status == FL_EABORT) {
        complete(t, FL_INFO, NULL, "aborted");
    } else {
        complete(t, status == FL_ETIMEDOUT ? FL_INFO : FL_FAIL, NULL, why);
    }
}

static void redis_sample(struct probe_target *t)
{
    struct fl_redis *r = wl_rconn_ready(&t->conn);
    if (r) {
        redis_send(t, r);
        return;
    }
    t->waiting = 1;
    int rc = wl_rconn_connect(&t->conn);
    if (rc == 0)
        return;   /* on_conn_event sends or records */
    t->waiting = 0;
    if (rc == 1 && (r = wl_rconn_ready(&t->conn)) != NULL)
        redis_send(t, r);
    else
        complete(t, FL_FAIL, NULL, t->conn.why[0] ? t->conn.why : fl_strerror(rc));
}

/* ---- disk: a filesystem's usage, "USED/TOTAL" bytes ---- */

static void disk_sample(struct probe_target *t)
{
    struct wl_each e = {t->p->w->run, t->id[0] ? t->id : NULL};
    struct fl_buf path;
    struct fl_error err = {0};
    fl_buf_init(&path, MAX_URL);
    int rc = fl_template_expand(t->p->m->disk, wl_each_resolve, &e, &path, &err);
    struct fl_fs_usage u;
    if (!rc && (rc = fl_fs_usage(fl_buf_str(&path), &u)) != 0)
        fl_error_set(&err, FL_ESYS, "%s: %s", fl_buf_str(&path), strerror(-rc));
    fl_buf_free(&path);
    if (rc) {
        complete(t, FL_FAIL, NULL, err.msg);
        return;
    }
    char v[64];
    snprintf(v, sizeof v, "%llu/%llu", (unsigned long long)u.used, (unsigned long long)u.total);
    complete(t, FL_OK, v, NULL);
}

/* ---- targets and ticks ---- */

static void target_init(struct probe_driver *p, struct probe_target *t, size_t replica,
                        const char *id)
{
    t->p = p;
    t->process = FL_PROC_PROBE + (int32_t)p->index + (int32_t)(replica * PROC_REPLICA_STRIDE);
    if (id)
        snprintf(t->id, sizeof t->id, "%s", id);
    if (p->m->kind == FL_PROBE_REDIS) {
        wl_rconn_init(&t->conn, p->w, &p->m->at, id, p->m->timeout_ms ? p->m->timeout_ms : 2000,
                      on_conn_event, t);
        t->conn_init = 1;
    }
}

/* Build the targets once: one, or one per replica of `each` (retried at
 * the next tick while the service has no instance yet). */
static int ensure_targets(struct probe_driver *p)
{
    if (p->t)
        return 0;
    if (!p->m->each) {
        p->t = calloc(1, sizeof *p->t);
        if (!p->t)
            return FL_ENOMEM;
        p->nt = 1;
        target_init(p, &p->t[0], 0, NULL);
        return 0;
    }
    char (*ids)[WL_ID_MAX] = calloc(MAX_TARGETS, sizeof *ids);
    if (!ids)
        return FL_ENOMEM;
    size_t n = wl_replica_ids(p->w->run, p->m->each, 0, ids, MAX_TARGETS);
    if (n)
        p->t = calloc(n, sizeof *p->t);
    for (size_t i = 0; p->t && i < n; i++)
        target_init(p, &p->t[i], i, ids[i]);
    if (p->t)
        p->nt = n;
    free(ids);
    return n == 0 ? FL_ENOTFOUND : p->t ? 0 : FL_ENOMEM;
}

static void sample(struct probe_target *t)
{
    if (t->busy) {
        t->p->skipped++;
        return;
    }
    t->busy = 1;
    record(t, FL_INVOKE, NULL, NULL);
    if (t->p->m->kind == FL_PROBE_REDIS)
        redis_sample(t);
    else if (t->p->m->kind == FL_PROBE_DISK)
        disk_sample(t);
    else
        http_sample(t);
}

static void on_sample_timer(uv_timer_t *timer)
{
    struct probe_driver *p = timer->data;
    struct fl_workers *w = p->w;
    if (!p->running || w->closing)
        return;
    if (ensure_targets(p))
        return;
    for (size_t i = 0; i < p->nt && p->running && !w->closing; i++)
        sample(&p->t[i]);
}

void wl_probe_init(struct fl_workers *w, struct probe_driver *p, size_t index,
                   const struct fl_probe *m)
{
    p->w = w;
    p->m = m;
    p->index = index;
    uv_timer_init(w->run->loop, &p->timer);
    p->timer.data = p;
}

void wl_probe_start(struct probe_driver *p)
{
    uint64_t every = p->m->every_ms ? p->m->every_ms : 500;
    p->running = 1;
    uv_timer_start(&p->timer, on_sample_timer, 0, every);
}

void wl_probe_stop(struct probe_driver *p)
{
    p->running = 0;
    uv_timer_stop(&p->timer);
}

void wl_probe_abort(struct probe_driver *p)
{
    for (size_t i = 0; i < p->nt; i++) {
        struct probe_target *t = &p->t[i];
        if (t->req)
            fl_http_cancel(t->req);
        if (t->conn_init)
            wl_rconn_close(&t->conn);   /* a sample in flight: info "aborted" */
    }
}

void wl_probe_free(struct probe_driver *p)
{
    free(p->t);
    p->t = NULL;
    p->nt = 0;
}
