/* proxy.c - the listener, connections and toxic management of a proxy
 * (pipe.c relays the bytes, http_layer.c frames HTTP). */
#include "proxy/proxy_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_SIZE FL_PX_READ_SIZE
/* A read smaller than this is copied into a buffer of its size, so a queue
 * of small chunks (latency toxic, keep-alive traffic) does not pin 64 KB
 * each. */
#define COPY_BELOW 16384

static int parse_addr(const char *hostport, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host)
        return FL_EINVAL;
    size_t hl = (size_t)(colon - hostport);
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return FL_EINVAL;
    if (strcmp(host, "localhost") == 0 || hl == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (host[0] == '[' && hl > 2) {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return FL_EINVAL;
}

static int listen_now(struct fl_proxy *p, struct fl_error *err);

/* ---- per-connection toxic state ------------------------------------- */

static struct ptoxic *find_uid(struct fl_proxy *p, uint64_t uid)
{
    for (size_t i = 0; i < p->ntox; i++)
        if (p->tox[i].uid == uid)
            return &p->tox[i];
    return NULL;
}

struct ctox *fl_px_ctox(struct conn *c, struct ptoxic *pt)
{
    for (size_t i = 0; i < c->ntox; i++)
        if (c->tox[i].uid == pt->uid)
            return &c->tox[i];
    if (c->ntox == sizeof c->tox / sizeof c->tox[0]) {
        /* Forget toxics that were removed since. */
        size_t k = 0;
        for (size_t i = 0; i < c->ntox; i++)
            if (find_uid(c->p, c->tox[i].uid))
                c->tox[k++] = c->tox[i];
        c->ntox = k;
    }
    struct ctox *ct = &c->tox[c->ntox++];
    memset(ct, 0, sizeof *ct);
    ct->uid = pt->uid;
    double tx = pt->t.toxicity;
    ct->on = tx >= 1.0 ? 1 : tx <= 0 ? 0 : fl_rng_below(c->p->rng, 1000000) < (uint64_t)(tx * 1e6);
    ct->tokens = (double)pt->t.burst;
    ct->tokens_at = fl_now_us();
    return ct;
}

int fl_px_toxic_on(struct conn *c, struct ptoxic *pt)
{
    return fl_px_ctox(c, pt)->on;
}

static void on_doom(uv_timer_t *t)
{
    struct conn *c = t->data;
    fl_px_conn_close(c, c->doom_reset);
}

/* Arm the connection's timer for the earliest timeout / reset_peer that
 * applies to it (counted from when both it and the toxic existed). */
static void conn_doom(struct conn *c)
{
    if (c->closing)
        return;
    int64_t best = -1;
    int reset = 0;
    for (size_t i = 0; i < c->p->ntox; i++) {
        struct ptoxic *pt = &c->p->tox[i];
        if (!(pt->t.kind == FL_TX_RESET_PEER || (pt->t.kind == FL_TX_TIMEOUT && pt->t.timeout > 0)))
            continue;
        if (!fl_px_toxic_on(c, pt))
            continue;
        int64_t since = pt->added_us > c->start_us ? pt->added_us : c->start_us;
        int64_t at = since + pt->t.timeout * 1000;
        if (best < 0 || at < best) {
            best = at;
            reset = pt->t.kind == FL_TX_RESET_PEER;
        }
    }
    uv_timer_stop(&c->doom);
    if (best < 0)
        return;
    int64_t now = fl_now_us();
    c->doom_reset = reset;
    uv_timer_start(&c->doom, on_doom, best > now ? (uint64_t)((best - now + 999) / 1000) : 0, 0);
}

/* ---- connections ---------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t sugg, uv_buf_t *b)
{
    (void)h;
    (void)sugg;
    struct rbuf *rb = fl_px_rbuf_new(READ_SIZE);
    *b = rb ? uv_buf_init(rb->data, READ_SIZE) : uv_buf_init(NULL, 0);
}

/* The proxy's memory goes once it is closing and no handle refers to it. */
static void maybe_free(struct fl_proxy *p)
{
    if (!p->closing || p->live || p->listener_open)
        return;
    void (*cb)(void *) = p->close_cb;
    void *ud = p->close_ud;
    free(p);
    if (cb)
        cb(ud);
}

static void free_conn_if_done(struct conn *c)
{
    if (c->open_handles > 0)
        return;
    struct fl_proxy *p = c->p;
    fl_px_pipe_free(&c->up);
    fl_px_pipe_free(&c->down);
    free(c);
    p->live--;
    maybe_free(p);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    c->open_handles--;
    free_conn_if_done(c);
}

void fl_px_conn_close(struct conn *c, int reset)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct fl_proxy *p = c->p;
    if (c->http)
        fl_px_http_closed(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    p->st.open--;
    uv_tcp_t *socks[2] = {&c->client, &c->server};
    for (int i = 0; i < 2; i++) {
        uv_handle_t *h = (uv_handle_t *)socks[i];
        if (uv_is_closing(h))
            continue;
        if (reset && (i == 0 || c->connected))
            if (uv_tcp_close_reset(socks[i], on_conn_handle_closed) == 0)
                continue;
        uv_close(h, on_conn_handle_closed);
    }
    c->up.timer.data = c->down.timer.data = c;   /* the close callback wants the conn */
    uv_timer_stop(&c->up.timer);
    uv_timer_stop(&c->down.timer);
    uv_close((uv_handle_t *)&c->up.timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->down.timer, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->doom, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    struct rbuf *rb = b->base ? (struct rbuf *)(b->base - offsetof(struct rbuf, data)) : NULL;
    struct pipe *pp = s == (uv_stream_t *)&c->client ? &c->up : &c->down;
    if (c->closing || nread == 0) {
        fl_px_rbuf_unref(rb);
        return;
    }
    if (nread < 0) {
        fl_px_rbuf_unref(rb);
        uv_read_stop(s);
        if (nread != UV_EOF) {
            fl_px_conn_close(c, 1);
            return;
        }
        pp->src_eof = 1;
        if (c->http && pp == &c->down)
            fl_px_http_down_eof(c);
        int64_t delay = 0;
        for (size_t i = 0; i < c->p->ntox; i++) {
            struct ptoxic *pt = &c->p->tox[i];
            if (pt->t.kind == FL_TX_SLOW_CLOSE && pt->t.stream == pp->dir && fl_px_toxic_on(c, pt))
                delay += pt->t.delay * 1000;
        }
        fl_px_pipe_mark(pp, M_FIN, delay);
        return;
    }
    if (!rb) {
        fl_px_conn_close(c, 1);
        return;
    }
    rb->len = (size_t)nread;
    if (nread < COPY_BELOW) {
        struct rbuf *small = fl_px_rbuf_new((size_t)nread);
        if (small) {
            memcpy(small->data, rb->data, (size_t)nread);
            fl_px_rbuf_unref(rb);
            rb = small;
        }
    }
    if (c->http && pp == &c->up)
        fl_px_http_up(c, rb, rb->data, (size_t)nread);
    else if (c->http)
        fl_px_http_down(c, rb, rb->data, (size_t)nread);
    else
        fl_px_pipe_feed(pp, rb, rb->data, (size_t)nread, 0);
    fl_px_rbuf_unref(rb);
}

void fl_px_conn_readable(struct conn *c, struct pipe *pp)
{
    if (!c->closing && c->connected && !pp->src_eof && !pp->stopped)
        uv_read_start((uv_stream_t *)pp->src, on_alloc, on_read);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        fl_px_conn_close(c, 1);
        return;
    }
    c->connected = 1;
    uv_tcp_nodelay(&c->server, 1);
    fl_px_conn_readable(c, &c->up);
    fl_px_conn_readable(c, &c->down);
    fl_px_pipe_pump(&c->up);
    fl_px_pipe_pump(&c->down);
}

static void on_connection(uv_stream_t *srv, int status)
{
    struct fl_proxy *p = srv->data;
    if (status < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->p = p;
    p->live++;
    c->id = ++p->next_conn;
    c->start_us = fl_now_us();
    uv_tcp_init(p->loop, &c->client);
    uv_tcp_init(p->loop, &c->server);
    uv_timer_init(p->loop, &c->doom);
    uv_timer_init(p->loop, &c->idle);
    c->client.data = c->server.data = c->doom.data = c->idle.data = c;
    fl_px_pipe_init(c, &c->up, FL_UPSTREAM);
    fl_px_pipe_init(c, &c->down, FL_DOWNSTREAM);
    c->open_handles = 6;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->st.accepted++;
    p->st.open++;
    if (p->http) {
        c->http = 1;
        fl_h1_init(&c->req, 0);
        fl_h1_init(&c->resp, 1);
        c->req_forward = 1;
    }
    if (uv_accept(srv, (uv_stream_t *)&c->client) < 0) {
        fl_px_conn_close(c, 0);
        return;
    }
    uv_tcp_nodelay(&c->client, 1);
    char up[128];
    struct sockaddr_storage ss;
    if (p->upstream(p->ud, up, sizeof up) || parse_addr(up, &ss)) {
        fl_px_conn_close(c, 1);
        return;
    }
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->server, (struct sockaddr *)&ss, on_connect) < 0) {
        fl_px_conn_close(c, 1);
        return;
    }
    conn_doom(c);
}

