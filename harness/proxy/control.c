/* control.c - Toxiproxy's JSON API over a set of proxies (control.h). */
#include "base/util.h"
#include "proxy/control.h"
#include "proxy/http1.h"
#include "proxy/proxy.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROXIES 64
#define BODY_MAX (1u << 20)

struct pent {
    char name[64];
    char upstream[256];
    int http;
    struct fl_proxy *p;
};

struct fl_control {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t heartbeat;
    uint64_t heartbeat_ms;
    char listen[128];
    struct fl_rng rng;
    struct pent *px[MAX_PROXIES];
    size_t npx;
    size_t open;                 /* handles and proxies still closing */
    struct client *clients;
    int closing;
    void (*log)(void *ud, const char *msg);
    void *ud;
    void (*close_cb)(void *ud);
    void *close_ud;
};

struct client {
    struct fl_control *ctl;
    struct client *prev, *next;
    uv_tcp_t h;
    struct fl_h1 req;
    struct fl_buf body;
    char method[16], path[512];
    int closing;
};

static void logf_(struct fl_control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct fl_control *c, const char *fmt, ...)
{
    if (!c->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->log(c->ud, msg);
}

/* ---- the model -------------------------------------------------------- */

static struct pent *find(struct fl_control *c, const char *name)
{
    for (size_t i = 0; i < c->npx; i++)
        if (strcmp(c->px[i]->name, name) == 0)
            return c->px[i];
    return NULL;
}

static int upstream_of(void *ud, char *buf, size_t len)
{
    struct pent *e = ud;
    snprintf(buf, len, "%s", e->upstream);
    return 0;
}

static json_t *toxic_json(const struct fl_toxic *t)
{
    struct fl_buf b;
    fl_buf_init(&b, 8192);
    fl_buf_adds(&b, "{");
    fl_toxic_attrs_json(t, &b);
    fl_buf_adds(&b, "}");
    json_t *attrs = json_loads(fl_buf_str(&b), 0, NULL);
    fl_buf_free(&b);
    return json_pack("{s:s,s:s,s:s,s:f,s:o}", "name", t->name, "type",
                     fl_toxic_kind_name(t->kind), "stream",
                     t->stream == FL_UPSTREAM ? "upstream" : "downstream", "toxicity",
                     t->toxicity, "attributes", attrs ? attrs : json_object());
}

static json_t *toxics_json(struct pent *e)
{
    json_t *a = json_array();
    const struct fl_toxic *t;
    for (size_t i = 0; (t = fl_proxy_toxic_at(e->p, i)); i++)
        json_array_append_new(a, toxic_json(t));
    return a;
}

static json_t *proxy_json(struct pent *e)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:s,s:o}", "name", e->name, "listen",
                     fl_proxy_listen_addr(e->p), "upstream", e->upstream, "enabled",
                     fl_proxy_enabled(e->p), "protocol", e->http ? "http" : "tcp", "toxics",
                     toxics_json(e));
}

static int loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "localhost:", 10) == 0 ||
           strncmp(listen, "[::1]:", 6) == 0;
}

static void drop_proxy(struct fl_control *c, struct pent *e);

/* Create a proxy from {name, listen, upstream, enabled, protocol}. */
static int create(struct fl_control *c, json_t *o, struct pent **out, char *why, size_t wl)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *listen = json_string_value(json_object_get(o, "listen"));
    const char *up = json_string_value(json_object_get(o, "upstream"));
    const char *proto = json_string_value(json_object_get(o, "protocol"));
    json_t *en = json_object_get(o, "enabled");
    if (!name || !name[0] || strlen(name) >= 64)
        return snprintf(why, wl, "missing required field: name"), 400;
    if (!up || strlen(up) >= 256)
        return snprintf(why, wl, "missing required field: upstream"), 400;
    if (!listen)
        listen = "127.0.0.1:0";
    if (!loopback(listen))
        return snprintf(why, wl, "listen: faultline proxies listen on loopback only (%s)", listen), 400;
    if (find(c, name))
        return snprintf(why, wl, "proxy already exists"), 409;
    if (c->npx == MAX_PROXIES)
        return snprintf(why, wl, "at most %d proxies", MAX_PROXIES), 400;
    struct pent *e = calloc(1, sizeof *e);
    if (!e)
        return snprintf(why, wl, "out of memory"), 500;
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->upstream, sizeof e->upstream, "%s", up);
    e->http = proto && strcmp(proto, "http") == 0;
    struct fl_proxy_opts po = {.name = e->name, .listen = listen, .http = e->http,
                               .upstream = upstream_of, .ud = e, .rng = &c->rng};
    struct fl_error err = {0};
    if (fl_proxy_new(c->loop, &po, &e->p, &err)) {
        free(e);
        return snprintf(why, wl, "%s", err.msg), 500;
    }
    c->px[c->npx++] = e;
    if (json_is_false(en))
        fl_proxy_set_enabled(e->p, 0, &err);
    logf_(c, "proxy %s on %s to %s (%s)", e->name, fl_proxy_listen_addr(e->p), e->upstream,
          e->http ? "http" : "tcp");
    *out = e;
    return 201;
}

