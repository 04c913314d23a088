/* target_local.c - the `local` target: faultline runs the services itself
 * as supervised child processes on the run's loop.
 *
 * This file holds the lifecycle: create (ports, containment), the start
 * sequence (service by service, each waiting for its replicas'
 * readiness), stop, destroy, free and resolve. The operations on one
 * instance live in ops.c, spawning, exits and restarts in proc.c,
 * readiness checks in ready.c, cgroups in contain.c.
 *
 * Lifetime contract of destroy(): it kills every containment and reaps
 * every process synchronously, removes the cgroups, then closes the
 * target's libuv handles. Afterwards every operation answers FL_EABORT.
 * The memory is released once free() was called and the last handle has
 * closed, so the caller runs the loop (uv_run until it returns 0) before
 * uv_loop_close. Running the loop from inside destroy is not an option:
 * destroy may be called from a callback, and libuv forbids re-entering
 * uv_run. Pending start/stop callbacks are dropped by destroy.
 */
#include "targets/local/local_int.h"
#include "core/run_context.h"
#include "core/journal.h"

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
    if (--lt->refs == 0 && lt->freed)
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

/* Choose the containment and journal how to undo it: the run's cgroup
 * folder (cgroup mode) or a sweep for its marker (subreaper mode), so a
 * run that dies leaves nothing `recover` cannot find. */
static int init_containment(struct local_target *lt, struct fl_error *err)
{
    char tag[96];
    snprintf(tag, sizeof tag, "%s", lt->run->run_tag ? lt->run->run_tag : "");
    if (!tag[0]) {
        uint64_t start = 0;
        fl_proc_start_time((int)getpid(), &start);
        snprintf(tag, sizeof tag, "run-%d-%llu", (int)getpid(), (unsigned long long)start);
    }
    int rc = fl_contain_init(&lt->contain, tag, err);
    if (rc)
        return rc;
    fl_contain_describe(&lt->contain, lt->contain_desc, sizeof lt->contain_desc);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/", lt->contain.run_tag);
    const char *kv_cg[] = {"path", lt->contain.root, "marker", prefix, NULL};
    const char *kv_mk[] = {"marker", prefix, NULL};
    int cg = lt->contain.mode == FL_CONTAIN_CGROUP;
    rc = fl_journal_undo(lt->run->journal, cg ? "cgroup" : "kill.marked", "run",
                         cg ? kv_cg : kv_mk, &lt->seq_root, err);
    if (rc && cg)
        rmdir(lt->contain.root);
    return rc;
}

static void release_containment(struct local_target *lt);

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
            snprintf(in->pub.host, sizeof in->pub.host, "127.0.0.1");
        }
    }
    int rc = alloc_ports(lt, err);
    if (rc == 0)
        rc = init_containment(lt, err);
    if (rc == 0 && (rc = fl_local_volumes_create(lt, err)) != 0) {
        fl_local_volumes_release(lt);
        release_containment(lt);
    }
    if (rc) {
        target_free(lt);
        return rc;
    }
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        fl_contain_marker(&lt->contain, in->pub.id, in->marker, sizeof in->marker);
        timer_init(lt, &in->restart_timer, in);
        timer_init(lt, &in->kill_timer, in);
        timer_init(lt, &in->drain_timer, in);
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
        if (!fl_inst_ready(&ls->inst[r].pub))
            return 0;
    return 1;
}