/* ---- the proxy ------------------------------------------------------ */

static int listen_now(struct fl_proxy *p, struct fl_error *err)
{
    uv_tcp_init(p->loop, &p->listener);
    p->listener.data = p;
    p->listener_open = 1;
    int rc = uv_tcp_bind(&p->listener, (struct sockaddr *)&p->addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&p->listener, 511, on_connection);
    if (rc < 0)
        return fl_error_set(err, FL_ESYS, "proxy %s: cannot listen on %s: %s", p->name,
                            p->listen, uv_strerror(rc));
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&ss, &len);
    p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    ((struct sockaddr_in *)&p->addr)->sin_port = htons((uint16_t)p->port);
    char host[64] = "127.0.0.1";
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
        snprintf(p->listen, sizeof p->listen, "[%s]:%d", host, p->port);
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
        snprintf(p->listen, sizeof p->listen, "%s:%d", host, p->port);
    }
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct fl_proxy *p = h->data;
    p->listener_open = 0;
    if (!p->closing && p->enabled)
        listen_now(p, NULL);   /* enabled again while the close was pending */
    maybe_free(p);
}

int fl_proxy_new(uv_loop_t *loop, const struct fl_proxy_opts *o, struct fl_proxy **out,
                 struct fl_error *err)
{
    *out = NULL;
    struct fl_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    p->loop = loop;
    snprintf(p->name, sizeof p->name, "%s", o->name ? o->name : "proxy");
    snprintf(p->listen, sizeof p->listen, "%s", o->listen ? o->listen : "127.0.0.1:0");
    p->http = o->http;
    p->upstream = o->upstream;
    p->ud = o->ud;
    p->observe = o->observe;
    p->rng = o->rng;
    p->enabled = 1;
    p->next_uid = 1;
    if (parse_addr(p->listen, &p->addr)) {
        int rc = fl_error_set(err, FL_EINVAL, "proxy %s: listen address '%s' is not HOST:PORT",
                              p->name, p->listen);
        free(p);
        return rc;
    }
    int rc = listen_now(p, err);
    if (rc) {
        p->closing = 1;
        uv_close((uv_handle_t *)&p->listener, on_listener_closed);
        return rc;
    }
    *out = p;
    return 0;
}

