/* http.c - libcurl multi_socket driven by libuv.
 *
 * The glue follows curl's "multi_socket" contract: curl reports the sockets
 * it cares about through the socket callback and the next timeout through
 * the timer callback; we turn those into uv_poll and uv_timer, and call
 * curl_multi_socket_action() when they fire.
 *
 * Sockets: one uv_poll_t per socket, kept while the socket lives (also when
 * curl parks a keep-alive connection and says CURL_POLL_REMOVE), so a
 * reused connection costs an epoll_ctl, not a handle init/close. The
 * handle is closed from CURLOPT_CLOSESOCKETFUNCTION, before the fd is
 * closed: libuv removes the fd from epoll while it still names our socket.
 */
#include "proto/http.h"
#include "base/util.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL_MAX 1024            /* idle requests (with easy handles) kept */
#define KEEP_BODY_CAP (64 * 1024)/* larger body buffers are not pooled */
#define MAX_FD (1 << 20)
#define MAX_CONNECTS 1024        /* idle connections kept alive */

struct sock_ctx {
    uv_poll_t poll;
    struct fl_http *h;
    curl_socket_t fd;
    int events;     /* what the poll watches (UV_READABLE | UV_WRITABLE) */
    int idle;       /* curl said CURL_POLL_REMOVE: parked keep-alive */
};

struct fl_http_req {
    struct fl_http *h;
    CURL *easy;
    fl_http_cb cb;
    void *ud;
    struct curl_slist *headers;
    struct fl_buf body;
    int truncated;
    char errbuf[CURL_ERROR_SIZE];
    int (*on_data)(void *ud, const char *p, size_t n);  /* streaming, or NULL */
    int configured;      /* setup_fixed() done since the last reset */
    int plain;           /* the last request was a GET without body/headers */
    struct fl_http_req *prev, *next;   /* in flight list, or pool (next) */
};

struct fl_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct sock_ctx **socks;     /* indexed by fd */
    size_t nsocks;
    struct fl_http_req *inflight;/* doubly linked */
    size_t ninflight;
    struct fl_http_req *pool;    /* singly linked through next */
    size_t npool;
    int closing;
    int close_armed;             /* fl_http_close issued every uv_close */
    size_t closes_pending;       /* uv_close calls not yet called back */
    void (*close_cb)(void *ud);
    void *close_ud;
};

static void check_done(struct fl_http *h);

/* ---- handles and their close callbacks ---- */

static void maybe_finish_close(struct fl_http *h)
{
    if (!h->close_armed || h->closes_pending)
        return;
    void (*cb)(void *) = h->close_cb;
    void *ud = h->close_ud;
    free(h->socks);
    free(h);
    curl_global_cleanup();
    if (cb)
        cb(ud);
}

static void on_sock_closed(uv_handle_t *hd)
{
    struct sock_ctx *c = hd->data;
    struct fl_http *h = c->h;
    free(c);
    h->closes_pending--;
    maybe_finish_close(h);
}

static void on_timer_closed(uv_handle_t *hd)
{
    struct fl_http *h = hd->data;
    h->closes_pending--;
    maybe_finish_close(h);
}

static void sock_close(struct fl_http *h, curl_socket_t fd)
{
    if (fd < 0 || (size_t)fd >= h->nsocks || !h->socks[fd])
        return;
    struct sock_ctx *c = h->socks[fd];
    h->socks[fd] = NULL;
    h->closes_pending++;
    uv_close((uv_handle_t *)&c->poll, on_sock_closed);
}

/* The watcher for fd, created on first use. NULL when out of memory or
 * libuv refuses the fd. */
static struct sock_ctx *sock_get(struct fl_http *h, curl_socket_t fd)
{
    if (fd < 0 || fd >= MAX_FD)
        return NULL;
    if ((size_t)fd >= h->nsocks) {
        size_t n = h->nsocks ? h->nsocks : 64;
        while (n <= (size_t)fd)
            n *= 2;
        struct sock_ctx **s = realloc(h->socks, n * sizeof *s);
        if (!s)
            return NULL;
        memset(s + h->nsocks, 0, (n - h->nsocks) * sizeof *s);
        h->socks = s;
        h->nsocks = n;
    }
    if (h->socks[fd])
        return h->socks[fd];
    struct sock_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (uv_poll_init_socket(h->loop, &c->poll, fd) != 0) {
        free(c);
        return NULL;
    }
    c->h = h;
    c->fd = fd;
    c->poll.data = c;
    h->socks[fd] = c;
    return c;
}

