/* target_local.c - the `local` target: faultline runs the services itself
 * as supervised child processes on the run's loop.
 *
 * This file holds the vtable: create (ports), the start sequence (service
 * by service, each waiting for its replicas' readiness), stop, destroy,
 * resolve and the signal operations. Spawning, exits and restarts live in
 * target_local_proc.c, readiness checks in ready.c.
 *
 * Lifetime contract of destroy(): it kills and reaps every process
 * synchronously, then closes the target's libuv handles; the memory is
 * released from their close callbacks. The caller must therefore run the
 * loop (uv_run until it returns 0) before uv_loop_close. Running the loop
 * from inside destroy is not an option: destroy may be called from a
 * callback, and libuv forbids re-entering uv_run. Pending start/stop
 * callbacks are dropped by destroy (never called).
 */
#include "targets/local/local_int.h"
#include "core/run_context.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STOP_MARGIN_MS 2000       /* stop() reports after grace + this */
#define START_MARGIN_MS 1000      /* service deadline beyond ready.timeout */

static struct local_target *ctx(struct fl_target *t)
{
    return t->ctx;
}

/* ---- memory ---------------------------------------------------------- */

static void target_free(struct local_target *lt)
{
    free(lt->insts);
    free(lt->svcs);
    free(lt);
}

void fl_local_unref(struct local_target *lt)
{
    if (--lt->refs == 0 && lt->destroyed)
        target_free(lt);
}

static void timer_closed(uv_handle_t *h)
{
    fl_local_unref(h->data);
}

static void inst_timer_closed(uv_handle_t *h)
{
    struct local_inst *in = h->data;
    fl_local_unref(in->lt);
}

static void timer_init(struct local_target *lt, uv_timer_t *t, void *data)
{
    uv_timer_init(lt->run->loop, t);
    t->data = data;
    lt->refs++;
}

/* ---- create ---------------------------------------------------------- */

/* Reserve a distinct free loopback port for every instance: all sockets
 * stay bound until the last one is, so no two instances share a port. */
static int alloc_ports(struct local_target *lt, struct fl_error *err)
{
    int rc = 0;
    int *fds = calloc(lt->ninsts ? lt->ninsts : 1, sizeof *fds);
    if (!fds)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    size_t n = 0;
    for (; n < lt->ninsts; n++) {
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
            rc = fl_error_set(err, FL_ESYS, "cannot allocate a loopback port for %s: %s",
                              lt->insts[n].pub.id, strerror(errno));
            if (fd >= 0)
                close(fd);
            break;
        }
        fds[n] = fd;
        lt->insts[n].pub.port = ntohs(a.sin_port);
    }
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return rc;
}

