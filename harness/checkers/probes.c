/* probes.c - checkers over probe samples: recovers, always.
 *
 * A sample is a completed probe op (ok/fail/info, f "probe", source = the
 * probe's name); it is healthy when it is ok and, with `expect`, recorded
 * exactly that value. Faults end at their heal (or at the injection for an
 * instant fault); while another healed fault is still active, an end is
 * pushed to the end of that activity: recovery is only expected once
 * nothing is broken any more.
 *
 * A per-replica probe keys each sample with the instance it sampled
 * ("api.1"). Its replicas are judged one by one, each on its own samples
 * only, so a healthy replica cannot hide a stuck one; the verdict is the
 * worst of theirs. Keyless samples are judged as one series, as always.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { R_PROBE, R_WITHIN, R_EXPECT, R_REPLICA };

static const struct fl_param recovers_params[] = {
    [R_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [R_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed after each fault ends to be healthy again"},
    [R_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
    [R_REPLICA] = {"replica", FL_PT_STRING, 0, NULL, "only this replica of a per-replica probe, like api.2 (default: each replica judged on its own)"},
};

enum { A_PROBE, A_EXPECT, A_DURING_FAULTS, A_REPLICA };

static const struct fl_param always_params[] = {
    [A_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [A_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
    [A_DURING_FAULTS] = {"during_faults", FL_PT_BOOL, 0, "true", "also check samples taken while a fault is active"},
    [A_REPLICA] = {"replica", FL_PT_STRING, 0, NULL, "only this replica of a per-replica probe, like api.2 (default: each replica judged on its own)"},
};

static int no_samples(const struct fl_samples *s, const struct fl_pval *replica,
                      struct fl_verdict *out)
{
    out->validity = FL_UNKNOWN;
    if (replica->set)
        return fl_verdict_summary(out, "no sample of replica %s of probe %s in the history",
                                  replica->s, s->probe);
    return fl_verdict_summary(out, "no sample of probe %s in the history", s->probe);
}

/* The counterexample key of a replica: "store@api.2". */
static void replica_key(char *buf, size_t len, const struct fl_series *r)
{
    snprintf(buf, len, "%.100s@%.50s", r->s->probe, r->name);
}

static const char *opt_s(const struct fl_pval *v)
{
    return v->set ? v->s : NULL;
}

/* ---- recovers ------------------------------------------------------------- */

enum rec { REC_OK, REC_LATE, REC_NEVER, REC_UNSEEN };

struct rec_ctx {
    const struct fl_samples *s;
    struct fl_verdict *out;
    const char *probe;
    int64_t within_us;
    char tw[32];               /* within, formatted */
    size_t *next_healthy;      /* per sample of the series being judged:
                                * first healthy at or after it */
};

/* How one series did. */
struct rec_result {
    size_t count[REC_UNSEEN + 1];
    int last_bad, last_pending;
};

/* Judge recovery after a fault ending at `end`; [*from, *to): the samples
 * that show it. */
static enum rec judge_fault(struct rec_ctx *c, const struct fl_series *r, int64_t end,
                            size_t *from, size_t *to)
{
    size_t a = fl_series_first_at(r, end);
    size_t b = fl_series_first_at(r, end + c->within_us + 1);   /* first after the window */
    *from = a;
    *to = b;
    size_t hj = a < r->n ? c->next_healthy[a] : r->n;
    if (hj < b)
        return REC_OK;
    if (b == r->n)
        return REC_UNSEEN;
    *to = hj < r->n ? hj + 1 : r->n;
    return hj < r->n ? REC_LATE : REC_NEVER;
}

