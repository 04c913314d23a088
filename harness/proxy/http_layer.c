/* http_layer.c - HTTP/1.1 on a proxied connection: frame requests and
 * responses, answer instead of forwarding (http_status, http_ratelimit),
 * delay (http_delay), close idle keep-alive connections
 * (http_close_idle), and report every exchange.
 *
 * Pipelining: requests are answered in the order they came. A request
 * faultline answers waits in the connection's queue until every earlier
 * request's response has been queued for the client; the upstream only
 * sees the forwarded requests, so its responses map in order onto the
 * forwarded entries of the queue. */
#include "proxy/proxy_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_QUEUED_REQUESTS 1024

static void observe(struct conn *c, struct hreq *r, int64_t end)
{
    struct fl_proxy *p = c->p;
    p->st.exchanges++;
    if (r->injected)
        p->st.injected++;
    if (!p->observe)
        return;
    struct fl_http_exchange x = {
        .proxy = p->name, .conn = c->id, .method = r->method, .path = r->path,
        .client = r->client,
        .status = r->status, .start_us = r->start_us, .end_us = end,
        .injected = r->injected, .retry_after_s = r->retry_after,
    };
    p->observe(p->ud, &x);
}

static void pop(struct conn *c)
{
    struct hreq *r = c->rq_head;
    c->rq_head = r->next;
    if (!c->rq_head)
        c->rq_tail = NULL;
    c->nrq--;
    fl_px_rbuf_unref(r->answer);
    free(r);
}

static void on_idle(uv_timer_t *t)
{
    struct conn *c = t->data;
    /* The way uvicorn does it: the server closes an idle keep-alive
     * connection (FIN); a client that reuses it finds out on its next
     * request. Behind whatever answer bytes are still queued (a latency
     * toxic), so nothing already answered is lost. */
    fl_px_pipe_mark(&c->down, M_CLOSE, 0);
}

void fl_px_http_idle_check(struct conn *c)
{
    if (c->closing)
        return;
    uv_timer_stop(&c->idle);
    if (c->rq_head || c->req.hlen)
        return;
    for (size_t i = 0; i < c->p->ntox; i++) {
        struct ptoxic *pt = &c->p->tox[i];
        if (pt->t.kind == FL_TX_HTTP_CLOSE_IDLE && fl_px_toxic_on(c, pt)) {
            uv_timer_start(&c->idle, on_idle, (uint64_t)pt->t.idle, 0);
            return;
        }
    }
}

/* Queue the answers faultline made that are now at the head. */
static void flush(struct conn *c)
{
    size_t guard = 0;
    while (c->rq_head && c->rq_head->injected && guard++ < MAX_QUEUED_REQUESTS) {
        struct hreq *r = c->rq_head;
        fl_px_pipe_feed(&c->down, r->answer, r->answer->data, r->answer->len, 0);
        observe(c, r, fl_now_us());
        pop(c);
    }
    fl_px_http_idle_check(c);
}

static int matches(const struct fl_toxic *t, struct fl_h1 *h)
{
    if (t->method[0] && strcasecmp(t->method, h->method) != 0)
        return 0;
    if (t->path[0]) {
        size_t n = strlen(t->path);
        if (t->path[n - 1] == '$') {
            if (strlen(h->path) != n - 1 || strncmp(h->path, t->path, n - 1) != 0)
                return 0;
        } else if (strncmp(h->path, t->path, n) != 0) {
            return 0;
        }
    }
    if (t->header[0]) {
        char v[512];
        if (fl_h1_header(h, t->header, v, sizeof v))
            return 0;
        if (t->header_value[0] && !strstr(v, t->header_value))
            return 0;
    }
    return 1;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Injected";
    }
}

/* The answer faultline gives instead of forwarding. */
static struct rbuf *answer(const struct fl_toxic *t, int status, const char *body,
                           const char *extra, int head_req)
{
    char hdr[2048];
    size_t blen = strlen(body);
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "x-faultline-injected: 1\r\n%s%s\r\n",
                     status, reason(status), blen, extra, t->headers);
    if (n < 0 || (size_t)n >= sizeof hdr)
        n = (int)strlen(hdr);
    size_t total = (size_t)n + (head_req ? 0 : blen);
    struct rbuf *rb = fl_px_rbuf_new(total);
    if (!rb)
        return NULL;
    memcpy(rb->data, hdr, (size_t)n);
    if (!head_req)
        memcpy(rb->data + n, body, blen);
    return rb;
}

