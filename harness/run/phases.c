/* runner.c - drive one scenario on one libuv loop.
 *
 * Phases, each a record in the history (f="phase"):
 *
 *   start     the target starts every service and waits for readiness
 *   steady    probes start; every probe must give one ok sample
 *   timeline  workloads run for `duration`; faults fire at `at`, heal after `for`
 *   heal      every fault still active is reverted (idempotent)
 *   settle    observation goes on for `settle`: probes, follows
 *   drain     follows still polling get until their timeout
 *   fl_rn_teardown  probes and clients stop, the target stops every process
 *
 * Any harness failure (not ready, steady state not reached, an injection or
 * a heal failed) or Ctrl-C jumps to heal + fl_rn_teardown: faults are healed and
 * processes stopped in every outcome. A second Ctrl-C kills every process at
 * once. The checkers run after the loop has ended, on the finished history.
 */
#include "run/runner.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/injector.h"
#include "core/target.h"
#include "workload/workload.h"

#include "run/runner_int.h"

static const char *const phase_names[] = {
    "start", "steady", "timeline", "heal", "settle", "drain", "teardown", "done",
};

static volatile int interrupted_flag;

int fl_runner_interrupted(void)
{
    return interrupted_flag;
}

void fl_rn_teardown(struct runner *rn);

void fl_rn_set_phase(struct runner *rn, enum phase p)
{
    rn->phase = p;
    fl_run_record(&rn->run, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, FL_F_PHASE,
                  NULL, phase_names[p], NULL);
}

/* Record the first harness failure; later ones are consequences. */
void fl_rn_harness_fail(struct runner *rn, int code, const char *fmt, ...)
{
    if (rn->res->harness_status)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rn->res->harness_error, sizeof rn->res->harness_error, fmt, ap);
    va_end(ap);
    rn->res->harness_status = code;
    fl_run_record(&rn->run, FL_PROC_RUNNER, FL_INFO, FL_SOURCE_RUNNER, "harness",
                  NULL, NULL, rn->res->harness_error);
    fl_run_log(&rn->run, 0, "harness: %s", rn->res->harness_error);
}

/* ---- history sink: events file(s) and console ------------------------ */

static void sink(void *ud, const struct fl_op *op)
{
    struct runner *rn = ud;
    if (rn->events)
        fl_jsonl_write_op(rn->events, op);
    if (rn->o->events)
        fl_jsonl_write_op(rn->o->events, op);
    if (op->type == FL_INVOKE)
        return;
    int show = strcmp(op->f, FL_F_FAULT) == 0 || strcmp(op->f, FL_F_HEAL) == 0;
    int detail = strcmp(op->f, FL_F_INSTANCE) == 0 || strcmp(op->f, FL_F_PHASE) == 0;
    if (show || detail)
        fl_run_log(&rn->run, show ? 0 : 1, "%-8s %s%s%s%s%s%s", op->f,
                   strcmp(op->f, FL_F_PHASE) ? op->source : "",
                   op->key ? " " : "", op->key ? op->key : "",
                   op->value ? " " : "", op->value ? op->value : "",
                   op->type == FL_FAIL ? " FAILED" : "");
    if (op->error && (show || detail))
        fl_run_log(&rn->run, 0, "         %s", op->error);
}

static void log_to_opts(void *ud, int level, const char *msg)
{
    struct runner *rn = ud;
    if (!rn->o->log)
        return;
    char line[1200];
    double t = (double)fl_run_now(&rn->run) / 1e6;
    snprintf(line, sizeof line, "[%7.1fs] %s", t, msg);
    rn->o->log(rn->o->log_ud, level, line);
}

/* Stop the timeline early (harness failure or Ctrl-C): heal, then fl_rn_teardown. */
void fl_rn_abort(struct runner *rn)
{
    if (rn->teardown_started)
        return;
    rn->run.aborting = 1;
    uv_timer_stop(&rn->phase_timer);
    uv_timer_stop(&rn->stop_timer);
    uv_timer_stop(&rn->end_timer);
    if (rn->workers)
        fl_workers_stop_workloads(rn->workers);
    fl_rn_set_phase(rn, PH_HEAL);
    fl_rn_heal_all(rn);
    fl_rn_teardown(rn);
}

