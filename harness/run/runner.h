/* runner.h - run one scenario: services up, steady state, timeline of
 * workload + probes + faults, heal, settle, drain, stop, check, result.
 *
 * One libuv loop, no threads. Whatever happens (pass, fail, harness error,
 * Ctrl-C) every fault is healed and every process the run started is
 * stopped before fl_runner_run returns.
 */
#ifndef FL_RUNNER_H
#define FL_RUNNER_H

#include <stdio.h>

#include "reports/report.h"
#include "core/model.h"

/* Logged (level 0) when a line typed on the run's terminal was read: the
 * terminal has echoed it, one line below whatever was drawn last. */
#define FL_LOG_ECHO "input echoed"

/* What a run is doing, for the live view: phase, time, workload counts,
 * active faults, what is already known to be broken. */
struct fl_status_workload {
    const char *name;
    size_t ok, fail, info;
    double rate;                 /* ok per second over the last interval */
};
struct fl_status_fault {
    const char *type;            /* "process.pause" */
    const char *key;             /* instances it acted on, "" when none yet */
    double left_s;               /* until its heal; -1: no heal of its own */
};
struct fl_run_status {
    const char *scenario;
    const char *phase;
    double elapsed_s, total_s;   /* total: the end of the timeline */
    const struct fl_status_workload *workloads;
    size_t nworkloads;
    const struct fl_status_fault *faults;
    size_t nfaults;
    const char *const *broken;   /* labels of invariants already violated */
    size_t nbroken;
    const char *stop;            /* the stop condition met, or NULL */
    const char *prompt;          /* --step: the question waiting, or NULL */
    size_t notes;
};

struct fl_runner_opts {
    const char *outdir;        /* this scenario's output folder (created) */
    FILE *events;              /* also stream every op here (NULL: no) */
    int has_seed;              /* --seed given: overrides the scenario's */
    uint64_t seed;
    int verbose;               /* -1 quiet, 0 normal, 1 verbose */
    const char *self_exe;      /* for the exec shim (no orphans) */
    const char *bindir;        /* folder of faultline: first in the SUT's PATH */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
    uint64_t steady_timeout_ms;/* wait for every probe's first ok, default 15s */
    /* Folder of the journals (journal.h); NULL: nothing is journaled
     * (tests that drive the runner without one). */
    const char *state_dir;
    /* How long the teardown (heal, stop) may take before everything is
     * killed at once; 0: the longest stop_grace + 30s. */
    uint64_t teardown_timeout_ms;
    /* The operator (run/operator.c): when input is set, lines read from
     * input_fd (a terminal or a pipe; the fd is dup'ed, never closed)
     * become notes in the history, and with step each fault waits for a
     * y / n / q line before it is injected. */
    int input;
    int input_fd;
    int step;
    /* Called about once a second while the run goes on, with a snapshot
     * valid during the call (the live view; NULL: none). */
    void (*status)(void *ud, const struct fl_run_status *st);
    void *status_ud;
};

/* Run sc and fill res (zeroed by the caller). Returns 0 when a result was
 * produced (check res->harness_status and the verdicts), FL_ENOMEM or
 * FL_EIO when not even that was possible. On return every process of the
 * run is gone. res owns its history and verdicts: fl_result_free. */
int fl_runner_run(const struct fl_scenario *sc, const struct fl_runner_opts *o,
                  struct fl_result *res);
void fl_result_free(struct fl_result *res);

/* Ask every active run to stop (safe from a signal handler context through
 * the loop's uv_signal watcher; see main.c). The runner installs its own
 * SIGINT/SIGTERM watchers while it runs; this reports whether one fired. */
int fl_runner_interrupted(void);

#endif
