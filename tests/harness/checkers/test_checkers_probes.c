/* test_checkers_probes.c - recovers and always on hand-written probe
 * histories (plain and per-replica): valid, invalid and unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "history/history.h"

#include "support/checks.h"

/* ---- probes --------------------------------------------------------------- */

/* Probe samples every 0.5s from t0 to t1 (inclusive); healthy ("200", ok)
 * unless inside [bad0, bad1), where they fail with 503. */
static void samples(struct fl_history *h, const char *probe, double t0, double t1,
                    double bad0, double bad1)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.5) {
        int bad = t >= bad0 - 1e-9 && t < bad1 - 1e-9;
        fl_history_add(h, FL_T_S(t) - 5000, FL_PROC_PROBE, FL_INVOKE, probe, FL_F_PROBE, NULL, NULL, NULL);
        if (bad)
            fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_FAIL, probe, FL_F_PROBE, NULL, "503",
                           "status 503");
        else
            fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_OK, probe, FL_F_PROBE, NULL, "200", NULL);
    }
}

static size_t fault(struct fl_history *h, int n, double t, const char *desc)
{
    return fl_history_add(h, FL_T_S(t), FL_PROC_FAULT + n, FL_OK, "process.kill", FL_F_FAULT, "api-0",
                          desc, NULL)->index;
}

static size_t heal(struct fl_history *h, int n, double t)
{
    return fl_history_add(h, FL_T_S(t), FL_PROC_FAULT + n, FL_OK, "redis.pause", FL_F_HEAL, "api-0",
                          "resumed", NULL)->index;
}

static struct fl_args recovers_args(uint64_t within_ms)
{
    struct fl_args a = fl_t_args("recovers");
    fl_t_arg_s(&a, "probe", "health");
    fl_t_arg_ms(&a, "within", within_ms);
    return a;
}

/* Ops are added in time order like a real run: samples up to a fault,
 * the fault, samples until its heal, and so on. */
static void test_recovers_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "pause redis");
    samples(h, "health", 5.0, 10.5, 5.0, 12.0);
    heal(h, 0, 11.0);
    samples(h, "health", 11.0, 30.0, 5.0, 12.0);
    samples(h, "other", 0.0, 30.0, 0.0, 31.0);   /* another probe: ignored */
    struct fl_args a = recovers_args(10000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "health recovered within 10s after each of 1 faults");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);

    /* no fault at all: only the last sample counts */
    struct fl_history *g = fl_history_new(0);
    samples(g, "health", 0.0, 10.0, 2.0, 3.0);
    v = fl_t_run("recovers", g, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "no fault in the history");
    fl_verdict_free(&v);
    fl_history_free(g);
    fl_history_free(h);
}

static void test_recovers_late(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    size_t f = fault(h, 0, 5.0, "pause redis");
    samples(h, "health", 5.0, 10.5, 5.0, 25.0);
    size_t he = heal(h, 0, 11.0);
    samples(h, "health", 11.0, 30.0, 5.0, 25.0);
    struct fl_args a = recovers_args(10000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "health did not recover within 10s after 1 of 1 faults");
    const struct fl_cex *c = fl_t_cex_for(&v, "health/fault-1");
    fl_t_has(c->why, "ended at 11.0s");
    fl_t_has(c->why, "first healthy sample at 25.0s");
    fl_t_has(c->why, "pause redis");
    assert_true(fl_t_cex_has_op(c, f));
    assert_true(fl_t_cex_has_op(c, he));
    assert_true(c->nops <= 20);
    fl_verdict_free(&v);

    /* a wider window accepts it */
    a = recovers_args(15000);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_recovers_never_and_relapse(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "kill api-0");            /* instant: ends at 5.0s */
    samples(h, "health", 5.0, 30.0, 5.0, 99);
    struct fl_args a = recovers_args(10000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "health did not recover within 10s after 1 of 1 faults");
    /* never recovering says it all: no second counterexample for the end */
    assert_int_equal(v.ncex, 1);
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "no healthy sample after it (last at 30.0s: fail: status 503)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* recovered in time, then broke again for good: did not stay recovered */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "kill api-0");
    samples(h, "health", 5.0, 30.0, 5.0, 7.0);
    samples(h, "health", 30.5, 40.0, 30.5, 99);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "health ended unhealthy (last sample at 40.0s: fail: status 503)");
    assert_int_equal(v.ncex, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_recovers_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "pause redis");
    samples(h, "health", 5.0, 10.5, 5.0, 99);
    heal(h, 0, 11.0);
    samples(h, "health", 11.0, 15.0, 5.0, 99);   /* run over 4s after the heal */
    struct fl_args a = recovers_args(10000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "recovery not observed");
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "stopped sampling");
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    fault(h, 0, 5.0, "pause redis");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no sample of probe health");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_recovers_overlap_and_expect(void **state)
{
    (void)state;
    /* A heals at 8s while B goes on until 20s: recovery is due 5s after 20s */
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 1, 5.0, "A");
    samples(h, "health", 5.0, 5.5, 5.0, 22.0);
    fault(h, 2, 6.0, "B");
    samples(h, "health", 6.0, 7.5, 5.0, 22.0);
    heal(h, 1, 8.0);
    samples(h, "health", 8.0, 19.5, 5.0, 22.0);
    heal(h, 2, 20.0);
    samples(h, "health", 20.0, 30.0, 5.0, 22.0);
    struct fl_args a = recovers_args(5000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "after each of 2 faults");
    fl_verdict_free(&v);

    /* expect: "200" is healthy, anything else is not */
    fl_t_arg_s(&a, "expect", "200");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_t_arg_s(&a, "expect", "degraded");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static struct fl_args always_args(void)
{
    struct fl_args a = fl_t_args("always");
    fl_t_arg_s(&a, "probe", "health");
    fl_t_arg_b(&a, "during_faults", 1);
    return a;
}

