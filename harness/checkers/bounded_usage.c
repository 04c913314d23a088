/* bounded_usage.c - a volume's usage stays under a threshold.
 *
 * The probe is a disk probe: each ok sample records "USED/TOTAL" bytes.
 * `max` is a share of the total ("80%") or a size ("12m"). Every ok
 * sample above it is a violation (the counterexample gives the first and
 * the worst); samples while a disk.full fault is active are the fault's
 * doing when `during_faults` is false (the default), and are not judged.
 * No judged sample at all, or an ok sample that does not parse: unknown.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "base/size.h"
#include "checkers/index.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B_PROBE, B_MAX, B_DURING };

static const struct fl_param params[] = {
    [B_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "disk probe (records USED/TOTAL bytes)"},
    [B_MAX] = {"max", FL_PT_STRING, 1, NULL, "highest allowed usage: a percentage like 80% or a size like 12m", .lo = 1, .hi = 32},
    [B_DURING] = {"during_faults", FL_PT_BOOL, 0, "false", "also judge samples taken while a fault is active (a disk.full fault fills the volume on purpose)"},
};

static int parse_max(const char *s, double *pct, uint64_t *bytes)
{
    size_t l = strlen(s);
    *pct = -1;
    if (l > 1 && s[l - 1] == '%') {
        char *end;
        double p = strtod(s, &end);
        if (end != s + l - 1 || p <= 0 || p > 100)
            return -1;
        *pct = p;
        return 0;
    }
    return fl_parse_size(s, bytes) ? -1 : 0;
}

static int usage_of(const char *v, uint64_t *used, uint64_t *total)
{
    if (!v)
        return -1;
    char *end;
    unsigned long long u = strtoull(v, &end, 10);
    if (end == v || *end != '/')
        return -1;
    const char *t = end + 1;
    unsigned long long tot = strtoull(t, &end, 10);
    if (end == t || *end || tot == 0)
        return -1;
    *used = u;
    *total = tot;
    return 0;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *probe = args->v[B_PROBE].s;
    double pct;
    uint64_t maxb = 0;
    if (parse_max(args->v[B_MAX].s, &pct, &maxb)) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "max: expected a percentage like 80%% or a size like "
                                  "12m; got '%s'", args->v[B_MAX].s);
    }
    struct fl_samples s;
    if (fl_samples_load(&s, h, probe, NULL, NULL)) {
        fl_samples_free(&s);
        return FL_ENOMEM;
    }
    size_t judged = 0, over = 0, garbled = 0, first = SIZE_MAX, worst = SIZE_MAX;
    double worst_pct = -1;
    uint64_t worst_used = 0, worst_total = 0;
    for (size_t j = 0; j < s.n; j++) {
        const struct fl_op *op = fl_history_get(h, s.idx[j]);
        if (op->type != FL_OK)
            continue;
        if (!args->v[B_DURING].b && fl_span_find(s.spans, s.nspans, op->time_us) >= 0)
            continue;
        uint64_t used, total;
        if (usage_of(op->value, &used, &total)) {
            garbled++;
            continue;
        }
        judged++;
        double p = 100.0 * (double)used / (double)total;
        int bad = pct >= 0 ? p > pct : used > maxb;
        if (!bad)
            continue;
        over++;
        if (first == SIZE_MAX)
            first = s.idx[j];
        if (p > worst_pct) {
            worst_pct = p;
            worst = s.idx[j];
            worst_used = used;
            worst_total = total;
        }
    }
    fl_samples_free(&s);
    int rc = 0;
    if (over) {
        char why[256];
        snprintf(why, sizeof why, "usage above %s in %zu of %zu samples; worst %" PRIu64 " of %"
                 PRIu64 " bytes (%.1f%%)", args->v[B_MAX].s, over, judged, worst_used,
                 worst_total, worst_pct);
        size_t ops[2] = {first, worst};
        rc = fl_verdict_add_cex(out, probe, why, ops, first == worst ? 1 : 2);
        if (rc)
            return rc;
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%s went above %s (worst %.1f%% used)", probe,
                                  args->v[B_MAX].s, worst_pct);
    }
    if (!judged || garbled) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s: %zu usable sample%s, %zu not of the form USED/TOTAL",
                                  probe, judged, judged == 1 ? "" : "s", garbled);
    }
    out->validity = FL_VALID;
    return fl_verdict_summary(out, "%s stayed at or below %s (%zu samples)", probe,
                              args->v[B_MAX].s, judged);
}

const struct fl_checker_type fl_checker_bounded_usage = {
    .name = "bounded_usage",
    .help = "a disk probe's usage stays at or below `max` (a percentage or a size), outside "
            "fault windows unless during_faults",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
