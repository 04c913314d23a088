/* runner_int.h - private to the runner (runner.c: phases and setup,
 * runner_faults.c: the fault timeline). Not a public contract. */
#ifndef FL_RUNNER_INT_H
#define FL_RUNNER_INT_H

#include "core/injector.h"
#include "run/runner.h"
#include "core/target.h"
#include "workload/workload.h"

enum phase { PH_START, PH_STEADY, PH_TIMELINE, PH_HEAL, PH_SETTLE, PH_DRAIN, PH_TEARDOWN, PH_DONE };


struct fault_slot {
    struct fl_fault_run fr;
    uv_timer_t inject_timer;
    uv_timer_t heal_timer;
    struct runner *rn;
};

struct runner {
    struct fl_run run;
    uv_loop_t loop;
    const struct fl_runner_opts *o;
    struct fl_result *res;
    struct fl_workers *workers;
    struct fault_slot *faults;
    size_t nfaults;
    FILE *events;                /* this scenario's events.jsonl */
    enum phase phase;
    uv_timer_t phase_timer;      /* steady polling, settle */
    uv_timer_t stop_timer;       /* end of the workload at `duration` */
    uv_timer_t end_timer;        /* end of the timeline */
    uv_timer_t progress_timer;
    uv_timer_t watchdog;
    uv_signal_t sigint, sigterm;
    int64_t steady_deadline_us;
    size_t steady_scan;
    int interrupts;
    int teardown_started;
    int target_stopped;
    int workers_closed;
};

/* runner.c */
void fl_rn_set_phase(struct runner *rn, enum phase p);
/* Record the first harness failure; later ones are consequences. */
void fl_rn_harness_fail(struct runner *rn, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stop the timeline early (harness failure or Ctrl-C): heal, then teardown. */
void fl_rn_abort(struct runner *rn);
void fl_rn_teardown(struct runner *rn);

/* runner_faults.c */
/* Timer callback: apply one scheduled fault (journaled first). */
void fl_rn_on_inject_timer(uv_timer_t *t);
/* Heal every fault that is active (idempotent; a pending injection is
 * healed as soon as it ends). */
void fl_rn_heal_all(struct runner *rn);
/* fl_fault_run.done of every slot. */
void fl_rn_fault_done(struct fl_fault_run *fr, int status, const char *error);
/* Injections and heals still in flight. */
size_t fl_rn_faults_pending(const struct runner *rn);

#endif
