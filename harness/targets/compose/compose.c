/* compose.c - the `compose` target: the instances are the containers of a
 * running docker-compose project, reached through the Docker Engine API.
 *
 * faultline does not create, recreate or remove containers: the project is
 * the user's (`docker-compose up -d`). A scenario service names a compose
 * service; its instances are the containers carrying the project and
 * service labels (compose v1 and v2 both set them), in container-number
 * order. The scenario's command, env, workdir, restart and backoff are the
 * local target's business and are ignored here: the compose file says how
 * a container runs. `ready:` still decides readiness when it is an HTTP
 * check (its ${port} is the container's published port); otherwise a
 * container is ready once running (and healthy, when it has a healthcheck).
 *
 * This file holds the lifecycle: create, stop (restore everything
 * faultline changed), destroy, free, and the names (instances, resolve).
 * The start lives in start.c, inspect and events in events.c, the
 * operations in ops.c, readiness in ready.c, the API client in docker.c.
 *
 * destroy() changes nothing in Docker: what a run changed is journaled,
 * and the run's final recovery pass (run/recover.c) undoes whatever is
 * still open, synchronously, after the loop ended.
 */
#include "targets/compose/compose_int.h"
#include "core/journal.h"
#include "core/run_context.h"
#include "proto/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_TIMEOUT_MS 20000      /* restore at stop() */
#define POLL_MS 100

extern const struct fl_target_type fl_target_compose;

static struct compose_target *ctx(struct fl_target *t)
{
    return t->ctx;
}

/* ---- memory ------------------------------------------------------------ */

static void target_free(struct compose_target *ct)
{
    for (size_t i = 0; i < ct->nsvcs; i++)
        free(ct->svcs[i].inst);
    free(ct->svcs);
    free(ct->insts);
    free(ct);
}

void fl_compose_unref(struct compose_target *ct)
{
    if (--ct->refs == 0 && ct->freed)
        target_free(ct);
}

static void handle_closed(uv_handle_t *h)
{
    fl_compose_unref(h->data);
}

static void inst_handle_closed(uv_handle_t *h)
{
    struct compose_inst *in = h->data;
    fl_compose_unref(in->ct);
}

void fl_compose_record(struct compose_inst *in, enum fl_optype type, const char *fmt, ...)
{
    struct fl_run *run = in->ct->run;
    if (!run->history)
        return;
    char value[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    fl_run_record(run, FL_PROC_TARGET + in->index, type, "target", FL_F_INSTANCE, in->pub.id,
                  value, NULL);
}

/* The instance records speak the local target's words ("started",
 * "ready after", "killed by", "exited with status", "not ready"): the
 * checkers that derive readiness from the history (capacity) read them
 * the same way on both targets. */
void fl_compose_set_state(struct compose_inst *in)
{
    enum fl_inst_state s;
    int unhealthy = in->has_health && strcmp(in->health, "healthy") != 0;
    if (!in->running)
        s = in->pub.restart_blocked ? FL_INST_BLOCKED : FL_INST_STOPPED;
    else if (unhealthy || !in->http_ready)
        s = FL_INST_STARTING;
    else
        s = FL_INST_READY;
    enum fl_inst_state was = in->pub.state;
    in->pub.state = s;
    if (s == FL_INST_READY && was != FL_INST_READY)
        fl_compose_record(in, FL_OK, "ready after %.1fs (container %s%s)",
                          (double)(fl_now_us() - in->ready_since_us) / 1e6, in->name,
                          in->has_health ? ", healthy" : "");
    else if (s == FL_INST_STARTING && was == FL_INST_READY && unhealthy)
        fl_compose_record(in, FL_INFO, "not ready: health %s (container %s)", in->health,
                          in->name);
}

/* ---- create ------------------------------------------------------------ */

static int compose_create(struct fl_target **out, struct fl_run *run, struct fl_error *err)
{
    const struct fl_scenario *sc = run->sc;
    if (!sc || !sc->target_project)
        return fl_error_set(err, FL_EINVAL, "target compose needs a project "
                            "(target: {kind: compose, project: NAME} or --compose-project)");
    struct compose_target *ct = calloc(1, sizeof *ct);
    if (!ct)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    ct->run = run;
    snprintf(ct->project, sizeof ct->project, "%s", sc->target_project);
    int rc = fl_docker_socket(ct->socket, sizeof ct->socket, err);
    ct->nsvcs = sc->nservices;
    ct->svcs = calloc(ct->nsvcs ? ct->nsvcs : 1, sizeof *ct->svcs);
    if (!ct->svcs)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < ct->nsvcs; i++)
        ct->svcs[i].svc = &sc->services[i];
    if (rc == 0)
        rc = fl_docker_new(&ct->docker, run->loop, ct->socket, err);
    if (rc == 0 && (rc = fl_http_new(&ct->http, run->loop, err)) != 0) {
        fl_docker_close(ct->docker, NULL, NULL);
        ct->docker = NULL;
    }
    if (rc) {
        target_free(ct);
        return rc;
    }
    ct->refs = 2;   /* the two clients */
    uv_timer_init(run->loop, &ct->start_timer);
    uv_timer_init(run->loop, &ct->stop_timer);
    ct->start_timer.data = ct->stop_timer.data = ct;
    ct->refs += 2;
    snprintf(ct->desc, sizeof ct->desc, "containers of compose project %.100s (Docker Engine at "
             "%.100s)", ct->project, ct->socket);
    ct->base.type = &fl_target_compose;
    ct->base.ctx = ct;
    ct->base.run = run;
    *out = &ct->base;
    return 0;
}