/* ---- phases ---------------------------------------------------------- */

static void on_workers_closed(void *ud)
{
    struct runner *rn = ud;
    rn->workers_closed = 1;
}

static void on_target_stopped(struct fl_target *t, int status, const struct fl_error *err,
                              void *ud)
{
    (void)t;
    struct runner *rn = ud;
    rn->target_stopped = 1;
    if (status)
        fl_run_log(&rn->run, 0, "stopping services: %s", err ? err->msg : fl_strerror(status));
    fl_rn_set_phase(rn, PH_DONE);
    uv_timer_stop(&rn->watchdog);
    uv_timer_stop(&rn->progress_timer);
    uv_signal_stop(&rn->sigint);
    uv_signal_stop(&rn->sigterm);
}

static void on_watchdog(uv_timer_t *t)
{
    struct runner *rn = t->data;
    fl_run_log(&rn->run, 0, "fl_rn_teardown is taking too long: killing every process");
    if (rn->run.target && !rn->target_stopped) {
        rn->run.target->type->destroy(rn->run.target);
        rn->run.target = NULL;
        on_target_stopped(NULL, FL_ETIMEDOUT, NULL, rn);
    }
}

/* Services stop only once no injection or heal is in flight: a heal may
 * still need them (a Redis UNPAUSE, a restart). Polled; bounded by the
 * watchdog. */
static void stop_target_when_healed(uv_timer_t *t)
{
    struct runner *rn = t->data;
    if (fl_rn_faults_pending(rn)) {
        uv_timer_start(&rn->phase_timer, stop_target_when_healed, 50, 0);
        return;
    }
    fl_rn_heal_all(rn); /* injections that ended meanwhile */
    if (fl_rn_faults_pending(rn)) {
        uv_timer_start(&rn->phase_timer, stop_target_when_healed, 50, 0);
        return;
    }
    if (rn->run.target) {
        int rc = rn->run.target->type->stop(rn->run.target, on_target_stopped, rn);
        if (rc)
            on_target_stopped(rn->run.target, rc, NULL, rn);
    } else {
        on_target_stopped(NULL, 0, NULL, rn);
    }
}

void fl_rn_teardown(struct runner *rn)
{
    if (rn->teardown_started)
        return;
    rn->teardown_started = 1;
    uv_timer_stop(&rn->phase_timer);
    uv_timer_stop(&rn->stop_timer);
    uv_timer_stop(&rn->end_timer);
    for (size_t i = 0; i < rn->nfaults; i++) {
        uv_timer_stop(&rn->faults[i].inject_timer);
        uv_timer_stop(&rn->faults[i].heal_timer);
    }
    fl_rn_set_phase(rn, PH_TEARDOWN);
    if (rn->workers) {
        fl_workers_stop_probes(rn->workers);
        fl_workers_close(rn->workers, on_workers_closed, rn);
    } else {
        rn->workers_closed = 1;
    }
    /* Bound the whole fl_rn_teardown by the longest stop grace plus a margin. */
    uint64_t grace = 0;
    for (size_t i = 0; i < rn->run.sc->nservices; i++)
        if (rn->run.sc->services[i].stop_grace_ms > grace)
            grace = rn->run.sc->services[i].stop_grace_ms;
    uv_timer_start(&rn->watchdog, on_watchdog, grace + 30000, 0);
    stop_target_when_healed(&rn->phase_timer);
}

static void on_drained(void *ud)
{
    struct runner *rn = ud;
    if (rn->phase == PH_DRAIN)
        fl_rn_teardown(rn);
}

/* How long the drain may take: the longest follow, or the final read of a
 * Redis workload (retried for up to 5s). */
static uint64_t drain_budget(const struct fl_scenario *sc)
{
    uint64_t m = 0;
    for (size_t i = 0; i < sc->nworkloads; i++) {
        const struct fl_workload *w = &sc->workloads[i];
        if (w->has_follow && w->follow.timeout_ms > m)
            m = w->follow.timeout_ms;
        if (w->kind == FL_WORKLOAD_REDIS && w->redis.timeout_ms + 5000 > m)
            m = w->redis.timeout_ms + 5000;
    }
    return m + 2000;
}