/* Why one keyless probe did not recover from fault fi. */
static void probe_why(struct rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                      size_t fi, const struct fl_fault_win *f, int64_t end, enum rec res,
                      size_t to)
{
    char te[32], tx[32], what[96];
    fl_fmt_time(te, sizeof te, end);
    if (res == REC_LATE) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; first healthy sample "
                 "at %s, more than %s later", fi + 1, f->desc, te, tx, c->tw);
    } else if (res == REC_NEVER) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, r->n - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[r->n - 1]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; no healthy sample "
                 "after it (last at %s: %s)", fi + 1, f->desc, te, tx, what);
    } else {
        snprintf(why, len, "fault %zu (%.80s) ended at %s; the run stopped "
                 "sampling before %s had passed", fi + 1, f->desc, te, c->tw);
    }
}

/* "fault 2 (pause redis) healed at 8.1s": the fault and when recovery
 * became due. */
static void fault_phrase(char *buf, size_t len, size_t fi, const struct fl_fault_win *f,
                         int64_t end)
{
    char tf[32], te[32];
    fl_fmt_time(tf, sizeof tf, f->end);
    fl_fmt_time(te, sizeof te, end);
    int w = snprintf(buf, len, "fault %zu (%.80s) %s %s", fi + 1, f->desc,
                     f->heal_op != SIZE_MAX ? "healed at" : "at", tf);
    if (end != f->end && w > 0 && (size_t)w < len)
        snprintf(buf + w, len - (size_t)w, " and the last fault overlapping it at %s", te);
}

/* Why replica r did not recover from fault fi: what it still reported,
 * how long after the fault ended. */
static void replica_why(struct rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                        size_t fi, const struct fl_fault_win *f, int64_t end, enum rec res,
                        size_t from, size_t to)
{
    char fp[256], td[32], tx[32], what[96];
    fault_phrase(fp, sizeof fp, fi, f, end);
    /* the sample that shows it: the last one of the replica (never
     * recovered, not seen) or the last unhealthy one before it recovered */
    size_t j = res == REC_LATE ? to - 1 : r->n - 1;
    if (res == REC_LATE && j == from) {   /* no sample at all in the window */
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, j));
        snprintf(why, len, "%s was not sampled within %s after %s; next sample (healthy) "
                 "at %s", r->name, c->tw, fp, tx);
        return;
    }
    if (res == REC_LATE)
        j--;
    const struct fl_op *op = fl_history_get(r->s->h, r->idx[j]);
    fl_fmt_outcome(what, sizeof what, op);
    fl_fmt_time(tx, sizeof tx, op->time_us);
    fl_fmt_time(td, sizeof td, op->time_us - end);
    if (res == REC_UNSEEN && from == r->n)
        snprintf(why, len, "%s was not sampled after %s (last sample at %s: %s); recovery "
                 "not observed", r->name, fp, tx, what);
    else if (res == REC_UNSEEN)
        snprintf(why, len, "%s still reported %s %s after %s, when its sampling stopped "
                 "before %s had passed; recovery not observed", r->name, what, td, fp, c->tw);
    else if (res == REC_LATE) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        snprintf(why, len, "%s still reported %s %s after %s (within %s); healthy again "
                 "at %s", r->name, what, td, fp, c->tw, tx);
    } else
        snprintf(why, len, "%s still reported %s %s after %s (within %s), and never "
                 "recovered", r->name, what, td, fp, c->tw);
}

static int rec_cex(struct rec_ctx *c, const struct fl_series *r, size_t fi,
                   const struct fl_fault_win *f, int64_t end, enum rec res, size_t from,
                   size_t to)
{
    char key[160], why[512];
    if (r->name) {
        replica_key(key, sizeof key, r);
        replica_why(c, r, why, sizeof why, fi, f, end, res, from, to);
    } else {
        snprintf(key, sizeof key, "%.100s/fault-%zu", c->probe, fi + 1);
        probe_why(c, r, why, sizeof why, fi, f, end, res, to);
    }
    size_t ops[FL_CEX_OPS], n = 0, tmp[FL_CEX_OPS];
    ops[n++] = f->fault_op;
    if (f->heal_op != SIZE_MAX)
        ops[n++] = f->heal_op;
    size_t m = fl_keep_ends(r->idx + from, to - from, tmp, FL_CEX_OPS - 2);
    memcpy(ops + n, tmp, m * sizeof *ops);
    return fl_verdict_add_cex(c->out, key, why, ops, n + m);
}