/* ---- stop: restore what faultline changed ------------------------------ */

static void stop_report(struct compose_target *ct, int status)
{
    uv_timer_stop(&ct->stop_timer);
    while (ct->stop_waiters) {
        struct compose_waiter *w = ct->stop_waiters;
        ct->stop_waiters = w->next;
        w->cb(&ct->base, status, NULL, w->ud);
        free(w);
    }
}

/* Every restore call answered, and every container faultline started is
 * seen running (a failed call leaves its journal record open: the final
 * recovery pass tries again). */
static int restored(struct compose_target *ct)
{
    if (ct->calls_pending)
        return 0;
    for (size_t i = 0; i < ct->ninsts; i++) {
        const struct compose_inst *in = &ct->insts[i];
        if ((in->seq_start && !in->running) || (in->policy_deferred && in->seq_policy))
            return 0;
        if (in->pub.partitioned)
            return 0;
    }
    return 1;
}

static void on_closed(void *ud);

/* The clients go when the target stops: an open event stream and parked
 * keep-alive connections would keep the run's loop alive. Idempotent. */
static void close_clients(struct compose_target *ct)
{
    if (ct->clients_closed)
        return;
    ct->clients_closed = 1;
    struct fl_docker *d = ct->docker;
    struct fl_http *h = ct->http;
    ct->docker = NULL;
    ct->http = NULL;
    /* Callbacks of calls in flight run now, with "aborted". */
    fl_docker_close(d, on_closed, ct);
    fl_http_close(h, on_closed, ct);
}

static void on_stop_tick(uv_timer_t *t)
{
    struct compose_target *ct = t->data;
    if (restored(ct) || fl_now_us() >= ct->stop_deadline_us) {
        /* What is still open stays journaled: the final recovery pass
         * applies it synchronously. */
        close_clients(ct);
        stop_report(ct, 0);
        return;
    }
    uv_timer_start(&ct->stop_timer, on_stop_tick, POLL_MS, 0);
}

static int compose_stop(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = ctx(t);
    if (ct->destroyed)
        return FL_EABORT;
    struct compose_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return FL_ENOMEM;
    w->cb = cb;
    w->ud = ud;
    w->next = ct->stop_waiters;
    ct->stop_waiters = w;
    if (!ct->stopping) {
        ct->stopping = 1;
        if (ct->start_cb)
            fl_compose_start_done(ct, FL_EABORT, "stopped before the start finished");
        for (size_t i = 0; i < ct->ninsts; i++) {
            uv_timer_stop(&ct->insts[i].term_timer);
            fl_compose_ready_cancel(&ct->insts[i]);
        }
        size_t n = fl_compose_restore(ct);
        if (n)
            fl_run_log(ct->run, 1, "compose %s: %zu restore call%s (unpause, restart policy, "
                       "start)", ct->project, n, n == 1 ? "" : "s");
        ct->stop_deadline_us = fl_now_us() + (int64_t)STOP_TIMEOUT_MS * 1000;
    }
    uv_timer_start(&ct->stop_timer, on_stop_tick, 0, 0);
    return 0;
}

