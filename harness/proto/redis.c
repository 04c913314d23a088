/* redis.c - hiredis async connections on libuv, with timeouts.
 *
 * Three pieces live here:
 * - the event adapter (ev_* and on_poll): hiredis asks for read/write
 *   interest, a uv_poll_t delivers it. Unlike the stock adapter, a poll
 *   error (libuv reports POLLERR as UV_EBADF and stops the handle) is handed
 *   to hiredis so a refused connect or a reset is noticed and reported;
 * - the connection state machine (connect timer, connect/disconnect hooks,
 *   close);
 * - per-command records, each with a uv_timer for its timeout.
 *
 * Re-entrancy is the hard part. hiredis 0.14.1 calls onConnect without its
 * IN_CALLBACK guard, so freeing the context from there is a use-after-free
 * inside hiredis. We therefore never call redisAsyncFree() while any hiredis
 * function is on the stack: every call into hiredis is bracketed by
 * enter()/leave(), and a free requested inside is deferred to leave().
 *
 * A command record lives until BOTH hiredis has let go of it (its callback
 * ran, with a reply or NULL) AND its timer handle is closed. Its user
 * callback runs once, on whichever comes first: reply, timeout, connection
 * lost, close. hiredis still calls back for a timed-out command when the late
 * reply arrives (or with NULL when the context goes away); the record is
 * then merely released.
 */
#include "proto/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/async.h>

enum conn_state { ST_CONNECTING, ST_CONNECTED, ST_LOST };

struct cmd {
    struct fl_redis *r;
    struct cmd *prev, *next;        /* r->cmds: every record not yet freed */
    uv_timer_t timer;
    uint64_t timeout_ms;
    fl_redis_reply_cb cb;
    void *ud;
    unsigned done : 1;              /* user callback called */
    unsigned hiredis_done : 1;      /* hiredis will never call back again */
    unsigned timer_closed : 1;      /* timer's close callback ran */
};

struct fl_redis {
    uv_loop_t *loop;
    redisAsyncContext *ac;          /* NULL once hiredis cleaned up */
    uv_poll_t poll;
    uv_timer_t conn_timer;          /* connect timeout, or deferred failure */
    int poll_open;                  /* poll initialized and not closing */
    int poll_events;                /* interest hiredis asked for */
    int open_handles;               /* handles whose close cb is still due */
    enum conn_state state;
    int closing;                    /* fl_redis_close() was called */
    int dying;                      /* hiredis is tearing the context down */
    int in_hiredis;                 /* depth of calls into hiredis */
    int free_ac_pending;            /* free the context at leave() */
    int deferred_status;            /* connect failure to report from timer */
    uint64_t connect_timeout_ms;
    size_t npending;                /* commands whose callback is due */
    struct cmd *cmds;
    fl_redis_connect_cb on_connect; /* NULL once delivered */
    void *connect_ud;
    fl_redis_disconnect_cb on_disconnect;
    void *disconnect_ud;
    fl_redis_close_cb on_close;
    void *close_ud;
    char addr[128];                 /* host:port, host checked to fit */
    char errmsg[512];               /* why the connection failed or ended */
};

static void drop_ac(struct fl_redis *r);
static void maybe_free(struct fl_redis *r);
static void deliver_connect(struct fl_redis *r, int status, const char *msg);

/* --- calls into hiredis ------------------------------------------------- */

static void enter(struct fl_redis *r)
{
    r->in_hiredis++;
}

/* Leave a hiredis call; when the outermost one returns, run a deferred
 * free. r may be freed on return when it is closing: callers must not touch
 * r after leave(). */
static void leave(struct fl_redis *r)
{
    if (--r->in_hiredis > 0)
        return;
    if (r->free_ac_pending && r->ac) {
        r->free_ac_pending = 0;
        drop_ac(r);
        if (r->state == ST_CONNECTING) {
            /* Dropped before hiredis reported the connect: report it. */
            r->state = ST_LOST;
            deliver_connect(r, FL_EIO, r->errmsg);
        }
    }
    maybe_free(r);
}

/* Free the hiredis context: pending hiredis callbacks run with NULL, the
 * cleanup hook closes the poll handle. Deferred when inside hiredis. */
static void drop_ac(struct fl_redis *r)
{
    if (r->ac == NULL)
        return;
    if (r->in_hiredis > 0) {
        r->free_ac_pending = 1;
        return;
    }
    redisAsyncContext *ac = r->ac;
    r->dying = 1;
    r->in_hiredis++;
    redisAsyncFree(ac);
    r->in_hiredis--;
    r->ac = NULL; /* the cleanup hook did this already; be explicit */
}

