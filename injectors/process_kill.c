/* process_kill.c - kill picked instances the way a pod dies: SIGKILL takes
 * the whole containment at once (every process of the instance, including
 * the ones that left its process group); any other signal goes to every
 * process of the instance.
 *
 * An instant fault: the target's restart policy decides what happens next,
 * exactly as with an OOM kill or a node losing a pod. Stop signals are
 * refused by the loader: nothing would ever resume the process (use
 * process.pause with `for:`). */
#include "injectors/common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

enum { P_SERVICE, P_PICK, P_SIGNAL };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are killed"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
    [P_SIGNAL] = {"signal", FL_PT_SIGNAL, 0, "KILL", "KILL kills the whole instance (its cgroup); another signal goes to every process of it"},
};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_instance *in[FL_MAX_PICK];
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, NULL, in, err);
    if (n == 0)
        return FL_EINJECT;
    int sig = fr->fault->args.v[P_SIGNAL].sig;
    struct fl_target *t = fr->run->target;
    for (size_t i = 0; i < n; i++) {
        int pid = in[i]->pid;
        int rc = sig == SIGKILL ? fl_target_kill(t, in[i], err) : fl_target_signal(t, in[i], sig, err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, in[i]);
        fl_inj_descf(fr, "%s%s %s (pid %d)", i ? ", " : "", i ? "" : fl_signal_name(sig),
                     in[i]->id, pid);
    }
    return 0;
}

const struct fl_injector_type fl_injector_process_kill = {
    .name = "process.kill",
    .help = "kill picked instances of a service like a pod kill: SIGKILL takes every process of "
            "the instance at once, another signal goes to each of them; no heal, the restart "
            "policy applies",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = FL_TOP_KILL | FL_TOP_SIGNAL,
    .inject = inject,
};
