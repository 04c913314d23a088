/* slo.c - a workload's service level per phase of the run: before the
 * first fault, during faults (first injection to last heal), after.
 *
 * Per phase listed in `phases`, over the workload's main requests that
 * were invoked in it: the error rate (fail and info completions, and
 * invocations never completed, over all) stays at or under
 * max_error_rate percent, and the latency percentiles of the completed
 * ones (invoke to completion) at or under p50 / p99 when given.
 *
 * invalid names each phase and bound broken with its numbers and up to
 * 20 failed requests; unknown when a listed phase holds fewer than
 * min_requests requests (nothing to judge), or has no faults at all for
 * during/after. */
#include "checkers/checker.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_WORKLOAD, P_MAX_ERROR, P_P50, P_P99, P_PHASES, P_MIN };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose requests are judged"},
    [P_MAX_ERROR] = {"max_error_rate", FL_PT_INT, 0, "0", "errors allowed per phase, in percent", NULL, 0, 100},
    [P_P50] = {"p50", FL_PT_DURATION, 0, NULL, "median latency bound"},
    [P_P99] = {"p99", FL_PT_DURATION, 0, NULL, "99th percentile latency bound"},
    [P_PHASES] = {"phases", FL_PT_STRINGS, 0, NULL, "phases judged, of before, during, after (default: all three)"},
    [P_MIN] = {"min_requests", FL_PT_INT, 0, "1", "fewer requests than this in a phase: unknown", NULL, 1, 0},
};

static const char *const phase_names[3] = {"before", "during", "after"};

struct req {
    size_t inv, done;   /* done SIZE_MAX: never completed */
    int64_t t0, t1;
    int err;
};