static int last_cex(struct rec_ctx *c, const struct fl_series *r)
{
    char key[160], why[256], tl[32], what[96];
    const struct fl_op *last = fl_history_get(r->s->h, r->idx[r->n - 1]);
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_outcome(what, sizeof what, last);
    if (r->name) {
        replica_key(key, sizeof key, r);
        snprintf(why, sizeof why, "%s ended unhealthy: its last sample (%s) reported %s",
                 r->name, tl, what);
    } else {
        snprintf(key, sizeof key, "%.100s/last", c->probe);
        snprintf(why, sizeof why, "the last sample (%s) was unhealthy: %s", tl, what);
    }
    size_t ops[FL_CEX_OPS];
    size_t from = r->n > FL_CEX_OPS ? r->n - FL_CEX_OPS : 0;
    memcpy(ops, r->idx + from, (r->n - from) * sizeof *ops);
    return fl_verdict_add_cex(c->out, key, why, ops, r->n - from);
}

/* The effective end of fault f: later while other healed faults go on. */
static int64_t fault_end(const struct fl_samples *s, const struct fl_fault_win *f)
{
    long sp = fl_span_find(s->spans, s->nspans, f->end);
    return sp < 0 ? f->end : s->spans[sp].end;
}

/* Is t during a fault or before its end + within? */
static int in_recovery(struct rec_ctx *c, int64_t t)
{
    const struct fl_samples *s = c->s;
    for (size_t i = 0; i < s->nfaults; i++)
        if (t >= s->faults[i].start && t <= fault_end(s, &s->faults[i]) + c->within_us)
            return 1;
    return 0;
}

/* Judge one series (r->n > 0) after every fault and at its end, adding
 * its counterexamples. Returns 0 or FL_ENOMEM. */
static int rec_series(struct rec_ctx *c, const struct fl_series *r, struct rec_result *res)
{
    const struct fl_samples *s = c->s;
    memset(res, 0, sizeof *res);
    for (size_t j = r->n; j-- > 0;)
        c->next_healthy[j] = r->healthy[j] ? j : j + 1 < r->n ? c->next_healthy[j + 1] : r->n;
    for (size_t i = 0; i < s->nfaults; i++) {
        size_t from, to;
        int64_t end = fault_end(s, &s->faults[i]);
        enum rec k = judge_fault(c, r, end, &from, &to);
        res->count[k]++;
        if (k != REC_OK && rec_cex(c, r, i, &s->faults[i], end, k, from, to))
            return FL_ENOMEM;
    }
    res->last_bad = !r->healthy[r->n - 1];
    if (res->last_bad && in_recovery(c, fl_series_time(r, r->n - 1))) {
        /* still inside a fault or its allowed recovery time: no verdict */
        res->last_bad = 0;
        res->last_pending = 1;
    }
    return res->last_bad ? last_cex(c, r) : 0;
}

