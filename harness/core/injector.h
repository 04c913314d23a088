/* injector.h - one fault type: parameters, inject, revert, describe.
 *
 * A type is a const struct in injectors/NAME.c, listed in the registry
 * (injectors/registry.c). The loader validates a fault's parameters against
 * the type's table; at run time the runner creates a struct fl_fault_run per
 * scheduled fault, calls setup (optional) before the services start,
 * inject at `at`, revert after `for:` (and again, harmlessly, during the
 * final heal: revert must be idempotent), cancel when a pending operation
 * must be abandoned, and teardown once the services have stopped.
 */
#ifndef FL_INJECTOR_H
#define FL_INJECTOR_H

#include <stddef.h>

#include "base/params.h"
#include "core/run_context.h"

struct fl_instance;

/* The live state of one scheduled fault. Owned by the runner. */
struct fl_fault_run {
    const struct fl_fault *fault;
    int index;                     /* position in the scenario's faults */
    struct fl_run *run;
    void *state;                   /* injector-owned, freed by revert/cleanup */
    char desc[512];                /* what inject did, filled by inject */
    char key[256];                 /* instance ids it acted on ("api.1,api.2") */
    int injected, healed;
    /* Set by the runner: completion of an inject or revert that returned
     * FL_PENDING. */
    void (*done)(struct fl_fault_run *fr, int status, const char *error);
    int pending;                   /* 0, or FL_PENDING_INJECT / FL_PENDING_HEAL */
    int heal_requested;            /* heal as soon as a pending inject ends */
    int cancelled;                 /* cancel was called: answers still in flight are dropped */
    /* fl_fault_done called before inject/revert returned FL_PENDING. */
    int in_call, early, early_status;
    char early_error[512];
};

/* inject/revert may return FL_PENDING when the work goes on in the loop
 * (waiting for a promotion, a Redis reply); the injector then calls
 * fl_fault_done exactly once, with 0 or an FL_E* status and a message. */
#define FL_PENDING 1
#define FL_PENDING_INJECT 1
#define FL_PENDING_HEAL 2
void fl_fault_done(struct fl_fault_run *fr, int status, const char *error);

struct fl_injector_type {
    const char *name;              /* "process.kill" */
    const char *help;              /* one line for --help and docs */
    const struct fl_param *params;
    size_t nparams;
    int wants_duration;            /* 1: `for:` heals it; 0: instant fault */
    /* Target operations (FL_TOP_*, target.h) the fault uses: the loader
     * refuses the scenario when its target lacks one. */
    unsigned needs;
    /* Run-scoped, optional: called once per scheduled fault after the
     * target is created and before any service starts (install an
     * environment hook, start a proxy); teardown after every service has
     * stopped, also when setup failed halfway or the run was aborted.
     * setup returns 0 or FL_E* with err set (the run does not start). */
    int (*setup)(struct fl_fault_run *fr, struct fl_error *err);
    void (*teardown)(struct fl_fault_run *fr);
    /* Apply the fault. Returns 0 when done (desc/key filled), FL_PENDING
     * (see fl_fault_done), or FL_E* with err set. Must not block. Every
     * change to the world goes through a journaled target operation or is
     * journaled here (fl_journal_undo) before it is made. */
    int (*inject)(struct fl_fault_run *fr, struct fl_error *err);
    /* Undo the fault; idempotent, also called when inject failed halfway
     * and during the final heal. NULL for instant faults. Returns 0,
     * FL_PENDING, or FL_E* with err set; desc may be updated to say what
     * was healed. */
    int (*revert)(struct fl_fault_run *fr, struct fl_error *err);
    /* Abandon a pending inject or revert (abort, teardown watchdog): stop
     * every timer and request, never call fl_fault_done for it afterwards.
     * Optional when the injector never returns FL_PENDING. What was
     * changed stays journaled: the final recovery pass undoes it. */
    void (*cancel)(struct fl_fault_run *fr);
    /* Names the fault contributes to ${...} (e.g. "proxy" for
     * ${proxy.NAME}), or NULL; resolve answers them at run time
     * (FL_ENOTFOUND for a name it does not know). */
    const char *names;
    int (*resolve)(struct fl_fault_run *fr, const char *name, size_t len, struct fl_buf *out,
                   struct fl_error *err);
};


/* The pick itself, without a target: choose among m candidates (0..m-1)
 * by pick with rng, write the chosen indexes in ascending order to chosen
 * (at most max), return how many. fl_pick_instances and the dry run's plan
 * (run/plan.c) both go through it, so a plan shows the picks a run with
 * the same seed makes when the same instances are running. */
struct fl_rng;
size_t fl_pick_indexes(struct fl_rng *rng, const struct fl_pick *pick, size_t m,
                       size_t *chosen, size_t max);

/* Choose instances of a service by pick (one | all | N | P%) with the run's
 * seeded generator, among those for which filter returns 1 (NULL: running
 * ones). Writes at most max pointers, returns the count chosen. */
size_t fl_pick_instances(struct fl_run *run, const char *service,
                         const struct fl_pick *pick,
                         int (*filter)(const struct fl_instance *),
                         struct fl_instance **out, size_t max);

#endif