const char *fl_proxy_name(const struct fl_proxy *p) { return p->name; }
const char *fl_proxy_listen_addr(const struct fl_proxy *p) { return p->listen; }
int fl_proxy_port(const struct fl_proxy *p) { return p->port; }
int fl_proxy_is_http(const struct fl_proxy *p) { return p->http; }
int fl_proxy_enabled(const struct fl_proxy *p) { return p->enabled; }
void fl_proxy_set_upstream_ud(struct fl_proxy *p, void *ud) { p->ud = ud; }

void fl_proxy_stats(const struct fl_proxy *p, struct fl_proxy_stats *st)
{
    *st = p->st;
}

static struct ptoxic *find_name(struct fl_proxy *p, const char *name)
{
    for (size_t i = 0; i < p->ntox; i++)
        if (strcmp(p->tox[i].t.name, name) == 0)
            return &p->tox[i];
    return NULL;
}

static void all_doom(struct fl_proxy *p)
{
    for (struct conn *c = p->conns; c; c = c->next)
        conn_doom(c);
}

int fl_proxy_add_toxic(struct fl_proxy *p, const struct fl_toxic *t, struct fl_error *err)
{
    if (!t->name[0])
        return fl_error_set(err, FL_EINVAL, "a toxic needs a name");
    if (find_name(p, t->name))
        return fl_error_set(err, FL_EINVAL, "toxic already exists: %s", t->name);
    if (p->ntox == FL_PROXY_MAX_TOXICS)
        return fl_error_set(err, FL_EINVAL, "proxy %s: at most %d toxics", p->name,
                            FL_PROXY_MAX_TOXICS);
    if (fl_toxic_is_http(t->kind) && !p->http)
        return fl_error_set(err, FL_EINVAL, "proxy %s relays TCP: %s needs an HTTP proxy "
                            "(protocol: http)", p->name, fl_toxic_kind_name(t->kind));
    struct ptoxic *pt = &p->tox[p->ntox++];
    memset(pt, 0, sizeof *pt);
    pt->t = *t;
    pt->uid = p->next_uid++;
    pt->added_us = fl_now_us();
    pt->tokens = (double)t->burst;
    pt->tokens_at = pt->added_us;
    all_doom(p);
    return 0;
}