/* Fill t from a toxic JSON object (defaults applied first when fresh). */
static int toxic_from(json_t *o, struct fl_toxic *t, int fresh, char *why, size_t wl)
{
    if (fresh) {
        const char *type = json_string_value(json_object_get(o, "type"));
        int k = type ? fl_toxic_kind_find(type) : -1;
        if (k < 0)
            return snprintf(why, wl, "invalid toxic type: %s", type ? type : "(none)"), 400;
        fl_toxic_defaults(t, (enum fl_toxic_kind)k);
        const char *stream = json_string_value(json_object_get(o, "stream"));
        if (stream && strcmp(stream, "upstream") && strcmp(stream, "downstream"))
            return snprintf(why, wl, "stream must be upstream or downstream"), 400;
        if (stream)
            t->stream = strcmp(stream, "upstream") == 0 ? FL_UPSTREAM : FL_DOWNSTREAM;
        else if (!fl_toxic_is_http(t->kind))
            t->stream = FL_DOWNSTREAM;
        const char *name = json_string_value(json_object_get(o, "name"));
        snprintf(t->name, sizeof t->name, "%s", name && name[0] ? name : "");
        if (!t->name[0])
            snprintf(t->name, sizeof t->name, "%s_%s", type,
                     t->stream == FL_UPSTREAM ? "upstream" : "downstream");
    }
    json_t *tx = json_object_get(o, "toxicity");
    if (json_is_number(tx)) {
        double v = json_number_value(tx);
        if (v < 0 || v > 1)
            return snprintf(why, wl, "toxicity must be between 0 and 1"), 400;
        t->toxicity = v;
    }
    json_t *attrs = json_object_get(o, "attributes");
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v) {
        char text[1100];
        if (json_is_integer(v))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(text, sizeof text, "%g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
        else if (json_is_string(v))
            snprintf(text, sizeof text, "%s", json_string_value(v));
        else
            continue;
        struct fl_error err = {0};
        int rc = fl_toxic_set_attr(t, key, text, &err);
        if (rc == FL_EINVAL)
            return snprintf(why, wl, "%s", err.msg), 400;
    }
    return 0;
}

static void reset_all(struct fl_control *c)
{
    for (size_t i = 0; i < c->npx; i++) {
        struct fl_error err = {0};
        fl_proxy_remove_all(c->px[i]->p);
        fl_proxy_set_enabled(c->px[i]->p, 1, &err);
    }
}

/* ---- requests --------------------------------------------------------- */

struct answer {
    int status;
    json_t *body;   /* NULL: no body */
    char error[512];
};

static void err_answer(struct answer *a, int status, const char *msg)
{
    a->status = status;
    snprintf(a->error, sizeof a->error, "%s", msg);
    a->body = json_pack("{s:s,s:i}", "error", msg, "status", status);
}