/* Refill a bucket and take a token: 1 when one was there. */
static int take_token(const struct fl_toxic *t, double *tokens, int64_t *at, double *retry_s)
{
    int64_t now = fl_now_us();
    *tokens += (double)(now - *at) / 1e6 * t->per_sec;
    if (*tokens > (double)t->burst)
        *tokens = (double)t->burst;
    *at = now;
    if (*tokens >= 1.0) {
        *tokens -= 1.0;
        return 1;
    }
    *retry_s = t->per_sec > 0 ? (1.0 - *tokens) / t->per_sec : 3600;
    return 0;
}

/* Decide what happens to the request whose head just completed: returns
 * the answer to give (NULL: forward) and adds request delays to *delay. */
static struct rbuf *decide(struct conn *c, struct hreq *r, int64_t *delay)
{
    struct fl_proxy *p = c->p;
    struct fl_h1 *h = &c->req;
    int head_req = strcasecmp(h->method, "HEAD") == 0;
    for (size_t i = 0; i < p->ntox; i++) {
        struct ptoxic *pt = &p->tox[i];
        const struct fl_toxic *t = &pt->t;
        if (!fl_toxic_is_http(t->kind) || t->kind == FL_TX_HTTP_CLOSE_IDLE)
            continue;
        if (!fl_px_toxic_on(c, pt) || !matches(t, h))
            continue;
        if (t->kind == FL_TX_HTTP_DELAY) {
            if (!t->on_response) {
                int64_t ms = t->latency + (t->jitter > 0 ? (int64_t)fl_rng_below(p->rng,
                                           (uint64_t)(2 * t->jitter + 1)) - t->jitter : 0);
                *delay += (ms > 0 ? ms : 0) * 1000;
            }
            continue;
        }
        if (t->kind == FL_TX_HTTP_STATUS) {
            pt->matched++;
            if (t->first > 0 && pt->matched > t->first)
                continue;
            if (t->percentage < 100 &&
                (double)fl_rng_below(p->rng, 1000000) >= t->percentage * 10000)
                continue;
            r->status = t->status;
            return answer(t, t->status, t->body[0] ? t->body : "injected by faultline\n", "",
                          head_req);
        }
        if (t->kind == FL_TX_HTTP_RATELIMIT) {
            double retry = 0;
            int ok;
            if (t->per_connection) {
                struct ctox *ct = fl_px_ctox(c, pt);
                ok = take_token(t, &ct->tokens, &ct->tokens_at, &retry);
            } else {
                ok = take_token(t, &pt->tokens, &pt->tokens_at, &retry);
            }
            if (ok)
                continue;
            long ra = (long)ceil(retry);
            if (ra < 1)
                ra = 1;
            char extra[512];
            int n = snprintf(extra, sizeof extra, "Retry-After: %ld\r\n", ra);
            if (t->policy_headers && n > 0 && (size_t)n < sizeof extra) {
                long w = t->per_sec > 0 ? (long)ceil((double)t->burst / t->per_sec) : 1;
                snprintf(extra + n, sizeof extra - (size_t)n,
                         "RateLimit-Policy: \"faultline\";q=%lld;w=%ld\r\n"
                         "RateLimit: \"faultline\";r=0;t=%ld\r\n",
                         (long long)t->burst, w < 1 ? 1 : w, ra);
            }
            r->status = t->status;
            r->retry_after = ra;
            return answer(t, t->status, "rate limited by faultline\n", extra, head_req);
        }
    }
    return NULL;
}

static void head_done(struct conn *c, int64_t *delay)
{
    struct fl_h1 *h = &c->req;
    if (h->tunnel) {
        /* Not HTTP we can frame: forward as it is from now on. */
        fl_px_pipe_feed(&c->up, NULL, h->head, h->hlen, 0);
        c->req_forward = 1;
        return;
    }
    struct hreq *r = calloc(1, sizeof *r);
    if (!r || c->nrq >= MAX_QUEUED_REQUESTS) {
        free(r);
        fl_px_conn_close(c, 1);
        return;
    }
    snprintf(r->method, sizeof r->method, "%s", h->method);
    snprintf(r->path, sizeof r->path, "%s", h->path);
    if (fl_h1_header(h, "User-Agent", r->client, sizeof r->client))
        r->client[0] = '\0';
    r->start_us = fl_now_us();
    r->retry_after = -1;
    *delay = 0;
    r->answer = decide(c, r, delay);
    r->injected = r->answer != NULL;
    if (c->rq_tail)
        c->rq_tail->next = r;
    else
        c->rq_head = r;
    c->rq_tail = r;
    c->nrq++;
    c->req_forward = !r->injected;
    if (c->req_forward)
        fl_px_pipe_feed(&c->up, NULL, h->head, h->hlen, *delay);
}