static int rec_summary(struct rec_ctx *c, const struct fl_series *r, const struct rec_result *res)
{
    const struct fl_samples *s = c->s;
    char tl[32], what[96];
    const char *tw = c->tw;
    const struct fl_op *last = fl_history_get(s->h, r->idx[r->n - 1]);
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_outcome(what, sizeof what, last);
    size_t bad = res->count[REC_LATE] + res->count[REC_NEVER];
    struct fl_verdict *v = c->out;
    if (bad || res->last_bad) {
        v->validity = FL_INVALID;
        if (!bad)
            return fl_verdict_summary(v, "%s ended unhealthy (last sample at %s: %s)",
                                      c->probe, tl, what);
        return fl_verdict_summary(v, "%s did not recover within %s after %zu of %zu faults%s",
                                  c->probe, tw, bad, s->nfaults,
                                  res->last_bad ? " and ended unhealthy" : "");
    }
    if (res->count[REC_UNSEEN] || res->last_pending) {
        v->validity = FL_UNKNOWN;
        if (!res->count[REC_UNSEEN])
            return fl_verdict_summary(v, "%s: the run ended unhealthy less than %s after a "
                                      "fault ended, recovery not observed", c->probe, tw);
        return fl_verdict_summary(v, "%s: the run ended less than %s after %zu of %zu faults "
                                  "ended, recovery not observed", c->probe, tw,
                                  res->count[REC_UNSEEN], s->nfaults);
    }
    v->validity = FL_VALID;
    if (!s->nfaults)
        return fl_verdict_summary(v, "no fault in the history; %s ended healthy", c->probe);
    return fl_verdict_summary(v, "%s recovered within %s after each of %zu faults and "
                              "ended healthy", c->probe, tw, s->nfaults);
}

/* Replicas sorted into bad (late, never, ended unhealthy) and unknown. */
struct rec_tally {
    const char **bad, **unseen;
    size_t nbad, nunseen;
    size_t late;               /* bad ones that missed a fault's deadline */
};

static int rec_replica_summary(struct rec_ctx *c, const struct rec_tally *t)
{
    struct fl_verdict *v = c->out;
    size_t nrep = c->s->groups.n;
    char names[512], more[600];
    more[0] = '\0';
    if (t->nunseen) {
        fl_fmt_names(names, sizeof names, t->unseen, t->nunseen);
        snprintf(more, sizeof more, "; recovery of %zu more not observed: %s", t->nunseen, names);
    }
    if (t->nbad) {
        v->validity = FL_INVALID;
        const char *what = t->late == t->nbad ? "did not recover within"
                         : t->late ? "did not recover (or ended unhealthy) within"
                                   : "ended unhealthy, after recovering within";
        fl_fmt_names(names, sizeof names, t->bad, t->nbad);
        return fl_verdict_summary(v, "%zu of %zu replicas of probe %s %s %s: %s%s", t->nbad,
                                  nrep, c->probe, what, c->tw, names, more);
    }
    if (t->nunseen) {
        v->validity = FL_UNKNOWN;
        fl_fmt_names(names, sizeof names, t->unseen, t->nunseen);
        return fl_verdict_summary(v, "recovery of %zu of %zu replicas of probe %s within %s "
                                  "not observed: %s", t->nunseen, nrep, c->probe, c->tw, names);
    }
    v->validity = FL_VALID;
    if (!c->s->nfaults)
        return fl_verdict_summary(v, "no fault in the history; all %zu replicas of probe %s "
                                  "ended healthy", nrep, c->probe);
    return fl_verdict_summary(v, "all %zu replicas of probe %s recovered within %s after "
                              "each of %zu faults and ended healthy", nrep, c->probe, c->tw,
                              c->s->nfaults);
}

static int rec_replicas(struct rec_ctx *c)
{
    const struct fl_samples *s = c->s;
    struct rec_tally t = {0};
    t.bad = malloc(s->groups.n * sizeof *t.bad);
    t.unseen = malloc(s->groups.n * sizeof *t.unseen);
    int rc = FL_ENOMEM;
    if (!t.bad || !t.unseen)
        goto out;
    for (size_t g = 0; g < s->groups.n; g++) {
        struct fl_series r = fl_series_of(s, g);
        struct rec_result res;
        if (rec_series(c, &r, &res))
            goto out;
        size_t late = res.count[REC_LATE] + res.count[REC_NEVER];
        if (late || res.last_bad) {
            t.bad[t.nbad++] = r.name;
            t.late += late > 0;
        } else if (res.count[REC_UNSEEN] || res.last_pending) {
            t.unseen[t.nunseen++] = r.name;
        }
    }
    rc = rec_replica_summary(c, &t);
out:
    free(t.bad);
    free(t.unseen);
    return rc;
}

