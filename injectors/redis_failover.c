/* redis_failover.c - make the sentinels fail over, and wait until a new
 * primary is promoted.
 *
 * mode sentinel: SENTINEL FAILOVER on a sentinel (a planned switch-over).
 * mode kill: SIGKILL the current primary and let the sentinels notice it is
 * down and elect a replica (an unplanned one: the primary's process is
 * gone, acknowledged writes not yet replicated may be lost). Either way the
 * fault completes when the sentinels name another primary, and the history
 * records which one and when. The heal restarts a killed primary, which the
 * sentinels then turn into a replica of the new one.
 */
#include "injectors/redis_common.h"
#include "proto/sentinel.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_SENTINELS, P_MASTER, P_MODE, P_TIMEOUT, P_RESTART_AFTER };
enum { MODE_SENTINEL, MODE_KILL };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "the Redis data service (primary and replicas)"},
    [P_SENTINELS] = {"sentinels", FL_PT_SERVICE, 0, NULL,
                     "the sentinel service (default: the redis: shorthand's when SERVICE is its "
                     "data service, else SERVICE-sentinel)"},
    /* At most 100 bytes: the sentinel query keeps it in a char[128]. */
    [P_MASTER] = {"master", FL_PT_STRING, 0, NULL,
                  "the master name the sentinels monitor (default: the redis: shorthand's "
                  "master when SERVICE is its data service, else mymaster)", .lo = 1, .hi = 100},
    [P_MODE] = {"mode", FL_PT_ENUM, 0, "sentinel",
                "sentinel: SENTINEL FAILOVER; kill: SIGKILL the primary and wait for the election",
                .choices = (const char *const[]){[MODE_SENTINEL] = "sentinel",
                                                 [MODE_KILL] = "kill", NULL}},
    [P_TIMEOUT] = {"timeout", FL_PT_DURATION, 0, "30s", "how long to wait for a new primary",
                   .lo = 1},
    [P_RESTART_AFTER] = {"restart_after", FL_PT_DURATION, 0, "0s",
                         "mode kill: start the old primary again this long after the promotion "
                         "(it rejoins as a replica); 0s: at the final heal"},
};

struct failover {
    uv_timer_t timer;          /* polls the sentinels */
    int closing;
    struct fl_fault_run *fr;
    char sentinels[128];
    const char *master;
    int kill;
    int old_port;
    struct fl_instance *old;   /* the primary before the fault */
    int killed_pid;
    int64_t t0_us, deadline_us;
    int done;
    char why[512];
};

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void finish(struct failover *fo, int status, const char *err)
{
    fo->done = 1;
    uv_timer_stop(&fo->timer);
    fl_fault_done(fo->fr, status, err);
}

static void poll_sentinels(uv_timer_t *t);

/* The sentinels' view of the replicas says why none was promoted (flags
 * such as s_down or disconnected, master-link-status): worth the report. */
static void on_replicas(const struct fl_rq_result *res, void *ud)
{
    struct failover *fo = ud;
    char msg[1024];
    snprintf(msg, sizeof msg, "%.400s; SENTINEL REPLICAS: %.560s", fo->why,
             res->status == 0 ? res->text : "no answer");
    finish(fo, FL_ETIMEDOUT, msg);
}

static void explain_timeout(struct failover *fo)
{
    struct fl_fault_run *fr = fo->fr;
    struct fl_instance *all[FL_MAX_PICK];
    size_t n = fl_target_instances(fr->run->target, fo->sentinels, all, FL_MAX_PICK);
    for (size_t i = 0; i < n && i < FL_MAX_PICK; i++) {
        if (all[i]->pid <= 0)
            continue;
        const char *argv[] = {"SENTINEL", "REPLICAS", fo->master};
        struct fl_error e = {0};
        if (fl_rq(fr->run, all[i]->port, 1000, 3, argv, on_replicas, fo, &e) == 0)
            return;
    }
    finish(fo, FL_ETIMEDOUT, fo->why);
}

