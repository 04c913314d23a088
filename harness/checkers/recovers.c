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
#include "checkers/recovers_int.h"

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

/* ---- after each fault ------------------------------------------------------- */

/* Judge recovery after a fault ending at e. [*from, *to): the samples that
 * show it; *hj: the first healthy sample at or after e (r->n: none). */
static enum fl_rec judge_fault(struct fl_rec_ctx *c, const struct fl_series *r, int64_t e,
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
        return FL_REC_OK;
    if (d < h)             /* unhealthy at or past the deadline: proven */
        return h < r->n ? FL_REC_LATE : FL_REC_NEVER;
    return h < r->n ? FL_REC_GAP : FL_REC_UNSEEN;
}

/* ---- in between and at the end ---------------------------------------------- */

static int zone_cmp(const void *a, const void *b)
{
    const struct fl_rec_zone *x = a, *y = b;
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
static int64_t next_start(const struct fl_rec_ctx *c, int64_t t)
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

/* Close the unhealthy run [a, b) (in the zone of fault fi, SIZE_MAX:
 * before any fault): count it, report it unless tolerated. */
static int close_run(struct fl_rec_ctx *c, const struct fl_series *r, size_t a, size_t b,
                     size_t fi, struct fl_rec_result *res)
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
    return fl_rec_run_cex(c, r, a, b, fi);
}

/* Every sample in a zone must be healthy; so must the last one when it
 * comes before the first fault (or there is none). */
static int judge_zones(struct fl_rec_ctx *c, const struct fl_series *r, struct fl_rec_result *res)
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
static int judge_series(struct fl_rec_ctx *c, const struct fl_series *r, struct fl_rec_result *res)
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
        enum fl_rec k = judge_fault(c, r, end, &from, &to, &hj);
        c->rec_sample[i] = hj < r->n ? hj : SIZE_MAX;
        c->recovered[i] = hj < r->n ? fl_series_time(r, hj) : INT64_MAX;
        /* recovered, but the run stopped before the deadline while it was
         * unhealthy again (and before any later fault) */
        if (k == FL_REC_OK && t_last < deadline && t_last < next && !r->healthy[r->n - 1]) {
            k = FL_REC_PENDING;
            from = hj;
            to = r->n;
        }
        res->count[k]++;
        if (k != FL_REC_OK && fl_rec_fault_cex(c, r, i, &s->faults[i], end, k, from, to))
            return FL_ENOMEM;
        int64_t zs = c->recovered[i] > deadline ? c->recovered[i] : deadline;
        if (zs < next)
            c->zones[c->nzones++] = (struct fl_rec_zone){zs, next, i};
    }
    qsort(c->zones, c->nzones, sizeof *c->zones, zone_cmp);
    return judge_zones(c, r, res);
}

/* ---- verdicts (texts: recovers_report.c) --------------------------------------- */

static int judge_replicas(struct fl_rec_ctx *c)
{
    const struct fl_samples *s = c->s;
    struct fl_rec_tally t = {0};
    t.bad = malloc(s->groups.n * sizeof *t.bad);
    t.unseen = malloc(s->groups.n * sizeof *t.unseen);
    int rc = FL_ENOMEM;
    if (!t.bad || !t.unseen)
        goto out;
    for (size_t g = 0; g < s->groups.n; g++) {
        struct fl_series r = fl_series_of(s, g);
        struct fl_rec_result res;
        if (judge_series(c, &r, &res))
            goto out;
        size_t late = res.count[FL_REC_LATE] + res.count[FL_REC_NEVER];
        int relapsed = res.relapses || res.ended_bad;
        t.tolerated += res.tolerated;
        if (late || relapsed) {
            t.bad[t.nbad++] = r.name;
            t.late += late > 0;
            t.relapsed += relapsed;
        } else if (res.count[FL_REC_UNSEEN] || res.count[FL_REC_GAP] || res.count[FL_REC_PENDING]) {
            t.unseen[t.nunseen++] = r.name;
        }
    }
    rc = fl_rec_replica_summary(c, &t);
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
    struct fl_rec_ctx c = {.s = &s, .out = out, .probe = args->v[R_PROBE].s,
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
    struct fl_rec_result res;
    if (judge_series(&c, &all, &res))
        goto out;
    rc = fl_rec_series_summary(&c, &all, &res);
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