static void handle(struct fl_control *c, const char *method, const char *path, const char *body,
                   struct answer *a)
{
    char why[512] = "";
    int get = !strcmp(method, "GET"), post = !strcmp(method, "POST") || !strcmp(method, "PATCH");
    int del = !strcmp(method, "DELETE");
    a->status = 200;
    a->body = NULL;
    json_t *in = body && body[0] ? json_loads(body, 0, NULL) : NULL;
    if (body && body[0] && !in && (post)) {
        err_answer(a, 400, "bad request body: not JSON");
        return;
    }
    char seg[4][256];
    int nseg = 0;
    for (const char *p = path; *p && nseg < 4;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l >= sizeof seg[0])
            l = sizeof seg[0] - 1;
        memcpy(seg[nseg], p, l);
        seg[nseg++][l] = '\0';
        p += l;
    }
    if (nseg == 1 && !strcmp(seg[0], "version") && get) {
        a->body = json_pack("{s:s}", "version", "faultline-" FL_VERSION_STRING);
    } else if (nseg == 1 && !strcmp(seg[0], "reset") && post) {
        reset_all(c);
        a->status = 204;
        logf_(c, "reset: every toxic removed, every proxy enabled");
    } else if (nseg == 1 && !strcmp(seg[0], "populate") && post) {
        json_t *list = json_is_array(in) ? in : json_object_get(in, "proxies");
        if (!json_is_array(list)) {
            err_answer(a, 400, "populate: expected a list of proxies");
        } else {
            json_t *made = json_array();
            size_t i;
            json_t *o;
            json_array_foreach(list, i, o) {
                const char *name = json_string_value(json_object_get(o, "name"));
                struct pent *old = name ? find(c, name) : NULL;
                if (old)
                    drop_proxy(c, old);   /* populate replaces */
                struct pent *e;
                int st = create(c, o, &e, why, sizeof why);
                if (st != 201) {
                    json_decref(made);
                    made = NULL;
                    err_answer(a, st, why);
                    break;
                }
                json_array_append_new(made, proxy_json(e));
            }
            if (made) {
                a->status = 201;
                a->body = json_pack("{s:o}", "proxies", made);
            }
        }
    } else if (nseg == 1 && !strcmp(seg[0], "proxies") && get) {
        a->body = json_object();
        for (size_t i = 0; i < c->npx; i++)
            json_object_set_new(a->body, c->px[i]->name, proxy_json(c->px[i]));
    } else if (nseg == 1 && !strcmp(seg[0], "proxies") && post) {
        struct pent *e;
        int st = create(c, in, &e, why, sizeof why);
        if (st == 201) {
            a->status = 201;
            a->body = proxy_json(e);
        } else {
            err_answer(a, st, why);
        }
    } else if (nseg >= 2 && !strcmp(seg[0], "proxies")) {
        struct pent *e = find(c, seg[1]);
        if (!e) {
            err_answer(a, 404, "proxy not found");
        } else if (nseg == 2 && get) {
            a->body = proxy_json(e);
        } else if (nseg == 2 && post) {
            struct fl_error err = {0};
            const char *up = json_string_value(json_object_get(in, "upstream"));
            if (up && strlen(up) < sizeof e->upstream)
                snprintf(e->upstream, sizeof e->upstream, "%s", up);
            json_t *en = json_object_get(in, "enabled");
            if (json_is_boolean(en))
                fl_proxy_set_enabled(e->p, json_is_true(en), &err);
            logf_(c, "proxy %s: %s", e->name, fl_proxy_enabled(e->p) ? "enabled" : "disabled");
            a->body = proxy_json(e);
        } else if (nseg == 2 && del) {
            drop_proxy(c, e);
            a->status = 204;
        } else if (nseg == 3 && !strcmp(seg[2], "toxics") && get) {
            a->body = toxics_json(e);
        } else if (nseg == 3 && !strcmp(seg[2], "toxics") && post) {
            struct fl_toxic t;
            int st = in ? toxic_from(in, &t, 1, why, sizeof why) : 400;
            struct fl_error err = {0};
            if (st == 0 && fl_proxy_add_toxic(e->p, &t, &err)) {
                st = strstr(err.msg, "already exists") ? 409 : 400;
                snprintf(why, sizeof why, "%s", err.msg);
            }
            if (st) {
                err_answer(a, st, why[0] ? why : "bad toxic");
            } else {
                a->body = toxic_json(&t);
                logf_(c, "proxy %s: toxic %s (%s) added", e->name, t.name,
                      fl_toxic_kind_name(t.kind));
            }
        } else if (nseg == 4 && !strcmp(seg[2], "toxics")) {
            const struct fl_toxic *cur = NULL, *t;
            for (size_t i = 0; (t = fl_proxy_toxic_at(e->p, i)); i++)
                if (!strcmp(t->name, seg[3]))
                    cur = t;
            if (!cur) {
                err_answer(a, 404, "toxic not found");
            } else if (get) {
                a->body = toxic_json(cur);
            } else if (del) {
                logf_(c, "proxy %s: toxic %s removed", e->name, cur->name);
                fl_proxy_remove_toxic(e->p, seg[3]);
                a->status = 204;
            } else if (post) {
                struct fl_toxic nt = *cur;
                int st = toxic_from(in, &nt, 0, why, sizeof why);
                struct fl_error err = {0};
                if (st == 0)
                    fl_proxy_update_toxic(e->p, &nt, &err);
                if (st)
                    err_answer(a, st, why);
                else
                    a->body = toxic_json(&nt);
            } else {
                err_answer(a, 405, "method not allowed");
            }
        } else {
            err_answer(a, 404, "not found");
        }
    } else {
        err_answer(a, 404, "not found");
    }
    json_decref(in);
}

