/* process_pause.c - freeze picked instances for the fault's duration: a GC
 * pause, a stalled VM, a hung node. method freeze (default) freezes the
 * instance's cgroup, which is what `docker pause` does and which the
 * process cannot observe; method stop sends SIGSTOP to every process of
 * the instance (visible to a parent's waitpid, as on a real SIGSTOP). The
 * heal thaws or sends SIGCONT; both are journaled by the target before
 * they are applied, so a crash in between leaves them healable. */
#include "injectors/common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_PICK, P_METHOD };
enum { METHOD_FREEZE, METHOD_STOP };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are paused"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
    [P_METHOD] = {"method", FL_PT_ENUM, 0, "freeze", "freeze: cgroup freezer (invisible to the process); stop: SIGSTOP / SIGCONT to every process",
                  .choices = (const char *const[]){[METHOD_FREEZE] = "freeze", [METHOD_STOP] = "stop", NULL}},
};

struct paused {
    int stop;                         /* method stop */
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
    unsigned incarnation[FL_MAX_PICK];
};

static int not_paused(const struct fl_instance *in)
{
    return fl_inst_running(in) && !in->frozen && !in->stopped_by_signal;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct paused *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = p;
    p->stop = fr->fault->args.v[P_METHOD].e == METHOD_STOP;
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, not_paused, p->in, err);
    if (n == 0)
        return FL_EINJECT;
    struct fl_target *t = fr->run->target;
    for (size_t i = 0; i < n; i++) {
        int pid = p->in[i]->pid;
        /* Remembered before acting: the revert must know every instance
         * that may be paused, even if pausing a later one fails. */
        p->incarnation[i] = p->in[i]->incarnation;
        p->n = i + 1;
        int rc = p->stop ? fl_target_signal(t, p->in[i], SIGSTOP, err)
                         : fl_target_freeze(t, p->in[i], err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, p->in[i]);
        fl_inj_descf(fr, "%s%s %s (pid %d)", i ? ", " : "", i ? "" : p->stop ? "SIGSTOP" : "freeze",
                     p->in[i]->id, pid);
    }
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct paused *p = fr->state;
    if (!p)
        return 0;
    int rc = 0;
    struct fl_target *t = fr->run->target;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < p->n; i++) {
        struct fl_instance *in = p->in[i];
        /* Restarted meanwhile: that incarnation starts running anyway. */
        if (in->incarnation == p->incarnation[i] && fl_inst_running(in)) {
            int r = p->stop ? (in->stopped_by_signal ? fl_target_signal(t, in, SIGCONT, err) : 0)
                            : fl_target_thaw(t, in, err);
            if (r && !rc)
                rc = r;
        }
        fl_inj_descf(fr, "%s%s %s", i ? ", " : "", i ? "" : p->stop ? "SIGCONT" : "thaw", in->id);
    }
    if (rc == 0) {
        free(p);
        fr->state = NULL;
    }
    return rc;
}

const struct fl_injector_type fl_injector_process_pause = {
    .name = "process.pause",
    .help = "pause picked instances for the fault's `for:` duration: freeze their cgroup (as "
            "`docker pause`), or SIGSTOP every process with method: stop; resumed on heal",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_FREEZE | FL_TOP_SIGNAL,
    .inject = inject,
    .revert = revert,
};