static int recovers(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct fl_samples s;
    struct rec_ctx c = {.s = &s, .out = out, .probe = args->v[R_PROBE].s,
                        .within_us = (int64_t)args->v[R_WITHIN].ms * 1000};
    fl_format_duration(args->v[R_WITHIN].ms, c.tw, sizeof c.tw);
    int rc = fl_samples_load(&s, h, c.probe, opt_s(&args->v[R_EXPECT]), opt_s(&args->v[R_REPLICA]));
    if (rc)
        goto out;
    if (s.n == 0) {
        rc = no_samples(&s, &args->v[R_REPLICA], out);
        goto out;
    }
    rc = FL_ENOMEM;
    c.next_healthy = malloc(s.n * sizeof *c.next_healthy);
    if (!c.next_healthy)
        goto out;
    if (s.keyed) {
        rc = rec_replicas(&c);
        goto out;
    }
    struct fl_series all = fl_series_of(&s, 0);
    struct rec_result res;
    if (rec_series(&c, &all, &res))
        goto out;
    rc = rec_summary(&c, &all, &res);
out:
    free(c.next_healthy);
    fl_samples_free(&s);
    return rc;
}

/* ---- always --------------------------------------------------------------- */

/* Report the unhealthy run of samples [a, b). */
static int always_cex(const struct fl_series *r, struct fl_verdict *out, size_t a, size_t b)
{
    char key[160], why[384], t0[32], t1[32], what[96], who[64] = "";
    fl_fmt_time(t0, sizeof t0, fl_series_time(r, a));
    fl_fmt_time(t1, sizeof t1, fl_series_time(r, b - 1));
    fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[a]));
    snprintf(key, sizeof key, "%s", r->s->probe);
    if (r->name) {
        replica_key(key, sizeof key, r);
        snprintf(who, sizeof who, "%.50s ", r->name);
    }
    if (b - a == 1)
        snprintf(why, sizeof why, "%sunhealthy at %s: %s", who, t0, what);
    else
        snprintf(why, sizeof why, "%sunhealthy from %s to %s (%zu samples): %s",
                 who, t0, t1, b - a, what);
    size_t ops[FL_CEX_OPS];
    size_t n = fl_keep_ends(r->idx + a, b - a, ops, FL_CEX_OPS);
    return fl_verdict_add_cex(out, key, why, ops, n);
}

struct alw_tally {
    size_t checked, bad, runs, excused;
    int64_t first_bad;         /* time of the first unhealthy sample, if bad */
};

/* Count one series' samples into t and report its unhealthy runs. Returns
 * 0 or FL_ENOMEM. */
static int always_series(const struct fl_series *r, struct fl_verdict *out, int excuse,
                         struct alw_tally *t)
{
    const struct fl_samples *s = r->s;
    size_t run_start = SIZE_MAX;
    /* one step past the end closes the last run */
    for (size_t j = 0; j <= r->n; j++) {
        int sick = j < r->n && !r->healthy[j];
        int exc = sick && excuse && fl_span_find(s->spans, s->nspans, fl_series_time(r, j)) >= 0;
        int unhealthy = sick && !exc;
        t->checked += j < r->n && !exc;
        t->excused += (size_t)exc;
        if (unhealthy && (!t->bad || fl_series_time(r, j) < t->first_bad))
            t->first_bad = fl_series_time(r, j);
        t->bad += (size_t)unhealthy;
        if (unhealthy && run_start == SIZE_MAX) {
            run_start = j;
        } else if (!unhealthy && run_start != SIZE_MAX) {
            t->runs++;
            if (always_cex(r, out, run_start, j))
                return FL_ENOMEM;
            run_start = SIZE_MAX;
        }
    }
    return 0;
}