/* ---- the HTTP server -------------------------------------------------- */

static void on_proxy_closed(void *ud)
{
    struct fl_control *c = ud;
    if (--c->open == 0 && c->closing) {
        void (*cb)(void *) = c->close_cb;
        void *cud = c->close_ud;
        free(c);
        if (cb)
            cb(cud);
    }
}

static void drop_proxy(struct fl_control *c, struct pent *e)
{
    for (size_t i = 0; i < c->npx; i++)
        if (c->px[i] == e) {
            c->px[i] = c->px[--c->npx];
            break;
        }
    logf_(c, "proxy %s deleted", e->name);
    c->open++;
    fl_proxy_close(e->p, on_proxy_closed, c);
    free(e);
}

static void on_client_closed(uv_handle_t *h)
{
    struct client *cl = h->data;
    struct fl_control *c = cl->ctl;
    fl_buf_free(&cl->body);
    free(cl);
    on_proxy_closed(c);
}

static void client_close(struct client *cl)
{
    if (cl->closing)
        return;
    cl->closing = 1;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        cl->ctl->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    uv_close((uv_handle_t *)&cl->h, on_client_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void respond(struct client *cl, struct answer *a)
{
    char *body = a->body ? json_dumps(a->body, JSON_COMPACT) : NULL;
    json_decref(a->body);
    size_t bl = body ? strlen(body) : 0;
    const char *reason = a->status == 200 ? "OK" : a->status == 201 ? "Created"
                       : a->status == 204 ? "No Content" : a->status == 404 ? "Not Found"
                       : a->status == 409 ? "Conflict" : a->status == 400 ? "Bad Request"
                       : "Error";
    size_t cap = bl + 256;
    uv_write_t *w = malloc(sizeof *w + cap);
    if (!w) {
        free(body);
        client_close(cl);
        return;
    }
    char *p = (char *)(w + 1);
    int n = snprintf(p, cap, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", a->status, reason, bl, body ? body : "");
    free(body);
    uv_buf_t b = uv_buf_init(p, (unsigned)n);
    if (uv_write(w, (uv_stream_t *)&cl->h, &b, 1, on_written) < 0) {
        free(w);
        client_close(cl);
    }
}

static void request_done(struct client *cl)
{
    struct fl_control *c = cl->ctl;
    if (c->heartbeat_ms)
        uv_timer_again(&c->heartbeat);
    struct answer a;
    handle(c, cl->method, cl->path, fl_buf_str(&cl->body), &a);
    respond(cl, &a);
    fl_buf_reset(&cl->body);
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    static char slab[65536];
    *b = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct client *cl = s->data;
    if (nread < 0) {
        client_close(cl);
        return;
    }
    const char *p = b->base;
    size_t n = (size_t)nread;
    size_t guard = 0;
    while ((n > 0 || fl_h1_at_end(&cl->req)) && !cl->closing && guard++ < 100000) {
        size_t used;
        enum fl_h1_event ev = fl_h1_feed(&cl->req, p, n, &used);
        if (cl->req.tunnel) {
            client_close(cl);
            return;
        }
        if (ev == FL_H1_HEAD) {
            snprintf(cl->method, sizeof cl->method, "%s", cl->req.method);
            snprintf(cl->path, sizeof cl->path, "%s", cl->req.path);
        } else if (ev == FL_H1_BODY && fl_buf_add(&cl->body, p, used)) {
            client_close(cl);
            return;
        } else if (ev == FL_H1_END) {
            request_done(cl);
        }
        p += used;
        n -= used;
    }
}

static void on_connection(uv_stream_t *srv, int status)
{
    struct fl_control *c = srv->data;
    if (status < 0)
        return;
    struct client *cl = calloc(1, sizeof *cl);
    if (!cl)
        return;
    cl->ctl = c;
    fl_h1_init(&cl->req, 0);
    fl_buf_init(&cl->body, BODY_MAX);
    uv_tcp_init(c->loop, &cl->h);
    cl->h.data = cl;
    c->open++;
    cl->next = c->clients;
    if (c->clients)
        c->clients->prev = cl;
    c->clients = cl;
    if (uv_accept(srv, (uv_stream_t *)&cl->h) < 0) {
        client_close(cl);
        return;
    }
    uv_read_start((uv_stream_t *)&cl->h, on_alloc, on_read);
}

static void on_handle_closed(uv_handle_t *h);

static void on_heartbeat(uv_timer_t *t)
{
    struct fl_control *c = t->data;
    logf_(c, "heartbeat: no control request for %llu ms: every toxic removed, every proxy "
          "enabled", (unsigned long long)c->heartbeat_ms);
    reset_all(c);
    uv_timer_again(&c->heartbeat);
}

int fl_control_start(uv_loop_t *loop, const struct fl_control_opts *o, struct fl_control **out,
                     struct fl_error *err)
{
    *out = NULL;
    if (!loopback(o->listen))
        return fl_error_set(err, FL_EINVAL, "the control API listens on loopback only, not %s",
                            o->listen);
    struct fl_control *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    c->loop = loop;
    c->log = o->log;
    c->ud = o->ud;
    c->heartbeat_ms = o->heartbeat_ms;
    fl_rng_seed(&c->rng, o->seed);
    char host[64];
    const char *colon = strrchr(o->listen, ':');
    size_t hl = colon ? (size_t)(colon - o->listen) : 0;
    if (!colon || hl >= sizeof host) {
        free(c);
        return fl_error_set(err, FL_EINVAL, "listen: expected HOST:PORT, got %s", o->listen);
    }
    memcpy(host, o->listen, hl);
    host[hl] = '\0';
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    struct sockaddr_in sa;
    long long port;
    if (fl_parse_int(colon + 1, 0, 65535, &port)) {
        free(c);
        return fl_error_set(err, FL_EINVAL, "listen: the port of %s is not 0..65535", o->listen);
    }
    if (uv_ip4_addr(host, (int)port, &sa)) {
        free(c);
        return fl_error_set(err, FL_EINVAL, "listen: %s is not an IPv4 address", host);
    }
    uv_tcp_init(loop, &c->listener);
    c->listener.data = c;
    c->open = 1;
    int rc = uv_tcp_bind(&c->listener, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->listener, 64, on_connection);
    if (rc < 0) {
        /* Freed once the close completes (the caller runs the loop). */
        c->closing = 1;
        uv_close((uv_handle_t *)&c->listener, on_handle_closed);
        return fl_error_set(err, FL_ESYS, "cannot listen on %s: %s", o->listen,
                            uv_strerror(rc));
    }
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&c->listener, (struct sockaddr *)&got, &len);
    snprintf(c->listen, sizeof c->listen, "%s:%d", host, ntohs(got.sin_port));
    uv_timer_init(loop, &c->heartbeat);
    c->heartbeat.data = c;
    c->open++;
    if (c->heartbeat_ms)
        uv_timer_start(&c->heartbeat, on_heartbeat, c->heartbeat_ms, c->heartbeat_ms);
    *out = c;
    return 0;
}

const char *fl_control_listen_addr(const struct fl_control *c)
{
    return c->listen;
}

static void on_handle_closed(uv_handle_t *h)
{
    on_proxy_closed(h->data);
}

void fl_control_close(struct fl_control *c, void (*cb)(void *ud), void *ud)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->close_cb = cb;
    c->close_ud = ud;
    c->open++;   /* held until every close below is issued */
    while (c->npx)
        drop_proxy(c, c->px[c->npx - 1]);
    size_t guard = 0;
    while (c->clients && guard++ < 100000)
        client_close(c->clients);
    uv_close((uv_handle_t *)&c->listener, on_handle_closed);
    uv_close((uv_handle_t *)&c->heartbeat, on_handle_closed);
    on_proxy_closed(c);
}