/* ---- destroy / free ---------------------------------------------------- */

static void on_closed(void *ud)
{
    struct compose_target *ct = ud;
    fl_compose_unref(ct);
}

/* destroy's callbacks run on the next loop turn, never inside destroy. */
static void on_destroy_timer_closed(uv_handle_t *h)
{
    struct compose_target *ct = h->data;
    free(h);
    fl_compose_unref(ct);
}

static void on_destroy_report(uv_timer_t *t)
{
    struct compose_target *ct = t->data;
    ct->destroy_timer = NULL;
    uv_close((uv_handle_t *)t, on_destroy_timer_closed);
    while (ct->destroy_waiters) {
        struct compose_waiter *w = ct->destroy_waiters;
        ct->destroy_waiters = w->next;
        w->cb(&ct->base, 0, NULL, w->ud);
        free(w);
    }
}

static void compose_destroy(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = ctx(t);
    if (cb) {
        struct compose_waiter *w = calloc(1, sizeof *w);
        if (w) {
            w->cb = cb;
            w->ud = ud;
            w->next = ct->destroy_waiters;
            ct->destroy_waiters = w;
        }
    }
    if (!ct->destroyed) {
        ct->destroyed = 1;
        t->destroyed = 1;
        ct->start_cb = NULL;
        while (ct->stop_waiters) {
            struct compose_waiter *w = ct->stop_waiters;
            ct->stop_waiters = w->next;
            free(w);
        }
        for (size_t i = 0; i < ct->ninsts; i++) {
            struct compose_inst *in = &ct->insts[i];
            fl_compose_ready_cancel(in);
            uv_close((uv_handle_t *)&in->term_timer, inst_handle_closed);
            uv_close((uv_handle_t *)&in->ready_timer, inst_handle_closed);
        }
        uv_close((uv_handle_t *)&ct->start_timer, handle_closed);
        uv_close((uv_handle_t *)&ct->stop_timer, handle_closed);
        close_clients(ct);
    }
    if (ct->destroy_waiters && !ct->destroy_timer) {
        uv_timer_t *tm = malloc(sizeof *tm);
        if (tm && uv_timer_init(ct->run->loop, tm) == 0) {
            tm->data = ct;
            ct->destroy_timer = tm;
            ct->refs++;
            uv_timer_start(tm, on_destroy_report, 0, 0);
        } else {
            free(tm);
        }
    }
}

static void compose_free(struct fl_target *t)
{
    struct compose_target *ct = ctx(t);
    ct->freed = 1;
    if (ct->refs == 0)
        target_free(ct);
}

/* ---- instances, resolve ------------------------------------------------ */

static struct compose_svc *svc_named(struct compose_target *ct, const char *name, size_t len)
{
    struct compose_svc *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ct->nsvcs; i++) {
        size_t sl = strlen(ct->svcs[i].svc->name);
        if (sl <= len && sl > best_len && memcmp(name, ct->svcs[i].svc->name, sl) == 0 &&
            (sl == len || name[sl] == '.')) {
            best = &ct->svcs[i];
            best_len = sl;
        }
    }
    return best;
}

static size_t compose_instances(struct fl_target *t, const char *service,
                                struct fl_instance **out, size_t max)
{
    struct compose_target *ct = ctx(t);
    struct compose_svc *cs = svc_named(ct, service, strlen(service));
    if (!cs || strcmp(cs->svc->name, service) != 0)
        return 0;
    size_t n = 0;
    for (int r = 0; r < cs->n && n < max; r++)
        out[n++] = &cs->inst[r]->pub;
    return (size_t)cs->n;
}

static int is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int addr(struct fl_buf *out, const struct compose_inst *in)
{
    return fl_buf_addf(out, "127.0.0.1:%d", in ? in->pub.port : 0) ? FL_ENOMEM : 0;
}

/* "svc": round-robin over ready containers; with none ready, the first
 * one's address, so that requests fail honestly. */
static int resolve_rr(struct compose_svc *cs, struct fl_buf *out)
{
    if (cs->n == 0)
        return addr(out, NULL);
    int ready = 0;
    for (int r = 0; r < cs->n; r++)
        ready += fl_inst_ready(&cs->inst[r]->pub);
    if (ready == 0)
        return addr(out, cs->inst[0]);
    unsigned pick = cs->rr++ % (unsigned)ready;
    for (int r = 0; r < cs->n; r++)
        if (fl_inst_ready(&cs->inst[r]->pub) && pick-- == 0)
            return addr(out, cs->inst[r]);
    return addr(out, cs->inst[0]);
}

