/* process_term.c - graceful termination: SIGTERM to the main process, the
 * whole instance killed after the grace period, the way an orchestrator
 * drains a pod. */
#include "injectors/common.h"

#include <stdio.h>

enum { P_SERVICE, P_PICK, P_GRACE };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are terminated"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
    [P_GRACE] = {"grace", FL_PT_DURATION, 0, "5s", "time between SIGTERM and killing the whole instance"},
};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_instance *in[FL_MAX_PICK];
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, NULL, in, err);
    if (n == 0)
        return FL_EINJECT;
    uint64_t grace = fr->fault->args.v[P_GRACE].ms;
    char g[32];
    fl_format_duration(grace, g, sizeof g);
    for (size_t i = 0; i < n; i++) {
        int pid = in[i]->pid;
        int rc = fl_target_terminate(fr->run->target, in[i], grace, err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, in[i]);
        fl_inj_descf(fr, "%sSIGTERM %s (pid %d), SIGKILL after %s", i ? "; " : "", in[i]->id,
                     pid, g);
    }
    return 0;
}

const struct fl_injector_type fl_injector_process_term = {
    .name = "process.term",
    .help = "terminate picked instances gracefully: SIGTERM, then the whole instance is killed after the grace period",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = FL_TOP_TERMINATE,
    .inject = inject,
};