/* mode kill with restart_after: bring the old primary back mid-run. */
static void on_restart_old(uv_timer_t *t)
{
    struct failover *fo = t->data;
    struct fl_fault_run *fr = fo->fr;
    struct fl_error e = {0};
    if (fo->old && fo->old->state == FL_INST_BLOCKED &&
        (fl_target_unblock_restarts(fr->run->target, fo->old, &e) ||
         fl_target_start_instance(fr->run->target, fo->old, &e)))
        fl_run_log(fr->run, 0, "redis.failover: restarting %s: %s", fo->old->id, e.msg);
}

static void on_primary(struct fl_fault_run *fr, int port, const char *err)
{
    struct failover *fo = fr->state;
    if (!fo || fo->done)
        return;
    if (port > 0 && port != fo->old_port) {
        struct fl_instance *now = fl_instance_by_port(fr->run, fr->fault->args.v[P_SERVICE].s, port);
        double after = (double)(fl_now_us() - fo->t0_us) / 1e6;
        snprintf(fr->desc, sizeof fr->desc,
                 "promoted %s (127.0.0.1:%d) after %.1fs; was %s (127.0.0.1:%d)%s",
                 now ? now->id : "?", port, after, fo->old ? fo->old->id : "?", fo->old_port,
                 fo->kill ? ", killed" : "");
        snprintf(fr->key, sizeof fr->key, "%s", now ? now->id : "?");
        finish(fo, 0, NULL);
        uint64_t after_ms = fr->fault->args.v[P_RESTART_AFTER].ms;
        if (fo->kill && after_ms)
            uv_timer_start(&fo->timer, on_restart_old, after_ms, 0);
        return;
    }
    if (fl_now_us() > fo->deadline_us) {
        char d[32];
        fl_format_duration(fr->fault->args.v[P_TIMEOUT].ms, d, sizeof d);
        snprintf(fo->why, sizeof fo->why,
                 "no new primary within %s (sentinels still name 127.0.0.1:%d%s%.200s)", d,
                 port > 0 ? port : fo->old_port, err ? "; " : "", err ? err : "");
        explain_timeout(fo);
        return;
    }
    uv_timer_start(&fo->timer, poll_sentinels, 200, 0);
}

static void poll_sentinels(uv_timer_t *t)
{
    struct failover *fo = t->data;
    struct fl_error err = {0};
    if (fl_sentinel_primary(fo->fr, fo->sentinels, fo->master, on_primary, &err))
        on_primary(fo->fr, 0, err.msg);
}

static void on_failover_reply(const struct fl_rq_result *res, void *ud)
{
    struct failover *fo = ud;
    if (fo->done)
        return;
    if (res->status || res->is_error) {
        char msg[600];
        snprintf(msg, sizeof msg, "SENTINEL FAILOVER %s: %.500s", fo->master, res->text);
        finish(fo, FL_EINJECT, msg);
        return;
    }
    uv_timer_start(&fo->timer, poll_sentinels, 100, 0);
}

