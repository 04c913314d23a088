/* test_checkers.c - every checker on hand-written histories: valid,
 * invalid and unknown, with the summaries and counterexamples users see. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/checker.h"
#include "harness/history.h"

#define S(x) ((int64_t)((x) * 1000000.0 + 0.5))

/* ---- building args by hand ------------------------------------------------ */

static struct fl_args args_for(const char *checker)
{
    const struct fl_checker_type *t = fl_checker_find(checker);
    assert_non_null(t);
    struct fl_args a;
    fl_args_init(&a, t->params, t->nparams);
    return a;
}

static struct fl_pval *arg(struct fl_args *a, const char *name)
{
    struct fl_pval *v = fl_args_set(a, name);
    if (!v)
        fail_msg("no parameter %s", name);
    return v;
}

static void arg_s(struct fl_args *a, const char *name, const char *s)
{
    arg(a, name)->s = s;
}

static void arg_list(struct fl_args *a, const char *name, const char *const *l, size_t n)
{
    struct fl_pval *v = arg(a, name);
    v->list = l;
    v->nlist = n;
    v->s = l[0];
}

static void arg_ms(struct fl_args *a, const char *name, uint64_t ms)
{
    arg(a, name)->ms = ms;
}

static void arg_b(struct fl_args *a, const char *name, int b)
{
    arg(a, name)->b = b;
}

static struct fl_verdict run(const char *checker, const struct fl_history *h,
                             const struct fl_args *a)
{
    struct fl_verdict v;
    memset(&v, 0, sizeof v);
    assert_int_equal(fl_checker_find(checker)->check(h, a, &v), 0);
    assert_non_null(v.summary);
    return v;
}

static void has(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay ? hay : "(null)", needle);
}

static const struct fl_cex *cex_for(const struct fl_verdict *v, const char *key)
{
    for (size_t i = 0; i < v->ncex; i++)
        if (strcmp(v->cex[i].key, key) == 0)
            return &v->cex[i];
    fail_msg("no counterexample for %s", key);
    return NULL;
}

static int cex_has_op(const struct fl_cex *c, size_t idx)
{
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i] == idx)
            return 1;
    return 0;
}

/* ---- building histories by hand ------------------------------------------- */

/* The main request of a job: invoke, then ok with the captured key. Returns
 * the index of the ok. */
static size_t accept_job(struct fl_history *h, const char *wl, int proc, const char *key, double t)
{
    fl_history_add(h, S(t) - 20000, proc, FL_INVOKE, wl, FL_F_REQUEST, NULL, NULL, NULL);
    return fl_history_add(h, S(t), proc, FL_OK, wl, FL_F_REQUEST, key, "202", NULL)->index;
}

/* One follow poll: invoke, then ok with value. Returns the ok's index. */
static size_t poll(struct fl_history *h, const char *wl, int proc, const char *key, double t,
                   const char *value)
{
    fl_history_add(h, S(t) - 10000, proc, FL_INVOKE, wl, FL_F_POLL, key, NULL, NULL);
    return fl_history_add(h, S(t), proc, FL_OK, wl, FL_F_POLL, key, value, NULL)->index;
}

static const char *const complete_only[] = {"complete"};
static const char *const order3[] = {"pending", "running", "complete"};

static struct fl_args lifecycle_args(uint64_t within_ms)
{
    struct fl_args a = args_for("lifecycle");
    arg_s(&a, "workload", "submit");
    arg_list(&a, "terminal", complete_only, 1);
    arg_ms(&a, "within", within_ms);
    return a;
}

/* ---- lifecycle ------------------------------------------------------------- */

