/* recovers.c - after each fault the probe is healthy again within T, and
 * then it stays healthy until the next fault or the end of the run.
 *
 * A sample is healthy when it is ok and, with `expect`, recorded exactly
 * that value (probe_series.c). Per series (the probe, or each replica of a
 * per-replica probe, judged on its own samples only):
 *
 *   after each fault   its end e is its heal (the injection for an instant
 *                      fault), pushed later while another healed fault
 *                      overlaps it; its deadline is D = e + within. Some
 *                      sample in [e, D] must be healthy. If none is, the
 *                      verdict needs proof either way: an unhealthy sample
 *                      at or after D (before the first healthy one) proves
 *                      it late (or never); a series that stops before D,
 *                      or whose first sample past D is already healthy with
 *                      nothing in between, leaves it unknown: the recovery
 *                      may have happened, unobserved, in time.
 *   and then           from D (or its late recovery) to the next fault's
 *                      injection, every sample must be healthy: the probe
 *                      has settled. An unhealthy run there is a relapse
 *                      (invalid) unless `tolerate` allows that many
 *                      unhealthy samples in a row (default 0: none). So one
 *                      healthy sample in the window does not excuse a long
 *                      outage after it, while flapping inside the window
 *                      (an instant fault's effect showing a little after
 *                      its injection) is still recovery.
 *   at the end         an unhealthy last sample is a violation there (never
 *                      tolerated) and before the first fault; inside a
 *                      window that the run did not outlive it is unknown.
 *
 * Samples before the first fault are `always`'s business, not this one's.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { R_PROBE, R_WITHIN, R_EXPECT, R_REPLICA, R_TOLERATE };

static const struct fl_param params[] = {
    [R_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe whose samples are checked"},
    [R_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed after each fault ends to be healthy again"},
    [R_EXPECT] = {"expect", FL_PT_STRING, 0, NULL, "value a healthy sample records (default: any ok sample)"},
    [R_REPLICA] = {"replica", FL_PT_STRING, 0, NULL, "only this replica of a per-replica probe, like api.2 (default: each replica judged on its own)"},
    [R_TOLERATE] = {"tolerate", FL_PT_INT, 0, "0", "unhealthy samples in a row tolerated once recovered (isolated blips); an unhealthy end is never tolerated"},
};

/* Per fault: recovered in time; late; never; the run stopped sampling
 * before the deadline; a sampling gap across the deadline; recovered, but
 * unhealthy again when the run stopped before the deadline. */
enum rec { REC_OK, REC_LATE, REC_NEVER, REC_UNSEEN, REC_GAP, REC_PENDING, REC_N };

/* Where the probe must be healthy after fault `fault`: [start, end). */
struct zone {
    int64_t start, end;
    size_t fault;
};

struct rec_ctx {
    const struct fl_samples *s;
    struct fl_verdict *out;
    const char *probe;
    int64_t within_us;
    size_t tolerate;
    char tw[32];               /* within, formatted */
    /* scratch for the series being judged */
    size_t *next_healthy;      /* per sample: first healthy at or after it */
    int64_t *recovered;        /* per fault: time of its first healthy sample
                                * at or after its end, INT64_MAX: none */
    size_t *rec_sample;        /* per fault: that sample, SIZE_MAX: none */
    struct zone *zones;        /* per fault, sorted by start */
    size_t nzones;
    int64_t *starts;           /* every fault's injection, sorted (for all series) */
};

/* How one series did. */
struct rec_result {
    size_t count[REC_N];       /* faults by outcome */
    size_t relapses;           /* unhealthy runs once settled, not tolerated */
    size_t relapse_samples;
    int64_t first_relapse;
    size_t tolerated;          /* runs within `tolerate` */
    int ended_bad;             /* the run ended unhealthy where it had to be healthy */
};

/* ---- after each fault ------------------------------------------------------- */

/* Judge recovery after a fault ending at e. [*from, *to): the samples that
 * show it; *hj: the first healthy sample at or after e (r->n: none). */