void fl_px_http_up(struct conn *c, struct rbuf *rb, const char *base, size_t n)
{
    uv_timer_stop(&c->idle);
    int64_t delay = 0;
    size_t guard = 0;
    while ((n > 0 || fl_h1_at_end(&c->req)) && !c->closing && guard++ < 100000) {
        size_t used;
        int was_tunnel = c->req.tunnel;
        enum fl_h1_event ev = fl_h1_feed(&c->req, base, n, &used);
        if (!was_tunnel && c->req.tunnel && ev == FL_H1_MORE) {
            /* The head grew past the limit: forward it as it is. */
            fl_px_pipe_feed(&c->up, NULL, c->req.head, c->req.hlen, 0);
            c->req_forward = 1;
        }
        if (ev == FL_H1_HEAD)
            head_done(c, &delay);
        else if (ev == FL_H1_BODY && c->req_forward)
            fl_px_pipe_feed(&c->up, rb, base, used, delay);
        else if (ev == FL_H1_END)
            flush(c);
        base += used;
        n -= used;
    }
}

/* The forwarded request the upstream's next response answers. */
static struct hreq *answering(struct conn *c)
{
    for (struct hreq *r = c->rq_head; r; r = r->next)
        if (!r->injected && r->status == 0)
            return r;
    return NULL;
}

static void response_done(struct conn *c)
{
    struct hreq *r = answering(c);
    if (!r)
        return;
    r->status = c->resp.status;
    r->retry_after = c->resp.retry_after;
    /* Responses come in request order: everything before r is answered. */
    observe(c, r, fl_now_us());
    r->status = -1;  /* answered */
    if (c->rq_head == r)
        pop(c);
    else {
        struct hreq *q = c->rq_head;
        while (q->next != r)
            q = q->next;
        q->next = r->next;
        if (c->rq_tail == r)
            c->rq_tail = q;
        c->nrq--;
        free(r);
    }
    flush(c);
}

void fl_px_http_down(struct conn *c, struct rbuf *rb, const char *base, size_t n)
{
    size_t guard = 0;
    while ((n > 0 || fl_h1_at_end(&c->resp)) && !c->closing && guard++ < 100000) {
        if (!c->resp.hlen) {
            struct hreq *r = answering(c);
            c->resp.req_was_head = r && strcasecmp(r->method, "HEAD") == 0;
        }
        size_t used;
        enum fl_h1_event ev = fl_h1_feed(&c->resp, base, n, &used);
        if (ev == FL_H1_HEAD) {
            c->resp_extra_us = 0;
            struct hreq *r = answering(c);
            for (size_t i = 0; r && i < c->p->ntox; i++) {
                struct ptoxic *pt = &c->p->tox[i];
                const struct fl_toxic *t = &pt->t;
                if (t->kind != FL_TX_HTTP_DELAY || !t->on_response || !fl_px_toxic_on(c, pt))
                    continue;
                if (t->method[0] && strcasecmp(t->method, r->method) != 0)
                    continue;
                if (t->path[0] && strncmp(r->path, t->path, strlen(t->path)) != 0)
                    continue;
                int64_t ms = t->latency + (t->jitter > 0 ? (int64_t)fl_rng_below(c->p->rng,
                                           (uint64_t)(2 * t->jitter + 1)) - t->jitter : 0);
                c->resp_extra_us += (ms > 0 ? ms : 0) * 1000;
            }
            fl_px_pipe_feed(&c->down, NULL, c->resp.head, c->resp.hlen, c->resp_extra_us);
        } else if (ev == FL_H1_BODY) {
            fl_px_pipe_feed(&c->down, rb, base, used, c->resp_extra_us);
        } else if (ev == FL_H1_END) {
            if (c->resp.status >= 200 || c->resp.tunnel)
                response_done(c);
            c->resp_extra_us = 0;
        } else if (c->resp.tunnel && c->resp.hlen) {
            fl_px_pipe_feed(&c->down, NULL, c->resp.head, c->resp.hlen, 0);
        }
        base += used;
        n -= used;
    }
}

void fl_px_http_down_eof(struct conn *c)
{
    if (fl_h1_eof_ends(&c->resp))
        response_done(c);
}

void fl_px_http_closed(struct conn *c)
{
    int64_t now = fl_now_us();
    size_t guard = 0;
    while (c->rq_head && guard++ < MAX_QUEUED_REQUESTS) {
        struct hreq *r = c->rq_head;
        if (r->status >= 0 && !r->injected) {
            r->status = 0;
            observe(c, r, now);
        }
        pop(c);
    }
}