static void test_lifecycle_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    accept_job(h, "submit", 1, "j2", 1.5);
    poll(h, "submit", 0, "j1", 1.25, "pending");
    poll(h, "submit", 1, "j2", 1.75, "pending");
    poll(h, "submit", 0, "j1", 2.0, "running");
    poll(h, "submit", 0, "j1", 3.0, "complete");
    poll(h, "submit", 1, "j2", 31.5, "complete");   /* exactly at the deadline */
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 2 jobs accepted by submit reached complete within 30s");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_stuck(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t acc[3];
    acc[0] = accept_job(h, "submit", 0, "j1", 1.0);
    acc[1] = accept_job(h, "submit", 1, "j2", 4.1);
    acc[2] = accept_job(h, "submit", 2, "j3", 5.0);
    poll(h, "submit", 0, "j1", 2.0, "complete");
    poll(h, "submit", 2, "j3", 6.0, "complete");
    size_t last = 0;
    for (int i = 0; i < 40; i++)   /* j2 polled pending well past its deadline */
        last = poll(h, "submit", 1, "j2", 4.3 + i, i < 3 ? "running" : "pending");
    /* a key of another workload never counts */
    accept_job(h, "other", 9, "x1", 1.0);
    poll(h, "other", 9, "x1", 50.0, "pending");
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 3 jobs accepted by submit never reached complete within 30s");
    assert_int_equal(v.ncex, 1);
    assert_int_equal(v.ncex_total, 1);
    const struct fl_cex *c = cex_for(&v, "j2");
    has(c->why, "last seen pending at 43.3s");
    has(c->why, "accepted at 4.1s");
    has(c->why, "no complete within 30s");
    /* first and last ones of acceptance + 40 polls */
    assert_int_equal(c->nops, 20);
    assert_int_equal(c->ops[0], acc[1]);
    assert_int_equal(c->ops[c->nops - 1], last);
    for (size_t i = 1; i < c->nops; i++)
        assert_true(c->ops[i] > c->ops[i - 1]);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_gave_up(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t acc = accept_job(h, "submit", 0, "j1", 1.0);
    size_t p = poll(h, "submit", 0, "j1", 2.0, "pending");
    /* the follow gave up before the checker's deadline: still covered */
    size_t g = fl_history_add(h, S(20.0), 0, FL_INFO, "submit", FL_F_FOLLOW, "j1", "pending",
                              "follow timeout 19s")->index;
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 1 jobs");
    const struct fl_cex *c = cex_for(&v, "j1");
    has(c->why, "gave up");
    assert_true(cex_has_op(c, acc));
    assert_true(cex_has_op(c, p));
    assert_true(cex_has_op(c, g));
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_late_and_failed(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "late", 4.0);
    poll(h, "submit", 0, "late", 5.0, "pending");
    poll(h, "submit", 0, "late", 40.0, "complete");   /* 36s after acceptance */
    accept_job(h, "submit", 1, "bad", 4.0);
    poll(h, "submit", 1, "bad", 5.0, "running");
    poll(h, "submit", 1, "bad", 6.0, "failed");       /* the follow ends here */
    accept_job(h, "submit", 2, "good", 7.0);
    for (int i = 0; i < 10; i++)
        poll(h, "submit", 2, "good", 8.0 + i, i < 9 ? "pending" : "complete");
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "2 of 3 jobs accepted by submit never reached complete within 30s");
    has(cex_for(&v, "late")->why, "reached complete at 40.0s, accepted at 4.0s");
    has(cex_for(&v, "bad")->why, "ended failed at 6.0s");
    has(cex_for(&v, "bad")->why, "only complete counts");
    fl_verdict_free(&v);

    /* with failed allowed too, only the late one is left */
    static const char *const both[] = {"complete", "failed"};
    arg_list(&a, "terminal", both, 2);
    v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 3 jobs accepted by submit never reached complete or failed within 30s");
    assert_int_equal(v.ncex, 1);
    assert_string_equal(v.cex[0].key, "late");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    poll(h, "submit", 0, "j1", 2.0, "pending");
    poll(h, "submit", 0, "j1", 3.0, "complete");
    /* accepted late in the run: polled pending until the run stopped */
    accept_job(h, "submit", 1, "j2", 25.0);
    for (int i = 0; i < 4; i++)
        poll(h, "submit", 1, "j2", 25.5 + i, "pending");
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "1 of 2 jobs accepted by submit were not observed for 30s");
    has(cex_for(&v, "j2")->why, "stopped watching");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* an aborted run where no job ever left pending: pending is not taken
     * for a terminal value */
    h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    poll(h, "submit", 0, "j1", 1.5, "pending");
    poll(h, "submit", 0, "j1", 2.0, "pending");
    v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_nothing_accepted(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    fl_history_add(h, S(1), 0, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    fl_history_add(h, S(2), 0, FL_FAIL, "submit", FL_F_REQUEST, NULL, "http:503", "status 503");
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "no job was accepted");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- transitions ---------------------------------------------------------- */

static struct fl_args transitions_args(void)
{
    struct fl_args a = args_for("transitions");
    arg_s(&a, "workload", "submit");
    arg_list(&a, "order", order3, 3);
    return a;
}

static void test_transitions_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    const char *seq[] = {"pending", "pending", "running", "running", "complete"};
    for (int i = 0; i < 5; i++)
        poll(h, "submit", 0, "j1", 1.25 + 0.25 * i, seq[i]);
    accept_job(h, "submit", 1, "j2", 1.0);
    poll(h, "submit", 1, "j2", 1.5, "complete");
    /* failed polls carry no observed value */
    fl_history_add(h, S(1.6), 1, FL_INFO, "submit", FL_F_POLL, "j2", NULL, "timeout");
    struct fl_args a = transitions_args();
    struct fl_verdict v = run("transitions", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 2 keys followed by submit moved forward along pending -> running -> complete");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_transitions_flip(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t acc = accept_job(h, "submit", 0, "j1", 1.0);
    poll(h, "submit", 0, "j1", 1.2, "pending");
    poll(h, "submit", 0, "j1", 1.3, "pending");
    size_t nf = poll(h, "submit", 0, "j1", 1.5, "http:404");
    size_t back = poll(h, "submit", 0, "j1", 1.7, "pending");
    poll(h, "submit", 0, "j1", 2.0, "complete");
    accept_job(h, "submit", 1, "j2", 1.0);
    poll(h, "submit", 1, "j2", 1.2, "running");
    poll(h, "submit", 1, "j2", 1.4, "pending");   /* backwards */
    accept_job(h, "submit", 2, "j3", 1.0);
    poll(h, "submit", 2, "j3", 1.2, "complete");
    struct fl_args a = transitions_args();
    struct fl_verdict v = run("transitions", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "2 of 3 keys followed by submit");
    const struct fl_cex *c = cex_for(&v, "j1");
    has(c->why, "pending@1.2s -> http:404@1.5s -> pending@1.7s -> complete@2.0s");
    assert_true(cex_has_op(c, acc));
    assert_true(cex_has_op(c, nf));
    assert_true(cex_has_op(c, back));
    has(cex_for(&v, "j2")->why, "running@1.2s -> pending@1.4s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_transitions_long_sequence_elided(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 0.5);
    for (int i = 0; i < 30; i++)   /* pending/running alternate: bad from the 3rd */
        poll(h, "submit", 0, "j1", 1.0 + i * 0.1, i % 2 ? "running" : "pending");
    struct fl_args a = transitions_args();
    struct fl_verdict v = run("transitions", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = cex_for(&v, "j1");
    has(c->why, "pending@1.0s -> running@1.1s -> pending@1.2s");
    has(c->why, " -> ...");
    assert_true(c->nops <= 20);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_transitions_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    fl_history_add(h, S(1.5), 0, FL_INFO, "submit", FL_F_POLL, "j1", NULL, "timeout");
    struct fl_args a = transitions_args();
    struct fl_verdict v = run("transitions", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "no key followed by submit was polled");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- probes --------------------------------------------------------------- */

/* Probe samples every 0.5s from t0 to t1 (inclusive); healthy ("200", ok)
 * unless inside [bad0, bad1), where they fail with 503. */
static void samples(struct fl_history *h, const char *probe, double t0, double t1,
                    double bad0, double bad1)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.5) {
        int bad = t >= bad0 - 1e-9 && t < bad1 - 1e-9;
        fl_history_add(h, S(t) - 5000, FL_PROC_PROBE, FL_INVOKE, probe, FL_F_PROBE, NULL, NULL, NULL);
        if (bad)
            fl_history_add(h, S(t), FL_PROC_PROBE, FL_FAIL, probe, FL_F_PROBE, NULL, "503",
                           "status 503");
        else
            fl_history_add(h, S(t), FL_PROC_PROBE, FL_OK, probe, FL_F_PROBE, NULL, "200", NULL);
    }
}

static size_t fault(struct fl_history *h, int n, double t, const char *desc)
{
    return fl_history_add(h, S(t), FL_PROC_FAULT + n, FL_OK, "process.kill", FL_F_FAULT, "api-0",
                          desc, NULL)->index;
}

static size_t heal(struct fl_history *h, int n, double t)
{
    return fl_history_add(h, S(t), FL_PROC_FAULT + n, FL_OK, "redis.pause", FL_F_HEAL, "api-0",
                          "resumed", NULL)->index;
}

static struct fl_args recovers_args(uint64_t within_ms)
{
    struct fl_args a = args_for("recovers");
    arg_s(&a, "probe", "health");
    arg_ms(&a, "within", within_ms);
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "health recovered within 10s after each of 1 faults");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);

    /* no fault at all: only the last sample counts */
    struct fl_history *g = fl_history_new(0);
    samples(g, "health", 0.0, 10.0, 2.0, 3.0);
    v = run("recovers", g, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "no fault in the history");
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "health did not recover within 10s after 1 of 1 faults");
    const struct fl_cex *c = cex_for(&v, "health/fault-1");
    has(c->why, "ended at 11.0s");
    has(c->why, "first healthy sample at 25.0s");
    has(c->why, "pause redis");
    assert_true(cex_has_op(c, f));
    assert_true(cex_has_op(c, he));
    assert_true(c->nops <= 20);
    fl_verdict_free(&v);

    /* a wider window accepts it */
    a = recovers_args(15000);
    v = run("recovers", h, &a);
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "after 1 of 1 faults and ended unhealthy");
    has(cex_for(&v, "health/fault-1")->why, "no healthy sample after it (last at 30.0s: fail: status 503)");
    has(cex_for(&v, "health/last")->why, "the last sample (30.0s) was unhealthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* recovered in time, then broke again for good: did not stay recovered */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "kill api-0");
    samples(h, "health", 5.0, 30.0, 5.0, 7.0);
    samples(h, "health", 30.5, 40.0, 30.5, 99);
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "health ended unhealthy (last sample at 40.0s: fail: status 503)");
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "recovery not observed");
    has(cex_for(&v, "health/fault-1")->why, "stopped sampling");
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    fault(h, 0, 5.0, "pause redis");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "no sample of probe health");
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "after each of 2 faults");
    fl_verdict_free(&v);

    /* expect: "200" is healthy, anything else is not */
    arg_s(&a, "expect", "200");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    arg_s(&a, "expect", "degraded");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static struct fl_args always_args(void)
{
    struct fl_args a = args_for("always");
    arg_s(&a, "probe", "health");
    arg_b(&a, "during_faults", 1);
    return a;
}

