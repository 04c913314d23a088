/* proxy_set.c - see proxy_set.h. */
#include "proxy/proxy_set.h"
#include "base/template.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct fl_proxy_set *set;
    const struct fl_proxy_decl *decl;
    struct fl_proxy *p;
};

struct fl_proxy_set {
    struct fl_run *run;
    struct entry *e;
    size_t n;
    size_t open;      /* proxies not yet closed */
};

static int upstream(void *ud, char *buf, size_t len)
{
    struct entry *e = ud;
    struct fl_buf b;
    fl_buf_init(&b, len);
    struct fl_error err = {0};
    int rc = fl_template_expand(e->decl->upstream, fl_run_resolve, e->set->run, &b, &err);
    if (rc == 0)
        snprintf(buf, len, "%s", fl_buf_str(&b));
    else
        fl_run_log(e->set->run, 0, "proxy %s: upstream %s: %s", e->decl->name,
                   e->decl->upstream, err.msg);
    fl_buf_free(&b);
    return rc;
}

static void observe(void *ud, const struct fl_http_exchange *x)
{
    struct entry *e = ud;
    struct fl_run *run = e->set->run;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:i,s:I,s:I,s:b}", "conn", (json_int_t)x->conn,
                          "method", x->method, "path", x->path, "client", x->client,
                          "status", x->status,
                          "start_us", (json_int_t)(x->start_us - run->t0_us),
                          "latency_us", (json_int_t)(x->end_us - x->start_us),
                          "injected", x->injected);
    if (!o)
        return;
    if (x->retry_after_s >= 0)
        json_object_set_new(o, "retry_after", json_integer(x->retry_after_s));
    char *v = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!v)
        return;
    fl_run_record(run, FL_PROC_PROXY + (int32_t)(x->conn % 100000000), x->status ? FL_OK : FL_INFO,
                  FL_SOURCE_PROXY, FL_F_HTTP, x->proxy, v, x->status ? NULL : "no answer");
    free(v);
}

static int resolve(struct fl_proxy_set *s, const char *name, size_t len, struct fl_buf *out)
{
    const char *n = name + 6;
    size_t nl = len - 6;
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].p && strlen(s->e[i].decl->name) == nl && memcmp(s->e[i].decl->name, n, nl) == 0)
            return fl_buf_adds(out, fl_proxy_listen_addr(s->e[i].p)) ? FL_ENOMEM : 0;
    return FL_ENOTFOUND;
}

struct fl_proxy *fl_proxy_set_find(struct fl_proxy_set *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->e[i].p && strcmp(s->e[i].decl->name, name) == 0)
            return s->e[i].p;
    return NULL;
}

static void on_closed(void *ud)
{
    struct fl_proxy_set *s = ud;
    if (--s->open == 0) {
        free(s->e);
        free(s);
    }
}

void fl_proxy_set_close(struct fl_run *run)
{
    struct fl_proxy_set *s = run->proxies;
    if (!s)
        return;
    run->proxies = NULL;
    size_t n = s->n, live = 0;
    for (size_t i = 0; i < n; i++)
        live += s->e[i].p != NULL;
    if (live == 0) {
        free(s->e);
        free(s);
        return;
    }
    s->open = live;
    for (size_t i = 0; i < n; i++) {
        struct fl_proxy *p = s->e[i].p;
        s->e[i].p = NULL;
        if (p)
            fl_proxy_close(p, on_closed, s);
    }
}

int fl_proxy_set_start(struct fl_run *run, struct fl_error *err)
{
    const struct fl_scenario *sc = run->sc;
    if (!sc->nproxies)
        return 0;
    struct fl_proxy_set *s = calloc(1, sizeof *s);
    if (s)
        s->e = calloc(sc->nproxies, sizeof *s->e);
    if (!s || !s->e) {
        free(s);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    s->run = run;
    s->n = sc->nproxies;
    run->proxies = s;
    run->resolve_proxy = resolve;
    for (size_t i = 0; i < sc->nproxies; i++) {
        struct entry *e = &s->e[i];
        e->set = s;
        e->decl = &sc->proxies[i];
        struct fl_proxy_opts o = {
            .name = e->decl->name, .listen = e->decl->listen, .http = e->decl->http,
            .upstream = upstream, .ud = e, .observe = observe, .rng = &run->rng,
        };
        int rc = fl_proxy_new(run->loop, &o, &e->p, err);
        if (rc) {
            fl_proxy_set_close(run);
            return rc;
        }
        fl_run_log(run, 0, "proxy %s on %s (%s) to %s", e->decl->name,
                   fl_proxy_listen_addr(e->p), e->decl->http ? "http" : "tcp", e->decl->upstream);
    }
    return 0;
}