static int always_summary(const struct fl_samples *s, struct fl_verdict *out,
                          const struct alw_tally *t)
{
    char tf[32];
    const char *probe = s->probe;
    fl_fmt_time(tf, sizeof tf, t->first_bad);
    if (t->checked == 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "all %zu samples of %s were taken during faults",
                                  s->n, probe);
    }
    if (t->bad) {
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%zu of %zu samples of %s were unhealthy, in %zu runs "
                                  "(first at %s)", t->bad, t->checked, probe, t->runs, tf);
    }
    out->validity = FL_VALID;
    if (t->excused)
        return fl_verdict_summary(out, "all %zu samples of %s outside faults were healthy "
                                  "(%zu during faults excused)", t->checked, probe, t->excused);
    return fl_verdict_summary(out, "all %zu samples of %s were healthy", t->checked, probe);
}

/* Replica names: bad ones and unjudged ones (every sample excused). */
struct alw_names {
    const char **bad, **unjudged;
    size_t nbad, nunjudged;
};

static int always_replica_summary(const struct fl_samples *s, struct fl_verdict *out,
                                  const struct alw_tally *t, const struct alw_names *nm)
{
    char tf[32], names[512], excused[64] = "";
    const char *probe = s->probe;
    size_t nrep = s->groups.n;
    fl_fmt_time(tf, sizeof tf, t->first_bad);
    if (t->excused)
        snprintf(excused, sizeof excused, " (%zu during faults excused)", t->excused);
    if (nm->nbad) {
        out->validity = FL_INVALID;
        fl_fmt_names(names, sizeof names, nm->bad, nm->nbad);
        return fl_verdict_summary(out, "%zu of %zu samples of %s were unhealthy, in %zu runs "
                                  "on %zu of %zu replicas: %s (first at %s)", t->bad,
                                  t->checked, probe, t->runs, nm->nbad, nrep, names, tf);
    }
    if (nm->nunjudged) {
        out->validity = FL_UNKNOWN;
        fl_fmt_names(names, sizeof names, nm->unjudged, nm->nunjudged);
        return fl_verdict_summary(out, "%zu of %zu replicas of %s were only sampled during "
                                  "faults: %s", nm->nunjudged, nrep, probe, names);
    }
    out->validity = FL_VALID;
    return fl_verdict_summary(out, "all %zu samples of the %zu replicas of %s%s were "
                              "healthy%s", t->checked, nrep, probe,
                              t->excused ? " outside faults" : "", excused);
}

static int always(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct fl_samples s;
    const struct fl_pval *df = &args->v[A_DURING_FAULTS];
    int excuse = df->set && !df->b;
    struct alw_names nm = {0};
    int rc = fl_samples_load(&s, h, args->v[A_PROBE].s, opt_s(&args->v[A_EXPECT]),
                             opt_s(&args->v[A_REPLICA]));
    if (rc)
        goto out;
    if (s.n == 0) {
        rc = no_samples(&s, &args->v[A_REPLICA], out);
        goto out;
    }
    rc = FL_ENOMEM;
    nm.bad = malloc(s.groups.n * sizeof *nm.bad);
    nm.unjudged = malloc(s.groups.n * sizeof *nm.unjudged);
    if (!nm.bad || !nm.unjudged)
        goto out;
    struct alw_tally t = {0};
    for (size_t g = 0; g < s.groups.n; g++) {
        struct fl_series r = fl_series_of(&s, g);
        size_t checked = t.checked, bad = t.bad;
        if (always_series(&r, out, excuse, &t))
            goto out;
        if (t.bad > bad)
            nm.bad[nm.nbad++] = r.name;
        else if (t.checked == checked)
            nm.unjudged[nm.nunjudged++] = r.name;
    }
    rc = s.keyed ? always_replica_summary(&s, out, &t, &nm) : always_summary(&s, out, &t);
out:
    free(nm.bad);
    free(nm.unjudged);
    fl_samples_free(&s);
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
