/* test_checkers_agreement.c - agreement on hand-written per-replica
 * histories: valid, invalid and unknown, against a reference on random
 * histories, and on a million samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "checkers/no_loss.h"
#include "history/history.h"
#include "base/util.h"

#include "support/checks.h"

extern const struct fl_checker_type fl_checker_agreement;

#define WL "writer"
#define PR "backend"

/* ---- agreement ------------------------------------------------------------ */

static size_t sample(struct fl_history *h, const char *replica, double t, const char *value)
{
    return fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_OK, PR, FL_F_PROBE, replica, value,
                          NULL)->index;
}

/* Every replica samples every 0.5s from `from` to `to` (inclusive) with
 * the value fn gives it at that time. */
typedef const char *(*value_fn)(int replica, double t);

static void sweep(struct fl_history *h, int nrep, double from, double to, value_fn fn)
{
    char name[16];
    for (int k = 0; from + k * 0.5 <= to + 1e-9; k++) {
        double t = from + k * 0.5;
        for (int r = 0; r < nrep; r++) {
            snprintf(name, sizeof name, "api.%d", r);
            const char *v = fn(r, t);
            if (v)
                sample(h, name, t + r * 0.001, v);
        }
    }
}

static struct fl_verdict run_agreement(const struct fl_history *h, uint64_t within_ms,
                                       const char *const *ignore, size_t nignore)
{
    struct fl_args a = fl_t_args("agreement");
    fl_t_arg(&a, "probe")->s = PR;
    fl_t_arg(&a, "within")->ms = within_ms;
    if (ignore) {
        struct fl_pval *p = fl_t_arg(&a, "ignore");
        p->list = ignore;
        p->nlist = nignore;
        p->s = ignore[0];
    }
    return fl_t_check(&fl_checker_agreement, h, &a);
}

static const char *all_redis(int r, double t)
{
    (void)r;
    (void)t;
    return "redis";
}

static const char *blip(int r, double t)
{
    return r == 1 && t >= 5.0 && t < 6.0 ? "file" : "redis";
}