static enum rec judge_fault(struct rec_ctx *c, const struct fl_series *r, int64_t e,
                            size_t *from, size_t *to, size_t *hj)
{
    size_t a = fl_series_first_at(r, e);
    size_t b = fl_series_first_at(r, e + c->within_us + 1);    /* first after the window */
    size_t d = fl_series_first_at(r, e + c->within_us);        /* first at the deadline */
    size_t h = a < r->n ? c->next_healthy[a] : r->n;
    *from = a;
    *hj = h;
    *to = h < r->n ? h + 1 : r->n;
    if (h < b)
        return REC_OK;
    if (d < h)             /* unhealthy at or past the deadline: proven */
        return h < r->n ? REC_LATE : REC_NEVER;
    return h < r->n ? REC_GAP : REC_UNSEEN;
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

/* Why a keyless probe did not (visibly) recover from fault fi. */
static void probe_why(struct rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                      size_t fi, const struct fl_fault_win *f, int64_t end, enum rec res,
                      size_t from, size_t to)
{
    char te[32], tx[32], tb[32], what[96];
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
    } else if (res == REC_GAP && to - 1 > from) {
        fl_fmt_time(tb, sizeof tb, fl_series_time(r, to - 2));
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[to - 2]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; not sampled between %s (%s) and "
                 "%s (healthy): recovery within %s not observed", fi + 1, f->desc, te, tb,
                 what, tx, c->tw);
    } else if (res == REC_PENDING) {
        fl_fmt_time(tb, sizeof tb, fl_series_time(r, from));
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[to - 1]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; healthy at %s, then unhealthy "
                 "again when the run stopped sampling (%s: %s), before %s had passed: "
                 "settling not observed", fi + 1, f->desc, te, tb, tx, what, c->tw);
    } else if (res == REC_GAP) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; no sample within %s after it "
                 "(next, healthy, at %s): recovery within %s not observed", fi + 1, f->desc,
                 te, c->tw, tx, c->tw);
    } else {
        snprintf(why, len, "fault %zu (%.80s) ended at %s; the run stopped "
                 "sampling before %s had passed", fi + 1, f->desc, te, c->tw);
    }
}

/* Why replica r did not (visibly) recover from fault fi: what it still
 * reported, how long after the fault ended. */
static void replica_why(struct rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                        size_t fi, const struct fl_fault_win *f, int64_t end, enum rec res,
                        size_t from, size_t to)
{
    char fp[256], td[32], tx[32], what[96];
    fault_phrase(fp, sizeof fp, fi, f, end);
    if (res == REC_PENDING) {
        const struct fl_op *op = fl_history_get(r->s->h, r->idx[to - 1]);
        fl_fmt_time(td, sizeof td, fl_series_time(r, from));
        fl_fmt_time(tx, sizeof tx, op->time_us);
        fl_fmt_outcome(what, sizeof what, op);
        snprintf(why, len, "%s was healthy at %s after %s, then reported %s when its sampling "
                 "stopped (%s), before %s had passed: settling not observed", r->name, td, fp,
                 what, tx, c->tw);
        return;
    }
    if (res == REC_GAP) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        if (to - 1 == from) {
            snprintf(why, len, "%s was not sampled within %s after %s; next sample (healthy) "
                     "at %s: recovery in time not observed", r->name, c->tw, fp, tx);
            return;
        }
        const struct fl_op *op = fl_history_get(r->s->h, r->idx[to - 2]);
        fl_fmt_outcome(what, sizeof what, op);
        fl_fmt_time(td, sizeof td, op->time_us - end);
        snprintf(why, len, "%s reported %s %s after %s, then was not sampled until %s "
                 "(healthy): recovery within %s not observed", r->name, what, td, fp, tx, c->tw);
        return;
    }
    /* the sample that shows it: the last one of the replica (never
     * recovered, not seen) or the last unhealthy one before it recovered */
    size_t j = res == REC_LATE ? to - 2 : r->n - 1;
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

