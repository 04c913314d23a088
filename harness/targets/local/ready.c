/* ready.c - readiness checks of the local target: tcp connect, a tiny
 * HTTP/1.0 GET, or an exec'd command, retried every interval until a
 * deadline.
 *
 * A check owns one timer (the wait between attempts, or the current
 * attempt's own timeout) and at most one attempt at a time. Each attempt is
 * heap-allocated with its handle, so a cancelled attempt can finish closing
 * on its own while the check moves on. The check is freed when every handle
 * it opened has closed (`refs`).
 */
#include "targets/local/local_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ATTEMPT_MAX_MS 5000     /* one attempt never waits longer */
#define ATTEMPT_MIN_MS 50
#define HTTP_HEAD_MAX 1024      /* we only need the status line */

struct attempt;

struct fl_ready_check {
    uv_loop_t *loop;
    enum fl_ready_kind kind;
    char *target;
    char **argv, **env;
    char *cwd, *self_exe;
    int log_fd;
    struct sockaddr_storage addr;
    char authority[256];        /* host:port for the Host header */
    char path[1024];
    uint64_t timeout_ms, interval_ms;
    uint64_t t0, deadline;      /* uv_now() based */
    uv_timer_t timer;
    struct attempt *att;        /* in flight or NULL */
    int att_cut;                /* its budget was cut short by the deadline */
    size_t refs;                /* open handles: timer + attempts */
    int done;                   /* finished or cancelled: no more attempts */
    int released;
    fl_ready_cb cb;
    void *ud;
    char last_err[256];
};

struct attempt {
    struct fl_ready_check *c;
    int is_proc;
    union {
        uv_handle_t handle;
        uv_tcp_t tcp;
        uv_process_t proc;
    } h;
    int pid;
    int finished;               /* result delivered or aborted */
    uv_connect_t conn;
    uv_write_t wr;
    char req[1400];
    char rbuf[HTTP_HEAD_MAX];
    size_t rlen;
};

static void check_result(struct fl_ready_check *c, int ok, const char *msg);
static void next_attempt(struct fl_ready_check *c);

/* ---- memory ---------------------------------------------------------- */

static void free_strv(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

static char **dup_strv(char *const *v)
{
    if (!v)
        return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = fl_strdup(v[i]))) {
            free_strv(out);
            return NULL;
        }
    return out;
}

static void check_free(struct fl_ready_check *c)
{
    free(c->target);
    free_strv(c->argv);
    free_strv(c->env);
    free(c->cwd);
    free(c->self_exe);
    free(c);
}

static void check_unref(struct fl_ready_check *c)
{
    if (--c->refs == 0)
        check_free(c);
}

static void timer_closed(uv_handle_t *h)
{
    check_unref(h->data);
}

static void attempt_closed(uv_handle_t *h)
{
    struct attempt *a = h->data;
    struct fl_ready_check *c = a->c;
    free(a);
    check_unref(c);
}

/* End an attempt: no result from it any more, its handle closes. An exec
 * attempt's process is killed and reaped first so nothing outlives it. */
static void attempt_abort(struct attempt *a)
{
    if (a->finished)
        return;
    a->finished = 1;
    if (a->c->att == a)
        a->c->att = NULL;
    if (a->is_proc && a->pid > 0)
        fl_local_kill_reap(a->pid, 1000);
    uv_close(&a->h.handle, attempt_closed);
}

static void attempt_done(struct attempt *a, int ok, const char *msg)
{
    if (a->finished)
        return;
    struct fl_ready_check *c = a->c;
    a->pid = 0;   /* exited or never spawned: nothing to kill */
    attempt_abort(a);
    check_result(c, ok, msg);
}

static void release(struct fl_ready_check *c)
{
    if (c->released)
        return;
    c->released = 1;
    c->done = 1;
    uv_timer_stop(&c->timer);
    if (c->att)
        attempt_abort(c->att);
    uv_close((uv_handle_t *)&c->timer, timer_closed);
}

/* ---- parsing --------------------------------------------------------- */

/* "host:port", "[::1]:port" or "localhost:port" into a socket address.
 * Only literal addresses: a readiness check must not block on DNS. */
