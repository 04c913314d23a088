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

void fl_rn_reset_interrupted(void)
{
    interrupted_flag = 0;
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

/* Remember the first write error of an events file: the run's verdict
 * becomes unknown (a history that did not reach the disk cannot be
 * re-judged, and may be what a crash leaves). */
static void events_write(struct runner *rn, FILE *f, const char *name, const struct fl_op *op,
                         int flush)
{
    int rc = fl_jsonl_write_op(f, op);
    if (rc == 0 && flush)
        rc = fflush(f) ? FL_EIO : 0;
    if ((rc || ferror(f)) && !rn->events_error[0])
        snprintf(rn->events_error, sizeof rn->events_error, "writing %s failed: %s", name,
                 strerror(errno ? errno : EIO));
}

void fl_rn_sink(void *ud, const struct fl_op *op)
{
    struct runner *rn = ud;
    /* Faults, heals, phases and instance events are flushed at once: if
     * faultline dies, the events file still says what was done to the
     * system and what became of its processes. */
    int flush = strcmp(op->f, FL_F_FAULT) == 0 || strcmp(op->f, FL_F_HEAL) == 0 ||
                strcmp(op->f, FL_F_PHASE) == 0 || strcmp(op->f, FL_F_INSTANCE) == 0;
    if (rn->events)
        events_write(rn, rn->events, "events.jsonl", op, flush);
    if (rn->o->events)
        events_write(rn, rn->o->events, "the --events file", op, flush);
    if (op->type == FL_INVOKE)
        return;
    fl_rn_stops_feed(rn, op);
    fl_rn_status_feed(rn, op);
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

void fl_rn_log_to_opts(void *ud, int level, const char *msg)
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
    fl_rn_stops_end(rn);
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

void fl_rn_on_workers_closed(void *ud)
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
    fl_rn_teardown_injectors(rn);
    fl_rn_set_phase(rn, PH_DONE);
    uv_timer_stop(&rn->watchdog);
    uv_timer_stop(&rn->progress_timer);
    uv_signal_stop(&rn->sigint);
    uv_signal_stop(&rn->sigterm);
    fl_rn_control_close(rn);
    fl_rn_status_end(rn);
    fl_rn_operator_close(rn);
}

static void on_target_destroyed(struct fl_target *t, int status, const struct fl_error *err,
                                void *ud)
{
    (void)status;
    (void)err;
    struct runner *rn = ud;
    if (!rn->target_stopped)
        on_target_stopped(t, FL_EABORT, NULL, rn);
}

/* Give up on healing in order: abandon every pending injection or heal
 * (the injector's cancel), kill every process at once. What the faults
 * changed stays journaled; the run's final recovery pass undoes it. */
void fl_rn_kill_now(struct runner *rn, const char *why)
{
    if (rn->killing)
        return;
    rn->killing = 1;
    rn->run.aborting = 1;
    fl_run_log(&rn->run, 0, "%s: killing every process now", why);
    fl_rn_cancel_pending(rn, why);
    uv_timer_stop(&rn->phase_timer);
    if (rn->run.target && !rn->target_stopped)
        rn->run.target->type->destroy(rn->run.target, on_target_destroyed, rn);
    else if (!rn->target_stopped)
        on_target_stopped(NULL, FL_EABORT, NULL, rn);
}

static void on_watchdog(uv_timer_t *t)
{
    struct runner *rn = t->data;
    fl_rn_harness_fail(rn, FL_ETIMEDOUT, "teardown took too long (a heal or a stop hung)");
    fl_rn_kill_now(rn, "teardown is taking too long");
}

/* Services stop only once no injection or heal is in flight: a heal may
 * still need them (a Redis UNPAUSE, a restart). Polled; bounded by the
 * watchdog. */
static void stop_target_when_healed(uv_timer_t *t)
{
    struct runner *rn = t->data;
    if (rn->killing)
        return;
    if (fl_rn_faults_pending(rn)) {
        uv_timer_start(&rn->phase_timer, stop_target_when_healed, 50, 0);
        return;
    }
    fl_rn_heal_all(rn); /* injections that ended meanwhile */
    if (fl_rn_faults_pending(rn)) {
        uv_timer_start(&rn->phase_timer, stop_target_when_healed, 50, 0);
        return;
    }
    if (rn->killing)
        return;
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
    fl_rn_stops_end(rn);
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
        fl_workers_close(rn->workers, fl_rn_on_workers_closed, rn);
    } else {
        rn->workers_closed = 1;
    }
    /* Bound the whole teardown: services stop one after the other, so
     * by the sum of their stop graces, plus a margin. */
    uint64_t grace = 0;
    for (size_t i = 0; i < rn->run.sc->nservices; i++)
        grace += rn->run.sc->services[i].stop_grace_ms;
    uint64_t limit = rn->o->teardown_timeout_ms ? rn->o->teardown_timeout_ms : grace + 30000;
    uv_timer_start(&rn->watchdog, on_watchdog, limit, 0);
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
    fl_rn_stops_end(rn);
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
    fl_rn_stops_start(rn);
    /* +1 ms: a fault healing exactly at the end heals by its own timer. */
    uv_timer_start(&rn->end_timer, on_timeline_end, end + 1, 0);
    char d[32], e[32];
    fl_format_duration(sc->duration_ms, d, sizeof d);
    fl_format_duration(end, e, sizeof e);
    fl_run_log(&rn->run, 0, "timeline: %s of workload, %zu fault%s, ends at %s", d, rn->nfaults,
               rn->nfaults == 1 ? "" : "s", e);
}

