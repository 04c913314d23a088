/* stop.h - stop conditions (`abort_if:`): when one is met, a run heals
 * every fault at once, skips the rest of its timeline and is recorded as
 * aborted (AWS FIS stop conditions, Gremlin health checks).
 *
 * A condition watches one probe's samples: unhealthy (the sample was not
 * ok), or its value equal / not equal to a string, above / below a
 * number, continuously for a duration. The evaluation is a pure function
 * of the samples and the time, so it is unit-tested on hand-written
 * samples; the runner feeds it the probe ops as they are recorded and the
 * time on a tick (a probe that stops answering must still trip an
 * `unhealthy for 5s` condition).
 */
#ifndef FL_STOP_H
#define FL_STOP_H

#include <stddef.h>
#include <stdint.h>

#include "base/params.h"
#include "history/history.h"

enum { FL_STOP_PROBE, FL_STOP_CONDITION, FL_STOP_VALUE, FL_STOP_FOR, FL_STOP_NPARAMS };
enum fl_stop_cond {
    FL_STOP_UNHEALTHY, FL_STOP_EQUALS, FL_STOP_NOT_EQUALS, FL_STOP_ABOVE, FL_STOP_BELOW
};

/* The parameter table of one abort_if entry (probe, condition, value, for). */
extern const struct fl_param fl_stop_params[FL_STOP_NPARAMS];

struct fl_stop {
    struct fl_pos pos;
    struct fl_args args;
    const char *label;        /* "abort_if[1] (health unhealthy for 3s)" */
};

/* The streak of one condition: since when it has held, per probe key (a
 * per-replica probe holds one streak per replica). */
#define FL_STOP_KEYS 64
struct fl_stop_state {
    const char *keys[FL_STOP_KEYS];  /* interned op keys (NULL: the probe's) */
    int64_t since_us[FL_STOP_KEYS];  /* -1: not holding */
    size_t nkeys;
    int met;
    int64_t met_us;
    const char *met_key;
};

void fl_stop_state_init(struct fl_stop_state *st);

/* Feed one op (anything: ops of other probes and non-probe ops are
 * ignored). Returns 1 when the condition is met now (st->met set, with
 * met_us and met_key), else 0. A met condition stays met. */
int fl_stop_feed(const struct fl_stop *s, struct fl_stop_state *st, const struct fl_op *op);

/* The time passes with no sample: met when a streak has lasted `for`. */
int fl_stop_tick(const struct fl_stop *s, struct fl_stop_state *st, int64_t now_us);

#endif
