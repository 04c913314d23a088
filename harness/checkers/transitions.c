/* transitions.c - a key's observed value only moves forward along an order. */
#include "../checker.h"

enum { P_WORKLOAD, P_ORDER };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose followed keys are checked"},
    [P_ORDER] = {"order", FL_PT_STRINGS, 1, NULL, "the allowed values in forward order, e.g. [pending, running, complete]"},
};

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    (void)h; (void)args;
    out->validity = FL_UNKNOWN;
    return fl_verdict_summary(out, "not implemented yet");
}

const struct fl_checker_type fl_checker_transitions = {
    .name = "transitions",
    .help = "a key's observed value only moves forward along the order; any other value (404) is a violation",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