static int parse_hostport(const char *s, size_t len, int default_port,
                          struct sockaddr_storage *out, struct fl_error *err)
{
    char host[128];
    const char *colon = NULL;
    const char *end = s + len;
    const char *hs = s, *he;
    if (len && *s == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb)
            return fl_error_set(err, FL_EINVAL, "bad address '%.*s'", (int)len, s);
        hs = s + 1;
        he = rb;
        if (rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memrchr(s, ':', len);
        he = colon ? colon : end;
    }
    if ((size_t)(he - hs) >= sizeof host || he == hs)
        return fl_error_set(err, FL_EINVAL, "bad address '%.*s'", (int)len, s);
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    long long port = default_port;
    if (colon) {
        char pb[16];
        size_t pl = (size_t)(end - colon - 1);
        if (pl == 0 || pl >= sizeof pb)
            return fl_error_set(err, FL_EINVAL, "bad port in '%.*s'", (int)len, s);
        memcpy(pb, colon + 1, pl);
        pb[pl] = '\0';
        if (fl_parse_int(pb, 1, 65535, &port))
            return fl_error_set(err, FL_EINVAL, "bad port in '%.*s'", (int)len, s);
    }
    if (port <= 0)
        return fl_error_set(err, FL_EINVAL, "no port in '%.*s'", (int)len, s);
    if (strcmp(host, "localhost") == 0)
        memcpy(host, "127.0.0.1", sizeof "127.0.0.1");
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) != 0)
        return fl_error_set(err, FL_EINVAL,
                            "'%s' is not an IP address (readiness checks take literal "
                            "addresses such as 127.0.0.1)", host);
    return 0;
}

static int parse_target(struct fl_ready_check *c, struct fl_error *err)
{
    const char *t = c->target;
    if (c->kind == FL_READY_TCP)
        return parse_hostport(t, strlen(t), 0, &c->addr, err);
    static const char scheme[] = "http://";
    if (strncmp(t, scheme, sizeof scheme - 1) != 0)
        return fl_error_set(err, FL_EINVAL, "readiness URL '%s' must start with http://", t);
    const char *auth = t + sizeof scheme - 1;
    const char *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (alen == 0 || alen >= sizeof c->authority)
        return fl_error_set(err, FL_EINVAL, "bad readiness URL '%s'", t);
    memcpy(c->authority, auth, alen);
    c->authority[alen] = '\0';
    const char *path = slash ? slash : "/";
    if (strlen(path) >= sizeof c->path)
        return fl_error_set(err, FL_EINVAL, "readiness URL '%s' is too long", t);
    snprintf(c->path, sizeof c->path, "%s", path);
    return parse_hostport(auth, alen, 80, &c->addr, err);
}

/* ---- tcp and http attempts ------------------------------------------- */

static void http_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct attempt *a = h->data;
    buf->base = a->rbuf + a->rlen;
    buf->len = sizeof a->rbuf - 1 - a->rlen;
}

/* Judge the status line "HTTP/1.x NNN ...". */
static void http_judge(struct attempt *a)
{
    a->rbuf[a->rlen] = '\0';
    char *eol = strpbrk(a->rbuf, "\r\n");
    if (eol)
        *eol = '\0';
    char msg[320];
    if (strncmp(a->rbuf, "HTTP/", 5) != 0 || !strchr(a->rbuf, ' ')) {
        snprintf(msg, sizeof msg, "GET %s: malformed response '%.64s'", a->c->target, a->rbuf);
        attempt_done(a, 0, msg);
        return;
    }
    const char *code = strchr(a->rbuf, ' ') + 1;
    int status = 0;
    for (int i = 0; i < 3 && code[i] >= '0' && code[i] <= '9'; i++)
        status = status * 10 + (code[i] - '0');
    if (status >= 200 && status < 300) {
        attempt_done(a, 1, NULL);
        return;
    }
    snprintf(msg, sizeof msg, "GET %s: HTTP %d", a->c->target, status);
    attempt_done(a, 0, msg);
}