static int local_create(struct fl_target **out, struct fl_run *run, struct fl_error *err)
{
    const struct fl_scenario *sc = run->sc;
    size_t nsvcs = sc ? sc->nservices : 0;
    struct local_target *lt = calloc(1, sizeof *lt);
    if (!lt)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    lt->run = run;
    lt->nsvcs = nsvcs;
    for (size_t i = 0; i < nsvcs; i++)
        lt->ninsts += (size_t)(sc->services[i].replicas > 0 ? sc->services[i].replicas : 1);
    lt->svcs = calloc(nsvcs ? nsvcs : 1, sizeof *lt->svcs);
    lt->insts = calloc(lt->ninsts ? lt->ninsts : 1, sizeof *lt->insts);
    if (!lt->svcs || !lt->insts) {
        target_free(lt);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    const char *outdir = run->outdir ? run->outdir : ".";
    size_t k = 0;
    for (size_t i = 0; i < nsvcs; i++) {
        struct local_svc *ls = &lt->svcs[i];
        ls->svc = &sc->services[i];
        ls->inst = &lt->insts[k];
        ls->n = ls->svc->replicas > 0 ? ls->svc->replicas : 1;
        for (int r = 0; r < ls->n; r++, k++) {
            struct local_inst *in = &lt->insts[k];
            in->pub.service = ls->svc->name;
            in->pub.replica = r;
            snprintf(in->pub.id, sizeof in->pub.id, "%s.%d", ls->svc->name, r);
            in->lt = lt;
            in->ls = ls;
            in->index = (int)k;
            in->log_fd = -1;
            in->backoff_ms = ls->svc->backoff_ms;
            snprintf(in->log_path, sizeof in->log_path, "%s/%s.%d.log", outdir,
                     ls->svc->name, r);
        }
    }
    int rc = alloc_ports(lt, err);
    if (rc) {
        target_free(lt);
        return rc;
    }
    for (size_t i = 0; i < lt->ninsts; i++) {
        timer_init(lt, &lt->insts[i].restart_timer, &lt->insts[i]);
        timer_init(lt, &lt->insts[i].kill_timer, &lt->insts[i]);
    }
    timer_init(lt, &lt->start_timer, lt);
    timer_init(lt, &lt->stop_timer, lt);
    lt->base.type = &fl_target_local;
    lt->base.ctx = lt;
    lt->base.run = run;
    *out = &lt->base;
    return 0;
}

/* ---- start ----------------------------------------------------------- */

static void finish_start(struct local_target *lt, int status, const struct fl_error *err)
{
    if (!lt->starting)
        return;
    lt->starting = 0;
    uv_timer_stop(&lt->start_timer);
    fl_target_cb cb = lt->start_cb;
    lt->start_cb = NULL;
    if (status == 0)
        fl_run_log(lt->run, 1, "all services ready");
    if (cb)
        cb(&lt->base, status, err, lt->start_ud);
}

/* Fail the start because of instance in: why it is not ready, the last
 * check error when there is one, and where its output went. */
static void fail_start(struct local_inst *in, const char *why)
{
    struct fl_error err = {0};
    const char *check = in->last_check_err;
    int show_check = check[0] && (!why || strcmp(why, check) != 0);
    fl_error_set(&err, FL_ENOTREADY, "service '%s' not ready: %s %s%s%s (log: %s)",
                 in->ls->svc->name, in->pub.id, why,
                 show_check ? "; last check: " : "", show_check ? check : "", in->log_path);
    finish_start(in->lt, FL_ENOTREADY, &err);
}

static int svc_all_ready(const struct local_svc *ls)
{
    for (int r = 0; r < ls->n; r++)
        if (!ls->inst[r].pub.ready || !ls->inst[r].proc)
            return 0;
    return 1;
}

static void on_start_timeout(uv_timer_t *t)
{
    struct local_target *lt = t->data;
    struct local_svc *ls = &lt->svcs[lt->start_svc];
    for (int r = 0; r < ls->n; r++) {
        struct local_inst *in = &ls->inst[r];
        if (in->pub.ready && in->proc)
            continue;
        char why[128];
        char d[32];
        fl_format_duration(ls->svc->ready.timeout_ms, d, sizeof d);
        if (in->proc)
            snprintf(why, sizeof why, "did not pass its readiness check within %s", d);
        else
            snprintf(why, sizeof why, "kept exiting (restart %d) for %s", in->pub.restarts, d);
        if (in->check)
            snprintf(in->last_check_err, sizeof in->last_check_err, "%s",
                     fl_ready_last_error(in->check));
        fail_start(in, why);
        return;
    }
}

/* Start services from lt->start_svc on, until one must be waited for. */
static void start_services(struct local_target *lt)
{
    while (lt->starting && lt->start_svc < lt->nsvcs) {
        struct local_svc *ls = &lt->svcs[lt->start_svc];
        fl_run_log(lt->run, 1, "starting %s (%d replica%s)", ls->svc->name, ls->n,
                   ls->n == 1 ? "" : "s");
        for (int r = 0; r < ls->n; r++) {
            struct fl_error err = {0};
            if (fl_local_inst_spawn(&ls->inst[r], &err)) {
                fail_start(&ls->inst[r], err.msg);
                return;
            }
        }
        if (!svc_all_ready(ls)) {
            uv_timer_start(&lt->start_timer, on_start_timeout,
                           ls->svc->ready.timeout_ms + START_MARGIN_MS, 0);
            return;
        }
        lt->start_svc++;
    }
    finish_start(lt, 0, NULL);
}

static void on_start_kick(uv_timer_t *t)
{
    start_services(t->data);
}

void fl_local_on_ready(struct local_inst *in)
{
    struct local_target *lt = in->lt;
    if (!lt->starting || in->ls != &lt->svcs[lt->start_svc] || !svc_all_ready(in->ls))
        return;
    uv_timer_stop(&lt->start_timer);
    if (in->ls->n > 1)
        fl_run_log(lt->run, 0, "%s ready (%d replicas)", in->ls->svc->name, in->ls->n);
    lt->start_svc++;
    start_services(lt);
}

void fl_local_on_not_ready(struct local_inst *in, const char *why)
{
    struct local_target *lt = in->lt;
    if (lt->starting && in->ls == &lt->svcs[lt->start_svc])
        fail_start(in, why);
}

static int local_start(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct local_target *lt = ctx(t);
    if (lt->start_called || lt->stopping || lt->destroyed)
        return FL_EINVAL;
    lt->start_called = 1;
    lt->starting = 1;
    lt->start_cb = cb;
    lt->start_ud = ud;
    lt->start_svc = 0;
    /* The callback never runs inside start(): begin on the next turn. */
    uv_timer_start(&lt->start_timer, on_start_kick, 0, 0);
    return 0;
}

/* ---- stop ------------------------------------------------------------ */

static size_t alive_count(const struct local_target *lt)
{
    size_t n = 0;
    for (size_t i = 0; i < lt->ninsts; i++)
        n += lt->insts[i].proc != NULL;
    return n;
}

static void deliver_stop(struct local_target *lt, int status, const struct fl_error *err)
{
    struct stop_waiter *w = lt->waiters;
    lt->waiters = NULL;
    lt->stop_timer_armed = 0;
    uv_timer_stop(&lt->stop_timer);
    while (w) {
        struct stop_waiter *next = w->next;
        w->cb(&lt->base, status, err, w->ud);
        free(w);
        w = next;
    }
}

static void on_stop_timer(uv_timer_t *t)
{
    struct local_target *lt = t->data;
    if (alive_count(lt) == 0) {
        deliver_stop(lt, 0, NULL);
        return;
    }
    struct fl_error err = {0};
    char list[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < lt->ninsts && len < sizeof list; i++)
        if (lt->insts[i].proc)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s (pid %d)",
                                    len ? ", " : "", lt->insts[i].pub.id, lt->insts[i].pub.pid);
    fl_error_set(&err, FL_ETIMEDOUT, "still running after SIGKILL: %s", list);
    deliver_stop(lt, FL_ETIMEDOUT, &err);
}

