/* proxy_fx.h - a proxy on the test's loop plus a worker thread with real
 * sockets (proxy_peer.h). The worker calls fx_step(fx, N) to have the main
 * thread run fx->hook(fx, N) on the loop (add or remove a toxic) and waits
 * for it; every wait is bounded. */
#ifndef FL_TEST_PROXY_FX_H
#define FL_TEST_PROXY_FX_H

#include "proxy/proxy.h"
#include "support/loop.h"
#include "proxy_peer.h"

#include <stdlib.h>

struct fx {
    uv_loop_t loop;
    struct fl_proxy *p;
    struct fl_rng rng;
    int up_port, lfd, port;
    pthread_t th;
    void (*work)(struct fx *);
    void (*hook)(struct fx *, int step);
    atomic_int done, step, acked;
    int closed;
    uv_timer_t poll;
    /* results */
    long r[16];
    char buf[1 << 17];
    void *user;
};

static int fx_upstream(void *ud, char *buf, size_t len)
{
    struct fx *f = ud;
    snprintf(buf, len, "127.0.0.1:%d", f->up_port);
    return 0;
}

static inline struct fx *fx_new(int http, void (*observe)(void *, const struct fl_http_exchange *))
{
    struct fx *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    fl_rng_seed(&f->rng, 42);
    f->lfd = peer_listen(&f->up_port);
    struct fl_proxy_opts o = {.name = "t", .listen = "127.0.0.1:0", .http = http,
                              .upstream = fx_upstream, .ud = f, .observe = observe,
                              .rng = &f->rng};
    struct fl_error err = {0};
    if (fl_proxy_new(&f->loop, &o, &f->p, &err))
        return NULL;
    f->port = fl_proxy_port(f->p);
    return f;
}

/* Wait (in the worker) for the main thread to run hook(step). */
static inline void fx_step(struct fx *f, int step)
{
    atomic_store(&f->step, step);
    int64_t end = peer_ms() + 5000;
    while (atomic_load(&f->acked) != step && peer_ms() < end)
        usleep(1000);
}

static void *fx_thread(void *arg)
{
    struct fx *f = arg;
    f->work(f);
    atomic_store(&f->done, 1);
    return NULL;
}

static void fx_on_poll(uv_timer_t *t)
{
    struct fx *f = t->data;
    int s = atomic_load(&f->step);
    if (s != atomic_load(&f->acked)) {
        if (f->hook)
            f->hook(f, s);
        atomic_store(&f->acked, s);
    }
}

static int fx_done(void *ud)
{
    return atomic_load(&((struct fx *)ud)->done);
}

/* Run work in a thread while the loop runs; bounded by 30 s. */
static inline int fx_run(struct fx *f, void (*work)(struct fx *))
{
    f->work = work;
    atomic_store(&f->done, 0);
    uv_timer_init(&f->loop, &f->poll);
    f->poll.data = f;
    uv_timer_start(&f->poll, fx_on_poll, 1, 1);
    pthread_create(&f->th, NULL, fx_thread, f);
    int ok = fl_test_run_until(&f->loop, fx_done, f, 30000);
    pthread_join(f->th, NULL);
    uv_close((uv_handle_t *)&f->poll, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ok;
}

static void fx_on_closed(void *ud)
{
    ((struct fx *)ud)->closed = 1;
}

static int fx_closed(void *ud)
{
    return ((struct fx *)ud)->closed;
}

static inline void fx_free(struct fx *f)
{
    fl_proxy_close(f->p, fx_on_closed, f);
    fl_test_run_until(&f->loop, fx_closed, f, 5000);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    close(f->lfd);
    free(f);
}

static inline void fx_toxic(struct fx *f, const char *name, enum fl_toxic_kind k, int stream,
                            const char *attr, const char *val, const char *attr2,
                            const char *val2)
{
    struct fl_toxic t;
    fl_toxic_defaults(&t, k);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.stream = stream;
    struct fl_error err = {0};
    if (attr)
        fl_toxic_set_attr(&t, attr, val, &err);
    if (attr2)
        fl_toxic_set_attr(&t, attr2, val2, &err);
    fl_proxy_add_toxic(f->p, &t, &err);
}

#endif
