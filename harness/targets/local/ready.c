/* ready.c - readiness checks of the local target: a tcp connect, an HTTP
 * GET (through the project's libcurl client, proto/http.h, on the same
 * loop), or an exec'd command, retried every interval until a deadline.
 *
 * A check owns one timer (the wait between attempts, or the current
 * attempt's own timeout) and at most one attempt at a time. Each attempt is
 * heap-allocated; a tcp or exec attempt owns its libuv handle, so a
 * cancelled one can finish closing on its own while the check moves on. An
 * HTTP check owns a client (one curl multi handle; a kept-alive connection
 * serves the next attempt) and an attempt is one request on it. The check
 * is freed when every handle it opened has closed (`refs`: the timer, the
 * attempts' handles, the HTTP client).
 */
#include "targets/local/local_int.h"
#include "proto/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ATTEMPT_MAX_MS 5000     /* one attempt never waits longer */
#define ATTEMPT_MIN_MS 50
#define HTTP_BODY_MAX 1024      /* only the status matters: the rest is dropped */
#define HTTP_SLACK_MS 1000      /* curl's own timeout, behind the check's timer */

struct attempt;

struct fl_ready_check {
    uv_loop_t *loop;
    enum fl_ready_kind kind;
    char *target;
    char **argv, **env;
    char *cwd, *self_exe;
    int log_fd;
    struct sockaddr_storage addr;
    struct fl_http *http;       /* HTTP checks: the client, until released */
    uint64_t timeout_ms, interval_ms;
    uint64_t t0, deadline;      /* uv_now() based */
    uv_timer_t timer;
    struct attempt *att;        /* in flight or NULL */
    int att_cut;                /* its budget was cut short by the deadline */
    size_t refs;                /* open handles: timer, attempts, client */
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
    } h;                        /* tcp and exec attempts */
    struct fl_http_req *req;    /* HTTP attempts: the request in flight */
    int pid;
    int finished;               /* result delivered or aborted */
    uv_connect_t conn;
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

static void http_closed(void *ud)
{
    check_unref(ud);
}

static void attempt_closed(uv_handle_t *h)
{
    struct attempt *a = h->data;
    struct fl_ready_check *c = a->c;
    free(a);
    check_unref(c);
}

/* End an attempt: no result from it any more, its handle closes. An exec
 * attempt's process is killed and reaped first so nothing outlives it. An
 * HTTP attempt's request is cancelled (its callback runs inside
 * fl_http_cancel, sees `finished` and returns) and the attempt is freed at
 * once: it owns no handle. */
static void attempt_abort(struct attempt *a)
{
    if (a->finished)
        return;
    a->finished = 1;
    if (a->c->att == a)
        a->c->att = NULL;
    if (a->c->kind == FL_READY_HTTP) {
        struct fl_http_req *r = a->req;
        a->req = NULL;
        if (r)
            fl_http_cancel(r);
        free(a);
        return;
    }
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
    if (c->http) {
        struct fl_http *h = c->http;
        c->http = NULL;
        fl_http_close(h, http_closed, c);
    }
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

/* The address must be a literal one (a readiness check must not wait for
 * DNS); for HTTP only an http:// URL is taken, and curl gets it as is. */
static int parse_target(struct fl_ready_check *c, struct fl_error *err)
{
    const char *t = c->target;
    if (c->kind == FL_READY_TCP)
        return parse_hostport(t, strlen(t), 0, &c->addr, err);
    static const char scheme[] = "http://";
    if (strncmp(t, scheme, sizeof scheme - 1) != 0)
        return fl_error_set(err, FL_EINVAL, "readiness URL '%s' must start with http://", t);
    const char *auth = t + sizeof scheme - 1;
    size_t alen = strcspn(auth, "/?#");
    if (alen == 0 || alen >= 256)
        return fl_error_set(err, FL_EINVAL, "bad readiness URL '%s'", t);
    if (strlen(t) >= 2048)
        return fl_error_set(err, FL_EINVAL, "readiness URL '%.64s...' is too long", t);
    return parse_hostport(auth, alen, 80, &c->addr, err);
}

/* ---- tcp and http attempts ------------------------------------------- */

/* An HTTP attempt's answer: 2xx is ready, anything else says why not. A
 * refused or reset connection is named as the tcp check names it. */
static void http_done(void *ud, const struct fl_http_result *res)
{
    struct attempt *a = ud;
    a->req = NULL;   /* the request is gone once this returns */
    if (a->finished)
        return;      /* cancelled: attempt_abort frees a */
    char msg[320];
    const char *target = a->c->target;
    switch (res->outcome) {
    case FL_HTTP_DONE:
        if (res->status >= 200 && res->status < 300) {
            attempt_done(a, 1, NULL);
            return;
        }
        snprintf(msg, sizeof msg, "GET %s: HTTP %d", target, res->status);
        break;
    case FL_HTTP_TIMEOUT:
        snprintf(msg, sizeof msg, "GET %s: no answer in time", target);
        break;
    default:
        if (res->os_errno)
            snprintf(msg, sizeof msg, "GET %s: %s", target,
                     uv_strerror(uv_translate_sys_error(res->os_errno)));
        else
            snprintf(msg, sizeof msg, "GET %s: %s", target, res->error ? res->error : "failed");
        break;
    }
    attempt_done(a, 0, msg);
}

/* Send the GET of an HTTP attempt. Returns 0, or -1 with msg set (a is
 * untouched and not sent). */
static int start_get(struct attempt *a, uint64_t budget_ms, char *msg, size_t len)
{
    struct fl_ready_check *c = a->c;
    struct fl_http_request rq = {
        .url = c->target,
        .timeout_ms = budget_ms + HTTP_SLACK_MS,
        .max_body = HTTP_BODY_MAX,
    };
    struct fl_error err = {0};
    if (fl_http_submit(c->http, &rq, http_done, a, &a->req, &err)) {
        snprintf(msg, len, "GET %s: %.250s", c->target, err.msg);
        return -1;
    }
    return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct attempt *a = req->data;
    if (a->finished)
        return;   /* aborted: the handle is closing */
    struct fl_ready_check *c = a->c;
    if (status < 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "connect %s: %s", c->target, uv_strerror(status));
        attempt_done(a, 0, msg);
        return;
    }
    attempt_done(a, 1, NULL);
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
    } else if (c->kind == FL_READY_HTTP) {
        if (start_get(a, budget, msg, sizeof msg)) {
            free(a);
            check_result(c, 0, msg);
            return;
        }
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
        if (!rc && spec->kind == FL_READY_HTTP)
            rc = fl_http_new(&c->http, loop, err);
        if (rc) {
            check_free(c);
            return rc;
        }
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->refs = c->http ? 2 : 1;
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
