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
    int step_confirmed;          /* --step: the operator said yes */
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
    int killing;                 /* fl_rn_kill_now: no orderly heal or stop any more */
    size_t nsetup;               /* faults whose setup ran (teardown those) */
    int torn_down;               /* injectors' teardown done */
    struct fl_fault_run **fault_ptrs;  /* run.faults */
    char run_tag[96];
    struct fl_stop_state *stop_state;  /* one per abort_if entry (stops.c) */
    uv_timer_t stop_tick, stop_fire;
    int stop_fired;              /* 1 + the index of the condition met, 0: none */
    /* The operator (operator.c). */
    uv_tty_t in_tty;
    uv_pipe_t in_pipe;
    uv_stream_t *in_stream;      /* one of the two, or NULL */
    char in_buf[1024];
    size_t in_len;
    int in_eof;
    struct fault_slot **step_queue;  /* faults waiting for a y/n/q */
    size_t nstep_queue;
    int step_asking;
    char step_prompt[300];
    /* The live view (status.c). */
    uv_timer_t status_timer;
    struct fl_status_workload *st_work;
    struct fl_status_fault *st_faults;
    const char **st_broken;
    size_t *st_ok_prev;          /* ok counts at the last tick, per workload */
    size_t st_nbroken;
    size_t st_checked_len;       /* history length at the last online check */
    size_t notes;
    int64_t st_last_us;
    uv_pipe_t ctl;               /* control socket (control.c) */
    int ctl_open;
    char ctl_path[108];          /* sun_path's size */
    char events_error[300];      /* first failed write of an events file */
};

/* runner.c */
void fl_rn_set_phase(struct runner *rn, enum phase p);
/* Record the first harness failure; later ones are consequences. */
void fl_rn_harness_fail(struct runner *rn, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stop the timeline early (harness failure or Ctrl-C): heal, then teardown. */
void fl_rn_abort(struct runner *rn);
void fl_rn_teardown(struct runner *rn);
/* Abandon pending faults and kill every process at once (second Ctrl-C,
 * teardown watchdog). */
void fl_rn_kill_now(struct runner *rn, const char *why);
/* The history sink (events files, console) and the log sink. */
void fl_rn_sink(void *ud, const struct fl_op *op);
void fl_rn_log_to_opts(void *ud, int level, const char *msg);
void fl_rn_on_workers_closed(void *ud);
/* Forget an earlier run's Ctrl-C (a new scenario starts). */
void fl_rn_reset_interrupted(void);
/* SIGINT/SIGTERM watchers for the run's loop. */
void fl_rn_watch_signals(struct runner *rn);
/* Start the progress timer and the target: the phases take over. */
int fl_rn_begin(struct runner *rn);
/* Judge the finished history with every invariant into rn->res. */
void fl_rn_run_checkers(struct runner *rn);

/* Stop the whole invocation as Ctrl-C does, marked halted (who: the
 * client's words, may be ""). */
void fl_rn_halt(struct runner *rn, const char *who);
const char *fl_rn_phase_name(const struct runner *rn);

/* control.c: STATE_DIR/RUN_TAG.sock, for `faultline halt`. open returns 0
 * or FL_E* with err (the run goes on without it); close is idempotent and
 * removes the socket file. */
int fl_rn_control_open(struct runner *rn, struct fl_error *err);
void fl_rn_control_close(struct runner *rn);

/* stops.c: abort_if. init before the loop runs (0 or FL_ENOMEM); start
 * when the timeline begins; feed every op from the sink; end when the
 * timeline stops early or ends; free after the loop closed. */
struct fl_stop_state;
int fl_rn_stops_init(struct runner *rn);
void fl_rn_stops_start(struct runner *rn);
void fl_rn_stops_feed(struct runner *rn, const struct fl_op *op);
void fl_rn_stops_end(struct runner *rn);
void fl_rn_stops_free(struct runner *rn);

/* operator.c: open/close the input; step_hold returns 1 when the fault
 * must wait for the operator (it is queued and asked about). */
int fl_rn_operator_open(struct runner *rn);
void fl_rn_operator_close(struct runner *rn);
int fl_rn_step_hold(struct runner *rn, struct fault_slot *fs);
const char *fl_rn_step_prompt(const struct runner *rn);

/* status.c: the once-a-second snapshot for fl_runner_opts.status. */
int fl_rn_status_init(struct runner *rn);
void fl_rn_status_feed(struct runner *rn, const struct fl_op *op);
void fl_rn_status_end(struct runner *rn);
void fl_rn_status_free(struct runner *rn);

/* runner_faults.c */
/* Timer callback: apply one scheduled fault (journaled first). */
void fl_rn_on_inject_timer(uv_timer_t *t);
/* Heal every fault that is active (idempotent; a pending injection is
 * healed as soon as it ends). */
void fl_rn_heal_all(struct runner *rn);
/* fl_fault_run.done of every slot. */
void fl_rn_fault_done(struct fl_fault_run *fr, int status, const char *error);
/* Call every fault's setup (before the services start); 0 or FL_E*. */
int fl_rn_setup_injectors(struct runner *rn, struct fl_error *err);
/* Every setup's teardown, once (after the services stopped). */
void fl_rn_teardown_injectors(struct runner *rn);
/* Cancel every pending injection or heal (recorded as info, why). */
void fl_rn_cancel_pending(struct runner *rn, const char *why);
/* Injections and heals still in flight. */
size_t fl_rn_faults_pending(const struct runner *rn);

#endif