static void on_start_timeout(uv_timer_t *t)
{
    struct local_target *lt = t->data;
    struct local_svc *ls = &lt->svcs[lt->start_svc];
    for (int r = 0; r < ls->n; r++) {
        struct local_inst *in = &ls->inst[r];
        if (fl_inst_ready(&in->pub))
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

size_t fl_local_alive_count(const struct local_target *lt)
{
    size_t n = 0;
    for (size_t i = 0; i < lt->ninsts; i++)
        n += lt->insts[i].proc != NULL || lt->insts[i].draining;
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
    if (fl_local_alive_count(lt) == 0) {
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

static void stop_next_service(struct local_target *lt);

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
    if (lt->stopping && !lt->destroyed)
        stop_next_service(lt);
}

void fl_local_on_kill_timer(uv_timer_t *t)
{
    struct local_inst *in = t->data;
    if (in->proc && in->pub.pid == in->kill_pid) {
        fl_run_log(in->lt->run, 1, "%s (pid %d) still running after its grace: killing it",
                   in->pub.id, in->pub.pid);
        fl_local_kill_members(in);
        fl_local_kill_group(in->pub.pid, SIGKILL);
    }
}

/* SIGTERM to the main process (a frozen or stopped one is thawed first: it
 * could not act on it), the whole containment killed after the grace. */
void fl_local_terminate(struct local_inst *in, uint64_t grace_ms)
{
    if (in->pub.frozen && in->cgroup[0]) {
        fl_cgroup_freeze(in->cgroup, 0, 1000);
        in->pub.frozen = 0;
        fl_journal_done(in->lt->run->journal, in->seq_thaw);
        in->seq_thaw = 0;
    }
    fl_local_kill_group(in->pub.pid, SIGTERM);
    if (in->pub.stopped_by_signal || in->pub.frozen) {
        fl_local_signal_members(in, SIGCONT);
        in->pub.stopped_by_signal = 0;
        fl_journal_done(in->lt->run->journal, in->seq_cont);
        in->seq_cont = 0;
    }
    in->kill_pid = in->pub.pid;
    uv_timer_start(&in->kill_timer, fl_local_on_kill_timer, grace_ms, 0);
}

static size_t svc_alive(const struct local_svc *ls)
{
    size_t n = 0;
    for (int r = 0; r < ls->n; r++)
        n += ls->inst[r].proc != NULL || ls->inst[r].draining;
    return n;
}

/* Stop services in reverse start order, each once the later ones are
 * gone (as docker-compose does): a worker still shutting down keeps its
 * database. Called again from every exit while stopping. */
static void stop_next_service(struct local_target *lt)
{
    while (lt->stop_svc > 0) {
        struct local_svc *ls = &lt->svcs[lt->stop_svc - 1];
        if (!lt->stop_sent) {
            lt->stop_sent = 1;
            for (int r = 0; r < ls->n; r++)
                if (ls->inst[r].proc)
                    fl_local_terminate(&ls->inst[r], ls->svc->stop_grace_ms);
            if (svc_alive(ls))
                fl_run_log(lt->run, 1, "stopping %s (%zu instance%s)", ls->svc->name,
                           svc_alive(ls), svc_alive(ls) == 1 ? "" : "s");
        }
        if (svc_alive(ls))
            return;
        lt->stop_svc--;
        lt->stop_sent = 0;
    }
    if (lt->waiters && fl_local_alive_count(lt) == 0)
        deliver_stop(lt, 0, NULL);
}

static int local_stop(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct local_target *lt = ctx(t);
    if (lt->destroyed)
        return FL_EABORT;
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
        /* The whole stop is bounded: every service's grace, one after the
         * other, plus a margin each for the kill and the drain. */
        uint64_t budget = 0;
        for (size_t i = 0; i < lt->ninsts; i++) {
            struct local_inst *in = &lt->insts[i];
            uv_timer_stop(&in->restart_timer);
            in->restart_pending = 0;
            fl_ready_cancel(in->check);
            in->check = NULL;
        }
        for (size_t i = 0; i < lt->nsvcs; i++)
            budget += lt->svcs[i].svc->stop_grace_ms + STOP_MARGIN_MS;
        if (fl_local_alive_count(lt)) {
            lt->stop_timer_armed = 1;
            uv_timer_start(&lt->stop_timer, on_stop_timer, budget + 5000, 0);
        }
        lt->stop_svc = lt->nsvcs;
        lt->stop_sent = 0;
        stop_next_service(lt);
        return 0;
    }
    if (!lt->stop_timer_armed && fl_local_alive_count(lt) == 0) {
        /* Nothing to wait for: report on the next turn, never inside stop(). */
        lt->stop_timer_armed = 1;
        uv_timer_start(&lt->stop_timer, on_stop_timer, 0, 0);
    }
    return 0;
}

/* ---- destroy and free -------------------------------------------------- */

static void destroy_timer_closed(uv_handle_t *h)
{
    struct local_target *lt = h->data;
    free(h);
    fl_local_unref(lt);
}

static void on_destroyed(uv_timer_t *t)
{
    struct local_target *lt = t->data;
    struct stop_waiter *w = lt->destroy_waiters;
    lt->destroy_waiters = NULL;
    lt->destroy_timer = NULL;
    uv_close((uv_handle_t *)t, destroy_timer_closed);
    while (w) {
        struct stop_waiter *next = w->next;
        if (w->cb)
            w->cb(&lt->base, 0, NULL, w->ud);
        free(w);
        w = next;
    }
}

/* Report destroy on the next loop turn (never inside the call). */
static void queue_destroy_cb(struct local_target *lt, fl_target_cb cb, void *ud)
{
    if (!cb)
        return;
    struct stop_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return;
    w->cb = cb;
    w->ud = ud;
    w->next = lt->destroy_waiters;
    lt->destroy_waiters = w;
    if (lt->destroy_timer)
        return;
    lt->destroy_timer = malloc(sizeof *lt->destroy_timer);
    if (!lt->destroy_timer)
        return;
    uv_timer_init(lt->run->loop, lt->destroy_timer);
    lt->destroy_timer->data = lt;
    lt->refs++;
    uv_timer_start(lt->destroy_timer, on_destroyed, 0, 0);
}

/* Every containment killed and emptied, every cgroup removed, the
 * journal told. Bounded: a few seconds at most in total. */
static void release_containment(struct local_target *lt)
{
    struct fl_journal *j = lt->run->journal;
    int all = 1;
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        if (in->cgroup[0]) {
            int rc = fl_cgroup_destroy(in->cgroup, 2000);
            if (rc) {
                all = 0;
                fl_run_log(lt->run, 0, "cannot remove cgroup %s: %s", in->cgroup, strerror(-rc));
                continue;
            }
            fl_journal_done(j, in->seq_cgroup);
            in->seq_cgroup = 0;
        } else if (!fl_local_members_gone(in)) {
            fl_local_kill_members(in);
        }
        fl_journal_done(j, in->seq_thaw);
        fl_journal_done(j, in->seq_cont);
        fl_journal_done(j, in->seq_proc);
        in->seq_thaw = in->seq_cont = in->seq_proc = 0;
    }
    if (lt->contain.mode == FL_CONTAIN_CGROUP) {
        if (all && rmdir(lt->contain.root) != 0 && errno != ENOENT)
            all = 0;
        if (all)
            fl_cgroup_remove_parent(lt->contain.root);
    } else {
        /* Escapees found by their marker, killed and reaped. */
        char prefix[128];
        int pids[256];
        snprintf(prefix, sizeof prefix, "%s/", lt->contain.run_tag);
        for (int round = 0; round < 100; round++) {
            int n = fl_proc_find_marked(prefix, 1, pids, 256);
            if (n <= 0)
                break;
            for (int k = 0; k < n; k++) {
                kill(pids[k], SIGKILL);
                fl_proc_reap_adopted(pids[k]);
            }
            struct timespec ms = {0, 2000000};
            nanosleep(&ms, NULL);
        }
    }
    if (all)
        fl_journal_done(j, lt->seq_root);
}

static void local_destroy(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct local_target *lt = ctx(t);
    if (lt->destroyed) {
        queue_destroy_cb(lt, cb, ud);
        return;
    }
    lt->destroyed = 1;
    lt->base.destroyed = 1;
    lt->stopping = 1;
    lt->starting = 0;
    lt->start_cb = NULL;
    while (lt->waiters) {
        struct stop_waiter *next = lt->waiters->next;
        free(lt->waiters);
        lt->waiters = next;
    }
    /* Kill every containment first, then reap: the waits overlap. */
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        fl_ready_cancel(in->check);
        in->check = NULL;
        fl_local_kill_members(in);
        if (in->proc)
            fl_local_kill_group(in->proc->pid, SIGKILL);
    }
    for (size_t i = 0; i < lt->ninsts; i++) {
        struct local_inst *in = &lt->insts[i];
        if (in->proc) {
            fl_local_kill_reap(in->proc->pid, 2000);
            /* Reaped here: closing the handle stops libuv waiting for it. */
            fl_local_proc_close(in->proc);
            in->proc = NULL;
            in->pub.pid = 0;
        }
        in->draining = 0;
        in->pub.state = FL_INST_STOPPED;
        if (in->log_fd >= 0) {
            close(in->log_fd);
            in->log_fd = -1;
        }
        uv_close((uv_handle_t *)&in->restart_timer, inst_timer_closed);
        uv_close((uv_handle_t *)&in->kill_timer, inst_timer_closed);
        uv_close((uv_handle_t *)&in->drain_timer, inst_timer_closed);
    }
    release_containment(lt);
    fl_local_volumes_release(lt);
    uv_close((uv_handle_t *)&lt->start_timer, timer_closed);
    uv_close((uv_handle_t *)&lt->stop_timer, timer_closed);
    queue_destroy_cb(lt, cb, ud);
}

