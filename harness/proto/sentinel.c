/* sentinel.c - see sentinel.h.
 *
 * A query is a small state machine over the sentinels, one at a time:
 * connect, send the command, read the answer; any failure is noted in
 * `why` and the next sentinel is asked. The first step runs from a 0 ms
 * timer so that the callback never runs inside fl_sentinel_ask, even when
 * every connect fails at once.
 *
 * Memory: the query is freed once it is finished (called back or
 * cancelled) AND its timer and every connection it opened have closed
 * (`open` counts them).
 */
#include "proto/sentinel.h"
#include "proto/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MASTER_MAX 128

struct sentinel {
    char name[96];
    char host[64];
    int port;
};

struct fl_sentinel_query {
    uv_loop_t *loop;
    uv_timer_t kick;             /* the first step, on the loop */
    struct sentinel s[FL_SENTINEL_MAX];
    size_t n, i;                 /* sentinels, the one being asked */
    char master[MASTER_MAX];
    uint64_t timeout_ms;
    struct fl_redis *r;          /* connection to s[i], or NULL */
    fl_sentinel_cb cb;
    void *ud;
    int finished;                /* called back or cancelled */
    size_t open;                 /* timer + connections not yet closed */
    void (*closed)(void *ud);
    void *closed_ud;
    char why[512];
};

static void ask_next(struct fl_sentinel_query *q);

static void maybe_free(struct fl_sentinel_query *q)
{
    if (!q->finished || q->open)
        return;
    void (*closed)(void *) = q->closed;
    void *ud = q->closed_ud;
    free(q);
    if (closed)
        closed(ud);
}

static void on_closed(void *ud)
{
    struct fl_sentinel_query *q = ud;
    q->open--;
    maybe_free(q);
}

static void on_timer_closed(uv_handle_t *h)
{
    on_closed(h->data);
}

/* Close the connection to the current sentinel, if any. Its pending
 * callbacks run inside fl_redis_close; they see r != q->r and return. */
static void drop(struct fl_sentinel_query *q)
{
    struct fl_redis *r = q->r;
    q->r = NULL;
    if (r)
        fl_redis_close(r, on_closed, q);
}

/* The end: no more callbacks from the sentinels, the timer closes. */
static void finish(struct fl_sentinel_query *q)
{
    q->finished = 1;
    drop(q);
    if (!uv_is_closing((uv_handle_t *)&q->kick))
        uv_close((uv_handle_t *)&q->kick, on_timer_closed);
}

/* Why sentinel i did not name the primary, appended to q->why (bounded:
 * what does not fit is cut, with "..."). */
static void note(struct fl_sentinel_query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct fl_sentinel_query *q, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    const struct sentinel *s = &q->s[q->i];
    /* proto/redis.h messages start with "redis HOST:PORT: ", said already */
    char self[96];
    snprintf(self, sizeof self, "redis %s:%d: ", s->host, s->port);
    const char *r = strncmp(reason, self, strlen(self)) == 0 ? reason + strlen(self) : reason;
    size_t len = strlen(q->why);
    int n = snprintf(q->why + len, sizeof q->why - len, "%ssentinel %s%s%s:%d%s: %s",
                     len ? "; " : "", s->name, s->name[0] ? " (" : "", s->host, s->port,
                     s->name[0] ? ")" : "", r);
    if (n < 0 || (size_t)n >= sizeof q->why - len)
        memcpy(q->why + sizeof q->why - 4, "...", 4);
}

/* Sentinel i failed: note why and ask the next one. */
static void next(struct fl_sentinel_query *q)
{
    drop(q);
    q->i++;
    ask_next(q);
}

