/* time_strobe.c - the clocks of picked instances flip between real time and
 * an offset every `period` while the fault lasts, as Jepsen's clock nemesis
 * strobes them: time goes forward and back again and again. The heal stops
 * the flipping and restores real time. Needs `clock: controlled`. */
#include "injectors/time_common.h"

enum { P_PERIOD = FL_TP_FIRST_OWN };

static const struct fl_param params[] = {
    FL_TIME_PARAMS("strobe"),
    [P_PERIOD] = {"period", FL_PT_DURATION, 0, "1s", "time between two flips", .lo = 10},
};

static void on_flip(uv_timer_t *t)
{
    struct fl_time_state *st = t->data;
    struct fl_fault_run *fr = st->fr;
    struct fl_error err = {0};
    int rc = st->flipped_on ? fl_time_restore(fr, &err) : fl_time_apply(fr, fl_time_delta(fr), &err);
    if (rc) {
        uv_timer_stop(t);
        fl_run_log(fr->run, 0, "time.strobe: %s", err.msg);
        return;
    }
    st->flipped_on = !st->flipped_on;
    st->flips++;
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    int rc = fl_time_pick(fr, err);
    if (!rc)
        rc = fl_time_apply(fr, fl_time_delta(fr), err);
    if (rc)
        return rc;
    struct fl_time_state *st = fr->state;
    st->flipped_on = 1;
    uint64_t period = fr->fault->args.v[P_PERIOD].ms;
    if (!st->timer_on) {
        uv_timer_init(fr->run->loop, &st->timer);
        st->timer.data = st;
        st->timer_on = 1;
    }
    uv_timer_start(&st->timer, on_flip, period, period);
    long long d = (long long)fl_time_delta(fr);
    fl_inj_descf(fr, "clock strobing between real time and %c%lld.%03llds every %llums: ",
                 d < 0 ? '-' : '+', (d < 0 ? -d : d) / 1000, (d < 0 ? -d : d) % 1000,
                 (unsigned long long)period);
    fl_time_desc_instances(fr);
    return 0;
}

static void stop(struct fl_fault_run *fr)
{
    struct fl_time_state *st = fr->state;
    if (st && st->timer_on)
        uv_timer_stop(&st->timer);
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    stop(fr);
    struct fl_time_state *st = fr->state;
    int rc = fl_time_restore(fr, err);
    if (!rc && st)
        st->flipped_on = 0;
    return rc;
}

const struct fl_injector_type fl_injector_time_strobe = {
    .name = "time.strobe",
    .help = "flip the clocks of picked instances of a clock-controlled service between real "
            "time and an offset every period while the fault lasts (Jepsen's clock strobe); "
            "the heal restores real time",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_ENV,
    .setup = fl_time_setup,
    .inject = inject,
    .revert = revert,
    .teardown = stop,
};