static void on_settled(uv_timer_t *t)
{
    struct runner *rn = t->data;
    fl_rn_set_phase(rn, PH_DRAIN);
    size_t pending = fl_workers_pending(rn->workers);
    if (pending)
        fl_run_log(&rn->run, 0, "waiting for %zu operations still in flight", pending);
    fl_workers_drain(rn->workers, drain_budget(rn->run.sc), on_drained, rn);
}

static void on_timeline_end(uv_timer_t *t)
{
    struct runner *rn = t->data;
    fl_workers_stop_workloads(rn->workers);
    fl_rn_set_phase(rn, PH_HEAL);
    fl_rn_heal_all(rn);
    if (rn->res->harness_status) {
        fl_rn_teardown(rn);
        return;
    }
    fl_rn_set_phase(rn, PH_SETTLE);
    uv_timer_start(&rn->phase_timer, on_settled, rn->run.sc->settle_ms, 0);
}

static void on_workload_stop(uv_timer_t *t)
{
    struct runner *rn = t->data;
    fl_workers_stop_workloads(rn->workers);
}

static void on_progress(uv_timer_t *t)
{
    struct runner *rn = t->data;
    if (!rn->workers || rn->phase < PH_TIMELINE || rn->phase >= PH_TEARDOWN)
        return;
    size_t issued, ok, fail, info;
    fl_workers_counts(rn->workers, &issued, &ok, &fail, &info);
    fl_run_log(&rn->run, 0, "%s: %zu ops (%zu ok, %zu fail, %zu info), %zu in flight",
               phase_names[rn->phase], issued, ok, fail, info, fl_workers_pending(rn->workers));
}

static void begin_timeline(struct runner *rn)
{
    const struct fl_scenario *sc = rn->run.sc;
    fl_rn_set_phase(rn, PH_TIMELINE);
    uint64_t end = sc->duration_ms;
    for (size_t i = 0; i < rn->nfaults; i++) {
        const struct fl_fault *f = &sc->faults[i];
        uv_timer_start(&rn->faults[i].inject_timer, fl_rn_on_inject_timer, f->at_ms, 0);
        if (f->at_ms + f->for_ms > end)
            end = f->at_ms + f->for_ms;
    }
    if (fl_workers_start_workloads(rn->workers)) {
        fl_rn_harness_fail(rn, FL_EINVAL, "the workload could not start");
        fl_rn_abort(rn);
        return;
    }
    uv_timer_start(&rn->stop_timer, on_workload_stop, sc->duration_ms, 0);
    /* +1 ms: a fault healing exactly at the end heals by its own timer. */
    uv_timer_start(&rn->end_timer, on_timeline_end, end + 1, 0);
    char d[32], e[32];
    fl_format_duration(sc->duration_ms, d, sizeof d);
    fl_format_duration(end, e, sizeof e);
    fl_run_log(&rn->run, 0, "timeline: %s of workload, %zu fault%s, ends at %s", d, rn->nfaults,
               rn->nfaults == 1 ? "" : "s", e);
}

/* Steady state: every probe has given at least one ok sample. */
static void on_steady_poll(uv_timer_t *t)
{
    struct runner *rn = t->data;
    const struct fl_scenario *sc = rn->run.sc;
    size_t n = fl_history_len(rn->run.history), seen = 0;
    static const size_t max_probes = 64;
    int ok[64] = {0};
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(rn->run.history, i);
        if (op->type != FL_OK || strcmp(op->f, FL_F_PROBE) != 0)
            continue;
        for (size_t p = 0; p < sc->nprobes && p < max_probes; p++)
            if (strcmp(op->source, sc->probes[p].name) == 0)
                ok[p] = 1;
    }
    for (size_t p = 0; p < sc->nprobes && p < max_probes; p++)
        seen += ok[p];
    if (seen >= (sc->nprobes < max_probes ? sc->nprobes : max_probes)) {
        uv_timer_stop(&rn->phase_timer);
        begin_timeline(rn);
        return;
    }
    if (fl_run_now(&rn->run) > rn->steady_deadline_us) {
        uv_timer_stop(&rn->phase_timer);
        for (size_t p = 0; p < sc->nprobes; p++)
            if (!ok[p]) {
                fl_rn_harness_fail(rn, FL_ENOTREADY,
                                   "steady state not reached: probe '%s' (%s:%d) gave no ok sample "
                                   "before any fault was injected",
                                   sc->probes[p].name, sc->probes[p].pos.file, sc->probes[p].pos.line);
                break;
            }
        fl_rn_abort(rn);
    }
}

