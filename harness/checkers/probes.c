/* probes.c - checkers over probe samples: recovers, always. */
#include "../checker.h"

enum { R_PROBE, R_WITHIN, R_EXPECT };

static const struct fl_param recovers_params[] = {
    [R_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [R_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed after each fault ends to be healthy again"},
    [R_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
};

enum { A_PROBE, A_EXPECT, A_DURING_FAULTS };

static const struct fl_param always_params[] = {
    [A_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [A_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
    [A_DURING_FAULTS] = {"during_faults", FL_PT_BOOL, 0, "true", "also check samples taken while a fault is active"},
};

static int recovers(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    (void)h; (void)args;
    out->validity = FL_UNKNOWN;
    return fl_verdict_summary(out, "not implemented yet");
}

static int always(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    (void)h; (void)args;
    out->validity = FL_UNKNOWN;
    return fl_verdict_summary(out, "not implemented yet");
}

const struct fl_checker_type fl_checker_recovers = {
    .name = "recovers",
    .help = "after each fault ends, the probe is healthy again within T and stays healthy",
    .params = recovers_params,
    .nparams = sizeof recovers_params / sizeof recovers_params[0],
    .check = recovers,
};

const struct fl_checker_type fl_checker_always = {
    .name = "always",
    .help = "every sample of the probe is healthy",
    .params = always_params,
    .nparams = sizeof always_params / sizeof always_params[0],
    .check = always,
};
