/* injector.h - one fault type: parameters, inject, revert, describe.
 *
 * A type is a const struct in injectors/NAME.c, listed in the registry
 * (injectors/registry.c). The loader validates a fault's parameters against
 * the type's table; at run time the runner creates a struct fl_fault_run per
 * scheduled fault and calls inject, then revert after `for:` (and again,
 * harmlessly, during the final heal: revert must be idempotent).
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
    /* Apply the fault. Returns 0 when done (desc/key filled), FL_PENDING
     * (see fl_fault_done), or FL_E* with err set. Must not block. */
    int (*inject)(struct fl_fault_run *fr, struct fl_error *err);
    /* Undo the fault; idempotent, also called when inject failed halfway
     * and during the final heal. NULL for instant faults. Returns 0,
     * FL_PENDING, or FL_E* with err set; desc may be updated to say what
     * was healed. */
    int (*revert)(struct fl_fault_run *fr, struct fl_error *err);
};


/* Choose instances of a service by pick (one | all | N | P%) with the run's
 * seeded generator, among those for which filter returns 1 (NULL: running
 * ones). Writes at most max pointers, returns the count chosen. */
size_t fl_pick_instances(struct fl_run *run, const char *service,
                         const struct fl_pick *pick,
                         int (*filter)(const struct fl_instance *),
                         struct fl_instance **out, size_t max);

#endif
