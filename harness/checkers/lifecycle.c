/* lifecycle.c - every key a workload captured reaches a terminal value in time. */
#include "../checker.h"

enum { P_WORKLOAD, P_TERMINAL, P_WITHIN };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose captured keys are checked"},
    [P_TERMINAL] = {"terminal", FL_PT_STRINGS, 1, NULL, "values that count as done, e.g. [complete]"},
    [P_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed from acceptance to a terminal value"},
};

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    (void)h; (void)args;
    out->validity = FL_UNKNOWN;
    return fl_verdict_summary(out, "not implemented yet");
}

const struct fl_checker_type fl_checker_lifecycle = {
    .name = "lifecycle",
    .help = "every key captured by a workload reaches one of the terminal values within T",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