static void http_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct attempt *a = s->data;
    if (a->finished)
        return;
    if (nread > 0) {
        a->rlen += (size_t)nread;
        if (memchr(a->rbuf, '\n', a->rlen) || a->rlen >= sizeof a->rbuf - 1)
            http_judge(a);
        return;
    }
    if (nread == UV_EOF) {
        if (a->rlen)
            http_judge(a);
        else {
            char msg[320];
            snprintf(msg, sizeof msg, "GET %s: connection closed without a response",
                     a->c->target);
            attempt_done(a, 0, msg);
        }
        return;
    }
    if (nread < 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "GET %s: %s", a->c->target, uv_strerror((int)nread));
        attempt_done(a, 0, msg);
    }
}

static void http_written(uv_write_t *w, int status)
{
    struct attempt *a = w->data;
    if (a->finished || status == 0)
        return;
    char msg[320];
    snprintf(msg, sizeof msg, "GET %s: %s", a->c->target, uv_strerror(status));
    attempt_done(a, 0, msg);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct attempt *a = req->data;
    if (a->finished)
        return;   /* aborted: the handle is closing */
    struct fl_ready_check *c = a->c;
    if (status < 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s %s: %s", c->kind == FL_READY_HTTP ? "GET" : "connect",
                 c->target, uv_strerror(status));
        attempt_done(a, 0, msg);
        return;
    }
    if (c->kind == FL_READY_TCP) {
        attempt_done(a, 1, NULL);
        return;
    }
    int n = snprintf(a->req, sizeof a->req,
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: faultline\r\n"
                     "Connection: close\r\n\r\n", c->path, c->authority);
    uv_buf_t b = uv_buf_init(a->req, (unsigned)((size_t)n < sizeof a->req ? (size_t)n
                                                                        : sizeof a->req - 1));
    a->wr.data = a;
    int rc = uv_write(&a->wr, (uv_stream_t *)&a->h.tcp, &b, 1, http_written);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&a->h.tcp, http_alloc, http_read);
    if (rc) {
        char msg[320];
        snprintf(msg, sizeof msg, "GET %s: %s", c->target, uv_strerror(rc));
        attempt_done(a, 0, msg);
    }
}

static int start_connect(struct attempt *a, char *msg, size_t len)
{
    struct fl_ready_check *c = a->c;
    int rc = uv_tcp_init(c->loop, &a->h.tcp);
    if (rc) {
        snprintf(msg, len, "socket: %s", uv_strerror(rc));
        return -1;
    }
    a->h.handle.data = a;
    a->conn.data = a;
    rc = uv_tcp_connect(&a->conn, &a->h.tcp, (const struct sockaddr *)&c->addr, on_connect);
    if (rc) {
        snprintf(msg, len, "connect %s: %s", c->target, uv_strerror(rc));
        return 1;   /* the handle exists and must be closed */
    }
    return 0;
}

/* ---- exec attempts --------------------------------------------------- */

static void exec_exited(uv_process_t *p, int64_t status, int sig)
{
    struct attempt *a = p->data;
    if (a->finished)
        return;
    if (status == 0 && sig == 0) {
        attempt_done(a, 1, NULL);
        return;
    }
    char why[64], msg[320];
    fl_local_exit_desc((int)status, sig, why, sizeof why);
    snprintf(msg, sizeof msg, "%s %s", a->c->argv[0], why);
    attempt_done(a, 0, msg);
}

/* ---- the retry loop -------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    struct fl_ready_check *c = t->data;
    if (c->att) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s %s: no answer in time",
                 c->kind == FL_READY_EXEC ? "exec" : c->kind == FL_READY_HTTP ? "GET" : "connect",
                 c->kind == FL_READY_EXEC ? c->argv[0] : c->target);
        struct attempt *a = c->att;
        attempt_abort(a);
        /* A last attempt squeezed by the deadline says less than the
         * failure before it: keep that one. */
        if (c->att_cut && c->last_err[0])
            snprintf(msg, sizeof msg, "%s", c->last_err);
        check_result(c, 0, msg);
        return;
    }
    next_attempt(c);
}

static void finish(struct fl_ready_check *c, int ok)
{
    uint64_t elapsed = uv_now(c->loop) - c->t0;
    c->done = 1;
    uv_timer_stop(&c->timer);
    c->cb(c, ok, c->last_err, elapsed, c->ud);
    release(c);
}

