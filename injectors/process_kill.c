/* process_kill.c - send a signal (default SIGKILL) to picked instances.
 *
 * An instant fault: the target's restart policy decides what happens next,
 * exactly as with an OOM kill or a node losing a pod. */
#include "injectors/common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

enum { P_SERVICE, P_PICK, P_SIGNAL };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are killed"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
    [P_SIGNAL] = {"signal", FL_PT_SIGNAL, 0, "KILL", "signal to send to the instance's process group"},
};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct fl_instance *in[FL_MAX_PICK];
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, NULL, in, err);
    if (n == 0)
        return FL_EINJECT;
    int sig = fr->fault->args.v[P_SIGNAL].sig;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int pid = in[i]->pid;
        int rc = fr->run->target->type->signal(fr->run->target, in[i], sig, err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, in[i]);
        len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                "%s%s %s (pid %d)", i ? ", " : "",
                                i ? "" : fl_signal_name(sig), in[i]->id, pid);
        if (len >= sizeof fr->desc)
            len = sizeof fr->desc - 1;
    }
    return 0;
}

const struct fl_injector_type fl_injector_process_kill = {
    .name = "process.kill",
    .help = "send a signal (default SIGKILL) to picked instances of a service; no heal, the restart policy applies",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .inject = inject,
    .revert = NULL,
};
