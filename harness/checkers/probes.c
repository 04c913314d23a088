/* probes.c - checkers over probe samples: recovers, always.
 *
 * A sample is a completed probe op (ok/fail/info, f "probe", source = the
 * probe's name); it is healthy when it is ok and, with `expect`, recorded
 * exactly that value. Faults end at their heal (or at the injection for an
 * instant fault); while another healed fault is still active, an end is
 * pushed to the end of that activity: recovery is only expected once
 * nothing is broken any more.
 */
#include "../checker.h"
#include "../error.h"
#include "index.h"

#include <stdio.h>
#include <stdlib.h>

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

/* Everything both checkers start from. */
struct samples {
    const struct fl_history *h;
    size_t *idx;               /* sample op indexes, time order */
    size_t n;
    unsigned char *healthy;    /* per sample */
    struct fl_fault_win *faults;
    size_t nfaults;
    struct fl_span *spans;     /* merged active fault windows */
    size_t nspans;
};

static void samples_free(struct samples *s)
{
    free(s->idx);
    free(s->healthy);
    free(s->faults);
    free(s->spans);
}

static int samples_load(struct samples *s, const struct fl_history *h,
                        const char *probe, const struct fl_pval *expect)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    if (fl_probe_samples(h, probe, &s->idx, &s->n) ||
        fl_faults_collect(h, &s->faults, &s->nfaults) ||
        fl_fault_spans(s->faults, s->nfaults, &s->spans, &s->nspans))
        return FL_ENOMEM;
    s->healthy = malloc(s->n ? s->n : 1);
    if (!s->healthy)
        return FL_ENOMEM;
    struct fl_strmatch want;
    fl_strmatch_init(&want, expect->set ? expect->s : NULL);
    for (size_t j = 0; j < s->n; j++) {
        const struct fl_op *op = fl_history_get(h, s->idx[j]);
        s->healthy[j] = op->type == FL_OK && (!expect->set || fl_strmatch(&want, op->value));
    }
    return 0;
}

static int64_t sample_time(const struct samples *s, size_t j)
{
    return fl_history_get(s->h, s->idx[j])->time_us;
}

