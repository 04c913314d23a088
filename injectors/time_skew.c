/* time_skew.c - the clocks of picked instances run off by a fixed offset
 * for the fault's duration (a replica whose NTP is broken); the heal
 * takes the offset back. Needs `clock: controlled` (libfaketime). */
#include "injectors/time_common.h"

static const struct fl_param params[] = {
    FL_TIME_PARAMS("are skewed"),
};

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    int rc = fl_time_pick(fr, err);
    if (!rc)
        rc = fl_time_apply(fr, fl_time_delta(fr), err);
    if (rc)
        return rc;
    long long d = (long long)fl_time_delta(fr);
    fl_inj_descf(fr, "clock skewed %c%lld.%03llds: ", d < 0 ? '-' : '+', (d < 0 ? -d : d) / 1000,
                 (d < 0 ? -d : d) % 1000);
    fl_time_desc_instances(fr);
    return 0;
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    return fl_time_restore(fr, err);
}

const struct fl_injector_type fl_injector_time_skew = {
    .name = "time.skew",
    .help = "shift the clocks of picked instances of a clock-controlled service by a fixed "
            "offset while the fault lasts (libfaketime); the heal restores real time",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_ENV,
    .setup = fl_time_setup,
    .inject = inject,
    .revert = revert,
};
