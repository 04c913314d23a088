/* stalls.h - where a counter probe stopped advancing (progress,
 * honest_health). Pure: computed from the history alone. */
#ifndef FL_CHECKERS_STALLS_H
#define FL_CHECKERS_STALLS_H

#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

/* An interval without an advance of the counter. start: the sample that
 * last advanced it (or the first sample); end: the sample that advanced it
 * again, or the last determinate sample of the run. */
struct fl_stall {
    int64_t start, end;
    size_t start_op, end_op;   /* history indexes */
    int ended;                 /* 1: the counter advanced at end; 0: the run ended first */
    /* 0 when some stretch of more than `min` inside it has no determinate
     * sample (samples missing, timed out, or not numbers): the stall may
     * be an artefact of the gap, so it proves nothing on its own. */
    int proven;
};

/* The stalls longer than min_us of probe `probe` (a counter: ok samples
 * record a number). A sample advances the counter when its value is above
 * the previous ok value; a lower value is a reset (a restarted process
 * counting from 0 again): the new baseline, not an advance. A failed
 * sample (the counter could not be read) is determinate: no advance. An
 * info sample, a missing one or an ok one without a number is a gap.
 * *out is malloc'ed (NULL when none); *nsamples counts the ok numeric
 * samples. Returns 0 or FL_ENOMEM. */
int fl_counter_stalls(const struct fl_history *h, const char *probe, int64_t min_us,
                      struct fl_stall **out, size_t *n, size_t *nsamples);

#endif