static void test_always(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 10.0, 99, 99);
    struct fl_args a = always_args();
    struct fl_verdict v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 21 samples of health were healthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* two runs of unhealthy samples */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    samples(h, "health", 5.0, 9.5, 5.0, 6.5);
    samples(h, "health", 10.0, 20.0, 12.0, 12.5);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "4 of 41 samples of health were unhealthy, in 2 runs (first at 5.0s)");
    assert_int_equal(v.ncex, 2);
    assert_string_equal(v.cex[0].key, "health");
    fl_t_has(v.cex[0].why, "unhealthy from 5.0s to 6.0s (3 samples): fail: status 503");
    assert_int_equal(v.cex[0].nops, 3);
    fl_t_has(v.cex[1].why, "unhealthy at 12.0s");
    assert_int_equal(fl_history_get(h, v.cex[1].ops[0])->time_us, FL_T_S(12.0));
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_always_during_faults(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "pause redis");
    samples(h, "health", 5.0, 9.5, 5.0, 10.0);
    heal(h, 0, 10.0);
    samples(h, "health", 10.0, 15.0, 99, 99);
    struct fl_args a = always_args();
    struct fl_verdict v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_t_arg_b(&a, "during_faults", 0);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "(10 during faults excused)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* an instant fault has no window: nothing is excused */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "kill api-0");
    samples(h, "health", 5.0, 10.0, 5.0, 6.0);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "2 of 21 samples");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_always_unknown_and_expect(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "other", 0.0, 4.5, 99, 99);
    struct fl_args a = always_args();
    struct fl_verdict v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no sample of probe health");
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    fl_history_add(h, FL_T_S(1), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "ok", NULL);
    fl_history_add(h, FL_T_S(2), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "degraded", NULL);
    fl_history_add(h, FL_T_S(3), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "ok", NULL);
    fl_t_arg_s(&a, "expect", "ok");
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.cex[0].why, "unhealthy at 2.0s: degraded");
    fl_verdict_free(&v);
    fl_history_free(h);
}


/* ---- per-replica probes ---------------------------------------------------- */

/* One replica of a per-replica probe: reports "file" instead of "redis"
 * inside [bad0, bad1), and is not sampled after `last`. */
struct rep {
    const char *name;
    double bad0, bad1, last;
};

/* Every replica sampled each 0.5s tick from t0 to t1 (inclusive), in the
 * order given; the sample's key is the replica. */
static void replica_ticks(struct fl_history *h, double t0, double t1, const struct rep *r,
                          size_t n)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.5)
        for (size_t i = 0; i < n; i++) {
            if (t > r[i].last + 1e-9)
                continue;
            int bad = t >= r[i].bad0 - 1e-9 && t < r[i].bad1 - 1e-9;
            int32_t proc = FL_PROC_PROBE + (int32_t)i;
            fl_history_add(h, FL_T_S(t) - 5000, proc, FL_INVOKE, "store", FL_F_PROBE, r[i].name,
                           NULL, NULL);
            fl_history_add(h, FL_T_S(t), proc, FL_OK, "store", FL_F_PROBE, r[i].name,
                           bad ? "file" : "redis", NULL);
        }
}