static void test_always(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "health", 0.0, 10.0, 99, 99);
    struct fl_args a = always_args();
    struct fl_verdict v = run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 21 samples of health were healthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* two runs of unhealthy samples */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    samples(h, "health", 5.0, 9.5, 5.0, 6.5);
    samples(h, "health", 10.0, 20.0, 12.0, 12.5);
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "4 of 41 samples of health were unhealthy, in 2 runs (first at 5.0s)");
    assert_int_equal(v.ncex, 2);
    assert_string_equal(v.cex[0].key, "health");
    has(v.cex[0].why, "unhealthy from 5.0s to 6.0s (3 samples): fail: status 503");
    assert_int_equal(v.cex[0].nops, 3);
    has(v.cex[1].why, "unhealthy at 12.0s");
    assert_int_equal(fl_history_get(h, v.cex[1].ops[0])->time_us, S(12.0));
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
    struct fl_verdict v = run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    arg_b(&a, "during_faults", 0);
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "(10 during faults excused)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* an instant fault has no window: nothing is excused */
    h = fl_history_new(0);
    samples(h, "health", 0.0, 4.5, 99, 99);
    fault(h, 0, 5.0, "kill api-0");
    samples(h, "health", 5.0, 10.0, 5.0, 6.0);
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "2 of 21 samples");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_always_unknown_and_expect(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, "other", 0.0, 4.5, 99, 99);
    struct fl_args a = always_args();
    struct fl_verdict v = run("always", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "no sample of probe health");
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    fl_history_add(h, S(1), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "ok", NULL);
    fl_history_add(h, S(2), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "degraded", NULL);
    fl_history_add(h, S(3), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL, "ok", NULL);
    arg_s(&a, "expect", "ok");
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.cex[0].why, "unhealthy at 2.0s: degraded");
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
            fl_history_add(h, S(t) - 5000, proc, FL_INVOKE, "store", FL_F_PROBE, r[i].name,
                           NULL, NULL);
            fl_history_add(h, S(t), proc, FL_OK, "store", FL_F_PROBE, r[i].name,
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
    struct fl_args a = args_for(checker);
    arg_s(&a, "probe", "store");
    arg_s(&a, "expect", "redis");
    if (strcmp(checker, "recovers") == 0)
        arg_ms(&a, "within", 5000);
    else
        arg_b(&a, "during_faults", 1);
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 3 replicas of probe store recovered within 5s after each of 1 faults "
        "and ended healthy");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);

    /* one replica only */
    arg_s(&a, "replica", "api.1");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 1 replicas of probe store recovered");
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 3 replicas of probe store did not recover within 5s: api.2");
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = cex_for(&v, "store@api.2");
    has(c->why, "api.2 still reported file 11.5s after fault 1 (pause redis) healed at 8.0s "
        "(within 5s); healthy again at 20.0s");
    assert_true(cex_has_op(c, f));
    assert_true(cex_has_op(c, he));
    assert_true(c->nops <= 20);
    cex_only_replica(h, c, "api.2");
    fl_verdict_free(&v);

    /* only api.2 checked: the same, and only api.1 checked: fine */
    arg_s(&a, "replica", "api.2");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 1 replicas of probe store did not recover within 5s: api.2");
    fl_verdict_free(&v);
    arg_s(&a, "replica", "api.1");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    arg_s(&a, "replica", "api.9");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "no sample of replica api.9 of probe store");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* api.3 never recovers (and so ends unhealthy) */
    const struct rep r2[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 20.0, 99},
                             {"api.3", 5.0, 99, 99}};
    h = replica_history(r2, 3, NULL, NULL);
    a = store_args("recovers");
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "2 of 3 replicas of probe store did not recover within 5s: api.2, api.3");
    assert_int_equal(v.ncex, 3);   /* api.2 late; api.3 never and ended unhealthy */
    has(v.cex[1].why, "api.3 still reported file 22.0s after fault 1 (pause redis) healed at "
        "8.0s (within 5s), and never recovered");
    assert_string_equal(v.cex[2].key, "store@api.3");
    has(v.cex[2].why, "api.3 ended unhealthy: its last sample (30.0s) reported file");
    cex_only_replica(h, &v.cex[2], "api.3");
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
    struct fl_verdict v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "recovery of 1 of 3 replicas of probe store within 5s not observed: api.3");
    assert_int_equal(v.ncex, 1);
    has(cex_for(&v, "store@api.3")->why, "api.3 was not sampled after fault 1 (pause redis) "
        "healed at 8.0s (last sample at 7.0s: file)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* another replica stuck: invalid beats unknown, and both are named */
    const struct rep r2[] = {{"api.1", 5.0, 8.5, 99}, {"api.2", 5.0, 20.0, 99},
                             {"api.3", 5.0, 99, 7.0}};
    h = replica_history(r2, 3, NULL, NULL);
    v = run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "1 of 3 replicas of probe store did not recover within 5s: api.2; "
        "recovery of 1 more not observed: api.3");
    cex_for(&v, "store@api.2");
    cex_for(&v, "store@api.3");
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
    struct fl_verdict v = run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 42 samples of the 2 replicas of store were healthy");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* api.2 bad at 5.0-6.0s, api.3 at 12.0s: one run each, named */
    const struct rep r[] = {{"api.3", 12.0, 12.5, 99}, {"api.1", 99, 99, 99},
                            {"api.2", 5.0, 6.5, 99}};
    h = fl_history_new(0);
    replica_ticks(h, 0.0, 20.0, r, 3);
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    has(v.summary, "4 of 123 samples of store were unhealthy, in 2 runs on 2 of 3 replicas: "
        "api.2, api.3 (first at 5.0s)");
    assert_int_equal(v.ncex, 2);
    const struct fl_cex *c = cex_for(&v, "store@api.2");
    has(c->why, "api.2 unhealthy from 5.0s to 6.0s (3 samples): file");
    assert_int_equal(c->nops, 3);
    cex_only_replica(h, c, "api.2");
    has(cex_for(&v, "store@api.3")->why, "api.3 unhealthy at 12.0s: file");
    fl_verdict_free(&v);
    arg_s(&a, "replica", "api.1");
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "all 41 samples of the 1 replicas of store were healthy");
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
    arg_b(&a, "during_faults", 0);
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    has(v.summary, "1 of 2 replicas of store were only sampled during faults: api.2");
    fl_verdict_free(&v);
    arg_s(&a, "replica", "api.1");
    v = run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    has(v.summary, "(6 during faults excused)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_registry(void **state)
{
    (void)state;
    const char *names[] = {"lifecycle", "transitions", "recovers", "always"};
    for (size_t i = 0; i < 4; i++) {
        const struct fl_checker_type *t = fl_checker_find(names[i]);
        assert_non_null(t);
        assert_string_equal(t->name, names[i]);
        assert_non_null(t->check);
        assert_true(t->nparams > 0 && t->nparams <= FL_MAX_PARAMS);
    }
    assert_null(fl_checker_find("nope"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_valid),
        cmocka_unit_test(test_lifecycle_stuck),
        cmocka_unit_test(test_lifecycle_gave_up),
        cmocka_unit_test(test_lifecycle_late_and_failed),
        cmocka_unit_test(test_lifecycle_unknown),
        cmocka_unit_test(test_lifecycle_nothing_accepted),
        cmocka_unit_test(test_transitions_valid),
        cmocka_unit_test(test_transitions_flip),
        cmocka_unit_test(test_transitions_long_sequence_elided),
        cmocka_unit_test(test_transitions_unknown),
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
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
