/* status.c - what the run is doing, once a second, for the live view
 * (fl_runner_opts.status): phase, time, each workload's counts and
 * throughput, the faults active with the time left to their heal, the
 * stop condition met, the --step question waiting, and the invariants
 * already known to be broken.
 *
 * "Already broken" is only claimed for checkers whose violations cannot be
 * undone by what comes later (fl_checker_type.online: a backwards
 * transition, an unhealthy sample); they are judged on the history so far
 * every STATUS_CHECK_US while it is small enough to do so cheaply. A job
 * that has not completed yet is not a broken lifecycle: that is decided
 * at the end, as always.
 */
#include "run/runner_int.h"

#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "core/stop.h"

#define STATUS_TICK_MS 1000
#define STATUS_CHECK_US 5000000
#define STATUS_CHECK_MAX_OPS 500000

static void online_checks(struct runner *rn)
{
    const struct fl_scenario *sc = rn->run.sc;
    size_t len = fl_history_len(rn->run.history);
    if (len == rn->st_checked_len || len > STATUS_CHECK_MAX_OPS)
        return;
    rn->st_checked_len = len;
    for (size_t i = 0; i < sc->ninvariants; i++) {
        const struct fl_invariant *inv = &sc->invariants[i];
        if (!inv->type->online)
            continue;
        int known = 0;
        for (size_t k = 0; k < rn->st_nbroken; k++)
            known |= rn->st_broken[k] == inv->label;
        if (known)
            continue;
        struct fl_verdict v;
        memset(&v, 0, sizeof v);
        if (inv->type->check(rn->run.history, &inv->args, &v) == 0 && v.validity == FL_INVALID)
            rn->st_broken[rn->st_nbroken++] = inv->label;
        fl_verdict_free(&v);
    }
}

static void on_tick(uv_timer_t *t)
{
    struct runner *rn = t->data;
    const struct fl_scenario *sc = rn->run.sc;
    int64_t now = fl_run_now(&rn->run);
    double dt = (double)(now - rn->st_last_us) / 1e6;
    rn->st_last_us = now;
    for (size_t i = 0; i < sc->nworkloads; i++) {
        struct fl_status_workload *w = &rn->st_work[i];
        w->rate = dt > 0 ? (double)(w->ok - rn->st_ok_prev[i]) / dt : 0;
        rn->st_ok_prev[i] = w->ok;
    }
    if (now / STATUS_CHECK_US != (now - STATUS_TICK_MS * 1000) / STATUS_CHECK_US)
        online_checks(rn);
    size_t nf = 0;
    for (size_t i = 0; i < rn->nfaults; i++) {
        const struct fl_fault_run *fr = &rn->faults[i].fr;
        if (!fr->injected || fr->healed || !fr->fault->for_ms)
            continue;
        /* The heal timer starts when the injection ends (late under
         * --step), so it knows the time left, not the schedule. */
        double left = (double)uv_timer_get_due_in(&rn->faults[i].heal_timer) / 1e3;
        rn->st_faults[nf++] = (struct fl_status_fault){fr->fault->type->name, fr->key, left};
    }
    uint64_t end = sc->duration_ms;
    for (size_t i = 0; i < sc->nfaults; i++)
        if (sc->faults[i].at_ms + sc->faults[i].for_ms > end)
            end = sc->faults[i].at_ms + sc->faults[i].for_ms;
    struct fl_run_status st = {
        .scenario = sc->name,
        .phase = fl_rn_phase_name(rn),
        .elapsed_s = (double)now / 1e6,
        .total_s = (double)(end + sc->settle_ms) / 1e3,
        .workloads = rn->st_work,
        .nworkloads = sc->nworkloads,
        .faults = rn->st_faults,
        .nfaults = nf,
        .broken = rn->st_broken,
        .nbroken = rn->st_nbroken,
        .stop = rn->stop_fired ? sc->stops[rn->stop_fired - 1].label : NULL,
        .prompt = fl_rn_step_prompt(rn),
        .notes = rn->notes,
    };
    rn->o->status(rn->o->status_ud, &st);
}

int fl_rn_status_init(struct runner *rn)
{
    const struct fl_scenario *sc = rn->run.sc;
    uv_timer_init(&rn->loop, &rn->status_timer);
    /* A view: it never keeps the loop (the run) alive by itself. */
    uv_unref((uv_handle_t *)&rn->status_timer);
    rn->status_timer.data = rn;
    rn->step_queue = calloc(rn->nfaults ? rn->nfaults : 1, sizeof *rn->step_queue);
    rn->st_work = calloc(sc->nworkloads ? sc->nworkloads : 1, sizeof *rn->st_work);
    rn->st_faults = calloc(rn->nfaults ? rn->nfaults : 1, sizeof *rn->st_faults);
    rn->st_broken = calloc(sc->ninvariants ? sc->ninvariants : 1, sizeof *rn->st_broken);
    rn->st_ok_prev = calloc(sc->nworkloads ? sc->nworkloads : 1, sizeof *rn->st_ok_prev);
    if (!rn->step_queue || !rn->st_work || !rn->st_faults || !rn->st_broken || !rn->st_ok_prev)
        return FL_ENOMEM;
    for (size_t i = 0; i < sc->nworkloads; i++)
        rn->st_work[i].name = sc->workloads[i].name;
    if (rn->o->status)
        uv_timer_start(&rn->status_timer, on_tick, STATUS_TICK_MS, STATUS_TICK_MS);
    return 0;
}

void fl_rn_status_feed(struct runner *rn, const struct fl_op *op)
{
    if (op->type == FL_INVOKE || !rn->st_work)
        return;
    if (strcmp(op->f, FL_F_NOTE) == 0) {
        rn->notes++;
        return;
    }
    if (op->process < 0 || op->process >= FL_PROC_PROBE)
        return;
    const struct fl_scenario *sc = rn->run.sc;
    for (size_t i = 0; i < sc->nworkloads; i++) {
        struct fl_status_workload *w = &rn->st_work[i];
        if (strcmp(w->name, op->source) != 0)
            continue;
        if (op->type == FL_OK)
            w->ok++;
        else if (op->type == FL_FAIL) {
            w->fail++;
        } else {
            w->info++;
        }
        return;
    }
}

void fl_rn_status_end(struct runner *rn)
{
    uv_timer_stop(&rn->status_timer);
}

void fl_rn_status_free(struct runner *rn)
{
    free(rn->step_queue);
    free(rn->st_work);
    free(rn->st_faults);
    free(rn->st_broken);
    free(rn->st_ok_prev);
    rn->st_ok_prev = NULL;
    rn->step_queue = NULL;
    rn->st_work = NULL;
    rn->st_faults = NULL;
    rn->st_broken = NULL;
}