/* Samples to 30s around one fault (5.0s) healed at 8.0s; *f, *he: its ops. */
static struct fl_history *replica_history(const struct rep *r, size_t n, size_t *f, size_t *he)
{
    struct fl_history *h = fl_history_new(0);
    replica_ticks(h, 0.0, 4.5, r, n);
    size_t fo = fault(h, 0, 5.0, "pause redis");
    replica_ticks(h, 5.0, 7.5, r, n);
    size_t ho = heal(h, 0, 8.0);
    replica_ticks(h, 8.0, 30.0, r, n);
    if (f)
        *f = fo;
    if (he)
        *he = ho;
    return h;
}

static struct fl_args store_args(const char *checker)
{
    struct fl_args a = fl_t_args(checker);
    fl_t_arg_s(&a, "probe", "store");
    fl_t_arg_s(&a, "expect", "redis");
    if (strcmp(checker, "recovers") == 0)
        fl_t_arg_ms(&a, "within", 5000);
    else
        fl_t_arg_b(&a, "during_faults", 1);
    return a;
}

/* Every op of a counterexample is the fault, its heal or a sample of `key`. */
static void cex_only_replica(const struct fl_history *h, const struct fl_cex *c, const char *key)
{
    for (size_t i = 0; i < c->nops; i++) {
        const struct fl_op *op = fl_history_get(h, c->ops[i]);
        if (strcmp(op->f, FL_F_PROBE) == 0)
            assert_string_equal(op->key, key);
    }
}

