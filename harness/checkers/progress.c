/* progress.c - a counter (rows_read, jobs_done) advances at least every
 * `within`, except while a fault is active and for `grace` after it.
 *
 * The probe records the counter (an HTTP probe with record: /rows_read or
 * metric: rows_read_total). A stall is an interval between advances
 * (stalls.c: a lower value is a reset, not an advance; a failed sample is
 * no advance). Its length counts only the time outside every fault window
 * [injection, heal + grace): a fault is allowed to stop progress while it
 * lasts, and the system gets `grace` to resume. A stall longer than
 * `within` after that is a violation, shown as the interval and the
 * samples at its ends. A stall with a gap of missing samples longer than
 * `within` inside it proves nothing: unknown, unless another stall is
 * proven. No numeric sample at all: unknown.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"
#include "checkers/stalls.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_PROBE, P_WITHIN, P_GRACE };

static const struct fl_param params[] = {
    [P_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe that records the counter (a number: record: /rows_read, metric: rows_total)"},
    [P_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "the counter must advance at least this often", .lo = 1},
    [P_GRACE] = {"grace", FL_PT_DURATION, 0, "5s", "time after each fault heals before a stall counts again"},
};

/* Time of [a, b) outside the merged windows w (sorted, disjoint). */
static int64_t outside(int64_t a, int64_t b, const struct fl_span *w, size_t n)
{
    int64_t t = b - a;
    for (size_t i = 0; i < n; i++) {
        int64_t s = w[i].start > a ? w[i].start : a;
        int64_t e = w[i].end < b ? w[i].end : b;
        if (e > s)
            t -= e - s;
    }
    return t;
}

/* Fault windows extended by grace, merged. */
static int exempt_windows(const struct fl_history *h, int64_t grace, struct fl_span **out,
                          size_t *n)
{
    struct fl_fault_win *f;
    size_t nf;
    *out = NULL;
    *n = 0;
    if (fl_faults_collect(h, &f, &nf))
        return FL_ENOMEM;
    struct fl_span *w = malloc((nf ? nf : 1) * sizeof *w);
    if (!w) {
        free(f);
        return FL_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {   /* faults come in injection order */
        int64_t s = f[i].start, e = f[i].end + grace;
        if (k && s <= w[k - 1].end) {
            if (e > w[k - 1].end)
                w[k - 1].end = e;
        } else {
            w[k++] = (struct fl_span){s, e};
        }
    }
    free(f);
    *out = w;
    *n = k;
    return 0;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *probe = args->v[P_PROBE].s;
    int64_t within = (int64_t)args->v[P_WITHIN].ms * 1000;
    int64_t grace = (int64_t)args->v[P_GRACE].ms * 1000;
    struct fl_stall *st;
    size_t n, ns;
    struct fl_span *w;
    size_t nw;
    if (fl_counter_stalls(h, probe, within, &st, &n, &ns))
        return FL_ENOMEM;
    if (exempt_windows(h, grace, &w, &nw)) {
        free(st);
        return FL_ENOMEM;
    }
    int rc = 0;
    size_t bad = 0, unproven = 0;
    int64_t worst = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t len = outside(st[i].start, st[i].end, w, nw);
        if (len <= within)
            continue;
        if (!st[i].proven) {
            unproven++;
            continue;
        }
        bad++;
        if (len > worst)
            worst = len;
        char why[256];
        snprintf(why, sizeof why, "no advance from %.1fs to %.1fs (%.1fs outside faults, allowed "
                 "%.1fs)%s", st[i].start / 1e6, st[i].end / 1e6, len / 1e6, within / 1e6,
                 st[i].ended ? "" : ", still stalled at the end");
        size_t ops[2] = {st[i].start_op, st[i].end_op};
        rc = fl_verdict_add_cex(out, probe, why, ops, 2);
    }
    free(st);
    free(w);
    if (rc)
        return rc;
    if (ns == 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "probe %s recorded no number in the history", probe);
    }
    if (bad) {
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%s stalled %zu time%s for longer than %.1fs outside "
                                  "faults (longest %.1fs)", probe, bad, bad == 1 ? "" : "s",
                                  within / 1e6, worst / 1e6);
    }
    if (unproven) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s showed no advance over %zu interval%s with samples "
                                  "missing for longer than %.1fs: cannot tell", probe, unproven,
                                  unproven == 1 ? "" : "s", within / 1e6);
    }
    out->validity = FL_VALID;
    return fl_verdict_summary(out, "%s advanced at least every %.1fs outside faults (%zu "
                              "samples)", probe, within / 1e6, ns);
}

const struct fl_checker_type fl_checker_progress = {
    .name = "progress",
    .help = "a counter probe advances at least every `within`, except while a fault is active "
            "and for `grace` after it heals",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
