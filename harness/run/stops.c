/* stops.c - the run's stop conditions (`abort_if:`, core/stop.h).
 *
 * While the timeline runs, every probe sample is fed to every condition,
 * and a tick lets the time count for a probe that stopped answering. The
 * first condition met is recorded (runner "stop" op, at its time), and
 * the run is aborted from a fresh loop turn, never from inside the
 * history sink that saw the sample: every active fault is healed at once,
 * the rest of the timeline is skipped, and the result is a harness error
 * that names the condition and the time ("aborted: ..."), so the verdicts
 * are unknown and the JUnit says why. A stopped run is not resumed.
 */
#include "run/runner_int.h"

#include <stdlib.h>

#include "core/stop.h"

#define STOP_TICK_MS 250

static void on_fire(uv_timer_t *t)
{
    struct runner *rn = t->data;
    const struct fl_stop *s = &rn->run.sc->stops[rn->stop_fired - 1];
    const struct fl_stop_state *st = &rn->stop_state[rn->stop_fired - 1];
    fl_run_log(&rn->run, 0, "stop condition met: %s at %.1fs%s%s: healing every fault, skipping "
               "the rest of the timeline", s->label, (double)st->met_us / 1e6,
               st->met_key ? " on " : "", st->met_key ? st->met_key : "");
    fl_rn_harness_fail(rn, FL_EABORT, "aborted: stop condition %s (%s:%d) met at %.1fs%s%s",
                       s->label, s->pos.file, s->pos.line, (double)st->met_us / 1e6,
                       st->met_key ? " on " : "", st->met_key ? st->met_key : "");
    fl_rn_abort(rn);
}

static void fire(struct runner *rn, size_t i)
{
    if (rn->stop_fired)
        return;
    rn->stop_fired = (int)i + 1;
    uv_timer_stop(&rn->stop_tick);
    const struct fl_stop_state *st = &rn->stop_state[i];
    char when[48];
    snprintf(when, sizeof when, "met at %.3fs", (double)st->met_us / 1e6);
    fl_run_record(&rn->run, FL_PROC_RUNNER, FL_INFO, FL_SOURCE_RUNNER, FL_F_STOP,
                  rn->run.sc->stops[i].label, when, st->met_key);
    uv_timer_start(&rn->stop_fire, on_fire, 0, 0);
}

static void on_tick(uv_timer_t *t)
{
    struct runner *rn = t->data;
    const struct fl_scenario *sc = rn->run.sc;
    int64_t now = fl_run_now(&rn->run);
    for (size_t i = 0; i < sc->nstops && !rn->stop_fired; i++)
        if (fl_stop_tick(&sc->stops[i], &rn->stop_state[i], now))
            fire(rn, i);
}

int fl_rn_stops_init(struct runner *rn)
{
    const struct fl_scenario *sc = rn->run.sc;
    uv_timer_init(&rn->loop, &rn->stop_tick);
    uv_timer_init(&rn->loop, &rn->stop_fire);
    uv_unref((uv_handle_t *)&rn->stop_tick);
    rn->stop_tick.data = rn->stop_fire.data = rn;
    if (!sc->nstops)
        return 0;
    rn->stop_state = calloc(sc->nstops, sizeof *rn->stop_state);
    if (!rn->stop_state)
        return FL_ENOMEM;
    for (size_t i = 0; i < sc->nstops; i++)
        fl_stop_state_init(&rn->stop_state[i]);
    return 0;
}

void fl_rn_stops_start(struct runner *rn)
{
    if (rn->stop_state)
        uv_timer_start(&rn->stop_tick, on_tick, STOP_TICK_MS, STOP_TICK_MS);
}

void fl_rn_stops_feed(struct runner *rn, const struct fl_op *op)
{
    const struct fl_scenario *sc = rn->run.sc;
    if (!rn->stop_state || rn->stop_fired || rn->phase != PH_TIMELINE || op->type == FL_INVOKE)
        return;
    for (size_t i = 0; i < sc->nstops; i++)
        if (fl_stop_feed(&sc->stops[i], &rn->stop_state[i], op)) {
            fire(rn, i);
            return;
        }
}

void fl_rn_stops_end(struct runner *rn)
{
    uv_timer_stop(&rn->stop_tick);
}

void fl_rn_stops_free(struct runner *rn)
{
    free(rn->stop_state);
    rn->stop_state = NULL;
}