static void test_recovers_replicas_valid(void **state)
{
    (void)state;
    /* each replica takes its own time, all within 5s of the heal */
    const struct rep r[] = {{"api.3", 5.0, 8.5, 99}, {"api.1", 5.0, 12.5, 99},
                            {"api.2", 5.0, 10.0, 99}};
    struct fl_history *h = replica_history(r, 3, NULL, NULL);
    struct fl_args a = store_args("recovers");
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 3 replicas of probe store recovered within 5s after each of 1 faults "
        "and stayed healthy");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);

    /* one replica only */
    fl_t_arg_s(&a, "replica", "api.1");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 1 replicas of probe store recovered");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_recovers_replica_stuck(void **state)
{
    (void)state;
    /* api.2 reports "file" until 20.0s: 12s after the heal. api.1 and api.3
     * are fine right after it, which must not hide api.2. */
    const struct rep r[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 20.0, 99},
                            {"api.3", 5.0, 9.0, 99}};
    size_t f, he;
    struct fl_history *h = replica_history(r, 3, &f, &he);
    struct fl_args a = store_args("recovers");
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 3 replicas of probe store did not recover within 5s: api.2");
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "store@api.2");
    fl_t_has(c->why, "api.2 still reported file 11.5s after fault 1 (pause redis) healed at 8.0s "
        "(within 5s); healthy again at 20.0s");
    assert_true(fl_t_cex_has_op(c, f));
    assert_true(fl_t_cex_has_op(c, he));
    assert_true(c->nops <= 20);
    cex_only_replica(h, c, "api.2");
    fl_verdict_free(&v);

    /* only api.2 checked: the same, and only api.1 checked: fine */
    fl_t_arg_s(&a, "replica", "api.2");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 1 replicas of probe store did not recover within 5s: api.2");
    fl_verdict_free(&v);
    fl_t_arg_s(&a, "replica", "api.1");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_t_arg_s(&a, "replica", "api.9");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no sample of replica api.9 of probe store");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* api.3 never recovers (and so ends unhealthy) */
    const struct rep r2[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 20.0, 99},
                             {"api.3", 5.0, 99, 99}};
    h = replica_history(r2, 3, NULL, NULL);
    a = store_args("recovers");
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "2 of 3 replicas of probe store did not recover within 5s: api.2, api.3");
    assert_int_equal(v.ncex, 2);   /* api.2 late; api.3 never (so it ended unhealthy) */
    fl_t_has(v.cex[1].why, "api.3 still reported file 22.0s after fault 1 (pause redis) healed at "
        "8.0s (within 5s), and never recovered");
    assert_string_equal(v.cex[1].key, "store@api.3");
    cex_only_replica(h, &v.cex[1], "api.3");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_recovers_replica_unseen(void **state)
{
    (void)state;
    /* api.3 is not sampled after 7.0s, during the fault: its recovery was
     * never observed */
    const struct rep r[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 9.0, 99},
                            {"api.3", 5.0, 99, 7.0}};
    struct fl_history *h = replica_history(r, 3, NULL, NULL);
    struct fl_args a = store_args("recovers");
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "recovery of 1 of 3 replicas of probe store within 5s not observed: api.3");
    assert_int_equal(v.ncex, 1);
    fl_t_has(fl_t_cex_for(&v, "store@api.3")->why, "api.3 was not sampled after fault 1 (pause redis) "
        "healed at 8.0s (last sample at 7.0s: file)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* another replica stuck: invalid beats unknown, and both are named */
    const struct rep r2[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 20.0, 99},
                             {"api.3", 5.0, 99, 7.0}};
    h = replica_history(r2, 3, NULL, NULL);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 3 replicas of probe store did not recover within 5s: api.2; "
        "recovery of 1 more not observed: api.3");
    fl_t_cex_for(&v, "store@api.2");
    fl_t_cex_for(&v, "store@api.3");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_always_replicas(void **state)
{
    (void)state;
    const struct rep ok[] = {{"api.1", 99, 99, 99}, {"api.2", 99, 99, 99}};
    struct fl_history *h = fl_history_new(0);
    replica_ticks(h, 0.0, 10.0, ok, 2);
    struct fl_args a = store_args("always");
    struct fl_verdict v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 42 samples of the 2 replicas of store were healthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* api.2 bad at 5.0-6.0s, api.3 at 12.0s: one run each, named */
    const struct rep r[] = {{"api.3", 12.0, 12.5, 99}, {"api.1", 99, 99, 99},
                            {"api.2", 5.0, 6.5, 99}};
    h = fl_history_new(0);
    replica_ticks(h, 0.0, 20.0, r, 3);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "4 of 123 samples of store were unhealthy, in 2 runs on 2 of 3 replicas: "
        "api.2, api.3 (first at 5.0s)");
    assert_int_equal(v.ncex, 2);
    const struct fl_cex *c = fl_t_cex_for(&v, "store@api.2");
    fl_t_has(c->why, "api.2 unhealthy from 5.0s to 6.0s (3 samples): file");
    assert_int_equal(c->nops, 3);
    cex_only_replica(h, c, "api.2");
    fl_t_has(fl_t_cex_for(&v, "store@api.3")->why, "api.3 unhealthy at 12.0s: file");
    fl_verdict_free(&v);
    fl_t_arg_s(&a, "replica", "api.1");
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 41 samples of the 1 replicas of store were healthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* during_faults: false, and api.2 only sampled during the fault */
    const struct rep r2[] = {{"api.1", 99, 99, 99}, {"api.2", 99, 99, 7.5}};
    h = fl_history_new(0);
    replica_ticks(h, 0.0, 4.5, r2 , 1);
    fault(h, 0, 5.0, "pause redis");
    const struct rep r3[] = {{"api.1", 5.0, 8.0, 99}, {"api.2", 5.0, 8.0, 7.5}};
    replica_ticks(h, 5.0, 7.5, r3, 2);
    heal(h, 0, 8.0);
    replica_ticks(h, 8.0, 10.0, r2, 1);
    a = store_args("always");
    fl_t_arg_b(&a, "during_faults", 0);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 of 2 replicas of store were only sampled during faults: api.2");
    fl_verdict_free(&v);
    fl_t_arg_s(&a, "replica", "api.1");
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "(6 during faults excused)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_valid),
        cmocka_unit_test(test_recovers_late),
        cmocka_unit_test(test_recovers_never_and_relapse),
        cmocka_unit_test(test_recovers_unknown),
        cmocka_unit_test(test_recovers_overlap_and_expect),
        cmocka_unit_test(test_always),
        cmocka_unit_test(test_always_during_faults),
        cmocka_unit_test(test_always_unknown_and_expect),
        cmocka_unit_test(test_recovers_replicas_valid),
        cmocka_unit_test(test_recovers_replica_stuck),
        cmocka_unit_test(test_recovers_replica_unseen),
        cmocka_unit_test(test_always_replicas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
