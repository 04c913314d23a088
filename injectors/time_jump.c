/* time_jump.c - move the clocks of picked instances forward or back by a
 * duration, as an NTP step or a VM resumed on another host does. The jump
 * stays until the run's final heal, which takes it back (real time again);
 * the next jump adds to it. Needs `clock: controlled` (libfaketime). */
#include "injectors/time_common.h"

static const struct fl_param params[] = {
    FL_TIME_PARAMS("jump"),
};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    int rc = fl_time_pick(fr, err);
    if (!rc)
        rc = fl_time_apply(fr, fl_time_delta(fr), err);
    if (rc)
        return rc;
    long long d = (long long)fl_time_delta(fr);
    fl_inj_descf(fr, "clock %s %lld.%03llds: ", d < 0 ? "back" : "forward", (d < 0 ? -d : d) / 1000,
                 (d < 0 ? -d : d) % 1000);
    fl_time_desc_instances(fr);
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_time_restore(fr, err);
}

const struct fl_injector_type fl_injector_time_jump = {
    .name = "time.jump",
    .help = "move the clocks of picked instances of a clock-controlled service forward or back "
            "by a duration (libfaketime); no `for`: real time comes back at the final heal",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 0,
    .needs = FL_TOP_ENV,
    .setup = fl_time_setup,
    .inject = inject,
    .revert = revert,
};