static void check_result(struct fl_ready_check *c, int ok, const char *msg)
{
    if (c->done)
        return;
    if (ok) {
        finish(c, 1);
        return;
    }
    snprintf(c->last_err, sizeof c->last_err, "%s", msg ? msg : "failed");
    uv_update_time(c->loop);
    if (uv_now(c->loop) + c->interval_ms > c->deadline) {
        finish(c, 0);
        return;
    }
    uv_timer_start(&c->timer, on_timer, c->interval_ms, 0);
}

static void next_attempt(struct fl_ready_check *c)
{
    uv_update_time(c->loop);
    uint64_t now = uv_now(c->loop);
    uint64_t budget = c->deadline > now ? c->deadline - now : 0;
    c->att_cut = budget < ATTEMPT_MAX_MS;
    if (budget > ATTEMPT_MAX_MS)
        budget = ATTEMPT_MAX_MS;
    if (budget < ATTEMPT_MIN_MS)
        budget = ATTEMPT_MIN_MS;
    struct attempt *a = calloc(1, sizeof *a);
    if (!a) {
        check_result(c, 0, "out of memory");
        return;
    }
    a->c = c;
    char msg[320] = "";
    int rc;
    if (c->kind == FL_READY_EXEC) {
        a->is_proc = 1;
        struct fl_error err = {0};
        c->refs++;
        rc = fl_local_spawn(c->loop, &a->h.proc, c->self_exe, c->argv, c->env, c->cwd,
                            c->log_fd, exec_exited, a, attempt_closed, &err);
        if (rc) {
            /* fl_local_spawn closed the handle: attempt_closed frees a. */
            check_result(c, 0, err.msg);
            return;
        }
        a->pid = a->h.proc.pid;
    } else {
        rc = start_connect(a, msg, sizeof msg);
        if (rc < 0) {
            free(a);
            check_result(c, 0, msg);
            return;
        }
        c->refs++;
        if (rc > 0) {
            a->finished = 1;
            uv_close(&a->h.handle, attempt_closed);
            check_result(c, 0, msg);
            return;
        }
    }
    c->att = a;
    uv_timer_start(&c->timer, on_timer, budget, 0);
}

/* ---- public ---------------------------------------------------------- */

int fl_ready_start(uv_loop_t *loop, const struct fl_ready_spec *spec, fl_ready_cb cb,
                   void *ud, struct fl_ready_check **out, struct fl_error *err)
{
    if (spec->kind == FL_READY_NONE || !cb)
        return fl_error_set(err, FL_EINVAL, "no readiness check to run");
    if (spec->kind == FL_READY_EXEC ? !spec->argv || !spec->argv[0] : !spec->target)
        return fl_error_set(err, FL_EINVAL, "readiness check without a target");
    struct fl_ready_check *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    c->loop = loop;
    c->kind = spec->kind;
    c->log_fd = spec->log_fd;
    c->cb = cb;
    c->ud = ud;
    c->timeout_ms = spec->timeout_ms ? spec->timeout_ms : 20000;
    c->interval_ms = spec->interval_ms ? spec->interval_ms : 100;
    int oom = 0;
    if (spec->kind == FL_READY_EXEC) {
        oom = !(c->argv = dup_strv(spec->argv)) || (spec->env && !(c->env = dup_strv(spec->env))) ||
              (spec->cwd && !(c->cwd = fl_strdup(spec->cwd))) ||
              (spec->self_exe && !(c->self_exe = fl_strdup(spec->self_exe)));
    } else {
        oom = !(c->target = fl_strdup(spec->target));
    }
    if (oom) {
        check_free(c);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    if (spec->kind != FL_READY_EXEC) {
        int rc = parse_target(c, err);
        if (rc) {
            check_free(c);
            return rc;
        }
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->refs = 1;
    uv_update_time(loop);
    c->t0 = uv_now(loop);
    c->deadline = c->t0 + c->timeout_ms;
    *out = c;
    /* First attempt on the next loop turn: the callback must never run
     * inside fl_ready_start. */
    uv_timer_start(&c->timer, on_timer, 0, 0);
    return 0;
}

void fl_ready_cancel(struct fl_ready_check *c)
{
    if (c)
        release(c);
}

const char *fl_ready_last_error(const struct fl_ready_check *c)
{
    return c ? c->last_err : "";
}
