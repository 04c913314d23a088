/* redis_disconnect.c - drop every client connection of Redis instances
 * (CLIENT KILL TYPE normal): what a proxy restart or a network blip does.
 * Clients must reconnect; a client that never does is the bug. Instant. */
#include "injectors/redis_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_ROLE, P_PICK };

static const struct fl_param params[] = {
    FL_REDIS_ROLE_PARAMS,
};

struct drop {
    size_t waiting;
    int failed;
    char err[300];
};

static void on_kill_reply(const struct fl_rq_result *res, void *ud)
{
    struct fl_fault_run *fr = ud;
    struct drop *d = fr->state;
    if (res->status || res->is_error) {
        d->failed = 1;
        snprintf(d->err, sizeof d->err, "CLIENT KILL: %.280s", res->text);
    } else {
        size_t len = strlen(fr->desc);
        snprintf(fr->desc + len, sizeof fr->desc - len, " (%s dropped)", res->text);
    }
    if (--d->waiting == 0) {
        fr->state = NULL;
        int failed = d->failed;
        char err[300];
        snprintf(err, sizeof err, "%s", d->err);
        free(d);
        fl_fault_done(fr, failed ? FL_EINJECT : 0, failed ? err : NULL);
    }
}

static void on_pick(struct fl_fault_run *fr, struct fl_instance **in, size_t n, const char *why)
{
    struct drop *d = fr->state;
    if (n == 0) {
        fr->state = NULL;
        free(d);
        fl_fault_done(fr, FL_EINJECT, why);
        return;
    }
    static const char *const argv[] = {"CLIENT", "KILL", "TYPE", "normal"};
    d->waiting = n;
    for (size_t i = 0; i < n; i++) {
        fl_inj_add_key(fr, in[i]);
        size_t len = strlen(fr->desc);
        snprintf(fr->desc + len, sizeof fr->desc - len, "%sCLIENT KILL TYPE normal on %s",
                 i ? "; " : "", in[i]->id);
        struct fl_error e = {0};
        if (fl_rq(fr->run, in[i]->port, 2000, 4, argv, on_kill_reply, fr, &e)) {
            struct fl_rq_result r = {.status = FL_EIO};
            snprintf(r.text, sizeof r.text, "%s", e.msg);
            on_kill_reply(&r, fr);
            if (!fr->state)
                return;
        }
    }
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_redis_pick_start(fr, sizeof(struct drop), on_pick, err);
}

const struct fl_injector_type fl_injector_redis_disconnect = {
    .name = "redis.disconnect",
    .help = "drop every client connection of Redis instances by role (CLIENT KILL TYPE normal); "
            "instant",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .inject = inject,
};
