/* image_reject.c - the cluster stops admitting the service's image (its
 * tag is mutable and the policy wants digests, the registry is gone, the
 * pull secret expired): while the fault is active, no instance of the
 * service can start or restart. Running instances keep running, as pods
 * whose image is already pulled do; any that dies stays down, and the
 * target records each refused start with the reason. Combined with
 * process.kill this is capacity draining away while "everything looks
 * alive". The heal admits the image again: the target starts what was
 * waiting at once.
 *
 * Nothing to journal: the block lives in the target's memory, and a run
 * that dies takes its instances with it (the target's own journal records
 * clean those up). */
#include "injectors/common.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_SERVICE, P_PICK, P_REASON };

static const struct fl_param params[] = {
    [P_SERVICE] = {"service", FL_PT_SERVICE, 1, NULL, "service whose image is no longer admitted"},
    [P_PICK] = {"pick", FL_PT_PICK, 0, "all", "which instances are refused: all (the image is per service), or one, N, P% drawn from the seed"},
    [P_REASON] = {"reason", FL_PT_STRING, 0, "mutable tag not admitted", "why starts are refused, recorded with every refusal"},
};

struct rejected {
    size_t n;
    struct fl_instance *in[FL_MAX_PICK];
};

static int any_instance(const struct fl_instance *in)
{
    (void)in;
    return 1;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    struct rejected *r = calloc(1, sizeof *r);
    if (!r)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = r;
    struct fl_instance *in[FL_MAX_PICK];
    size_t n = fl_inj_pick(fr, P_SERVICE, P_PICK, any_instance, in, err);
    if (n == 0)
        return FL_EINJECT;
    const char *reason = fr->fault->args.v[P_REASON].s;
    for (size_t i = 0; i < n; i++) {
        /* Remembered first: revert unblocks whatever may be blocked. */
        r->in[r->n++] = in[i];
        int rc = fl_target_block_restarts(fr->run->target, in[i], reason, err);
        if (rc)
            return rc;
        fl_inj_add_key(fr, in[i]);
        fl_inj_descf(fr, "%s%s", i ? ", " : "refuse starts of ", in[i]->id);
    }
    fl_inj_descf(fr, ": %s", reason);
    return 0;
}

/* Admit every instance again, also after one fails (the others must not
 * stay blocked); the first failure is reported, the state freed. */
static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct rejected *r = fr->state;
    if (!r)
        return 0;
    fr->desc[0] = '\0';
    int first = 0;
    size_t admitted = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct fl_error e = {0};
        int rc = fl_target_unblock_restarts(fr->run->target, r->in[i], &e);
        if (rc) {
            if (!first) {
                first = rc;
                *err = e;
            }
            continue;
        }
        fl_inj_descf(fr, "%s%s", admitted++ ? ", " : "admit starts of ", r->in[i]->id);
    }
    free(r);
    fr->state = NULL;
    return first;
}

const struct fl_injector_type fl_injector_image_reject = {
    .name = "image.reject",
    .help = "the service's image is no longer admitted: for `for:`, no instance can start or "
            "restart (each refusal is recorded with the reason); running ones keep running; "
            "the heal lets the target start them again",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_BLOCK,
    .inject = inject,
    .revert = revert,
};