static void set_errmsg(struct fl_redis *r, const char *what, const char *why)
{
    snprintf(r->errmsg, sizeof r->errmsg, "redis %s: %s%s%s", r->addr, what,
             why ? ": " : "", why ? why : "");
}

/* --- the event adapter -------------------------------------------------- */

static void on_poll(uv_poll_t *h, int status, int events);

static void ev_update(struct fl_redis *r, int want)
{
    if (!r->poll_open)
        return;
    if (want == r->poll_events && (want == 0) == !uv_is_active((uv_handle_t *)&r->poll))
        return; /* hiredis re-adds read interest after every read */
    r->poll_events = want;
    if (want == 0) {
        uv_poll_stop(&r->poll);
        return;
    }
    int rc = uv_poll_start(&r->poll, want, on_poll);
    if (rc < 0) {
        /* Cannot happen for a valid fd; fail the connection rather than
         * wait forever. Hooks run inside enter()/leave(), so this drop is
         * deferred safely. */
        set_errmsg(r, "cannot watch the socket", uv_strerror(rc));
        r->free_ac_pending = 1;
    }
}

static void ev_add_read(void *p)
{
    struct fl_redis *r = p;
    ev_update(r, r->poll_events | UV_READABLE);
}

static void ev_del_read(void *p)
{
    struct fl_redis *r = p;
    ev_update(r, r->poll_events & ~UV_READABLE);
}

static void ev_add_write(void *p)
{
    struct fl_redis *r = p;
    ev_update(r, r->poll_events | UV_WRITABLE);
}

static void ev_del_write(void *p)
{
    struct fl_redis *r = p;
    ev_update(r, r->poll_events & ~UV_WRITABLE);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct fl_redis *r = h->data;
    r->open_handles--;
    maybe_free(r);
}

/* hiredis is done with the socket (it closes the fd right after): stop
 * watching it first. Called once per context; tolerate more. */
static void ev_cleanup(void *p)
{
    struct fl_redis *r = p;
    r->ac = NULL;
    r->dying = 1;
    if (!r->poll_open)
        return;
    r->poll_open = 0;
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct fl_redis *r = h->data;
    if (r->ac == NULL)
        return;
    if (status < 0) {
        /* libuv stopped the handle. Let hiredis look at the socket: while
         * connecting a write event makes it read SO_ERROR (refused), once
         * connected a read returns the reset or EOF. */
        r->poll_events = 0;
        events = (r->ac->c.flags & REDIS_CONNECTED) ? UV_READABLE : UV_WRITABLE;
    }
    enter(r);
    if ((events & UV_READABLE) && r->ac)
        redisAsyncHandleRead(r->ac);
    if ((events & UV_WRITABLE) && r->ac)
        redisAsyncHandleWrite(r->ac);
    if (status < 0 && r->ac && !r->free_ac_pending) {
        /* hiredis saw nothing wrong yet the socket errored: do not spin on
         * the error, drop the connection. */
        set_errmsg(r, "socket error", uv_strerror(status));
        r->free_ac_pending = 1;
    }
    leave(r);
}

/* --- connection state --------------------------------------------------- */

static void deliver_connect(struct fl_redis *r, int status, const char *msg)
{
    fl_redis_connect_cb cb = r->on_connect;
    if (cb == NULL)
        return;
    r->on_connect = NULL;
    uv_timer_stop(&r->conn_timer);
    cb(r, status, status ? msg : NULL, r->connect_ud);
}

static void on_hiredis_connect(const redisAsyncContext *ac, int status)
{
    struct fl_redis *r = ac->data;
    if (status == REDIS_OK) {
        r->state = ST_CONNECTED;
        deliver_connect(r, 0, NULL);
        return;
    }
    /* hiredis frees the context right after this returns. */
    r->state = ST_LOST;
    r->dying = 1;
    set_errmsg(r, "connect failed", ac->c.errstr[0] ? ac->c.errstr : NULL);
    deliver_connect(r, FL_EIO, r->errmsg);
}

static void on_hiredis_disconnect(const redisAsyncContext *ac, int status)
{
    struct fl_redis *r = ac->data;
    r->state = ST_LOST;
    r->dying = 1;
    if (status != REDIS_OK && ac->errstr)
        set_errmsg(r, "connection lost", ac->errstr);
    else if (r->errmsg[0] == '\0')
        set_errmsg(r, "connection closed", NULL);
    if (r->on_disconnect && !r->closing)
        r->on_disconnect(r, r->errmsg, r->disconnect_ud);
}

