/* probes.c - always: every sample of a probe is healthy (recovers:
 * recovers.c).
 *
 * A sample is healthy when it is ok and, with `expect`, recorded exactly
 * that value; a probe invoke that never completed is a sample too, never a
 * healthy one (index.h). With during_faults: false, samples taken while a
 * healed fault is active are excused.
 *
 * "Every sample is healthy" is only worth something if the probe looked:
 * a series that was not sampled after some fault ended (it stopped, or it
 * only ran before the faults) never saw that fault's effect, and its
 * verdict is unknown, not valid.
 *
 * A per-replica probe keys each sample with the instance it sampled
 * ("api.1"). Its replicas are judged one by one, each on its own samples
 * only, so a healthy replica cannot hide a sick one; the verdict is the
 * worst of theirs. Keyless samples are judged as one series.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { A_PROBE, A_EXPECT, A_DURING_FAULTS, A_REPLICA };

static const struct fl_param always_params[] = {
    [A_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [A_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
    [A_DURING_FAULTS] = {"during_faults", FL_PT_BOOL, 0, "true", "also check samples taken while a fault is active"},
    [A_REPLICA] = {"replica", FL_PT_STRING, 0, NULL, "only this replica of a per-replica probe, like api.2 (default: each replica judged on its own)"},
};

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
        fl_series_key(key, sizeof key, r);
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
    size_t unseen;             /* series not sampled after some fault ended */
    char unseen_why[512];      /* the first of them */
};

/* The first fault that ended after r's last sample: its effect was never
 * looked at. SIZE_MAX when r was sampled after every fault. */
static size_t unobserved_fault(const struct fl_series *r)
{
    const struct fl_samples *s = r->s;
    int64_t last = fl_series_time(r, r->n - 1);
    for (size_t i = 0; i < s->nfaults; i++)
        if (fl_fault_effective_end(s, &s->faults[i]) > last)
            return i;
    return SIZE_MAX;
}

/* A series that was not sampled after fault fi ended: why, and a
 * counterexample (the fault, its heal, the last sample). */
static int unobserved_cex(const struct fl_series *r, struct fl_verdict *out, size_t fi,
                          struct alw_tally *t)
{
    const struct fl_samples *s = r->s;
    const struct fl_fault_win *f = &s->faults[fi];
    char key[160], why[512], te[32], tl[32], what[96];
    const struct fl_op *last = fl_history_get(s->h, r->idx[r->n - 1]);
    fl_fmt_time(te, sizeof te, fl_fault_effective_end(s, f));
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_outcome(what, sizeof what, last);
    if (r->name)
        fl_series_key(key, sizeof key, r);
    else
        snprintf(key, sizeof key, "%.100s/fault-%zu", s->probe, fi + 1);
    snprintf(why, sizeof why, "%.50s%snot sampled after fault %zu (%.80s) ended at %s (last "
             "sample at %s: %s): its effect was never observed", r->name ? r->name : "",
             r->name ? " was " : "", fi + 1, f->desc, te, tl, what);
    if (!t->unseen++)
        snprintf(t->unseen_why, sizeof t->unseen_why, "%s", why);
    size_t ops[3], n = 0;
    ops[n++] = f->fault_op;
    if (f->heal_op != SIZE_MAX)
        ops[n++] = f->heal_op;
    if (r->idx[r->n - 1] > ops[n - 1])
        ops[n++] = r->idx[r->n - 1];
    return fl_verdict_add_cex(out, key, why, ops, n);
}

/* Count one series' samples into t and report its unhealthy runs. Returns
 * 0 or FL_ENOMEM. */
static int always_series(const struct fl_series *r, struct fl_verdict *out, int excuse,
                         struct alw_tally *t)
{
    const struct fl_samples *s = r->s;
    size_t run_start = SIZE_MAX;
    size_t fi = unobserved_fault(r);
    if (fi != SIZE_MAX && unobserved_cex(r, out, fi, t))
        return FL_ENOMEM;
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
    if (t->unseen) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "the %zu samples of %s checked were healthy, but %s "
                                  "was %s", t->checked, probe, probe, t->unseen_why);
    }
    out->validity = FL_VALID;
    if (t->excused)
        return fl_verdict_summary(out, "all %zu samples of %s outside faults were healthy "
                                  "(%zu during faults excused)", t->checked, probe, t->excused);
    return fl_verdict_summary(out, "all %zu samples of %s were healthy", t->checked, probe);
}

/* Replica names: bad ones, unjudged ones (every sample excused) and
 * unseen ones (not sampled after some fault). */
struct alw_names {
    const char **bad, **unjudged, **unseen;
    size_t nbad, nunjudged, nunseen;
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
    if (nm->nunseen) {
        out->validity = FL_UNKNOWN;
        fl_fmt_names(names, sizeof names, nm->unseen, nm->nunseen);
        return fl_verdict_summary(out, "%zu of %zu replicas of %s were not sampled after a "
                                  "fault ended, so its effect on them was never observed: %s",
                                  nm->nunseen, nrep, probe, names);
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
    const char *replica = args->v[A_REPLICA].set ? args->v[A_REPLICA].s : NULL;
    int rc = fl_samples_load(&s, h, args->v[A_PROBE].s,
                             args->v[A_EXPECT].set ? args->v[A_EXPECT].s : NULL, replica);
    if (rc)
        goto out;
    if (s.n == 0) {
        rc = fl_samples_none(&s, replica, out);
        goto out;
    }
    rc = FL_ENOMEM;
    nm.bad = malloc(s.groups.n * sizeof *nm.bad);
    nm.unjudged = malloc(s.groups.n * sizeof *nm.unjudged);
    nm.unseen = malloc(s.groups.n * sizeof *nm.unseen);
    if (!nm.bad || !nm.unjudged || !nm.unseen)
        goto out;
    struct alw_tally t = {0};
    for (size_t g = 0; g < s.groups.n; g++) {
        struct fl_series r = fl_series_of(&s, g);
        size_t checked = t.checked, bad = t.bad, unseen = t.unseen;
        if (always_series(&r, out, excuse, &t))
            goto out;
        if (t.bad > bad)
            nm.bad[nm.nbad++] = r.name;
        else if (t.checked == checked)
            nm.unjudged[nm.nunjudged++] = r.name;
        else if (t.unseen > unseen)
            nm.unseen[nm.nunseen++] = r.name;
    }
    rc = s.keyed ? always_replica_summary(&s, out, &t, &nm) : always_summary(&s, out, &t);
out:
    free(nm.bad);
    free(nm.unjudged);
    free(nm.unseen);
    fl_samples_free(&s);
    return rc;
}

const struct fl_checker_type fl_checker_always = {
    .name = "always",
    .help = "every sample of the probe is healthy",
    .params = always_params,
    .nparams = sizeof always_params / sizeof always_params[0],
    .check = always,
    .online = 1,
};