static void on_started(struct fl_target *t, int status, const struct fl_error *err, void *ud)
{
    (void)t;
    struct runner *rn = ud;
    if (rn->teardown_started)
        return;
    if (status) {
        fl_rn_harness_fail(rn, status, "%s", err && err->msg[0] ? err->msg : fl_strerror(status));
        fl_rn_abort(rn);
        return;
    }
    fl_rn_set_phase(rn, PH_STEADY);
    fl_workers_start_probes(rn->workers);
    if (rn->run.sc->nprobes == 0) {
        begin_timeline(rn);
        return;
    }
    uint64_t wait = rn->o->steady_timeout_ms ? rn->o->steady_timeout_ms : 15000;
    rn->steady_deadline_us = fl_run_now(&rn->run) + (int64_t)wait * 1000;
    uv_timer_start(&rn->phase_timer, on_steady_poll, 50, 100);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct runner *rn = s->data;
    interrupted_flag = 1;
    rn->interrupts++;
    if (rn->interrupts == 1) {
        fl_run_log(&rn->run, 0, "%s: healing faults and stopping services (again to kill at once)",
                   fl_signal_name(signum));
        fl_rn_harness_fail(rn, FL_EABORT, "interrupted by %s", fl_signal_name(signum));
        fl_rn_abort(rn);
    } else if (rn->run.target && !rn->target_stopped) {
        fl_run_log(&rn->run, 0, "killing every process now");
        fl_rn_heal_all(rn);
        rn->run.target->type->destroy(rn->run.target);
        rn->run.target = NULL;
        on_target_stopped(NULL, FL_EABORT, NULL, rn);
    }
}

/* ---- setup and results ------------------------------------------------ */

/* Judge every invariant through fl_judge: a harness failure leaves them
 * unchecked, and a history that lost ops (fl_history_integrity) makes
 * every verdict unknown, with the reason. */
static void run_checkers(struct runner *rn)
{
    const struct fl_scenario *sc = rn->run.sc;
    struct fl_result *res = rn->res;
    res->inv = calloc(sc->ninvariants ? sc->ninvariants : 1, sizeof *res->inv);
    if (!res->inv)
        return;
    res->ninv = sc->ninvariants;
    struct fl_integrity in;
    fl_history_integrity(rn->run.history, &in);
    const char *harness = res->harness_status ? res->harness_error : NULL;
    for (size_t i = 0; i < sc->ninvariants; i++) {
        const struct fl_invariant *inv = &sc->invariants[i];
        struct fl_inv_result *ir = &res->inv[i];
        ir->inv = inv;
        int64_t t0 = fl_now_us();
        fl_judge(inv->type, &inv->args, rn->run.history, &in, harness, &ir->verdict);
        ir->time_s = harness ? 0 : (double)(fl_now_us() - t0) / 1e6;
    }
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int open_events(struct runner *rn)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.jsonl", rn->o->outdir);
    rn->events = fopen(path, "w");
    return rn->events ? 0 : FL_EIO;
}