static void on_old_primary(struct fl_fault_run *fr, int port, const char *err)
{
    struct failover *fo = fr->state;
    if (!fo || fo->done)
        return;
    if (port <= 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "cannot find the primary: %.300s", err ? err : "?");
        finish(fo, FL_EINJECT, msg);
        return;
    }
    const char *svc = fr->fault->args.v[P_SERVICE].s;
    fo->old_port = port;
    fo->old = fl_instance_by_port(fr->run, svc, port);
    fo->t0_us = fl_now_us();
    fo->deadline_us = fo->t0_us + (int64_t)fr->fault->args.v[P_TIMEOUT].ms * 1000;
    if (fo->kill) {
        struct fl_error e = {0};
        if (!fo->old) {
            finish(fo, FL_EINJECT, "the primary the sentinels name is not an instance of the service");
            return;
        }
        fo->killed_pid = fo->old->pid;
        /* It stays down until the heal. */
        if (fl_target_block_restarts(fr->run->target, fo->old,
                                     "the killed primary stays down until the heal", &e) ||
            fl_target_kill(fr->run->target, fo->old, &e)) {
            finish(fo, FL_EINJECT, e.msg);
            return;
        }
        uv_timer_start(&fo->timer, poll_sentinels, 200, 0);
        return;
    }
    /* Ask a sentinel to switch over (any running one). */
    struct fl_instance *all[FL_MAX_PICK];
    size_t n = fl_target_instances(fr->run->target, fo->sentinels, all, FL_MAX_PICK);
    for (size_t i = 0; i < n && i < FL_MAX_PICK; i++) {
        if (all[i]->pid <= 0)
            continue;
        const char *argv[] = {"SENTINEL", "FAILOVER", fo->master};
        struct fl_error e = {0};
        if (fl_rq(fr->run, all[i]->port, 2000, 3, argv, on_failover_reply, fo, &e) == 0)
            return;
    }
    finish(fo, FL_EINJECT, "no running sentinel to ask for the failover");
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    struct failover *fo = calloc(1, sizeof *fo);
    if (!fo)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fo->fr = fr;
    fo->master = a->v[P_MASTER].set && a->v[P_MASTER].s ? a->v[P_MASTER].s
                                                        : FL_SENTINEL_DEFAULT_MASTER;
    if (a->v[P_SENTINELS].set && a->v[P_SENTINELS].s)
        snprintf(fo->sentinels, sizeof fo->sentinels, "%s", a->v[P_SENTINELS].s);
    else
        snprintf(fo->sentinels, sizeof fo->sentinels, "%.100s-sentinel", a->v[P_SERVICE].s);
    fo->kill = a->v[P_MODE].e == MODE_KILL;   /* an enum: the loader accepted only these */
    uv_timer_init(fr->run->loop, &fo->timer);
    fo->timer.data = fo;
    fr->state = fo;
    int rc = fl_sentinel_primary(fr, fo->sentinels, fo->master, on_old_primary, err);
    if (rc) {
        fr->state = NULL;
        uv_close((uv_handle_t *)&fo->timer, timer_closed);
        return rc;
    }
    return FL_PENDING;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct failover *fo = fr->state;
    if (!fo)
        return 0;
    int rc = 0;
    if (fo->kill && fo->old && !fl_inst_running(fo->old)) {
        rc = fl_target_unblock_restarts(fr->run->target, fo->old, err);
        if (rc == 0)
            rc = fl_target_start_instance(fr->run->target, fo->old, err);
        if (rc == 0)
            snprintf(fr->desc, sizeof fr->desc, "restarted %s (was primary, killed); the "
                     "sentinels make it a replica", fo->old->id);
    } else if (fo->old) {
        fl_target_unblock_restarts(fr->run->target, fo->old, NULL);
        snprintf(fr->desc, sizeof fr->desc, "nothing to restart (%s runs, pid %d)", fo->old->id,
                 fo->old->pid);
    }
    fr->state = NULL;
    uv_close((uv_handle_t *)&fo->timer, timer_closed);
    return rc;
}

/* Abandoned while waiting for the election (abort, teardown watchdog):
 * stop polling. Answers still in flight find it done; the state stays
 * (they point at it) and is freed with the run. */
static void cancel(struct fl_fault_run *fr)
{
    struct failover *fo = fr->state;
    if (!fo)
        return;
    fo->done = 1;
    uv_timer_stop(&fo->timer);
}

const struct fl_injector_type fl_injector_redis_failover = {
    .name = "redis.failover",
    .help = "fail the Redis primary over through the sentinels (SENTINEL FAILOVER, or SIGKILL the "
            "primary) and wait for the promotion; records who became primary and when",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = FL_TOP_KILL | FL_TOP_BLOCK | FL_TOP_START,
    .inject = inject,
    .revert = revert,
    .cancel = cancel,
};
