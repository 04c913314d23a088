/* redis_kill.c - SIGKILL Redis instances chosen by role (the primary by
 * default) and keep them down for the fault's duration; the heal starts
 * them again. */
#include "injectors/redis_common.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_ROLE, P_PICK };

static const struct fl_param params[] = {
    FL_REDIS_ROLE_PARAMS,
};

struct killed {
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
};

static void on_pick(struct fl_fault_run *fr, struct fl_instance **in, size_t n, const char *why)
{
    if (n == 0) {
        fl_fault_done(fr, FL_EINJECT, why);
        return;
    }
    struct killed *k = fr->state;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        struct fl_error e = {0};
        int pid = in[i]->pid;
        k->in[k->n++] = in[i];
        /* No restart policy brings it back before the heal. */
        if (fl_target_block_restarts(fr->run->target, in[i], "killed by redis.kill until the heal",
                                     &e) ||
            fl_target_kill(fr->run->target, in[i], &e)) {
            fl_fault_done(fr, FL_EINJECT, e.msg);
            return;
        }
        fl_inj_add_key(fr, in[i]);
        len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                "%sSIGKILL %s (pid %d)", i ? ", " : "", in[i]->id, pid);
        if (len >= sizeof fr->desc)
            len = sizeof fr->desc - 1;
    }
    fl_fault_done(fr, 0, NULL);
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_redis_pick_start(fr, sizeof(struct killed), on_pick, err);
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct killed *k = fr->state;
    if (!k)
        return 0;
    size_t len = 0;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < k->n; i++) {
        int rc = fl_target_unblock_restarts(fr->run->target, k->in[i], err);
        if (rc == 0)
            rc = fl_target_start_instance(fr->run->target, k->in[i], err);
        if (rc)
            return rc;
        len += (size_t)snprintf(fr->desc + len, len < sizeof fr->desc ? sizeof fr->desc - len : 0,
                                "%sstarted %s (pid %d)", i ? ", " : "", k->in[i]->id,
                                k->in[i]->pid);
        if (len >= sizeof fr->desc)
            len = sizeof fr->desc - 1;
    }
    free(k);
    fr->state = NULL;
    return 0;
}

const struct fl_injector_type fl_injector_redis_kill = {
    .name = "redis.kill",
    .help = "SIGKILL Redis instances by role (default: the primary); they stay down for `for:` and "
            "are started again on heal",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_KILL | FL_TOP_BLOCK | FL_TOP_START,
    .inject = inject,
    .revert = revert,
};