static int fault_cex(struct rec_ctx *c, const struct fl_series *r, size_t fi,
                     const struct fl_fault_win *f, int64_t end, enum rec res, size_t from,
                     size_t to)
{
    char key[160], why[1024];
    if (r->name) {
        fl_series_key(key, sizeof key, r);
        replica_why(c, r, why, sizeof why, fi, f, end, res, from, to);
    } else {
        snprintf(key, sizeof key, "%.100s/fault-%zu", c->probe, fi + 1);
        probe_why(c, r, why, sizeof why, fi, f, end, res, from, to);
    }
    size_t ops[FL_CEX_OPS], n = 0, tmp[FL_CEX_OPS];
    ops[n++] = f->fault_op;
    if (f->heal_op != SIZE_MAX)
        ops[n++] = f->heal_op;
    size_t m = fl_keep_ends(r->idx + from, to - from, tmp, FL_CEX_OPS - 2);
    memcpy(ops + n, tmp, m * sizeof *ops);
    return fl_verdict_add_cex(c->out, key, why, ops, n + m);
}

/* ---- in between and at the end ---------------------------------------------- */

static int zone_cmp(const void *a, const void *b)
{
    const struct zone *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->fault > y->fault) - (x->fault < y->fault);
}

static int time_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The first fault injection after t, INT64_MAX when none. */
static int64_t next_start(const struct rec_ctx *c, int64_t t)
{
    size_t lo = 0, hi = c->s->nfaults;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->starts[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->s->nfaults ? c->starts[lo] : INT64_MAX;
}

/* Report the unhealthy run [a, b) of r: a relapse, or (b == r->n) the
 * unhealthy end. */
static int run_cex(struct rec_ctx *c, const struct fl_series *r, size_t a, size_t b,
                   size_t fi)
{
    const struct fl_samples *s = c->s;
    char key[160], why[1024], t0[32], t1[32], what[96], after[400] = "", who[64] = "";
    int at_end = b == r->n;
    const struct fl_op *first = fl_history_get(s->h, r->idx[a]);
    const struct fl_op *last = fl_history_get(s->h, r->idx[b - 1]);
    fl_fmt_time(t0, sizeof t0, first->time_us);
    fl_fmt_time(t1, sizeof t1, last->time_us);
    fl_fmt_outcome(what, sizeof what, at_end ? last : first);
    size_t ops[FL_CEX_OPS], n = 0;
    if (fi != SIZE_MAX) {
        const struct fl_fault_win *f = &s->faults[fi];
        char fp[256], tr[32];
        fault_phrase(fp, sizeof fp, fi, f, fl_fault_effective_end(s, f));
        fl_fmt_time(tr, sizeof tr, c->recovered[fi]);
        snprintf(after, sizeof after, ", after recovering at %s from %s (%s allowed)", tr, fp,
                 c->tw);
        ops[n++] = f->fault_op;
        if (f->heal_op != SIZE_MAX)
            ops[n++] = f->heal_op;
        ops[n++] = r->idx[c->rec_sample[fi]];
    }
    if (r->name) {
        fl_series_key(key, sizeof key, r);
        snprintf(who, sizeof who, "%.50s ", r->name);
    } else if (at_end) {
        snprintf(key, sizeof key, "%.100s/last", c->probe);
    } else {
        snprintf(key, sizeof key, "%.100s/after-fault-%zu", c->probe, fi + 1);
    }
    if (at_end && r->name)
        snprintf(why, sizeof why, "%s ended unhealthy: its last sample (%s) reported %s "
                 "(unhealthy since %s, %zu samples)%s", r->name, t1, what, t0, b - a, after);
    else if (at_end)
        snprintf(why, sizeof why, "the last sample (%s) was unhealthy: %s (unhealthy since "
                 "%s, %zu samples)%s", t1, what, t0, b - a, after);
    else if (b - a == 1)
        snprintf(why, sizeof why, "%sunhealthy again at %s: %s%s", who, t0, what, after);
    else
        snprintf(why, sizeof why, "%sunhealthy again from %s to %s (%zu samples): %s%s", who,
                 t0, t1, b - a, what, after);
    /* the run's first and last samples, and the healthy one that ended it */
    size_t room = FL_CEX_OPS - n - (at_end ? 0 : 1);
    n += fl_keep_ends(r->idx + a, b - a, ops + n, room);
    if (!at_end)
        ops[n++] = r->idx[b];
    return fl_verdict_add_cex(c->out, key, why, ops, n);
}

/* Close the unhealthy run [a, b) (in the zone of fault fi, SIZE_MAX:
 * before any fault): count it, report it unless tolerated. */
static int close_run(struct rec_ctx *c, const struct fl_series *r, size_t a, size_t b,
                     size_t fi, struct rec_result *res)
{
    if (b == r->n) {
        res->ended_bad = 1;
    } else if (b - a <= c->tolerate) {
        res->tolerated++;
        return 0;
    } else {
        if (!res->relapses++)
            res->first_relapse = fl_series_time(r, a);
        res->relapse_samples += b - a;
    }
    return run_cex(c, r, a, b, fi);
}

/* Every sample in a zone must be healthy; so must the last one when it
 * comes before the first fault (or there is none). */
static int judge_zones(struct rec_ctx *c, const struct fl_series *r, struct rec_result *res)
{
    int64_t first = c->s->nfaults ? c->starts[0] : INT64_MAX;
    size_t k = 0, run = SIZE_MAX, run_fault = SIZE_MAX;
    for (size_t j = 0; j < r->n; j++) {
        int64_t t = fl_series_time(r, j);
        while (k < c->nzones && c->zones[k].end <= t)
            k++;
        int in_zone = k < c->nzones && c->zones[k].start <= t;
        int judged = in_zone || (j == r->n - 1 && t < first);
        int bad = judged && !r->healthy[j];
        if (bad && run == SIZE_MAX) {
            run = j;
            run_fault = in_zone ? c->zones[k].fault : SIZE_MAX;
            /* an outage that began before the deadline (after the
             * recovery) is reported whole, from its first sample */
            while (in_zone && run > 0 && !r->healthy[run - 1] &&
                   fl_series_time(r, run - 1) >= c->recovered[run_fault])
                run--;
        }
        if (!bad && run != SIZE_MAX) {
            if (close_run(c, r, run, j, run_fault, res))
                return FL_ENOMEM;
            run = SIZE_MAX;
        }
    }
    if (run != SIZE_MAX)
        return close_run(c, r, run, r->n, run_fault, res);
    return 0;
}

/* Judge one series (r->n > 0), adding its counterexamples. Returns 0 or
 * FL_ENOMEM. */
static int judge_series(struct rec_ctx *c, const struct fl_series *r, struct rec_result *res)
{
    const struct fl_samples *s = c->s;
    memset(res, 0, sizeof *res);
    for (size_t j = r->n; j-- > 0;)
        c->next_healthy[j] = r->healthy[j] ? j : j + 1 < r->n ? c->next_healthy[j + 1] : r->n;
    c->nzones = 0;
    int64_t t_last = fl_series_time(r, r->n - 1);
    for (size_t i = 0; i < s->nfaults; i++) {
        size_t from, to, hj;
        int64_t end = fl_fault_effective_end(s, &s->faults[i]);
        int64_t deadline = end + c->within_us, next = next_start(c, end);
        enum rec k = judge_fault(c, r, end, &from, &to, &hj);
        c->rec_sample[i] = hj < r->n ? hj : SIZE_MAX;
        c->recovered[i] = hj < r->n ? fl_series_time(r, hj) : INT64_MAX;
        /* recovered, but the run stopped before the deadline while it was
         * unhealthy again (and before any later fault) */
        if (k == REC_OK && t_last < deadline && t_last < next && !r->healthy[r->n - 1]) {
            k = REC_PENDING;
            from = hj;
            to = r->n;
        }
        res->count[k]++;
        if (k != REC_OK && fault_cex(c, r, i, &s->faults[i], end, k, from, to))
            return FL_ENOMEM;
        int64_t zs = c->recovered[i] > deadline ? c->recovered[i] : deadline;
        if (zs < next)
            c->zones[c->nzones++] = (struct zone){zs, next, i};
    }
    qsort(c->zones, c->nzones, sizeof *c->zones, zone_cmp);
    return judge_zones(c, r, res);
}

/* ---- verdicts ------------------------------------------------------------------ */

static void tolerated_note(const struct rec_ctx *c, size_t tolerated, struct fl_buf *b)
{
    if (tolerated)
        fl_buf_addf(b, " (%zu unhealthy %s of at most %zu samples tolerated)", tolerated,
                    tolerated == 1 ? "run" : "runs", c->tolerate);
}

static int series_summary(struct rec_ctx *c, const struct fl_series *r, const struct rec_result *res)
{
    const struct fl_samples *s = c->s;
    const char *p = c->probe, *tw = c->tw;
    char tl[32], tf[32], what[96];
    const struct fl_op *last = fl_history_get(s->h, r->idx[r->n - 1]);
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_time(tf, sizeof tf, res->first_relapse);
    fl_fmt_outcome(what, sizeof what, last);
    size_t bad = res->count[REC_LATE] + res->count[REC_NEVER];
    size_t unseen = res->count[REC_UNSEEN] + res->count[REC_GAP] + res->count[REC_PENDING];
    struct fl_verdict *v = c->out;
    struct fl_buf b;
    fl_buf_init(&b, 2048);
    if (bad || res->relapses || res->ended_bad) {
        v->validity = FL_INVALID;
        if (bad)
            fl_buf_addf(&b, "%s did not recover within %s after %zu of %zu faults", p, tw, bad,
                        s->nfaults);
        if (res->relapses)
            fl_buf_addf(&b, "%s did not stay healthy after recovering: %zu unhealthy samples "
                        "in %zu %s from %s", bad ? "; it" : p, res->relapse_samples,
                        res->relapses, res->relapses == 1 ? "run" : "runs", tf);
        if (res->ended_bad && (bad || res->relapses))
            fl_buf_adds(&b, " and ended unhealthy");
        else if (res->ended_bad)
            fl_buf_addf(&b, "%s ended unhealthy (last sample at %s: %s)", p, tl, what);
    } else if (unseen) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "%s: recovery not observed within %s after %zu of %zu faults (%s)", p,
                    tw, unseen, s->nfaults,
                    unseen == res->count[REC_GAP] ? "no sample between the last unhealthy one "
                                                    "and the deadline"
                    : res->count[REC_GAP] ? "sampling stopped or paused around the deadlines"
                    : "the run stopped sampling before the deadline");
    } else {
        v->validity = FL_VALID;
        if (!s->nfaults)
            fl_buf_addf(&b, "no fault in the history; %s ended healthy", p);
        else
            fl_buf_addf(&b, "%s recovered within %s after each of %zu faults and stayed "
                        "healthy", p, tw, s->nfaults);
    }
    tolerated_note(c, res->tolerated, &b);
    int rc = fl_verdict_summary(v, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return rc;
}