struct phase {
    size_t n, errors;
    int64_t *lat;
    size_t nlat;
    size_t err_ops[20];
    size_t nerr_ops;
};

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *v, size_t n, double p)
{
    size_t k = (size_t)ceil(p * (double)n);
    return v[k ? k - 1 : 0];
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *wl = args->v[P_WORKLOAD].s;
    long long max_err = args->v[P_MAX_ERROR].set ? args->v[P_MAX_ERROR].i : 0;
    long long min_req = args->v[P_MIN].set ? args->v[P_MIN].i : 1;
    int want[3] = {1, 1, 1};
    if (args->v[P_PHASES].set) {
        want[0] = want[1] = want[2] = 0;
        for (size_t i = 0; i < args->v[P_PHASES].nlist; i++) {
            int found = 0;
            for (int k = 0; k < 3; k++)
                if (strcmp(args->v[P_PHASES].list[i], phase_names[k]) == 0)
                    want[k] = found = 1;
            if (!found) {
                out->validity = FL_UNKNOWN;
                return fl_verdict_summary(out, "phases: '%s' is not a phase (before, during, "
                                          "after)", args->v[P_PHASES].list[i]);
            }
        }
    }
    size_t len = fl_history_len(h);
    int64_t f0 = -1, f1 = -1;   /* first injection, last heal */
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->process >= FL_PROC_FAULT && op->process < FL_PROC_TARGET && op->type == FL_OK) {
            if (!strcmp(op->f, FL_F_FAULT) && f0 < 0)
                f0 = op->time_us;
            if (!strcmp(op->f, FL_F_FAULT) || !strcmp(op->f, FL_F_HEAL))
                f1 = op->time_us;
        }
    }
    /* Pair each invoke with its process's next completion. */
    struct phase ph[3];
    memset(ph, 0, sizeof ph);
    struct { int32_t proc; size_t inv; } *open = NULL;
    size_t nopen = 0, capopen = 0;
    int rc = 0;
    for (size_t i = 0; i <= len && !rc; i++) {
        const struct fl_op *op = i < len ? fl_history_get(h, i) : NULL;
        if (op && (strcmp(op->source, wl) || strcmp(op->f, FL_F_REQUEST)))
            continue;
        struct req r = {0};
        if (op && op->type == FL_INVOKE) {
            if (nopen == capopen) {
                size_t nc = capopen ? capopen * 2 : 64;
                void *p = realloc(open, nc * sizeof *open);
                if (!p) {
                    rc = FL_ENOMEM;
                    break;
                }
                open = p;
                capopen = nc;
            }
            open[nopen].proc = op->process;
            open[nopen++].inv = op->index;
            continue;
        }
        size_t k;
        if (op) {
            for (k = 0; k < nopen && open[k].proc != op->process; k++)
                ;
            if (k == nopen)
                continue;
            r.inv = open[k].inv;
            open[k] = open[--nopen];
            r.done = op->index;
            r.t1 = op->time_us;
            r.err = op->type != FL_OK;
        } else if (nopen) {
            /* End of the history: the ones still open never completed. */
            r.inv = open[--nopen].inv;
            r.done = SIZE_MAX;
            r.err = 1;
            i--;   /* come back for the next open one */
        } else {
            break;
        }
        r.t0 = fl_history_get(h, r.inv)->time_us;
        int p = f0 < 0 || r.t0 < f0 ? 0 : r.t0 <= f1 ? 1 : 2;
        struct phase *q = &ph[p];
        q->n++;
        if (r.err) {
            q->errors++;
            if (q->nerr_ops < 20)
                q->err_ops[q->nerr_ops++] = r.done != SIZE_MAX ? r.done : r.inv;
        }
        if (r.done != SIZE_MAX) {
            if ((q->nlat & (q->nlat + 1)) == 0 || q->nlat == 0) {
                void *np = realloc(q->lat, (q->nlat * 2 + 2) * sizeof *q->lat);
                if (!np) {
                    rc = FL_ENOMEM;
                    break;
                }
                q->lat = np;
            }
            q->lat[q->nlat++] = r.t1 - r.t0;
        }
    }
    free(open);
    char buf[1024];
    size_t off = 0;
    int unknown = 0;
    for (int p = 0; p < 3 && !rc; p++) {
        struct phase *q = &ph[p];
        if (!want[p])
            continue;
        if (q->nlat)
            qsort(q->lat, q->nlat, sizeof *q->lat, cmp64);
        double rate = q->n ? 100.0 * (double)q->errors / (double)q->n : 0;
        int64_t p50 = q->nlat ? pct(q->lat, q->nlat, 0.5) : 0;
        int64_t p99 = q->nlat ? pct(q->lat, q->nlat, 0.99) : 0;
        off += (size_t)snprintf(buf + off, off < sizeof buf ? sizeof buf - off : 0,
                                "%s%s: %zu requests, %.1f%% errors, p50 %.1f ms, p99 %.1f ms",
                                off ? "; " : "", phase_names[p], q->n, rate, (double)p50 / 1e3,
                                (double)p99 / 1e3);
        if ((long long)q->n < min_req) {
            unknown = 1;
            continue;
        }
        char why[256];
        if (rate > (double)max_err) {
            snprintf(why, sizeof why, "%.1f%% of %zu requests failed (at most %lld%%)", rate,
                     q->n, max_err);
            rc = fl_verdict_add_cex(out, phase_names[p], why, q->err_ops, q->nerr_ops);
        }
        if (!rc && args->v[P_P50].set && p50 > (int64_t)args->v[P_P50].ms * 1000) {
            snprintf(why, sizeof why, "p50 %.1f ms over %llu ms", (double)p50 / 1e3,
                     (unsigned long long)args->v[P_P50].ms);
            rc = fl_verdict_add_cex(out, phase_names[p], why, NULL, 0);
        }
        if (!rc && args->v[P_P99].set && p99 > (int64_t)args->v[P_P99].ms * 1000) {
            snprintf(why, sizeof why, "p99 %.1f ms over %llu ms", (double)p99 / 1e3,
                     (unsigned long long)args->v[P_P99].ms);
            rc = fl_verdict_add_cex(out, phase_names[p], why, NULL, 0);
        }
    }
    for (int p = 0; p < 3; p++)
        free(ph[p].lat);
    if (rc)
        return rc;
    out->validity = out->ncex_total ? FL_INVALID : unknown ? FL_UNKNOWN : FL_VALID;
    return fl_verdict_summary(out, "workload %s%s: %s", wl,
                              f0 < 0 ? " (no fault was injected)" : "", buf);
}

const struct fl_checker_type fl_checker_slo = {
    .name = "slo",
    .help = "a workload's error rate and latency percentiles stay under bounds before, during "
            "and after the faults",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
