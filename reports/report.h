/* report.h - what a run produced, and the writers that render it.
 *
 * The runner fills one struct fl_result per scenario; the writers (JUnit,
 * JSON lines, console) only read it. All pointers are borrowed from the
 * runner and the scenario model for the writers' duration.
 */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stdio.h>
#include <time.h>

#include "checkers/checker.h"
#include "base/error.h"
#include "history/history.h"
#include "core/model.h"

struct fl_inv_result {
    const struct fl_invariant *inv;   /* label, type->name, pos */
    struct fl_verdict verdict;
    double time_s;                    /* time the checker took */
};

struct fl_result {
    const char *file;                 /* scenario path */
    const char *name;                 /* scenario name (or file on load error) */
    const struct fl_scenario *sc;     /* NULL when the file did not load */
    int harness_status;               /* 0 or FL_E*: the run could not finish */
    char harness_error[512];          /* what went wrong, when status != 0 */
    uint64_t seed;
    const char *target;               /* "local" */
    char containment[640];            /* what holds an instance (target.h) */
    time_t started;                   /* wall clock, for the timestamp */
    double duration_s;
    const struct fl_history *history; /* may be NULL */
    struct fl_inv_result *inv;
    size_t ninv;
    const char *outdir;
};

#define FL_VERSION "0.1.0"

/* JUnit XML for all results (one testsuite each) to path. Every string is
 * sanitized (control characters, invalid UTF-8, "]]>"). Validates against
 * the Ant strict and the Jenkins schemas. Returns 0 or FL_EIO with err. */
int fl_junit_write(const char *path, const struct fl_result *const *results,
                   size_t n, struct fl_error *err);

/* The HTML report of all results (html.c): one self-contained file (no
 * network access when opened) with the timeline and faults as bands,
 * workload throughput, error rate and latency percentiles over time,
 * probe states per replica, each violation where it happened with its
 * counterexamples, and the notes. Returns 0, FL_ENOMEM or FL_EIO with err. */
int fl_html_write(const char *path, const struct fl_result *const *results, size_t n,
                  struct fl_error *err);

/* A run's verdicts as JSON (verdicts.c), written beside its events.jsonl
 * so that `faultline report` can render the reports again later.
 * Returns 0 or FL_EIO/FL_ENOMEM with err. */
int fl_verdicts_write(const char *path, const struct fl_result *r, struct fl_error *err);

/* A result read back from a verdicts file, over a history loaded from the
 * run's events (h, borrowed: it must outlive the loaded run; counterexample
 * ops past its end are dropped). On success *out owns everything; on
 * error *out may be set too and must be freed. Returns 0, FL_EIO
 * (unreadable) or FL_EINVAL (not a verdicts file; err names
 * path:line:col), or FL_ENOMEM. */
struct fl_loaded_run;
int fl_verdicts_load(const char *path, struct fl_history *h, struct fl_loaded_run **out,
                     struct fl_error *err);
const struct fl_result *fl_loaded_run_result(const struct fl_loaded_run *lr);
void fl_loaded_run_free(struct fl_loaded_run *lr);

/* The fault timeline of a history as text (faults, heals, instance events,
 * phases), one line per op with its time: used for JUnit system-out and the
 * console. Caller frees. */
char *fl_timeline_text(const struct fl_history *h);

/* One JSON object per op on one line (the --events format). */
int fl_jsonl_write_op(FILE *f, const struct fl_op *op);

/* Console summary of a result (what broke, first counterexamples). */
void fl_console_result(FILE *f, const struct fl_result *r, int verbose);

#endif