static int compose_resolve(struct fl_target *t, const char *name, size_t len,
                           struct fl_buf *out, struct fl_error *err)
{
    struct compose_target *ct = ctx(t);
    struct compose_svc *cs = svc_named(ct, name, len);
    if (!cs)
        return FL_ENOTFOUND;
    size_t sl = strlen(cs->svc->name);
    int rc = FL_ENOTFOUND;
    if (sl == len) {
        rc = resolve_rr(cs, out);
    } else {
        const char *rest = name + sl + 1;
        size_t rlen = len - sl - 1;
        struct compose_inst *first = cs->n ? cs->inst[0] : NULL;
        if (is(rest, rlen, "port"))
            rc = fl_buf_addf(out, "%d", first ? first->pub.port : 0) ? FL_ENOMEM : 0;
        else if (is(rest, rlen, "host"))
            rc = fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
        else {
            size_t d = 0;
            long n = 0;
            while (d < rlen && d < 6 && rest[d] >= '0' && rest[d] <= '9')
                n = n * 10 + (rest[d++] - '0');
            if (d == 0 || n >= cs->n || (d < rlen && rest[d] != '.'))
                return FL_ENOTFOUND;
            struct compose_inst *in = cs->inst[n];
            const char *field = rest + d + 1;
            size_t flen = d < rlen ? rlen - d - 1 : 0;
            if (d == rlen)
                rc = addr(out, in);
            else if (is(field, flen, "port"))
                rc = fl_buf_addf(out, "%d", in->pub.port) ? FL_ENOMEM : 0;
            else if (is(field, flen, "pid"))
                rc = fl_buf_addf(out, "%d", in->pub.pid) ? FL_ENOMEM : 0;
            else if (is(field, flen, "host"))
                rc = fl_buf_adds(out, in->pub.host) ? FL_ENOMEM : 0;
            else if (is(field, flen, "container"))
                rc = fl_buf_adds(out, in->name) ? FL_ENOMEM : 0;
            else if (is(field, flen, "id"))
                rc = fl_buf_adds(out, in->cid) ? FL_ENOMEM : 0;
            else if (is(field, flen, "image"))
                rc = fl_buf_adds(out, in->image) ? FL_ENOMEM : 0;
        }
    }
    if (rc == FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "value of ${%.*s} too long", (int)len, name);
    return rc;
}

static const char *compose_containment(struct fl_target *t)
{
    return ctx(t)->desc;
}

static int compose_add_env_hook(struct fl_target *t, fl_env_hook fn, void *ud,
                                struct fl_error *err)
{
    (void)fn;
    (void)ud;
    return fl_error_set(err, FL_EINVAL, "compose %s: a container's environment is set by the "
                        "compose file; faultline cannot add to it (docs/compose.md: the "
                        "libfaketime recipe)", ctx(t)->project);
}

const struct fl_target_type fl_target_compose = {
    .name = "compose",
    .help = "the containers of a running docker-compose project, through the Docker Engine "
            "API (target: {kind: compose, project: NAME})",
    .ops = FL_TOP_SIGNAL | FL_TOP_KILL | FL_TOP_TERMINATE | FL_TOP_FREEZE | FL_TOP_BLOCK |
           FL_TOP_START | FL_TOP_FS | FL_TOP_NETWORK,
    .create = compose_create,
    .start = fl_compose_start,
    .stop = compose_stop,
    .destroy = compose_destroy,
    .free = compose_free,
    .instances = compose_instances,
    .signal = fl_compose_op_signal,
    .kill = fl_compose_op_kill,
    .terminate = fl_compose_op_terminate,
    .freeze = fl_compose_op_freeze,
    .thaw = fl_compose_op_thaw,
    .block_restarts = fl_compose_op_block,
    .unblock_restarts = fl_compose_op_unblock,
    .start_instance = fl_compose_op_start_instance,
    .fs_path = fl_compose_op_fs_path,
    .add_env_hook = compose_add_env_hook,
    .partition = fl_compose_op_partition,
    .unpartition = fl_compose_op_unpartition,
    .resolve = compose_resolve,
    .containment = compose_containment,
};