static void local_free(struct fl_target *t)
{
    struct local_target *lt = ctx(t);
    if (!lt->destroyed)
        local_destroy(t, NULL, NULL);
    lt->freed = 1;
    if (lt->refs == 0)
        target_free(lt);
}

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

static const char *local_containment(struct fl_target *t)
{
    return ctx(t)->contain_desc;
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
        ready += fl_inst_ready(&ls->inst[r].pub);
    if (ready == 0)
        return add_addr(out, ls->inst[0].pub.port);
    unsigned pick = ls->rr++ % (unsigned)ready;
    for (int r = 0; r < ls->n; r++) {
        struct local_inst *in = &ls->inst[r];
        if (fl_inst_ready(&in->pub) && pick-- == 0)
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
                rc = fl_buf_adds(out, in->pub.host) ? FL_ENOMEM : 0;
            else if (flen > 7 && memcmp(field, "volume.", 7) == 0) {
                /* Where faultline reaches the volume (fill it, measure it). */
                const struct local_vol *lv = fl_local_volume(in, field + 7, flen - 7);
                if (lv)
                    rc = fl_buf_adds(out, lv->host) ? FL_ENOMEM : 0;
            }
        }
    }
    if (rc == FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "value of ${%.*s} too long", (int)len, name);
    return rc;
}

const struct fl_target_type fl_target_local = {
    .name = "local",
    .help = "faultline starts and supervises the services itself, each instance in its own "
            "cgroup (or, without cgroup v2, tracked by a subreaper and an environment marker)",
    .ops = FL_TOP_SIGNAL | FL_TOP_KILL | FL_TOP_TERMINATE | FL_TOP_FREEZE | FL_TOP_BLOCK |
           FL_TOP_START | FL_TOP_FS | FL_TOP_ENV,
    .create = local_create,
    .start = local_start,
    .stop = local_stop,
    .destroy = local_destroy,
    .free = local_free,
    .instances = local_instances,
    .signal = fl_local_op_signal,
    .kill = fl_local_op_kill,
    .terminate = fl_local_op_terminate,
    .freeze = fl_local_op_freeze,
    .thaw = fl_local_op_thaw,
    .block_restarts = fl_local_op_block,
    .unblock_restarts = fl_local_op_unblock,
    .start_instance = fl_local_op_start_instance,
    .fs_path = fl_local_op_fs_path,
    .add_env_hook = fl_local_op_add_env_hook,
    .resolve = local_resolve,
    .containment = local_containment,
};