static void on_reply(struct fl_redis *r, const redisReply *reply, int status,
                     const char *errmsg, void *ud)
{
    struct fl_sentinel_query *q = ud;
    if (q->finished || r != q->r)
        return;
    if (!reply) {
        note(q, "%s", errmsg ? errmsg : fl_strerror(status));
        next(q);
        return;
    }
    char host[128];
    int port = 0;
    struct fl_error err = {0};
    int rc = fl_redis_parse_master_addr(reply, host, sizeof host, &port, &err);
    if (rc == FL_ENOTFOUND) {
        note(q, "does not know %s", q->master);
        next(q);
        return;
    }
    if (rc) {
        note(q, "%.200s", err.msg);
        next(q);
        return;
    }
    finish(q);
    q->cb(0, host, port, NULL, q->ud);
    maybe_free(q);
}

static void on_connected(struct fl_redis *r, int status, const char *errmsg, void *ud)
{
    struct fl_sentinel_query *q = ud;
    if (q->finished || r != q->r)
        return;
    if (status) {
        note(q, "%s", errmsg ? errmsg : fl_strerror(status));
        next(q);
        return;
    }
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", q->master};
    struct fl_error err = {0};
    if (fl_redis_command_argv(r, q->timeout_ms, on_reply, q, &err, 3, argv, NULL)) {
        note(q, "%.200s", err.msg);
        next(q);
    }
}

/* Ask sentinel i, or the ones after it when a connect fails at once; call
 * back FL_ENOTFOUND when none is left. */
static void ask_next(struct fl_sentinel_query *q)
{
    for (; q->i < q->n; q->i++) {
        const struct sentinel *s = &q->s[q->i];
        struct fl_error err = {0};
        struct fl_redis *r = NULL;
        if (fl_redis_connect(q->loop, s->host, s->port, q->timeout_ms, on_connected, q, &r,
                             &err) == 0) {
            q->r = r;
            q->open++;
            return;
        }
        note(q, "%.200s", err.msg);
    }
    finish(q);
    q->cb(FL_ENOTFOUND, NULL, 0, q->why, q->ud);
    maybe_free(q);
}

static void on_kick(uv_timer_t *t)
{
    ask_next(t->data);
}

int fl_sentinel_ask(uv_loop_t *loop, const struct fl_sentinel_addr *s, size_t n,
                    const char *master, uint64_t timeout_ms, fl_sentinel_cb cb, void *ud,
                    struct fl_sentinel_query **out, struct fl_error *err)
{
    if (n == 0)
        return fl_error_set(err, FL_EINVAL, "no sentinel to ask");
    if (n > FL_SENTINEL_MAX)
        return fl_error_set(err, FL_EINVAL, "%zu sentinels: at most %d are asked", n,
                            FL_SENTINEL_MAX);
    if (!master || !master[0] || strlen(master) >= MASTER_MAX)
        return fl_error_set(err, FL_EINVAL, "no valid master name to ask the sentinels for");
    if (!timeout_ms || !cb)
        return fl_error_set(err, FL_EINVAL, "a sentinel query needs a timeout and a callback");
    struct fl_sentinel_query *q = calloc(1, sizeof *q);
    if (!q)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        snprintf(q->s[i].name, sizeof q->s[i].name, "%s", s[i].name ? s[i].name : "");
        snprintf(q->s[i].host, sizeof q->s[i].host, "%s", s[i].host ? s[i].host : "");
        q->s[i].port = s[i].port;
    }
    q->loop = loop;
    q->n = n;
    snprintf(q->master, sizeof q->master, "%s", master);
    q->timeout_ms = timeout_ms;
    q->cb = cb;
    q->ud = ud;
    uv_timer_init(loop, &q->kick);
    q->kick.data = q;
    q->open = 1;
    uv_timer_start(&q->kick, on_kick, 0, 0);
    *out = q;
    return 0;
}

void fl_sentinel_cancel(struct fl_sentinel_query *q, void (*closed)(void *ud), void *ud)
{
    if (!q || q->finished)
        return;
    q->closed = closed;
    q->closed_ud = ud;
    finish(q);
    maybe_free(q);
}