static void test_agreement_valid_and_blip(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sweep(h, 3, 0.0, 10.0, all_redis);
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_VALID);
    assert_string_equal(v.summary, "the 3 replicas of backend always agreed (63 samples)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* api.1 on file from 5.0 to 6.0: a 1s split, under 2s */
    h = fl_history_new(0);
    sweep(h, 3, 0.0, 10.0, blip);
    v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_VALID);
    assert_string_equal(v.summary, "the 3 replicas of backend disagreed once, never "
                        "longer than 2s (longest 1.0s)");
    fl_verdict_free(&v);
    /* the same blip is too long for 500ms */
    v = run_agreement(h, 500, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    assert_string_equal(fl_t_cex_for(&v, "api.1")->why, "api.1 reported file while api.0, api.2 "
                        "reported redis from 5.0s to 6.0s (1.0s > 500ms)");
    assert_int_equal(v.ncex, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_agreement_long_split(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, "api.0", 10.0, "redis");
    sample(h, "api.1", 10.1, "redis");
    sample(h, "api.2", 10.2, "redis");
    size_t first = sample(h, "api.2", 12.3, "file");
    sample(h, "api.0", 14.0, "redis");
    sample(h, "api.1", 14.1, "redis");
    sample(h, "api.2", 14.2, "file");
    sample(h, "api.0", 20.0, "redis");
    size_t last = sample(h, "api.2", 22.0, "file");
    sample(h, "api.2", 25.0, "redis");
    sample(h, "api.1", 26.0, "redis");
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    assert_string_equal(v.summary, "1 of 1 disagreements between the 3 replicas of backend "
                        "lasted longer than 2s (longest 12.7s, from 12.3s)");
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "api.2");
    assert_string_equal(c->why, "api.2 reported file while api.0, api.1 reported redis "
                        "from 12.3s to 25.0s (12.7s > 2s)");
    assert_int_equal(c->nops, 3);
    assert_true(fl_t_cex_has_op(c, first) && fl_t_cex_has_op(c, last));
    /* the majority witness: a sample of api.0 or api.1 reporting redis */
    size_t w = c->ops[0] != first && c->ops[0] != last ? c->ops[0]
             : c->ops[1] != first && c->ops[1] != last ? c->ops[1] : c->ops[2];
    const struct fl_op *wop = fl_history_get(h, w);
    assert_string_equal(wop->value, "redis");
    assert_true(strcmp(wop->key, "api.2") != 0);
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The failover: every replica falls back to file during the outage, two
 * return to redis after it, api.2 never does. */
static const char *failover(int r, double t)
{
    if (t < 12.0)
        return "redis";
    if (t < 20.0)
        return "file";
    return r == 2 || t < 20.0 + r * 0.5 ? "file" : "redis";
}

static void test_agreement_open_at_end(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sweep(h, 3, 0.0, 30.0, failover);
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    /* api.0 is the odd one out for 0.5s at 20.0, not reported; api.2 is */
    assert_int_equal(v.ncex, 1);
    assert_string_equal(fl_t_cex_for(&v, "api.2")->why, "api.2 reported file while api.0, api.1 "
                        "reported redis from 20.0s to 30.0s (10.0s > 2s), still split at the end");
    fl_verdict_free(&v);
    /* cut the history short: the open split is under `within`, valid */
    struct fl_history *h2 = fl_history_new(0);
    sweep(h2, 3, 0.0, 21.5, failover);
    v = run_agreement(h2, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "the last one was still open at the end, after 1.5s");
    fl_verdict_free(&v);
    fl_history_free(h);
    fl_history_free(h2);
}

/* The replicas that were never sampled during a split are dissenters too. */
static void test_agreement_silent_dissenter(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t only = sample(h, "api.2", 1.0, "redis");
    sample(h, "api.0", 1.1, "redis");
    sample(h, "api.1", 1.2, "redis");
    for (int k = 0; k <= 20; k++) {
        sample(h, "api.0", 5.0 + k * 0.5, "file");
        sample(h, "api.1", 5.1 + k * 0.5, "file");
    }
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "api.2");
    assert_string_equal(c->why, "api.2 reported redis while api.0, api.1 reported file from "
                        "5.0s to 15.1s (10.1s > 2s), still split at the end");
    assert_true(fl_t_cex_has_op(c, only));
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The minority moved: api.0 alone on file for 8s, then the others join it.
 * api.0 is blamed, not api.2 that was last to move. */
static void test_agreement_rotating_minority(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, "api.0", 1.0, "redis");
    sample(h, "api.1", 1.1, "redis");
    sample(h, "api.2", 1.2, "redis");
    sample(h, "api.0", 12.0, "file");
    sample(h, "api.1", 15.0, "redis");
    sample(h, "api.2", 15.1, "redis");
    sample(h, "api.1", 20.0, "file");
    sample(h, "api.2", 20.1, "file");
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    assert_int_equal(v.ncex, 1);
    fl_t_has(fl_t_cex_for(&v, "api.0")->why, "api.0 reported file while api.");
    fl_t_has(fl_t_cex_for(&v, "api.0")->why, "reported redis from 12.0s to 20.1s (8.1s > 2s)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static const char *errors(int r, double t)
{
    return r == 1 && t >= 3.0 && t < 9.0 ? "error" : "redis";
}

static void test_agreement_ignore(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sweep(h, 3, 0.0, 10.0, errors);
    /* failed samples never count either */
    fl_history_add(h, FL_T_S(4.0), FL_PROC_PROBE, FL_FAIL, PR, FL_F_PROBE, "api.2", NULL, "refused");
    fl_history_add(h, FL_T_S(4.1), FL_PROC_PROBE, FL_INFO, PR, FL_F_PROBE, "api.2", "file", "timeout");
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "api.1")->why, "api.1 reported error while api.0, api.2 reported redis");
    fl_verdict_free(&v);
    static const char *const ign[] = {"timeout", "error"};
    v = run_agreement(h, 2000, ign, 2);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "always agreed");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_agreement_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no sample of backend counts");
    fl_verdict_free(&v);
    sweep(h, 1, 0.0, 10.0, all_redis);
    /* another probe's replicas do not count */
    fl_history_add(h, FL_T_S(1.0), FL_PROC_PROBE + 1, FL_OK, "other", FL_F_PROBE, "api.1", "x", NULL);
    v = run_agreement(h, 2000, NULL, 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_string_equal(v.summary, "only one replica of backend reported (api.0, 21 samples): "
                        "nothing to compare");
    fl_verdict_free(&v);
    /* a second replica whose every value is ignored is not a replica */
    sample(h, "api.1", 2.0, "error");
    static const char *const ign[] = {"error"};
    v = run_agreement(h, 2000, ign, 1);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- agreement against a reference ---------------------------------------- */

#define RREP 5
#define RVALS 3

struct ref {
    int64_t within;
    int val[RREP];           /* -1: none yet */
    int64_t held_since[RVALS];
    int count[RVALS];
    int open;
    int64_t start, dissent[RREP];
    size_t intervals, violations;
    char expect[64][RREP];   /* per violation: the replicas to report */
    int64_t dmax[64];        /* per violation: the largest dissent */
};

static int ref_major(const struct ref *f)
{
    int best = -1;
    for (int v = 0; v < RVALS; v++) {
        if (!f->count[v])
            continue;
        if (best < 0 || f->count[v] > f->count[best] ||
            (f->count[v] == f->count[best] && f->held_since[v] < f->held_since[best]))
            best = v;
    }
    return best;
}

static int ref_distinct(const struct ref *f)
{
    int n = 0;
    for (int v = 0; v < RVALS; v++)
        n += f->count[v] > 0;
    return n;
}

static void ref_close(struct ref *f, int64_t t)
{
    f->intervals++;
    f->open = 0;
    if (t - f->start <= f->within)
        return;
    size_t k = f->violations++;
    assert_true(k < 64);
    int64_t best = -1;
    int any = 0;
    for (int r = 0; r < RREP; r++) {
        f->expect[k][r] = f->dissent[r] > f->within;
        any |= f->expect[k][r];
        if (f->val[r] >= 0 && f->dissent[r] > best)
            best = f->dissent[r];
    }
    f->dmax[k] = any ? -1 : best;
}

/* Advance to time t: every replica off the majority accrues dissent. */
static void ref_advance(struct ref *f, int64_t from, int64_t t)
{
    if (!f->open)
        return;
    int m = ref_major(f);
    for (int r = 0; r < RREP; r++)
        if (f->val[r] >= 0 && f->val[r] != m)
            f->dissent[r] += t - from;
}

static void ref_sample(struct ref *f, int r, int v, int64_t t)
{
    if (f->val[r] == v)
        return;
    if (f->val[r] >= 0)
        f->count[f->val[r]]--;
    if (f->count[v]++ == 0)
        f->held_since[v] = t;
    f->val[r] = v;
    int d = ref_distinct(f);
    if (!f->open && d > 1) {
        f->open = 1;
        f->start = t;
        memset(f->dissent, 0, sizeof f->dissent);
    } else if (f->open && d == 1) {
        ref_close(f, t);
    }
}

static void check_against_ref(const struct fl_verdict *v, const struct ref *f)
{
    assert_int_equal(v->validity, f->violations ? FL_INVALID : FL_VALID);
    char want[64];
    if (f->violations) {
        snprintf(want, sizeof want, "%zu of %zu disagreements", f->violations, f->intervals);
        fl_t_has(v->summary, want);
    } else if (f->intervals > 1) {
        snprintf(want, sizeof want, "disagreed %zu times", f->intervals);
        fl_t_has(v->summary, want);
    } else if (f->intervals == 1) {
        fl_t_has(v->summary, "disagreed once");
    }
    /* counterexamples come interval by interval */
    size_t at = 0;
    for (size_t k = 0; k < f->violations; k++) {
        if (f->dmax[k] >= 0) {
            assert_true(at < v->ncex);
            at++;   /* one replica, the longest dissenter (ties: any) */
            continue;
        }
        size_t n = 0;
        for (int r = 0; r < RREP; r++)
            n += (size_t)f->expect[k][r];
        for (int r = 0; r < RREP; r++) {
            if (!f->expect[k][r])
                continue;
            char name[16];
            snprintf(name, sizeof name, "api.%d", r);
            int found = 0;
            for (size_t j = at; j < v->ncex && j < at + n; j++)
                found |= strncmp(v->cex[j].key, name, sizeof name) == 0;
            if (!found)
                fail_msg("violation %zu: %s not reported (%s)", k, name, v->summary);
        }
        at += n;
    }
    assert_int_equal(at, v->ncex_total);
}

static void test_agreement_random_vs_reference(void **state)
{
    (void)state;
    struct fl_rng rng;
    fl_rng_seed(&rng, 7);
    static const char *const vals[RVALS] = {"redis", "file", "mem"};
    for (int round = 0; round < 200; round++) {
        struct fl_history *h = fl_history_new(0);
        struct ref f;
        memset(&f, 0, sizeof f);
        f.within = (1000 + (int64_t)fl_rng_below(&rng, 3000)) * 1000;
        for (int r = 0; r < RREP; r++)
            f.val[r] = -1;
        int64_t t = 0, prev = 0;
        int nrep = 2 + (int)fl_rng_below(&rng, RREP - 1);
        int bias = (int)fl_rng_below(&rng, 8);
        for (int i = 0; i < 120; i++) {
            t += 1 + (int64_t)fl_rng_below(&rng, 700000);
            int r = (int)fl_rng_below(&rng, (uint64_t)nrep);
            /* mostly the first value, so that agreement happens */
            int v = fl_rng_below(&rng, 10) < (uint64_t)bias ? 0 : (int)fl_rng_below(&rng, RVALS);
            char name[16];
            snprintf(name, sizeof name, "api.%d", r);
            fl_history_add(h, t, FL_PROC_PROBE, FL_OK, PR, FL_F_PROBE, name, vals[v], NULL);
            ref_advance(&f, prev, t);
            ref_sample(&f, r, v, t);
            prev = t;
        }
        if (f.open)
            ref_close(&f, t);
        if (f.violations > 40) {   /* stay under the counterexample cap */
            fl_history_free(h);
            continue;
        }
        struct fl_verdict v = run_agreement(h, (uint64_t)(f.within / 1000), NULL, 0);
        check_against_ref(&v, &f);
        fl_verdict_free(&v);
        fl_history_free(h);
    }
}

/* 1M samples, the worst case for recomputing the majority naively: 998
 * replicas split 499 / 499 between two values, and api.0 switching on every
 * other sample, so the majority changes 500,000 times. */
static void test_agreement_million(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    static char names[999][12];
    for (int r = 0; r < 999; r++)
        snprintf(names[r], sizeof names[r], "api.%d", r);
    int64_t t = 0;
    for (int i = 0; i < 1000000; i++) {
        int r = i % 2 ? 1 + (i / 2) % 998 : 0;
        const char *v = r == 0 ? ((i / 2) % 2 ? "redis" : "file") : r < 500 ? "file" : "redis";
        fl_history_add(h, t, FL_PROC_PROBE, FL_OK, PR, FL_F_PROBE, names[r], v, NULL);
        t += 1000;
    }
    int64_t t0 = fl_now_us();
    struct fl_verdict v = run_agreement(h, 2000, NULL, 0);
    print_message("agreement: 1M samples checked in %.3fs\n",
                  (double)(fl_now_us() - t0) / 1e6);
    int64_t took = fl_now_us() - t0;
    assert_int_equal(v.validity, FL_INVALID);
    /* 249 blips while the replicas join, then one split to the end */
    fl_t_has(v.summary, "1 of 250 disagreements between the 999 replicas");
    /* everyone but api.0, which always sides with the majority it makes */
    assert_int_equal(v.ncex, FL_MAX_CEX);
    assert_int_equal(v.ncex_total, 998);
    for (size_t i = 0; i < v.ncex; i++)
        assert_string_not_equal(v.cex[i].key, "api.0");
    /* generous (sanitizer builds): a sweep that revisits every replica at
     * each change of majority would take minutes */
    if (took > 5000000)
        fail_msg("agreement over 1M samples took %.2fs", (double)took / 1e6);
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agreement_valid_and_blip),
        cmocka_unit_test(test_agreement_long_split),
        cmocka_unit_test(test_agreement_open_at_end),
        cmocka_unit_test(test_agreement_silent_dissenter),
        cmocka_unit_test(test_agreement_rotating_minority),
        cmocka_unit_test(test_agreement_ignore),
        cmocka_unit_test(test_agreement_unknown),
        cmocka_unit_test(test_agreement_random_vs_reference),
        cmocka_unit_test(test_agreement_million),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