void fl_local_on_exit(struct local_inst *in, int restarting)
{
    struct local_target *lt = in->lt;
    if (lt->starting && in->ls == &lt->svcs[lt->start_svc] && !restarting) {
        char why[96];
        fl_local_exit_desc(in->last_status, in->last_signal, why, sizeof why);
        size_t l = strlen(why);
        snprintf(why + l, sizeof why - l, " before it was ready");
        fail_start(in, why);
    }
    if (lt->waiters && alive_count(lt) == 0)
        deliver_stop(lt, 0, NULL);
}

static void on_kill_timer(uv_timer_t *t)
{
    struct local_inst *in = t->data;
    if (in->proc && in->pub.pid == in->kill_pid) {
        fl_run_log(in->lt->run, 1, "%s (pid %d) still running after its grace: SIGKILL",
                   in->pub.id, in->pub.pid);
        fl_local_kill_group(in->pub.pid, SIGKILL);
    }
}

static int local_stop(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct local_target *lt = ctx(t);
    if (lt->destroyed)
        return FL_EINVAL;
    struct stop_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return FL_ENOMEM;
    w->cb = cb;
    w->ud = ud;
    w->next = lt->waiters;
    lt->waiters = w;
    if (!lt->stopping) {
        lt->stopping = 1;
        struct fl_error err = {0};
        fl_error_set(&err, FL_EABORT, "stopped before every service was ready");
        finish_start(lt, FL_EABORT, &err);
        uint64_t grace_max = 0;
        for (size_t i = 0; i < lt->ninsts; i++) {
            struct local_inst *in = &lt->insts[i];
            uv_timer_stop(&in->restart_timer);
            in->restart_pending = 0;
            fl_ready_cancel(in->check);
            in->check = NULL;
            if (!in->proc)
                continue;
            uint64_t grace = in->ls->svc->stop_grace_ms;
            grace_max = grace > grace_max ? grace : grace_max;
            fl_local_kill_group(in->pub.pid, SIGTERM);
            if (in->pub.paused) {
                /* A stopped process cannot act on SIGTERM until continued. */
                fl_local_kill_group(in->pub.pid, SIGCONT);
                in->pub.paused = 0;
            }
            in->kill_pid = in->pub.pid;
            uv_timer_start(&in->kill_timer, on_kill_timer, grace, 0);
        }
        if (alive_count(lt)) {
            fl_run_log(lt->run, 1, "stopping %zu process%s", alive_count(lt),
                       alive_count(lt) == 1 ? "" : "es");
            lt->stop_timer_armed = 1;
            uv_timer_start(&lt->stop_timer, on_stop_timer, grace_max + STOP_MARGIN_MS, 0);
        }
    }
    if (!lt->stop_timer_armed && alive_count(lt) == 0) {
        /* Nothing to wait for: report on the next turn, never inside stop(). */
        lt->stop_timer_armed = 1;
        uv_timer_start(&lt->stop_timer, on_stop_timer, 0, 0);
    }
    return 0;
}