static void on_conn_timer(uv_timer_t *t)
{
    struct fl_redis *r = t->data;
    if (r->deferred_status) {
        deliver_connect(r, r->deferred_status, r->errmsg);
        return;
    }
    if (r->state != ST_CONNECTING)
        return;
    r->state = ST_LOST;
    char why[64];
    snprintf(why, sizeof why, "no connection within %llu ms",
             (unsigned long long)r->connect_timeout_ms);
    set_errmsg(r, "connect timed out", why);
    drop_ac(r);
    deliver_connect(r, FL_ETIMEDOUT, r->errmsg);
}

/* Watch hiredis' socket. On error nothing is left behind: the context is
 * freed (no hooks installed yet) and no handle was initialized. */
static int attach(struct fl_redis *r, redisAsyncContext *ac,
                  struct fl_error *err)
{
    int rc = uv_poll_init(r->loop, &r->poll, ac->c.fd);
    if (rc < 0) {
        redisAsyncFree(ac);
        return fl_error_set(err, FL_EIO, "redis %s: cannot watch the socket: %s",
                            r->addr, uv_strerror(rc));
    }
    r->poll.data = r;
    r->poll_open = 1;
    r->open_handles++;
    r->ac = ac;
    ac->data = r;
    ac->ev.data = r;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetDisconnectCallback(ac, on_hiredis_disconnect);
    return 0;
}

int fl_redis_connect(uv_loop_t *loop, const char *host, int port,
                     uint64_t connect_timeout_ms, fl_redis_connect_cb cb,
                     void *ud, struct fl_redis **out, struct fl_error *err)
{
    if (!loop || !host || !*host || !cb || !out)
        return fl_error_set(err, FL_EINVAL, "redis connect: missing argument");
    if (strlen(host) > 100)
        return fl_error_set(err, FL_EINVAL, "redis connect: host name too long");
    if (port < 1 || port > 65535)
        return fl_error_set(err, FL_EINVAL, "redis connect: bad port %d", port);
    if (connect_timeout_ms == 0)
        return fl_error_set(err, FL_EINVAL, "redis connect: timeout must be > 0");
    struct fl_redis *r = calloc(1, sizeof *r);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "redis connect: out of memory");
    r->loop = loop;
    r->on_connect = cb;
    r->connect_ud = ud;
    r->connect_timeout_ms = connect_timeout_ms;
    r->state = ST_CONNECTING;
    snprintf(r->addr, sizeof r->addr, "%s:%d", host, port);

    /* hiredis first: until a libuv handle exists, r can be freed here. */
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (!ac) {
        free(r);
        return fl_error_set(err, FL_ENOMEM, "redis connect: out of memory");
    }
    uint64_t first_timeout = connect_timeout_ms;
    if (ac->err) {
        /* Failed at once (refused, bad address): report it through the
         * callback like a failure seen later, so callers have one path. */
        set_errmsg(r, "connect failed", ac->errstr);
        redisAsyncFree(ac);
        r->state = ST_LOST;
        r->deferred_status = FL_EIO;
        first_timeout = 0;
    } else {
        int rc = attach(r, ac, err);
        if (rc < 0) {
            free(r);
            return rc;
        }
    }
    uv_timer_init(loop, &r->conn_timer);
    r->conn_timer.data = r;
    r->open_handles++;
    /* The loop's cached time may be stale (the caller may have worked for
     * a while since the last iteration): never fire early. */
    uv_update_time(loop);
    uv_timer_start(&r->conn_timer, on_conn_timer, first_timeout, 0);
    if (r->ac) {
        /* Arms write interest: the first writable event means connected. */
        enter(r);
        redisAsyncSetConnectCallback(r->ac, on_hiredis_connect);
        leave(r);
    }
    *out = r;
    return 0;
}

void fl_redis_on_disconnect(struct fl_redis *r, fl_redis_disconnect_cb cb,
                            void *ud)
{
    if (!r)
        return;
    r->on_disconnect = cb;
    r->disconnect_ud = ud;
}

int fl_redis_is_connected(const struct fl_redis *r)
{
    return r && r->state == ST_CONNECTED && !r->closing && !r->dying && r->ac;
}

size_t fl_redis_pending(const struct fl_redis *r)
{
    return r ? r->npending : 0;
}