/* Replicas sorted into bad ones and unknown ones. */
struct rec_tally {
    const char **bad, **unseen;
    size_t nbad, nunseen;
    size_t late, relapsed;     /* bad ones that missed a deadline / relapsed */
    size_t tolerated;
};

static int replica_summary(struct rec_ctx *c, const struct rec_tally *t)
{
    struct fl_verdict *v = c->out;
    size_t nrep = c->s->groups.n;
    char names[512], more[600];
    struct fl_buf b;
    fl_buf_init(&b, 2048);
    more[0] = '\0';
    if (t->nunseen) {
        fl_fmt_names(names, sizeof names, t->unseen, t->nunseen);
        snprintf(more, sizeof more, "; recovery of %zu more not observed: %s", t->nunseen, names);
    }
    if (t->nbad) {
        v->validity = FL_INVALID;
        const char *what = !t->relapsed ? "did not recover within"
                         : !t->late ? "did not stay healthy after recovering within"
                                    : "did not recover, or did not stay healthy after recovering, within";
        fl_fmt_names(names, sizeof names, t->bad, t->nbad);
        fl_buf_addf(&b, "%zu of %zu replicas of probe %s %s %s: %s%s", t->nbad, nrep, c->probe,
                    what, c->tw, names, more);
    } else if (t->nunseen) {
        v->validity = FL_UNKNOWN;
        fl_fmt_names(names, sizeof names, t->unseen, t->nunseen);
        fl_buf_addf(&b, "recovery of %zu of %zu replicas of probe %s within %s not observed: %s",
                    t->nunseen, nrep, c->probe, c->tw, names);
    } else {
        v->validity = FL_VALID;
        if (!c->s->nfaults)
            fl_buf_addf(&b, "no fault in the history; all %zu replicas of probe %s ended "
                        "healthy", nrep, c->probe);
        else
            fl_buf_addf(&b, "all %zu replicas of probe %s recovered within %s after each of "
                        "%zu faults and stayed healthy", nrep, c->probe, c->tw, c->s->nfaults);
    }
    tolerated_note(c, t->tolerated, &b);
    int rc = fl_verdict_summary(v, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return rc;
}

static int judge_replicas(struct rec_ctx *c)
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
        if (judge_series(c, &r, &res))
            goto out;
        size_t late = res.count[REC_LATE] + res.count[REC_NEVER];
        int relapsed = res.relapses || res.ended_bad;
        t.tolerated += res.tolerated;
        if (late || relapsed) {
            t.bad[t.nbad++] = r.name;
            t.late += late > 0;
            t.relapsed += relapsed;
        } else if (res.count[REC_UNSEEN] || res.count[REC_GAP] || res.count[REC_PENDING]) {
            t.unseen[t.nunseen++] = r.name;
        }
    }
    rc = replica_summary(c, &t);