/* First sample at or after t (s->n when none). */
static size_t first_at(const struct samples *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sample_time(s, mid) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- recovers ------------------------------------------------------------- */

enum rec { REC_OK, REC_LATE, REC_NEVER, REC_UNSEEN };

struct rec_ctx {
    const struct samples *s;
    struct fl_verdict *out;
    const char *probe;
    int64_t within_us;
    size_t *next_healthy;      /* per sample: first healthy at or after it */
};

/* Judge recovery after a fault ending at `end`; [*from, *to): the samples
 * that show it. */
static enum rec judge_fault(struct rec_ctx *c, int64_t end, size_t *from, size_t *to)
{
    const struct samples *s = c->s;
    size_t a = first_at(s, end);
    size_t b = first_at(s, end + c->within_us + 1);   /* first after the window */
    *from = a;
    *to = b;
    size_t hj = a < s->n ? c->next_healthy[a] : s->n;
    if (hj < b)
        return REC_OK;
    if (b == s->n)
        return REC_UNSEEN;
    *to = hj < s->n ? hj + 1 : s->n;
    return hj < s->n ? REC_LATE : REC_NEVER;
}

static int rec_cex(struct rec_ctx *c, size_t fi, const struct fl_fault_win *f,
                   int64_t end, enum rec r, size_t from, size_t to)
{
    const struct samples *s = c->s;
    char key[160], why[512], te[32], tw[32], tx[32], what[96];
    fl_fmt_time(te, sizeof te, end);
    fl_format_duration((uint64_t)(c->within_us / 1000), tw, sizeof tw);
    snprintf(key, sizeof key, "%.100s/fault-%zu", c->probe, fi + 1);
    if (r == REC_LATE) {
        fl_fmt_time(tx, sizeof tx, sample_time(s, to - 1));
        snprintf(why, sizeof why, "fault %zu (%.80s) ended at %s; first healthy sample "
                 "at %s, more than %s later", fi + 1, f->desc, te, tx, tw);
    } else if (r == REC_NEVER) {
        fl_fmt_time(tx, sizeof tx, sample_time(s, s->n - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(s->h, s->idx[s->n - 1]));
        snprintf(why, sizeof why, "fault %zu (%.80s) ended at %s; no healthy sample "
                 "after it (last at %s: %s)", fi + 1, f->desc, te, tx, what);
    } else {
        snprintf(why, sizeof why, "fault %zu (%.80s) ended at %s; the run stopped "
                 "sampling before %s had passed", fi + 1, f->desc, te, tw);
    }
    size_t ops[FL_CEX_OPS], n = 0, tmp[FL_CEX_OPS];
    ops[n++] = f->fault_op;
    if (f->heal_op != SIZE_MAX)
        ops[n++] = f->heal_op;
    size_t m = fl_keep_ends(s->idx + from, to - from, tmp, FL_CEX_OPS - 2);
    memcpy(ops + n, tmp, m * sizeof *ops);
    return fl_verdict_add_cex(c->out, key, why, ops, n + m);
}

/* The effective end of fault f: later while other healed faults go on. */
static int64_t fault_end(const struct samples *s, const struct fl_fault_win *f)
{
    long sp = fl_span_find(s->spans, s->nspans, f->end);
    return sp < 0 ? f->end : s->spans[sp].end;
}

/* Is t during a fault or before its end + within? */
static int in_recovery(struct rec_ctx *c, int64_t t)
{
    const struct samples *s = c->s;
    for (size_t i = 0; i < s->nfaults; i++)
        if (t >= s->faults[i].start && t <= fault_end(s, &s->faults[i]) + c->within_us)
            return 1;
    return 0;
}

static int rec_summary(struct rec_ctx *c, const size_t *count, int last_bad,
                       int last_pending)
{
    const struct samples *s = c->s;
    char tw[32], tl[32], what[96];
    fl_format_duration((uint64_t)(c->within_us / 1000), tw, sizeof tw);
    const struct fl_op *last = fl_history_get(s->h, s->idx[s->n - 1]);
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_outcome(what, sizeof what, last);
    size_t bad = count[REC_LATE] + count[REC_NEVER];
    struct fl_verdict *v = c->out;
    if (bad || last_bad) {
        v->validity = FL_INVALID;
        if (!bad)
            return fl_verdict_summary(v, "%s ended unhealthy (last sample at %s: %s)",
                                      c->probe, tl, what);
        return fl_verdict_summary(v, "%s did not recover within %s after %zu of %zu faults%s",
                                  c->probe, tw, bad, s->nfaults,
                                  last_bad ? " and ended unhealthy" : "");
    }
    if (count[REC_UNSEEN] || last_pending) {
        v->validity = FL_UNKNOWN;
        if (!count[REC_UNSEEN])
            return fl_verdict_summary(v, "%s: the run ended unhealthy less than %s after a "
                                      "fault ended, recovery not observed", c->probe, tw);
        return fl_verdict_summary(v, "%s: the run ended less than %s after %zu of %zu faults "
                                  "ended, recovery not observed", c->probe, tw,
                                  count[REC_UNSEEN], s->nfaults);
    }
    v->validity = FL_VALID;
    if (!s->nfaults)
        return fl_verdict_summary(v, "no fault in the history; %s ended healthy", c->probe);
    return fl_verdict_summary(v, "%s recovered within %s after each of %zu faults and "
                              "ended healthy", c->probe, tw, s->nfaults);
}

static int recovers(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct samples s;
    struct rec_ctx c = {.s = &s, .out = out, .probe = args->v[R_PROBE].s,
                        .within_us = (int64_t)args->v[R_WITHIN].ms * 1000};
    int rc = samples_load(&s, h, c.probe, &args->v[R_EXPECT]);
    if (rc)
        goto out;
    if (s.n == 0) {
        out->validity = FL_UNKNOWN;
        rc = fl_verdict_summary(out, "no sample of probe %s in the history", c.probe);
        goto out;
    }
    rc = FL_ENOMEM;
    c.next_healthy = malloc(s.n * sizeof *c.next_healthy);
    if (!c.next_healthy)
        goto out;
    for (size_t j = s.n; j-- > 0;)
        c.next_healthy[j] = s.healthy[j] ? j : j + 1 < s.n ? c.next_healthy[j + 1] : s.n;
    size_t count[REC_UNSEEN + 1] = {0};
    for (size_t i = 0; i < s.nfaults; i++) {
        size_t from, to;
        int64_t end = fault_end(&s, &s.faults[i]);
        enum rec r = judge_fault(&c, end, &from, &to);
        count[r]++;
        if (r != REC_OK && rec_cex(&c, i, &s.faults[i], end, r, from, to))
            goto out;
    }
    int last_bad = !s.healthy[s.n - 1], last_pending = 0;
    if (last_bad && in_recovery(&c, sample_time(&s, s.n - 1))) {
        /* still inside a fault or its allowed recovery time: no verdict */
        last_bad = 0;
        last_pending = 1;
    }
    if (last_bad) {
        char key[128], why[256], tl[32], what[96];
        const struct fl_op *last = fl_history_get(h, s.idx[s.n - 1]);
        fl_fmt_time(tl, sizeof tl, last->time_us);
        fl_fmt_outcome(what, sizeof what, last);
        snprintf(key, sizeof key, "%.100s/last", c.probe);
        snprintf(why, sizeof why, "the last sample (%s) was unhealthy: %s", tl, what);
        size_t ops[FL_CEX_OPS];
        size_t from = s.n > FL_CEX_OPS ? s.n - FL_CEX_OPS : 0;
        memcpy(ops, s.idx + from, (s.n - from) * sizeof *ops);
        if (fl_verdict_add_cex(out, key, why, ops, s.n - from))
            goto out;
    }
    rc = rec_summary(&c, count, last_bad, last_pending);
out:
    free(c.next_healthy);
    samples_free(&s);
    return rc;
}

/* ---- always --------------------------------------------------------------- */

/* Report the unhealthy run of samples [a, b). */
static int always_cex(const struct samples *s, struct fl_verdict *out,
                      const char *probe, size_t a, size_t b)
{
    char why[384], t0[32], t1[32], what[96];
    fl_fmt_time(t0, sizeof t0, sample_time(s, a));
    fl_fmt_time(t1, sizeof t1, sample_time(s, b - 1));
    fl_fmt_outcome(what, sizeof what, fl_history_get(s->h, s->idx[a]));
    if (b - a == 1)
        snprintf(why, sizeof why, "unhealthy at %s: %s", t0, what);
    else
        snprintf(why, sizeof why, "unhealthy from %s to %s (%zu samples): %s",
                 t0, t1, b - a, what);
    size_t ops[FL_CEX_OPS];
    size_t n = fl_keep_ends(s->idx + a, b - a, ops, FL_CEX_OPS);
    return fl_verdict_add_cex(out, probe, why, ops, n);
}

static int always(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct samples s;
    const char *probe = args->v[A_PROBE].s;
    const struct fl_pval *df = &args->v[A_DURING_FAULTS];
    int excuse = df->set && !df->b;
    int rc = samples_load(&s, h, probe, &args->v[A_EXPECT]);
    if (rc)
        goto out;
    size_t checked = 0, bad = 0, runs = 0, excused = 0, run_start = SIZE_MAX;
    int64_t first_bad = 0;
    /* one step past the end closes the last run */
    for (size_t j = 0; j <= s.n; j++) {
        int sick = j < s.n && !s.healthy[j];
        int exc = sick && excuse && fl_span_find(s.spans, s.nspans, sample_time(&s, j)) >= 0;
        int unhealthy = sick && !exc;
        checked += j < s.n && !exc;
        excused += (size_t)exc;
        bad += (size_t)unhealthy;
        if (unhealthy && run_start == SIZE_MAX) {
            run_start = j;
            if (!runs)
                first_bad = sample_time(&s, j);
        } else if (!unhealthy && run_start != SIZE_MAX) {
            runs++;
            if ((rc = always_cex(&s, out, probe, run_start, j)))
                goto out;
            run_start = SIZE_MAX;
        }
    }
    char tf[32];
    fl_fmt_time(tf, sizeof tf, first_bad);
    if (s.n == 0 || checked == 0) {
        out->validity = FL_UNKNOWN;
        rc = s.n ? fl_verdict_summary(out, "all %zu samples of %s were taken during faults",
                                      s.n, probe)
                 : fl_verdict_summary(out, "no sample of probe %s in the history", probe);
    } else if (bad) {
        out->validity = FL_INVALID;
        rc = fl_verdict_summary(out, "%zu of %zu samples of %s were unhealthy, in %zu runs "
                                "(first at %s)", bad, checked, probe, runs, tf);
    } else {
        out->validity = FL_VALID;
        rc = excused ? fl_verdict_summary(out, "all %zu samples of %s outside faults were "
                                          "healthy (%zu during faults excused)",
                                          checked, probe, excused)
                     : fl_verdict_summary(out, "all %zu samples of %s were healthy",
                                          checked, probe);
    }
out:
    samples_free(&s);
    return rc;
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
