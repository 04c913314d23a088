/* redis_discover.c - managed Redis connections for workloads and probes.
 *
 * A struct wl_rconn is "the connection to where a struct fl_redis_at
 * points": a fixed address (a template, ${each} allowed for per-replica
 * probes) or the primary that the sentinels of a service name. One attempt
 * (wl_rconn_connect) asks the running sentinels (proto/sentinel.h: in
 * turn, until one names the master), then connects there. Every attempt,
 * and every loss of an established connection, ends with exactly one
 * on_event call; the owner decides whether and when to try again
 * (wl_rconn_retry_later), so a workload can rediscover every ~100ms while a
 * probe reconnects at its next sample.
 *
 * Every fl_redis_close goes through rconn_free_redis, and a cancelled
 * sentinel query is counted the same way, in w->closes_pending: the
 * workers' memory is released only after the last handle is gone (libuv's
 * rule).
 */
#include "workload/workload_impl.h"
#include "core/target.h"
#include "base/template.h"
#include "proto/sentinel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLICAS 256
#define SENTINEL_TIMEOUT_MS 1000

static void on_redis_closed(void *ud)
{
    wl_handle_closed(ud);
}

/* Close r (NULL ignored); pending callbacks fire before this returns. */
static void rconn_free_redis(struct fl_workers *w, struct fl_redis *r)
{
    if (!r)
        return;
    w->closes_pending++;
    fl_redis_close(r, on_redis_closed, w);
}

/* ---- names: ${each}, replicas ---- */

int wl_each_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                    struct fl_error *err)
{
    const struct wl_each *e = ud;
    if (e->id && len >= 4 && memcmp(name, "each", 4) == 0) {
        char buf[96];
        if (len == 4)
            snprintf(buf, sizeof buf, "%s", e->id);
        else if (len == 9 && memcmp(name + 4, ".port", 5) == 0)
            snprintf(buf, sizeof buf, "%s.port", e->id);
        else
            return fl_run_resolve(e->run, name, len, out, err);
        return fl_run_resolve(e->run, buf, strlen(buf), out, err);
    }
    return fl_run_resolve(e->run, name, len, out, err);
}

size_t wl_replica_ids(struct fl_run *run, const char *service, int running_only,
                      char (*ids)[WL_ID_MAX], size_t max)
{
    size_t n = 0;
    if (run->target) {
        struct fl_instance *in[MAX_REPLICAS];
        size_t cnt = fl_target_instances(run->target, service, in, MAX_REPLICAS);
        for (size_t i = 0; i < cnt && i < MAX_REPLICAS && n < max; i++) {
            if (running_only && (!fl_inst_running(in[i]) || in[i]->frozen || in[i]->stopped_by_signal))
                continue;
            snprintf(ids[n++], WL_ID_MAX, "%s", in[i]->id);
        }
        return n;
    }
    /* No target (tests, or names given as vars): "svc.N" while it resolves. */
    for (size_t i = 0; i < max && i < MAX_REPLICAS; i++) {
        char id[WL_ID_MAX];
        snprintf(id, sizeof id, "%s.%zu", service, i);
        struct fl_buf b;
        fl_buf_init(&b, 256);
        int rc = fl_run_resolve(run, id, strlen(id), &b, NULL);
        fl_buf_free(&b);
        if (rc)
            break;
        memcpy(ids[n++], id, sizeof id);
    }
    return n;
}