int fl_runner_run(const struct fl_scenario *sc, const struct fl_runner_opts *o,
                  struct fl_result *res)
{
    struct runner *rn = calloc(1, sizeof *rn);
    if (!rn)
        return FL_ENOMEM;
    rn->o = o;
    rn->res = res;
    res->file = sc->file;
    res->name = sc->name;
    res->sc = sc;
    res->target = "local";
    res->outdir = o->outdir;
    res->started = time(NULL);
    res->seed = o->has_seed ? o->seed : sc->has_seed ? sc->seed
                : ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) % 1000000000ULL;
    interrupted_flag = 0;

    struct fl_run *run = &rn->run;
    run->loop = &rn->loop;
    run->sc = sc;
    run->seed = res->seed;
    fl_rng_seed(&run->rng, res->seed);
    run->outdir = o->outdir;
    run->bindir = o->bindir;
    run->self_exe = o->self_exe;
    run->verbose = o->verbose;
    run->log = log_to_opts;
    run->log_ud = rn;
    run->history = fl_history_new(0);
    if (!run->history || uv_loop_init(&rn->loop)) {
        fl_history_free(run->history);
        free(rn);
        return FL_ENOMEM;
    }
    res->history = run->history;
    if (open_events(rn))
        fl_run_log(run, 0, "cannot write %s/events.jsonl: %s", o->outdir, strerror(errno));
    run->t0_us = fl_now_us();
    fl_history_set_sink(run->history, sink, rn);

    uv_timer_init(&rn->loop, &rn->phase_timer);
    uv_timer_init(&rn->loop, &rn->stop_timer);
    uv_timer_init(&rn->loop, &rn->end_timer);
    uv_timer_init(&rn->loop, &rn->progress_timer);
    uv_timer_init(&rn->loop, &rn->watchdog);
    rn->phase_timer.data = rn->stop_timer.data = rn->end_timer.data = rn;
    rn->progress_timer.data = rn->watchdog.data = rn;
    uv_signal_init(&rn->loop, &rn->sigint);
    uv_signal_init(&rn->loop, &rn->sigterm);
    rn->sigint.data = rn->sigterm.data = rn;
    uv_signal_start(&rn->sigint, on_signal, SIGINT);
    uv_signal_start(&rn->sigterm, on_signal, SIGTERM);

    rn->nfaults = sc->nfaults;
    rn->faults = calloc(sc->nfaults ? sc->nfaults : 1, sizeof *rn->faults);
    for (size_t i = 0; rn->faults && i < sc->nfaults; i++) {
        struct fault_slot *fs = &rn->faults[i];
        fs->rn = rn;
        fs->fr.fault = &sc->faults[i];
        fs->fr.index = (int)i;
        fs->fr.run = run;
        fs->fr.done = fl_rn_fault_done;
        uv_timer_init(&rn->loop, &fs->inject_timer);
        uv_timer_init(&rn->loop, &fs->heal_timer);
        fs->inject_timer.data = fs->heal_timer.data = fs;
    }

    fl_rn_set_phase(rn, PH_START);
    fl_run_log(run, 0, "scenario %s (seed %llu), output in %s", sc->name,
               (unsigned long long)res->seed, o->outdir);
    struct fl_error err = {0};
    int rc = !rn->faults ? FL_ENOMEM : fl_target_local.create(&run->target, run, &err);
    if (rc == 0)
        rc = fl_workers_create(&rn->workers, run, &err);
    if (rc == 0) {
        uv_timer_start(&rn->progress_timer, on_progress, 5000, 5000);
        rc = run->target->type->start(run->target, on_started, rn);
    }
    if (rc) {
        fl_rn_harness_fail(rn, rc, "%s", err.msg[0] ? err.msg : fl_strerror(rc));
        fl_rn_teardown(rn);
    }
    uv_run(&rn->loop, UV_RUN_DEFAULT);

    /* The loop ended: everything should be stopped. Make sure of it. */
    if (run->target) {
        run->target->type->destroy(run->target);
        run->target = NULL;
    }
    if (!rn->workers_closed && rn->workers)
        fl_workers_close(rn->workers, on_workers_closed, rn);
    uv_walk(&rn->loop, close_walk, NULL);
    uv_run(&rn->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&rn->loop))
        fl_run_log(run, 1, "some libuv handles were still open at the end");

    for (size_t i = 0; rn->faults && i < rn->nfaults; i++)
        free(rn->faults[i].fr.state);
    free(rn->faults);
    fl_history_set_sink(run->history, NULL, NULL);
    res->duration_s = (double)fl_run_now(run) / 1e6;
    run_checkers(rn);
    if (rn->events)
        fclose(rn->events);
    if (o->events)
        fflush(o->events);
    free(rn);
    return 0;
}

void fl_result_free(struct fl_result *res)
{
    for (size_t i = 0; i < res->ninv; i++)
        fl_verdict_free(&res->inv[i].verdict);
    free(res->inv);
    fl_history_free((struct fl_history *)res->history);
    memset(res, 0, sizeof *res);
}
