/* recovers_report.c - what the recovers checker says: counterexamples
 * (why a fault's recovery failed or was not observed, why a settled probe
 * relapsed) and summaries. The judging is in recovers.c. */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"
#include "checkers/recovers_int.h"

#include <stdio.h>
#include <stdlib.h>

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Add a counterexample with its ops in history order (a sample taken at
 * the very moment of a heal may have been recorded before it). */
static int add_cex(struct fl_rec_ctx *c, const char *key, const char *why, size_t *ops, size_t n)
{
    qsort(ops, n, sizeof *ops, size_cmp);
    return fl_verdict_add_cex(c->out, key, why, ops, n);
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
static void probe_why(struct fl_rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                      size_t fi, const struct fl_fault_win *f, int64_t end, enum fl_rec res,
                      size_t from, size_t to)
{
    char te[32], tx[32], tb[32], what[96];
    fl_fmt_time(te, sizeof te, end);
    if (res == FL_REC_LATE) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; first healthy sample "
                 "at %s, more than %s later", fi + 1, f->desc, te, tx, c->tw);
    } else if (res == FL_REC_NEVER) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, r->n - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[r->n - 1]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; no healthy sample "
                 "after it (last at %s: %s)", fi + 1, f->desc, te, tx, what);
    } else if (res == FL_REC_GAP && to - 1 > from) {
        fl_fmt_time(tb, sizeof tb, fl_series_time(r, to - 2));
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[to - 2]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; not sampled between %s (%s) and "
                 "%s (healthy): recovery within %s not observed", fi + 1, f->desc, te, tb,
                 what, tx, c->tw);
    } else if (res == FL_REC_PENDING) {
        fl_fmt_time(tb, sizeof tb, fl_series_time(r, from));
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        fl_fmt_outcome(what, sizeof what, fl_history_get(r->s->h, r->idx[to - 1]));
        snprintf(why, len, "fault %zu (%.80s) ended at %s; healthy at %s, then unhealthy "
                 "again when the run stopped sampling (%s: %s), before %s had passed: "
                 "settling not observed", fi + 1, f->desc, te, tb, tx, what, c->tw);
    } else if (res == FL_REC_GAP) {
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
static void replica_why(struct fl_rec_ctx *c, const struct fl_series *r, char *why, size_t len,
                        size_t fi, const struct fl_fault_win *f, int64_t end, enum fl_rec res,
                        size_t from, size_t to)
{
    char fp[256], td[32], tx[32], what[96];
    fault_phrase(fp, sizeof fp, fi, f, end);
    if (res == FL_REC_PENDING) {
        const struct fl_op *op = fl_history_get(r->s->h, r->idx[to - 1]);
        fl_fmt_time(td, sizeof td, fl_series_time(r, from));
        fl_fmt_time(tx, sizeof tx, op->time_us);
        fl_fmt_outcome(what, sizeof what, op);
        snprintf(why, len, "%s was healthy at %s after %s, then reported %s when its sampling "
                 "stopped (%s), before %s had passed: settling not observed", r->name, td, fp,
                 what, tx, c->tw);
        return;
    }
    if (res == FL_REC_GAP) {
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
    size_t j = res == FL_REC_LATE ? to - 2 : r->n - 1;
    const struct fl_op *op = fl_history_get(r->s->h, r->idx[j]);
    fl_fmt_outcome(what, sizeof what, op);
    fl_fmt_time(tx, sizeof tx, op->time_us);
    fl_fmt_time(td, sizeof td, op->time_us - end);
    if (res == FL_REC_UNSEEN && from == r->n)
        snprintf(why, len, "%s was not sampled after %s (last sample at %s: %s); recovery "
                 "not observed", r->name, fp, tx, what);
    else if (res == FL_REC_UNSEEN)
        snprintf(why, len, "%s still reported %s %s after %s, when its sampling stopped "
                 "before %s had passed; recovery not observed", r->name, what, td, fp, c->tw);
    else if (res == FL_REC_LATE) {
        fl_fmt_time(tx, sizeof tx, fl_series_time(r, to - 1));
        snprintf(why, len, "%s still reported %s %s after %s (within %s); healthy again "
                 "at %s", r->name, what, td, fp, c->tw, tx);
    } else
        snprintf(why, len, "%s still reported %s %s after %s (within %s), and never "
                 "recovered", r->name, what, td, fp, c->tw);
}

int fl_rec_fault_cex(struct fl_rec_ctx *c, const struct fl_series *r, size_t fi,
                     const struct fl_fault_win *f, int64_t end, enum fl_rec res, size_t from,
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
    return add_cex(c, key, why, ops, n + m);
}

/* Report the unhealthy run [a, b) of r: a relapse, or (b == r->n) the
 * unhealthy end. */
int fl_rec_run_cex(struct fl_rec_ctx *c, const struct fl_series *r, size_t a, size_t b,
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
    return add_cex(c, key, why, ops, n);
}

static void tolerated_note(const struct fl_rec_ctx *c, size_t tolerated, struct fl_buf *b)
{
    if (tolerated)
        fl_buf_addf(b, " (%zu unhealthy %s of at most %zu samples tolerated)", tolerated,
                    tolerated == 1 ? "run" : "runs", c->tolerate);
}

int fl_rec_series_summary(struct fl_rec_ctx *c, const struct fl_series *r,
                          const struct fl_rec_result *res)
{
    const struct fl_samples *s = c->s;
    const char *p = c->probe, *tw = c->tw;
    char tl[32], tf[32], what[96];
    const struct fl_op *last = fl_history_get(s->h, r->idx[r->n - 1]);
    fl_fmt_time(tl, sizeof tl, last->time_us);
    fl_fmt_time(tf, sizeof tf, res->first_relapse);
    fl_fmt_outcome(what, sizeof what, last);
    size_t bad = res->count[FL_REC_LATE] + res->count[FL_REC_NEVER];
    size_t unseen = res->count[FL_REC_UNSEEN] + res->count[FL_REC_GAP] + res->count[FL_REC_PENDING];
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
                    unseen == res->count[FL_REC_GAP] ? "no sample between the last unhealthy one "
                                                    "and the deadline"
                    : res->count[FL_REC_GAP] ? "sampling stopped or paused around the deadlines"
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

int fl_rec_replica_summary(struct fl_rec_ctx *c, const struct fl_rec_tally *t)
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
                                    : "did not recover, or did not stay healthy after "
                                      "recovering, within";
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