/* "host:port" -> host, port. 0 or FL_EINVAL. */
static int split_addr(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= hostlen)
        return FL_EINVAL;
    long long p;
    if (fl_parse_int(colon + 1, 1, 65535, &p))
        return FL_EINVAL;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {   /* [::1]:6379 */
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

/* ---- one attempt ---- */

/* The attempt ended (or an established connection was lost). */
static void finish(struct wl_rconn *c, int status)
{
    if (c->state == WL_RC_CLOSED)
        status = FL_EABORT;
    else
        c->state = status == 0 ? WL_RC_UP : WL_RC_IDLE;
    if (c->in_start) {   /* reported by wl_rconn_connect's return value */
        c->start_status = status;
        return;
    }
    if (c->on_event)
        c->on_event(c, status, status ? c->why : NULL);
}

static void on_lost(struct fl_redis *r, const char *errmsg, void *ud)
{
    struct wl_rconn *c = ud;
    if (r != c->r)
        return;
    snprintf(c->why, sizeof c->why, "connection to %s lost: %s", c->addr,
             errmsg ? errmsg : "closed");
    c->r = NULL;
    rconn_free_redis(c->w, r);
    finish(c, FL_EIO);
}

static void on_connected(struct fl_redis *r, int status, const char *errmsg, void *ud)
{
    struct wl_rconn *c = ud;
    if (c->state == WL_RC_CLOSED || r != c->r) {
        if (c->state == WL_RC_CLOSED && r == c->r)
            finish(c, FL_EABORT);
        return;
    }
    if (status == 0) {
        fl_redis_on_disconnect(r, on_lost, c);
        finish(c, 0);
        return;
    }
    snprintf(c->why, sizeof c->why, "%s %s: %s", c->at && c->at->sentinels ?
             "primary" : "connect to", c->addr, errmsg ? errmsg : fl_strerror(status));
    c->r = NULL;
    rconn_free_redis(c->w, r);
    finish(c, status);
}

static void connect_to(struct wl_rconn *c, const char *host, int port)
{
    struct fl_error err = {0};
    snprintf(c->addr, sizeof c->addr, "%s:%d", host, port);
    c->state = WL_RC_CONNECTING;
    int rc = fl_redis_connect(c->w->run->loop, host, port, c->timeout_ms, on_connected, c,
                              &c->r, &err);
    if (rc) {
        c->r = NULL;
        snprintf(c->why, sizeof c->why, "connect to %s: %.300s", c->addr, err.msg);
        finish(c, rc);
    }
}

static void on_primary(int status, const char *host, int port, const char *why, void *ud)
{
    struct wl_rconn *c = ud;
    c->ask = NULL;   /* the query is finished */
    if (status) {
        snprintf(c->why, sizeof c->why, "no primary known: %s", why);
        finish(c, status);
        return;
    }
    connect_to(c, host, port);
}

/* Ask the running sentinels of the service: resolve their addresses, then
 * one query asks them in turn. */
static void ask_sentinels(struct wl_rconn *c)
{
    char ids[WL_MAX_SENTINELS][WL_ID_MAX];
    size_t n = wl_replica_ids(c->w->run, c->at->sentinels, 1, ids, WL_MAX_SENTINELS);
    if (n == 0) {
        snprintf(c->why, sizeof c->why, "no primary known: no running instance of "
                 "sentinel service '%s'", c->at->sentinels);
        finish(c, FL_ENOTFOUND);
        return;
    }
    struct fl_sentinel_addr addrs[WL_MAX_SENTINELS];
    char hosts[WL_MAX_SENTINELS][128];
    size_t m = 0;
    struct fl_error err = {0};
    for (size_t i = 0; i < n; i++) {
        struct fl_buf b;
        fl_buf_init(&b, 256);
        int rc = fl_run_resolve(c->w->run, ids[i], strlen(ids[i]), &b, &err);
        int port = 0;
        if (!rc && split_addr(fl_buf_str(&b), hosts[m], sizeof hosts[m], &port))
            rc = fl_error_set(&err, FL_EINVAL, "sentinel %s: '%s' is not host:port", ids[i],
                              fl_buf_str(&b));
        fl_buf_free(&b);
        if (!rc) {
            addrs[m] = (struct fl_sentinel_addr){.name = ids[i], .host = hosts[m], .port = port};
            m++;
        }
    }
    const char *master = c->at->master ? c->at->master : FL_SENTINEL_DEFAULT_MASTER;
    uint64_t t = c->timeout_ms < SENTINEL_TIMEOUT_MS ? c->timeout_ms : SENTINEL_TIMEOUT_MS;
    c->state = WL_RC_ASKING;
    if (m == 0 || fl_sentinel_ask(c->w->run->loop, addrs, m, master, t, on_primary, c, &c->ask,
                                  &err)) {
        c->ask = NULL;
        snprintf(c->why, sizeof c->why, "no primary known: %.300s", err.msg);
        finish(c, FL_ENOTFOUND);
    }
}

/* ---- public ---- */

int wl_rconn_init(struct wl_rconn *c, struct fl_workers *w, const struct fl_redis_at *at,
                  const char *each_id, uint64_t timeout_ms, wl_rconn_event cb, void *ud)
{
    memset(c, 0, sizeof *c);
    c->w = w;
    c->at = at;
    if (each_id)
        snprintf(c->each_id, sizeof c->each_id, "%s", each_id);
    c->timeout_ms = timeout_ms ? timeout_ms : 1000;
    c->on_event = cb;
    c->ud = ud;
    c->state = WL_RC_IDLE;
    uv_timer_init(w->run->loop, &c->retry);
    c->retry.data = c;
    return 0;
}

struct fl_redis *wl_rconn_ready(struct wl_rconn *c)
{
    return c->state == WL_RC_UP && c->r && fl_redis_is_connected(c->r) ? c->r : NULL;
}

/* Start an attempt from IDLE. */
static int start(struct wl_rconn *c)
{
    if (c->at->sentinels) {
        ask_sentinels(c);
        return 0;
    }
    const char *tpl = c->at->addr ? c->at->addr : (c->each_id[0] ? "${each}" : NULL);
    if (!tpl) {
        snprintf(c->why, sizeof c->why, "no Redis address to connect to");
        finish(c, FL_EINVAL);
        return 0;
    }
    struct wl_each e = {c->w->run, c->each_id[0] ? c->each_id : NULL};
    struct fl_buf b;
    struct fl_error err = {0};
    fl_buf_init(&b, 256);
    int rc = fl_template_expand(tpl, wl_each_resolve, &e, &b, &err);
    char host[128];
    int port = 0;
    if (!rc && split_addr(fl_buf_str(&b), host, sizeof host, &port))
        rc = fl_error_set(&err, FL_EINVAL, "'%s' is not host:port", fl_buf_str(&b));
    fl_buf_free(&b);
    if (rc) {
        snprintf(c->why, sizeof c->why, "address %.100s: %.300s", tpl, err.msg);
        finish(c, rc);
        return 0;
    }
    connect_to(c, host, port);
    return 0;
}

int wl_rconn_connect(struct wl_rconn *c)
{
    if (c->state == WL_RC_CLOSED)
        return FL_EABORT;
    if (c->state == WL_RC_UP)
        return 1;
    if (c->state != WL_RC_IDLE)
        return 0;
    uv_timer_stop(&c->retry);
    c->in_start = 1;
    c->start_status = 1;   /* still running */
    start(c);
    c->in_start = 0;
    if (c->start_status == 1)
        return 0;
    /* finished inside start(): 0 would mean "up" */
    return c->start_status == 0 ? 1 : c->start_status;
}

static void on_retry(uv_timer_t *t)
{
    struct wl_rconn *c = t->data;
    int rc = wl_rconn_connect(c);
    if (rc < 0 && c->state != WL_RC_CLOSED && c->on_event)
        c->on_event(c, rc, c->why);
    else if (rc == 1 && c->on_event)
        c->on_event(c, 0, NULL);
}

void wl_rconn_retry_later(struct wl_rconn *c, uint64_t ms)
{
    if (c->state == WL_RC_CLOSED || c->state != WL_RC_IDLE)
        return;
    uv_timer_start(&c->retry, on_retry, ms, 0);
}

void wl_rconn_drop(struct wl_rconn *c, const char *why)
{
    if (c->state != WL_RC_UP || !c->r)
        return;
    struct fl_redis *r = c->r;
    c->r = NULL;
    c->state = WL_RC_IDLE;
    snprintf(c->why, sizeof c->why, "%s", why ? why : "dropped");
    rconn_free_redis(c->w, r);   /* commands still pending: FL_EABORT */
}

static void on_retry_closed(uv_handle_t *h)
{
    struct wl_rconn *c = h->data;
    wl_handle_closed(c->w);
}

void wl_rconn_close(struct wl_rconn *c)
{
    if (c->state == WL_RC_CLOSED)
        return;
    enum wl_rconn_state was = c->state;
    c->state = WL_RC_CLOSED;
    struct fl_redis *r = c->r;
    c->w->closes_pending++;
    uv_close((uv_handle_t *)&c->retry, on_retry_closed);
    if (c->ask) {
        /* The query never calls back now: report the attempt as aborted
         * here, once its handles are counted. */
        struct fl_sentinel_query *q = c->ask;
        c->ask = NULL;
        c->w->closes_pending++;
        fl_sentinel_cancel(q, on_redis_closed, c->w);
    }
    /* Pending callbacks fire (with FL_EABORT) inside this close; they see
     * WL_RC_CLOSED and report the attempt as aborted. */
    rconn_free_redis(c->w, r);
    c->r = NULL;
    if (was == WL_RC_ASKING)
        finish(c, FL_EABORT);
}
