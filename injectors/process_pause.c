/* process_pause.c - freeze picked instances (SIGSTOP) for the fault's
 * duration, SIGCONT on heal: a GC pause, a stalled VM, a hung node. */
#include "injectors/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_PICK };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are paused"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
};

struct paused {
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
    int pid[FL_MAX_PICK];
};

static int not_paused(const struct fl_instance *in)
{
    return in->pid > 0 && !in->paused;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct paused *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = p;
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, not_paused, p->in, err);
    if (n == 0)
        return FL_EINJECT;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int pid = p->in[i]->pid;
        /* Journal before acting: the revert must know every pid that may be
         * stopped, even if the pause of a later one fails. */
        p->pid[i] = pid;
        p->n = i + 1;
        int rc = fr->run->target->type->pause(fr->run->target, p->in[i], err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, p->in[i]);
        len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                "%s%s %s (pid %d)", i ? ", " : "", i ? "" : "SIGSTOP",
                                p->in[i]->id, pid);
        if (len >= sizeof fr->desc)
            len = sizeof fr->desc - 1;
    }
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct paused *p = fr->state;
    if (!p)
        return 0;
    int rc = 0;
    size_t len = 0;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        /* The instance may have been restarted meanwhile: only resume the
         * process that was stopped. */
        if (p->in[i]->pid == p->pid[i] && p->in[i]->paused) {
            int r = fr->run->target->type->resume(fr->run->target, p->in[i], err);
            if (r && !rc)
                rc = r;
        }
        len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                "%s%s %s (pid %d)", i ? ", " : "", i ? "" : "SIGCONT",
                                p->in[i]->id, p->pid[i]);
        if (len >= sizeof fr->desc)
            len = sizeof fr->desc - 1;
    }
    if (rc == 0) {
        free(p);
        fr->state = NULL;
    }
    return rc;
}

const struct fl_injector_type fl_injector_process_pause = {
    .name = "process.pause",
    .help = "freeze picked instances with SIGSTOP for the fault's `for:` duration; SIGCONT on heal",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .inject = inject,
    .revert = revert,
};