/* ---- curl -> libuv ---- */

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *c = p->data;
    struct fl_http *h = c->h;
    if (h->closing)
        return;
    if (c->idle) {
        /* A parked connection woke up (the server closed it, most likely):
         * stop watching; curl finds it dead when it next tries to use it. */
        uv_poll_stop(&c->poll);
        c->events = 0;
        return;
    }
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(h->multi, c->fd, flags, &running);
    check_done(h);
}

static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct fl_http *h = userp;
    struct sock_ctx *c = socketp;
    if (what == CURL_POLL_REMOVE) {
        /* Keep watching a parked keep-alive connection for reading: the
         * next request on it then costs no epoll_ctl at all. Writability
         * is always true, so that one is dropped. */
        if (c && !uv_is_closing((uv_handle_t *)&c->poll)) {
            c->idle = 1;
            if (c->events & UV_WRITABLE) {
                uv_poll_stop(&c->poll);
                c->events = 0;
            }
        }
        return 0;
    }
    if (!c) {
        c = sock_get(h, s);
        if (!c)
            return -1;
        /* New to curl: if a watcher for this fd number survived (a socket
         * closed without CURLOPT_CLOSESOCKETFUNCTION), its registration
         * named the old file; force a fresh uv_poll_start. */
        c->events = 0;
        c->idle = 0;
        curl_multi_assign(h->multi, s, c);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    c->idle = 0;
    if (ev == c->events)
        return 0;
    if (uv_poll_start(&c->poll, ev, on_poll) != 0)
        return -1;
    c->events = ev;
    return 0;
}

static void on_uv_timer(uv_timer_t *t)
{
    struct fl_http *h = t->data;
    if (h->closing)
        return;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct fl_http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else   /* 0 too: run on the next loop turn, never from inside curl */
        uv_timer_start(&h->timer, on_uv_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static int on_close_socket(void *clientp, curl_socket_t s)
{
    sock_close(clientp, s);
    return close(s);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fl_http_req *r = ud;
    size_t n = size * nmemb;
    if (r->on_data)
        return r->on_data(r->ud, p, n) ? 0 : n;
    if (r->truncated)
        return n;
    if (fl_buf_add(&r->body, p, n)) {
        /* Keep what fits, drop the rest but read on: a big body is not a
         * transport error. */
        size_t room = r->body.max - 1 - r->body.len;
        fl_buf_add(&r->body, p, room < n ? room : n);
        r->truncated = 1;
    }
    return n;
}

/* ---- requests ---- */

static void req_free(struct fl_http_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    fl_buf_free(&r->body);
    free(r);
}

static void req_release(struct fl_http *h, struct fl_http_req *r)
{
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    if (h->closing || h->npool >= POOL_MAX) {
        req_free(r);
        return;
    }
    if (r->body.cap > KEEP_BODY_CAP)
        fl_buf_free(&r->body);
    fl_buf_reset(&r->body);
    r->next = h->pool;
    h->pool = r;
    h->npool++;
}

static void link_inflight(struct fl_http *h, struct fl_http_req *r)
{
    r->prev = NULL;
    r->next = h->inflight;
    if (h->inflight)
        h->inflight->prev = r;
    h->inflight = r;
    h->ninflight++;
}

static void unlink_inflight(struct fl_http *h, struct fl_http_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    h->ninflight--;
}

/* Errors after which the server may have seen (part of) the request are
 * "maybe sent"; these ones certainly happened before anything was sent. */
static int sent_maybe(CURLcode code)
{
    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_OUT_OF_MEMORY:
        return 0;
    default:
        return 1;
    }
}

/* Deliver r's result and recycle r. r is already out of the multi handle
 * and the in-flight list. */
static void finish(struct fl_http *h, struct fl_http_req *r, CURLcode code, int aborted)
{
    struct fl_http_result res;
    memset(&res, 0, sizeof res);
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &res.total_s);
    res.status = (int)status;
    res.body = r->body.p ? r->body.p : "";
    res.body_len = r->body.len;
    res.truncated = r->truncated;
    res.curl_code = (int)code;
    if (aborted) {
        res.outcome = FL_HTTP_ABORTED;
        res.error = "aborted";
    } else if (code == CURLE_OK) {
        res.outcome = FL_HTTP_DONE;
    } else {
        res.outcome = code == CURLE_OPERATION_TIMEDOUT ? FL_HTTP_TIMEOUT : FL_HTTP_ERROR;
        res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
        res.sent_maybe = sent_maybe(code);
        long os_errno = 0;
        curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
        res.os_errno = (int)os_errno;
    }
    r->cb(r->ud, &res);
    req_release(h, r);
}

