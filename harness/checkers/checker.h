/* checker.h - invariants as pure functions from a history to a verdict.
 *
 * A checker never looks at the clock, the network or the scenario beyond its
 * own arguments: the same history always gives the same verdict, so checkers
 * are unit-tested on hand-written histories. Combining verdicts: invalid
 * beats unknown beats valid.
 */
#ifndef FL_CHECKER_H
#define FL_CHECKER_H

#include <stddef.h>

#include "history/history.h"
#include "base/params.h"

enum fl_validity { FL_VALID = 0, FL_UNKNOWN = 1, FL_INVALID = 2 };

/* One counterexample: a key (a job id, a probe, a replica) and the history
 * indexes of the ops that show the problem, in history order. */
struct fl_cex {
    char *key;          /* owned */
    char *why;          /* owned, one line: "pending -> http:404 -> pending" */
    size_t *ops;        /* owned, history indexes */
    size_t nops;
};

struct fl_verdict {
    enum fl_validity validity;
    char *summary;      /* owned, one line: "3 of 120 jobs never reached complete within 30s" */
    struct fl_cex *cex; /* owned, at most FL_MAX_CEX kept */
    size_t ncex;
    size_t ncex_total;  /* how many there were in all */
};

#define FL_MAX_CEX 50

struct fl_checker_type {
    const char *name;                 /* as written under invariants: */
    const char *help;                 /* one line */
    const struct fl_param *params;
    size_t nparams;
    /* Fill out (zeroed by the caller) from h and args. Returns 0, or
     * FL_ENOMEM; a verdict is produced in every other case. */
    int (*check)(const struct fl_history *h, const struct fl_args *args,
                 struct fl_verdict *out);
    /* 1: a violation found in a prefix of a history stays one in every
     * longer history, so the live view may report it while the run goes
     * on (a backwards transition, an unhealthy sample). 0: a verdict only
     * means something over the whole run (a job may still complete). */
    int online;
};

/* The registry: NULL-terminated table of every checker. */
extern const struct fl_checker_type *const fl_checkers[];
const struct fl_checker_type *fl_checker_find(const char *name);

/* Helpers for checker implementations. */
int fl_verdict_summary(struct fl_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append a counterexample (copies key/why/ops); past FL_MAX_CEX only
 * ncex_total grows. Returns 0 or FL_ENOMEM. */
int fl_verdict_add_cex(struct fl_verdict *v, const char *key, const char *why,
                       const size_t *ops, size_t nops);
void fl_verdict_free(struct fl_verdict *v);
const char *fl_validity_name(enum fl_validity v);     /* "valid", ... */
enum fl_validity fl_validity_combine(enum fl_validity a, enum fl_validity b);

/* The verdict of one invariant with the rules every caller applies (the
 * runner and `faultline check` both go through here, so the two never
 * judge one history differently):
 *   harness_error != NULL  the run did not complete: unknown, "not checked:
 *                          the run did not complete (...)"; t is not run;
 *   the checker fails      unknown, "checker failed: ENOMEM";
 *   in->complete == 0      ops are known to be missing: whatever t found
 *                          becomes unknown. The summary gives the reason,
 *                          then what the recorded ops alone show; the
 *                          counterexamples are kept (real ops, but maybe
 *                          not the whole story).
 * in may be NULL (nothing known to be missing). out is zeroed first; free
 * it with fl_verdict_free. Returns 0, or FL_ENOMEM when not even a summary
 * could be written. */
int fl_judge(const struct fl_checker_type *t, const struct fl_args *args,
             const struct fl_history *h, const struct fl_integrity *in,
             const char *harness_error, struct fl_verdict *out);

#endif
