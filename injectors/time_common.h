/* time_common.h - what time.jump, time.skew and time.strobe share: the
 * parameter rows, picking the instances (and refusing one whose process
 * has no libfaketime mapped), shifting their clocks and taking exactly
 * that shift back on heal. The clock files themselves: faketime.h. */
#ifndef FL_TIME_COMMON_H
#define FL_TIME_COMMON_H

#include <uv.h>

#include "injectors/common.h"

enum { FL_TP_SERVICE, FL_TP_PICK, FL_TP_BY, FL_TP_DIRECTION, FL_TP_FIRST_OWN };

#define FL_TIME_PARAMS(verb)                                                                   \
    [FL_TP_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL,                                      \
                       "service whose clocks " verb " (it needs `clock: controlled`)"},       \
    [FL_TP_PICK] = {"pick", FL_PT_PICK, 0, "all",                                              \
                    "which running instances: one, all, N or P%, drawn from the seed"},        \
    [FL_TP_BY] = {"by", FL_PT_DURATION, 1, NULL, "size of the shift, like 11m", .lo = 1},      \
    [FL_TP_DIRECTION] = {"direction", FL_PT_ENUM, 0, "forward",                               \
                         "forward (into the future) or back",                                  \
                         .choices = (const char *const[]){"forward", "back", NULL}}

/* The live state of a time fault (fr->state, one block the runner frees). */
struct fl_time_state {
    struct fl_fault_run *fr;
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
    int pid[FL_MAX_PICK];
    int64_t applied[FL_MAX_PICK];  /* what this fault added to each clock */
    uv_timer_t timer;              /* time.strobe */
    int timer_on, flipped_on;
    uint64_t flips;
};

/* setup: the fault's service must have a controlled clock. */
int fl_time_setup(struct fl_fault_run *fr, struct fl_error *err);
/* Pick the instances into a new fr->state; FL_EINJECT when one has no
 * libfaketime in /proc/PID/maps (static binary, Go). */
int fl_time_pick(struct fl_fault_run *fr, struct fl_error *err);
/* The signed shift the fault's by/direction ask for, in ms. */
int64_t fl_time_delta(const struct fl_fault_run *fr);
/* Shift every picked clock by delta_ms (recorded in applied). */
int fl_time_apply(struct fl_fault_run *fr, int64_t delta_ms, struct fl_error *err);
/* Take back everything this fault applied; idempotent. */
int fl_time_restore(struct fl_fault_run *fr, struct fl_error *err);
/* Describe: "api.1 (pid 12), api.2 (pid 13)". */
void fl_time_desc_instances(struct fl_fault_run *fr);

#endif
