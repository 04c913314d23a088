/* plan.h - the resolved plan of a scenario, for `faultline run --dry-run`. */
#ifndef FL_PLAN_H
#define FL_PLAN_H

#include <stdint.h>

#include "base/util.h"
#include "core/model.h"

/* Append sc's plan with seed to b, as text: services, workloads, probes,
 * each fault at its time with the instances its pick would choose (every
 * replica assumed up), invariants. Nothing is started; the same seed
 * gives the same text. Returns 0 or FL_ENOMEM (b's ceiling). */
int fl_plan_text(const struct fl_scenario *sc, uint64_t seed, struct fl_buf *b);

#endif
