/* honest_health.c - whenever progress has stalled for longer than
 * `within`, the health probe says unhealthy.
 *
 * The stalls of the counter probe come from stalls.c (faults do not
 * excuse anything here: a service that cannot make progress, for whatever
 * reason, must say so). Once a stall has lasted `within` + `grace` (the
 * time health may take to notice), every health sample until the counter
 * advances again must be unhealthy (fail, or ok with another value than
 * `expect` when it is given). Each healthy sample there is a lie; a
 * counterexample gives the stall interval and the lying samples. A stall
 * with no health sample at all after its deadline, or one that is not
 * proven (samples missing), is unknown.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"
#include "checkers/stalls.h"

#include <stdio.h>
#include <stdlib.h>

enum { H_PROGRESS, H_HEALTH, H_WITHIN, H_GRACE, H_EXPECT };

static const struct fl_param params[] = {
    [H_PROGRESS] = {"progress", FL_PT_PROBE, 1, NULL, "probe that records the progress counter"},
    [H_HEALTH] = {"health", FL_PT_PROBE, 1, NULL, "the health probe whose answers are judged"},
    [H_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "a stall longer than this must show in health", .lo = 1},
    [H_GRACE] = {"grace", FL_PT_DURATION, 0, "2s", "time health may take to notice, after `within`"},
    [H_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample is healthy)"},
};

#define MAX_LIES 64

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *prog = args->v[H_PROGRESS].s;
    const char *health = args->v[H_HEALTH].s;
    const char *expect = args->v[H_EXPECT].set ? args->v[H_EXPECT].s : NULL;
    int64_t within = (int64_t)args->v[H_WITHIN].ms * 1000;
    int64_t grace = (int64_t)args->v[H_GRACE].ms * 1000;
    struct fl_stall *st;
    size_t n, ns;
    if (fl_counter_stalls(h, prog, within + grace, &st, &n, &ns))
        return FL_ENOMEM;
    struct fl_samples s;
    if (fl_samples_load(&s, h, health, expect, NULL)) {
        fl_samples_free(&s);
        free(st);
        return FL_ENOMEM;
    }
    int rc = 0;
    size_t bad = 0, unseen = 0, unproven = 0, lies_total = 0, judged = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t from = st[i].start + within + grace, to = st[i].end;
        size_t ops[MAX_LIES + 2];
        size_t k = 0, lies = 0, seen = 0;
        ops[k++] = st[i].start_op;
        for (size_t j = 0; j < s.n; j++) {
            const struct fl_op *op = fl_history_get(h, s.idx[j]);
            if (op->time_us < from || op->time_us > to || op->type == FL_INVOKE)
                continue;
            seen++;
            if (s.healthy[j]) {
                lies++;
                if (k < MAX_LIES + 1)
                    ops[k++] = s.idx[j];
            }
        }
        ops[k++] = st[i].end_op;
        if (!st[i].proven) {
            unproven++;
            continue;
        }
        if (!seen) {
            unseen++;
            continue;
        }
        judged++;
        if (!lies)
            continue;
        bad++;
        lies_total += lies;
        char why[300];
        snprintf(why, sizeof why, "%s stalled from %.1fs to %.1fs%s; %s said healthy %zu of %zu "
                 "times after %.1fs", prog, st[i].start / 1e6, st[i].end / 1e6,
                 st[i].ended ? "" : " (the end)", health, lies, seen, from / 1e6);
        qsort(ops, k, sizeof ops[0], cmp_size);   /* counterexamples list ops in history order */
        rc = fl_verdict_add_cex(out, health, why, ops, k);
    }
    fl_samples_free(&s);
    free(st);
    if (rc)
        return rc;
    if (ns == 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "progress probe %s recorded no number in the history",
                                  prog);
    }
    if (bad) {
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%s said healthy %zu time%s while %s had stalled for "
                                  "longer than %.1fs (%zu stall%s)", health, lies_total,
                                  lies_total == 1 ? "" : "s", prog, within / 1e6, bad,
                                  bad == 1 ? "" : "s");
    }
    if (unseen || unproven) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%zu stall%s of %s could not be judged (%zu without a "
                                  "health sample, %zu with samples missing)", unseen + unproven,
                                  unseen + unproven == 1 ? "" : "s", prog, unseen, unproven);
    }
    out->validity = FL_VALID;
    if (!judged)
        return fl_verdict_summary(out, "%s never stalled for longer than %.1fs", prog,
                                  (within + grace) / 1e6);
    return fl_verdict_summary(out, "%s said unhealthy through each of %zu stall%s of %s", health,
                              judged, judged == 1 ? "" : "s", prog);
}

const struct fl_checker_type fl_checker_honest_health = {
    .name = "honest_health",
    .help = "whenever the progress counter has stalled for longer than `within`, the health "
            "probe says unhealthy (counterexamples: the stalls during which it said ok)",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