/* Steady state: every probe has given at least one ok sample. One flag per
 * probe, however many the scenario has (the loader bounds them): a fixed
 * array once left the probes past the 64th unjudged. */
static void on_steady_poll(uv_timer_t *t)
{
    struct runner *rn = t->data;
    const struct fl_scenario *sc = rn->run.sc;
    size_t n = fl_history_len(rn->run.history), seen = 0;
    unsigned char *ok = calloc(sc->nprobes ? sc->nprobes : 1, 1);
    if (!ok) {
        uv_timer_stop(&rn->phase_timer);
        fl_rn_harness_fail(rn, FL_ENOMEM, "steady state: out of memory");
        fl_rn_abort(rn);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(rn->run.history, i);
        if (op->type != FL_OK || strcmp(op->f, FL_F_PROBE) != 0)
            continue;
        for (size_t p = 0; p < sc->nprobes; p++)
            if (!ok[p] && strcmp(op->source, sc->probes[p].name) == 0)
                ok[p] = 1;
    }
    for (size_t p = 0; p < sc->nprobes; p++)
        seen += ok[p];
    if (seen == sc->nprobes) {
        free(ok);
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
    free(ok);
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
    } else {
        char why[64];
        snprintf(why, sizeof why, "%s again", fl_signal_name(signum));
        fl_rn_kill_now(rn, why);
    }
}

void fl_rn_halt(struct runner *rn, const char *who)
{
    interrupted_flag = 1;
    fl_run_log(&rn->run, 0, "halted by `faultline halt`%s%s: healing faults and stopping services",
               who && *who ? " from " : "", who && *who ? who : "");
    fl_rn_harness_fail(rn, FL_EABORT, "halted by `faultline halt`%s%.100s",
                       who && *who ? " from " : "", who && *who ? who : "");
    fl_rn_abort(rn);
}

const char *fl_rn_phase_name(const struct runner *rn)
{
    return phase_names[rn->phase];
}

/* ---- start ------------------------------------------------------------ */

int fl_rn_begin(struct runner *rn)
{
    /* With a live view (fl_runner_opts.status) it says the same and more. */
    if (!rn->o->status)
        uv_timer_start(&rn->progress_timer, on_progress, 5000, 5000);
    return rn->run.target->type->start(rn->run.target, on_started, rn);
}

void fl_rn_watch_signals(struct runner *rn)
{
    uv_signal_init(&rn->loop, &rn->sigint);
    uv_signal_init(&rn->loop, &rn->sigterm);
    rn->sigint.data = rn->sigterm.data = rn;
    uv_signal_start(&rn->sigint, on_signal, SIGINT);
    uv_signal_start(&rn->sigterm, on_signal, SIGTERM);
}

/* ---- results --------------------------------------------------------- */

/* Judge every invariant through fl_judge: a harness failure leaves them
 * unchecked, and a history that lost ops (fl_history_integrity) makes
 * every verdict unknown, with the reason. */
void fl_rn_run_checkers(struct runner *rn)
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