const char *fl_redis_addr(const struct fl_redis *r)
{
    return r ? r->addr : "";
}

/* --- commands ----------------------------------------------------------- */

static void release_cmd(struct cmd *c)
{
    if (!c->hiredis_done || !c->timer_closed)
        return;
    struct fl_redis *r = c->r;
    if (c->prev)
        c->prev->next = c->next;
    else
        r->cmds = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    maybe_free(r);
}

static void on_cmd_timer_closed(uv_handle_t *h)
{
    struct cmd *c = h->data;
    c->timer_closed = 1;
    release_cmd(c);
}

/* Call the user callback once, and start closing the timer. The record
 * itself stays until release_cmd() finds both halves done. */
static void complete_cmd(struct cmd *c, const redisReply *reply, int status,
                         const char *msg)
{
    if (c->done)
        return;
    c->done = 1;
    c->r->npending--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_cmd_timer_closed);
    c->cb(c->r, reply, status, msg, c->ud);
}

static void on_hiredis_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct cmd *c = privdata;
    struct fl_redis *r = c->r;
    c->hiredis_done = 1;
    if (!c->done) {
        if (reply) {
            complete_cmd(c, reply, 0, NULL);
        } else {
            /* The context is going away: every remaining command ends. */
            r->dying = 1;
            if (!r->errmsg[0])
                set_errmsg(r, "connection lost", ac->err && ac->errstr ? ac->errstr : NULL);
            complete_cmd(c, NULL, r->closing ? FL_EABORT : FL_EIO, r->errmsg);
        }
    }
    release_cmd(c);
}

static void on_cmd_timeout(uv_timer_t *t)
{
    struct cmd *c = t->data;
    char msg[256];
    snprintf(msg, sizeof msg, "redis %s: no reply within %llu ms (outcome unknown)",
             c->r->addr, (unsigned long long)c->timeout_ms);
    complete_cmd(c, NULL, FL_ETIMEDOUT, msg);
}

/* The name of the command in a RESP-formatted request ("*N\r\n$L\r\nNAME"),
 * compared case-insensitively against the ones whose replies hiredis
 * dispatches more than once. */
static int is_multi_reply_command(const char *cmd, size_t len)
{
    static const char *const names[] = {
        "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "monitor",
    };
    const char *end = cmd + len;
    const char *p = memchr(cmd, '\n', len); /* end of "*N\r\n" */
    if (!p || end - p < 3 || p[1] != '$')
        return 1; /* not what hiredis formats: refuse rather than guess */
    size_t n = 0;
    const char *q = p + 2;
    for (; q < end && *q >= '0' && *q <= '9' && n < 64; q++)
        n = n * 10 + (size_t)(*q - '0');
    if (q == p + 2 || end - q < 2 || q[0] != '\r' || q[1] != '\n')
        return 1;
    const char *name = q + 2;
    if (n > (size_t)(end - name))
        return 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return 1;
    return 0;
}

static int check_usable(struct fl_redis *r, uint64_t timeout_ms,
                        fl_redis_reply_cb cb, struct fl_error *err)
{
    if (!r || !cb)
        return fl_error_set(err, FL_EINVAL, "redis command: missing argument");
    if (timeout_ms == 0)
        return fl_error_set(err, FL_EINVAL, "redis %s: command timeout must be > 0", r->addr);
    if (r->closing)
        return fl_error_set(err, FL_EIO, "redis %s: connection is closing", r->addr);
    if (r->state == ST_CONNECTING)
        return fl_error_set(err, FL_ENOTREADY, "redis %s: not connected yet", r->addr);
    if (!fl_redis_is_connected(r))
        return fl_error_set(err, FL_EIO, "%s", r->errmsg[0] ? r->errmsg : "redis: connection lost");
    return 0;
}