out:
    free(t.bad);
    free(t.unseen);
    return rc;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct fl_samples s;
    const struct fl_pval *tol = &args->v[R_TOLERATE];
    const char *replica = args->v[R_REPLICA].set ? args->v[R_REPLICA].s : NULL;
    struct rec_ctx c = {.s = &s, .out = out, .probe = args->v[R_PROBE].s,
                        .within_us = fl_duration_us(args->v[R_WITHIN].ms),
                        .tolerate = tol->set && tol->i > 0 ? (size_t)tol->i : 0};
    fl_format_duration(args->v[R_WITHIN].ms, c.tw, sizeof c.tw);
    if (tol->set && tol->i < 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "tolerate must be 0 or more, got %lld", tol->i);
    }
    int rc = fl_samples_load(&s, h, c.probe, args->v[R_EXPECT].set ? args->v[R_EXPECT].s : NULL,
                             replica);
    if (rc)
        goto out;
    if (s.n == 0) {
        rc = fl_samples_none(&s, replica, out);
        goto out;
    }
    rc = FL_ENOMEM;
    size_t nf = s.nfaults ? s.nfaults : 1;
    c.next_healthy = malloc(s.n * sizeof *c.next_healthy);
    c.recovered = malloc(nf * sizeof *c.recovered);
    c.rec_sample = malloc(nf * sizeof *c.rec_sample);
    c.zones = malloc(nf * sizeof *c.zones);
    c.starts = malloc(nf * sizeof *c.starts);
    if (!c.next_healthy || !c.recovered || !c.rec_sample || !c.zones || !c.starts)
        goto out;
    for (size_t i = 0; i < s.nfaults; i++)
        c.starts[i] = s.faults[i].start;
    qsort(c.starts, s.nfaults, sizeof *c.starts, time_cmp);
    if (s.keyed) {
        rc = judge_replicas(&c);
        goto out;
    }
    struct fl_series all = fl_series_of(&s, 0);
    struct rec_result res;
    if (judge_series(&c, &all, &res))
        goto out;
    rc = series_summary(&c, &all, &res);
out:
    free(c.next_healthy);
    free(c.recovered);
    free(c.rec_sample);
    free(c.zones);
    free(c.starts);
    fl_samples_free(&s);
    return rc;
}

const struct fl_checker_type fl_checker_recovers = {
    .name = "recovers",
    .help = "after each fault ends, the probe is healthy again within T and stays healthy until the next fault",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
