/* run.h - what every part of a running scenario shares.
 *
 * One struct fl_run exists per scenario run; the runner owns it. Parts
 * (target, workload, probes, injectors) keep a pointer to it and must not
 * outlive it.
 */
#ifndef FL_RUN_H
#define FL_RUN_H

#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "history/history.h"
#include "core/model.h"
#include "base/util.h"

struct fl_target;
struct fl_journal;
struct fl_fault_run;
struct fl_proxy_set;

struct fl_run {
    uv_loop_t *loop;
    const struct fl_scenario *sc;
    struct fl_history *history;
    struct fl_target *target;
    struct fl_journal *journal;   /* NULL: changes are not journaled (tests) */
    const char *run_tag;          /* "run-PID-START": names the journal, cgroups, markers */
    /* The scheduled faults (owned by the runner), for names they add to
     * ${...} (fl_injector_type.resolve). */
    struct fl_fault_run *const *faults;
    size_t nfaults;
    /* The scenario's fault proxies (proxies:), started by the runner
     * before the services; NULL without any. resolve_proxy answers
     * ${proxy.NAME} (FL_ENOTFOUND for a name it does not know). */
    struct fl_proxy_set *proxies;
    int (*resolve_proxy)(struct fl_proxy_set *set, const char *name, size_t len,
                         struct fl_buf *out);
    struct fl_rng rng;            /* seeded from the scenario's seed */
    uint64_t seed;
    int64_t t0_us;                /* fl_now_us() at the start of the run */
    const char *outdir;           /* the run's output folder (exists) */
    const char *bindir;           /* folder of the faultline binary */
    const char *self_exe;         /* path of the faultline binary */
    int verbose;                  /* -1 quiet, 0 normal, 1+ verbose */
    int aborting;                 /* set on Ctrl-C: parts stop starting new work */
    /* Progress sink owned by the CLI (the library never prints); NULL to
     * drop. level: 0 normal, 1 verbose, 2 debug. */
    void (*log)(void *ud, int level, const char *msg);
    void *log_ud;
};

/* Microseconds since the run started. */
static inline int64_t fl_run_now(const struct fl_run *r)
{
    return fl_now_us() - r->t0_us;
}

/* Resolve a name that is not local to the caller: builtins (seed, out,
 * bindir), scenario vars, then the target's names (svc, svc.port, svc.N,
 * svc.N.port, svc.N.pid). A fl_resolve_fn; ud is the struct fl_run. */
int fl_run_resolve(void *run, const char *name, size_t len, struct fl_buf *out,
                   struct fl_error *err);

/* Append to the history with the run's clock. */
const struct fl_op *fl_run_record(struct fl_run *r, int32_t process,
                                  enum fl_optype type, const char *source,
                                  const char *f, const char *key,
                                  const char *value, const char *error);

/* Log a progress line (the CLI's console sink decides whether to show it). */
void fl_run_log(struct fl_run *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
