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