/* ---- destroy --------------------------------------------------------- */

static void local_destroy(struct fl_target *t)
{
    struct local_target *lt = ctx(t);
    if (lt->destroyed)
        return;
    lt->destroyed = 1;
    lt->stopping = 1;
    lt->starting = 0;
    lt->start_cb = NULL;
    while (lt->waiters) {
        struct stop_waiter *next = lt->waiters->next;
        free(lt->waiters);
        lt->waiters = next;
    }
    /* Kill every group first, then reap: the waits overlap. */
    for (size_t i = 0; i < lt->ninsts; i++) {
        fl_ready_cancel(lt->insts[i].check);
        lt->insts[i].check = NULL;
        if (lt->insts[i].proc)
            fl_local_kill_group(lt->insts[i].proc->pid, SIGKILL);
    }
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        if (in->proc) {
            fl_local_kill_reap(in->proc->pid, 2000);
            /* Reaped here: closing the handle stops libuv waiting for it. */
            fl_local_proc_close(in->proc);
            in->proc = NULL;
            in->pub.pid = 0;
            in->pub.ready = 0;
        }
        if (in->log_fd >= 0) {
            close(in->log_fd);
            in->log_fd = -1;
        }
        uv_close((uv_handle_t *)&in->restart_timer, inst_timer_closed);
        uv_close((uv_handle_t *)&in->kill_timer, inst_timer_closed);
    }
    uv_close((uv_handle_t *)&lt->start_timer, timer_closed);
    uv_close((uv_handle_t *)&lt->stop_timer, timer_closed);
}

/* ---- acting on instances --------------------------------------------- */

static size_t local_instances(struct fl_target *t, const char *service,
                              struct fl_instance **out, size_t max)
{
    struct local_target *lt = ctx(t);
    for (size_t i = 0; i < lt->nsvcs; i++) {
        struct local_svc *ls = &lt->svcs[i];
        if (strcmp(ls->svc->name, service) != 0)
            continue;
        for (int r = 0; r < ls->n && (size_t)r < max; r++)
            out[r] = &ls->inst[r].pub;
        return (size_t)ls->n;
    }
    return 0;
}

static int local_signal(struct fl_target *t, struct fl_instance *pub, int sig,
                        struct fl_error *err)
{
    (void)t;
    struct local_inst *in = (struct local_inst *)pub;
    if (!in->proc || pub->pid <= 0)
        return fl_error_set(err, FL_EINJECT, "%s is not running", pub->id);
    int rc = fl_local_kill_group(pub->pid, sig);
    if (rc)
        return fl_error_set(err, FL_ESYS, "kill %s to %s (pid %d): %s", fl_signal_name(sig),
                            pub->id, pub->pid, strerror(-rc));
    if (sig == SIGSTOP)
        pub->paused = 1;
    else if (sig == SIGCONT)
        pub->paused = 0;
    fl_run_log(in->lt->run, 1, "%s (pid %d): %s", pub->id, pub->pid, fl_signal_name(sig));
    return 0;
}

static int local_terminate(struct fl_target *t, struct fl_instance *pub, uint64_t grace_ms,
                           struct fl_error *err)
{
    struct local_inst *in = (struct local_inst *)pub;
    int rc = local_signal(t, pub, SIGTERM, err);
    if (rc)
        return rc;
    in->kill_pid = pub->pid;
    uv_timer_start(&in->kill_timer, on_kill_timer, grace_ms, 0);
    return 0;
}

static int local_pause(struct fl_target *t, struct fl_instance *in, struct fl_error *err)
{
    return local_signal(t, in, SIGSTOP, err);
}

static int local_resume(struct fl_target *t, struct fl_instance *in, struct fl_error *err)
{
    return local_signal(t, in, SIGCONT, err);
}

