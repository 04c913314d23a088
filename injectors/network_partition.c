/* network_partition.c - cut picked instances off the network for the
 * fault's duration: nobody reaches them and they reach nobody, while they
 * keep running (a node behind a failed switch). On compose the containers
 * are disconnected from every network they are on and connected again
 * with their aliases on heal; both are journaled by the target. */
#include "injectors/common.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_SERVICE, P_PICK };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose instances are cut off"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "one", "which instances: one, all, a count N or a percentage P%, drawn from the seed"},
};

struct cut {
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
};

static int connected(const struct fl_instance *in)
{
    return !in->partitioned;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct cut *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = c;
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, connected, c->in, err);
    if (n == 0)
        return FL_EINJECT;
    for (size_t i = 0; i < n; i++) {
        /* Remembered before acting: the revert must reconnect every
         * instance that may be cut off, even if a later one fails. */
        c->n = i + 1;
        int rc = fl_target_partition(fr->run->target, c->in[i], err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, c->in[i]);
        fl_inj_descf(fr, "%s%s", i ? ", " : "cut off ", c->in[i]->id);
    }
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct cut *c = fr->state;
    if (!c)
        return 0;
    int rc = 0;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < c->n; i++) {
        int r = fl_target_unpartition(fr->run->target, c->in[i], err);
        if (r && !rc)
            rc = r;
        fl_inj_descf(fr, "%s%s", i ? ", " : "reconnected ", c->in[i]->id);
    }
    if (rc == 0) {
        free(c);
        fr->state = NULL;
    }
    return rc;
}

const struct fl_injector_type fl_injector_network_partition = {
    .name = "network.partition",
    .help = "cut picked instances off the network for the fault's `for:` duration (compose: "
            "disconnect the containers from their networks, reconnect them with their aliases "
            "on heal)",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_NETWORK,
    .inject = inject,
    .revert = revert,
};