int fl_proxy_update_toxic(struct fl_proxy *p, const struct fl_toxic *t, struct fl_error *err)
{
    struct ptoxic *pt = find_name(p, t->name);
    if (!pt)
        return fl_error_set(err, FL_ENOTFOUND, "toxic not found: %s", t->name);
    pt->t = *t;
    all_doom(p);
    return 0;
}

int fl_proxy_remove_toxic(struct fl_proxy *p, const char *name)
{
    struct ptoxic *pt = find_name(p, name);
    if (!pt)
        return FL_ENOTFOUND;
    size_t i = (size_t)(pt - p->tox);
    memmove(&p->tox[i], &p->tox[i + 1], (p->ntox - i - 1) * sizeof p->tox[0]);
    p->ntox--;
    all_doom(p);
    for (struct conn *c = p->conns; c; c = c->next)
        if (c->http)
            fl_px_http_idle_check(c);
    return 0;
}

void fl_proxy_remove_all(struct fl_proxy *p)
{
    p->ntox = 0;
    all_doom(p);
}

const struct fl_toxic *fl_proxy_toxic_at(const struct fl_proxy *p, size_t i)
{
    return i < p->ntox ? &p->tox[i].t : NULL;
}

static void close_all_conns(struct fl_proxy *p, int reset)
{
    size_t guard = 0;
    while (p->conns && guard++ < 10000000)
        fl_px_conn_close(p->conns, reset);
}

int fl_proxy_set_enabled(struct fl_proxy *p, int enabled, struct fl_error *err)
{
    if (enabled == p->enabled)
        return 0;
    p->enabled = enabled;
    if (!enabled) {
        close_all_conns(p, 0);
        if (p->listener_open && !uv_is_closing((uv_handle_t *)&p->listener))
            uv_close((uv_handle_t *)&p->listener, on_listener_closed);
        return 0;
    }
    if (p->listener_open)
        return 0;   /* still closing: on_listener_closed listens again */
    return listen_now(p, err);
}

void fl_proxy_close(struct fl_proxy *p, void (*cb)(void *ud), void *ud)
{
    if (p->closing)
        return;
    p->closing = 1;
    p->close_cb = cb;
    p->close_ud = ud;
    close_all_conns(p, 0);
    if (p->listener_open && !uv_is_closing((uv_handle_t *)&p->listener))
        uv_close((uv_handle_t *)&p->listener, on_listener_closed);
    else
        maybe_free(p);
}