static void check_done(struct fl_http *h)
{
    CURLMsg *msg;
    int left;
    while (!h->closing && (msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        struct fl_http_req *r = (struct fl_http_req *)(void *)priv;
        curl_multi_remove_handle(h->multi, e);
        unlink_inflight(h, r);
        finish(h, r, code, 0);
    }
}

static int valid_method(const char *m)
{
    if (!m[0])
        return 0;
    for (const char *p = m; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'))
            return 0;
    return 1;
}

#define SETOPT(e, opt, val) (rc = rc ? rc : curl_easy_setopt((e), (opt), (val)))

/* Options every request shares: set once per easy handle (and again after
 * a curl_easy_reset). */
static CURLcode setup_fixed(struct fl_http *h, struct fl_http_req *r)
{
    CURL *e = r->easy;
    CURLcode rc = CURLE_OK;
    SETOPT(e, CURLOPT_PRIVATE, (void *)r);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_NOPROXY, "*");
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(e, CURLOPT_WRITEDATA, (void *)r);
    SETOPT(e, CURLOPT_ERRORBUFFER, r->errbuf);
    SETOPT(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    SETOPT(e, CURLOPT_CLOSESOCKETDATA, (void *)h);
    return rc;
}

static int is_plain_get(const struct fl_http_request *rq)
{
    return !rq->body && !rq->nheaders && !rq->unix_socket && !rq->on_data &&
           (!rq->method || strcmp(rq->method, "GET") == 0);
}

/* Configure r->easy for rq. A pooled handle that last ran a plain GET
 * keeps its options and only gets a new URL and timeout (curl_easy_reset
 * plus a dozen setopts is measurable at tens of thousands of requests per
 * second); anything else starts from a reset handle. Returns a CURLcode. */
static CURLcode setup(struct fl_http *h, struct fl_http_req *r, const struct fl_http_request *rq)
{
    CURL *e = r->easy;
    CURLcode rc = CURLE_OK;
    int plain = is_plain_get(rq);
    if (!r->configured || !r->plain || !plain) {
        if (r->configured)
            curl_easy_reset(e);
        r->configured = 0;
        rc = setup_fixed(h, r);
        if (rc)
            return rc;
        r->configured = 1;
    }
    r->plain = plain;
    const char *method = rq->method ? rq->method : "GET";
    SETOPT(e, CURLOPT_URL, rq->url);
    long timeout = (long)(rq->timeout_ms ? rq->timeout_ms : FL_HTTP_DEFAULT_TIMEOUT_MS);
    if (rq->on_data && rq->endless)
        SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    else
        SETOPT(e, CURLOPT_TIMEOUT_MS, timeout);
    if (rq->unix_socket)
        SETOPT(e, CURLOPT_UNIX_SOCKET_PATH, rq->unix_socket);
    if (rq->body) {
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        SETOPT(e, CURLOPT_COPYPOSTFIELDS, rq->body);
        if (strcmp(method, "POST") != 0)
            SETOPT(e, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") == 0) {
        SETOPT(e, CURLOPT_POST, 1L);
        SETOPT(e, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "HEAD") == 0) {
        SETOPT(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        SETOPT(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rq->nheaders) {
        for (size_t i = 0; i < rq->nheaders; i++) {
            struct curl_slist *l = curl_slist_append(r->headers, rq->headers[i]);
            if (!l)
                return CURLE_OUT_OF_MEMORY;
            r->headers = l;
        }
        SETOPT(e, CURLOPT_HTTPHEADER, r->headers);
    }
    return rc;
}

static struct fl_http_req *req_get(struct fl_http *h)
{
    struct fl_http_req *r = h->pool;
    if (r) {
        h->pool = r->next;
        h->npool--;
    } else {
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        r->easy = curl_easy_init();
        if (!r->easy) {
            free(r);
            return NULL;
        }
    }
    r->h = h;
    r->next = r->prev = NULL;
    r->truncated = 0;
    r->on_data = NULL;
    r->errbuf[0] = '\0';
    return r;
}

int fl_http_submit(struct fl_http *h, const struct fl_http_request *rq,
                   fl_http_cb cb, void *ud, struct fl_http_req **handle,
                   struct fl_error *err)
{
    if (h->closing)
        return fl_error_set(err, FL_EINVAL, "http client is closing");
    if (!rq->url || !cb)
        return fl_error_set(err, FL_EINVAL, "http request without url or callback");
    if (rq->method && !valid_method(rq->method))
        return fl_error_set(err, FL_EINVAL, "invalid HTTP method \"%s\"", rq->method);
    struct fl_http_req *r = req_get(h);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "out of memory for an http request");
    size_t max = rq->max_body ? rq->max_body : FL_HTTP_MAX_BODY;
    r->body.max = max + 1;   /* + the NUL fl_buf keeps */
    CURLcode rc = setup(h, r, rq);
    if (rc != CURLE_OK) {
        r->configured = 0;   /* half-configured: reset on next use */
        int code = rc == CURLE_OUT_OF_MEMORY ? FL_ENOMEM : FL_EINVAL;
        fl_error_set(err, code, "%s: %s", rq->url, curl_easy_strerror(rc));
        req_release(h, r);
        return code;
    }
    r->cb = cb;
    r->ud = ud;
    r->on_data = rq->on_data;
    CURLMcode mc = curl_multi_add_handle(h->multi, r->easy);
    if (mc != CURLM_OK) {
        fl_error_set(err, FL_EIO, "%s: %s", rq->url, curl_multi_strerror(mc));
        req_release(h, r);
        return FL_EIO;
    }
    link_inflight(h, r);
    if (handle)
        *handle = r;
    return 0;
}

void fl_http_cancel(struct fl_http_req *r)
{
    struct fl_http *h = r->h;
    curl_multi_remove_handle(h->multi, r->easy);
    unlink_inflight(h, r);
    finish(h, r, CURLE_ABORTED_BY_CALLBACK, 1);
}

size_t fl_http_inflight(const struct fl_http *h)
{
    return h->ninflight;
}

int fl_http_new(struct fl_http **out, uv_loop_t *loop, struct fl_error *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fl_error_set(err, FL_EIO, "curl_global_init failed");
    struct fl_http *h = calloc(1, sizeof *h);
    if (!h) {
        curl_global_cleanup();
        return fl_error_set(err, FL_ENOMEM, "out of memory for the http client");
    }
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi || uv_timer_init(loop, &h->timer) != 0) {
        if (h->multi)
            curl_multi_cleanup(h->multi);
        free(h);
        curl_global_cleanup();
        return fl_error_set(err, FL_EIO, "cannot create the curl multi handle");
    }
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONNECTS);
    *out = h;
    return 0;
}

void fl_http_close(struct fl_http *h, void (*cb)(void *ud), void *ud)
{
    if (h->closing)
        return;
    /* Closing first: callbacks of the cancelled requests may try to submit
     * again, and must be refused. */
    h->closing = 1;
    while (h->inflight)
        fl_http_cancel(h->inflight);
    /* Closes the cached connections; their sockets come back through
     * on_close_socket, which closes their watchers. */
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    while (h->pool) {
        struct fl_http_req *r = h->pool;
        h->pool = r->next;
        req_free(r);
    }
    h->npool = 0;
    for (size_t i = 0; i < h->nsocks; i++)
        sock_close(h, (curl_socket_t)i);
    uv_timer_stop(&h->timer);
    h->closes_pending++;
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
    h->close_cb = cb;
    h->close_ud = ud;
    h->close_armed = 1;
}