static int local_start_instance(struct fl_target *t, struct fl_instance *pub,
                                struct fl_error *err)
{
    (void)t;
    struct local_inst *in = (struct local_inst *)pub;
    pub->blocked = 0;
    if (in->proc)
        return 0;
    if (in->lt->stopping || in->lt->destroyed)
        return fl_error_set(err, FL_EINJECT, "%s: the target is stopping", pub->id);
    if (in->restart_pending) {
        uv_timer_stop(&in->restart_timer);
        in->restart_pending = 0;
    }
    int rc = fl_local_inst_spawn(in, err);
    if (rc == 0)
        pub->restarts++;
    return rc;
}

/* ---- resolve --------------------------------------------------------- */

static int add_addr(struct fl_buf *out, int port)
{
    return fl_buf_addf(out, "127.0.0.1:%d", port) ? FL_ENOMEM : 0;
}

/* The service whose name is the longest prefix of name[0..len) followed
 * by the end or a '.'. */
static struct local_svc *find_svc(struct local_target *lt, const char *name, size_t len)
{
    struct local_svc *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < lt->nsvcs; i++) {
        size_t sl = strlen(lt->svcs[i].svc->name);
        if (sl <= len && sl > best_len && memcmp(name, lt->svcs[i].svc->name, sl) == 0 &&
            (sl == len || name[sl] == '.')) {
            best = &lt->svcs[i];
            best_len = sl;
        }
    }
    return best;
}

static int is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* "svc": round-robin over ready running replicas, like a Kubernetes
 * Service; with none ready, replica 0's address, so that requests fail
 * honestly (connection refused) instead of the name failing to expand. */
static int resolve_rr(struct local_svc *ls, struct fl_buf *out)
{
    int ready = 0;
    for (int r = 0; r < ls->n; r++)
        ready += ls->inst[r].pub.ready && ls->inst[r].proc;
    if (ready == 0)
        return add_addr(out, ls->inst[0].pub.port);
    unsigned pick = ls->rr++ % (unsigned)ready;
    for (int r = 0; r < ls->n; r++) {
        struct local_inst *in = &ls->inst[r];
        if (in->pub.ready && in->proc && pick-- == 0)
            return add_addr(out, in->pub.port);
    }
    return add_addr(out, ls->inst[0].pub.port);
}

static int local_resolve(struct fl_target *t, const char *name, size_t len,
                         struct fl_buf *out, struct fl_error *err)
{
    struct local_target *lt = ctx(t);
    struct local_svc *ls = find_svc(lt, name, len);
    if (!ls)
        return FL_ENOTFOUND;
    size_t sl = strlen(ls->svc->name);
    int rc = FL_ENOTFOUND;
    if (sl == len)
        rc = resolve_rr(ls, out);
    else {
        const char *rest = name + sl + 1;
        size_t rlen = len - sl - 1;
        if (is(rest, rlen, "port"))
            rc = fl_buf_addf(out, "%d", ls->inst[0].pub.port) ? FL_ENOMEM : 0;
        else if (is(rest, rlen, "host"))
            rc = fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
        else {
            size_t d = 0;
            long n = 0;
            while (d < rlen && d < 6 && rest[d] >= '0' && rest[d] <= '9')
                n = n * 10 + (rest[d++] - '0');
            if (d == 0 || n >= ls->n || (d < rlen && rest[d] != '.'))
                return FL_ENOTFOUND;
            struct local_inst *in = &ls->inst[n];
            const char *field = rest + d + 1;
            size_t flen = d < rlen ? rlen - d - 1 : 0;
            if (d == rlen)
                rc = add_addr(out, in->pub.port);
            else if (is(field, flen, "port"))
                rc = fl_buf_addf(out, "%d", in->pub.port) ? FL_ENOMEM : 0;
            else if (is(field, flen, "pid"))
                rc = fl_buf_addf(out, "%d", in->pub.pid) ? FL_ENOMEM : 0;
            else if (is(field, flen, "host"))
                rc = fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
        }
    }
    if (rc == FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "value of ${%.*s} too long", (int)len, name);
    return rc;
}

const struct fl_target_type fl_target_local = {
    .name = "local",
    .create = local_create,
    .start = local_start,
    .stop = local_stop,
    .instances = local_instances,
    .signal = local_signal,
    .terminate = local_terminate,
    .pause = local_pause,
    .resume = local_resume,
    .start_instance = local_start_instance,
    .resolve = local_resolve,
    .destroy = local_destroy,
};