/* Queue a formatted request (borrowed). See fl_redis_command for returns. */
static int submit(struct fl_redis *r, uint64_t timeout_ms, fl_redis_reply_cb cb,
                  void *ud, struct fl_error *err, const char *buf, size_t len)
{
    if (is_multi_reply_command(buf, len))
        return fl_error_set(err, FL_EINVAL,
                            "redis %s: pub/sub and MONITOR are not supported", r->addr);
    struct cmd *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "redis %s: out of memory", r->addr);
    c->r = r;
    c->cb = cb;
    c->ud = ud;
    c->timeout_ms = timeout_ms;
    uv_timer_init(r->loop, &c->timer);
    c->timer.data = c;
    c->next = r->cmds;
    if (r->cmds)
        r->cmds->prev = c;
    r->cmds = c;
    r->npending++;
    uv_update_time(r->loop); /* as in fl_redis_connect: never fire early */
    uv_timer_start(&c->timer, on_cmd_timeout, timeout_ms, 0);

    enter(r);
    int rc = redisAsyncFormattedCommand(r->ac, on_hiredis_reply, c, buf, len);
    if (rc != REDIS_OK) {
        /* hiredis kept no reference: close the timer, no user callback. */
        c->hiredis_done = 1;
        c->done = 1;
        r->npending--;
        uv_timer_stop(&c->timer);
        uv_close((uv_handle_t *)&c->timer, on_cmd_timer_closed);
    }
    leave(r);
    if (rc != REDIS_OK)
        return fl_error_set(err, FL_EIO, "redis %s: command not accepted", r->addr);
    return 0;
}

int fl_redis_vcommand(struct fl_redis *r, uint64_t timeout_ms,
                      fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                      const char *fmt, va_list ap)
{
    int rc = check_usable(r, timeout_ms, cb, err);
    if (rc < 0)
        return rc;
    if (!fmt)
        return fl_error_set(err, FL_EINVAL, "redis command: missing format");
    char *buf = NULL;
    int len = redisvFormatCommand(&buf, fmt, ap);
    if (len == -1)
        return fl_error_set(err, FL_EINVAL, "redis %s: bad command format \"%s\"", r->addr, fmt);
    if (len < 0 || !buf)
        return fl_error_set(err, FL_ENOMEM, "redis %s: out of memory", r->addr);
    rc = submit(r, timeout_ms, cb, ud, err, buf, (size_t)len);
    redisFreeCommand(buf);
    return rc;
}

int fl_redis_command(struct fl_redis *r, uint64_t timeout_ms,
                     fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fl_redis_vcommand(r, timeout_ms, cb, ud, err, fmt, ap);
    va_end(ap);
    return rc;
}

int fl_redis_command_argv(struct fl_redis *r, uint64_t timeout_ms,
                          fl_redis_reply_cb cb, void *ud, struct fl_error *err,
                          int argc, const char *const *argv,
                          const size_t *argvlen)
{
    int rc = check_usable(r, timeout_ms, cb, err);
    if (rc < 0)
        return rc;
    if (argc < 1 || !argv)
        return fl_error_set(err, FL_EINVAL, "redis command: no arguments");
    for (int i = 0; i < argc; i++)
        if (!argv[i])
            return fl_error_set(err, FL_EINVAL, "redis command: argument %d is NULL", i);
    char *buf = NULL;
    /* hiredis takes char ** without const; it does not write through it. */
    int len = redisFormatCommandArgv(&buf, argc, (const char **)argv, argvlen);
    if (len < 0 || !buf)
        return fl_error_set(err, FL_ENOMEM, "redis %s: out of memory", r->addr);
    rc = submit(r, timeout_ms, cb, ud, err, buf, (size_t)len);
    redisFreeCommand(buf);
    return rc;
}

/* --- close -------------------------------------------------------------- */

/* Free r once nothing can reach it: closing, context gone, every handle
 * closed, every command record released, and no hiredis call on the stack. */
static void maybe_free(struct fl_redis *r)
{
    if (!r->closing || r->ac || r->in_hiredis || r->open_handles || r->cmds)
        return;
    fl_redis_close_cb cb = r->on_close;
    void *ud = r->close_ud;
    free(r);
    if (cb)
        cb(ud);
}

void fl_redis_close(struct fl_redis *r, fl_redis_close_cb cb, void *ud)
{
    if (!r || r->closing)
        return;
    r->closing = 1;
    r->on_close = cb;
    r->close_ud = ud;
    r->on_disconnect = NULL;
    /* Close the timer first: its close callback is the async step that
     * guarantees maybe_free() runs after this returns, never inside. */
    uv_timer_stop(&r->conn_timer);
    uv_close((uv_handle_t *)&r->conn_timer, on_handle_closed);
    set_errmsg(r, "closed by the caller", NULL);
    deliver_connect(r, FL_EABORT, r->errmsg);
    /* Callbacks may not add commands now (closing), and records are freed
     * only from close callbacks or hiredis, so walking the list is safe. */
    for (struct cmd *c = r->cmds; c; c = c->next)
        if (!c->done)
            complete_cmd(c, NULL, FL_EABORT, r->errmsg);
    drop_ac(r);
}
