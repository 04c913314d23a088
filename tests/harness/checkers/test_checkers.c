/* test_checkers.c - lifecycle and transitions on hand-written histories:
 * valid, invalid and unknown, with the summaries and counterexamples users
 * see. Probe checkers: test_checkers_probes.c; Redis ones:
 * test_checkers_redis.c. */
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

/* ---- building histories by hand ------------------------------------------- */

/* The main request of a job: invoke, then ok with the captured key. Returns
 * the index of the ok. */
static size_t accept_job(struct fl_history *h, const char *wl, int proc, const char *key, double t)
{
    fl_history_add(h, FL_T_S(t) - 20000, proc, FL_INVOKE, wl, FL_F_REQUEST, NULL, NULL, NULL);
    return fl_history_add(h, FL_T_S(t), proc, FL_OK, wl, FL_F_REQUEST, key, "202", NULL)->index;
}

/* One follow poll: invoke, then ok with value. Returns the ok's index. */
static size_t poll(struct fl_history *h, const char *wl, int proc, const char *key, double t,
                   const char *value)
{
    fl_history_add(h, FL_T_S(t) - 10000, proc, FL_INVOKE, wl, FL_F_POLL, key, NULL, NULL);
    return fl_history_add(h, FL_T_S(t), proc, FL_OK, wl, FL_F_POLL, key, value, NULL)->index;
}

static const char *const complete_only[] = {"complete"};
static const char *const order3[] = {"pending", "running", "complete"};

static struct fl_args lifecycle_args(uint64_t within_ms)
{
    struct fl_args a = fl_t_args("lifecycle");
    fl_t_arg_s(&a, "workload", "submit");
    fl_t_arg_list(&a, "terminal", complete_only, 1);
    fl_t_arg_ms(&a, "within", within_ms);
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
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 2 jobs accepted by submit reached complete within 30s");
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
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 3 jobs accepted by submit never reached complete within 30s");
    assert_int_equal(v.ncex, 1);
    assert_int_equal(v.ncex_total, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "j2");
    fl_t_has(c->why, "last seen pending at 43.3s");
    fl_t_has(c->why, "accepted at 4.1s");
    fl_t_has(c->why, "no complete within 30s");
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
    size_t g = fl_history_add(h, FL_T_S(20.0), 0, FL_INFO, "submit", FL_F_FOLLOW, "j1", "pending",
                              "follow timeout 19s")->index;
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 1 jobs");
    const struct fl_cex *c = fl_t_cex_for(&v, "j1");
    fl_t_has(c->why, "gave up");
    assert_true(fl_t_cex_has_op(c, acc));
    assert_true(fl_t_cex_has_op(c, p));
    assert_true(fl_t_cex_has_op(c, g));
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
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "2 of 3 jobs accepted by submit never reached complete within 30s");
    fl_t_has(fl_t_cex_for(&v, "late")->why, "reached complete at 40.0s, accepted at 4.0s");
    fl_t_has(fl_t_cex_for(&v, "bad")->why, "ended failed at 6.0s");
    fl_t_has(fl_t_cex_for(&v, "bad")->why, "only complete counts");
    fl_verdict_free(&v);

    /* with failed allowed too, only the late one is left */
    static const char *const both[] = {"complete", "failed"};
    fl_t_arg_list(&a, "terminal", both, 2);
    v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 3 jobs accepted by submit never reached complete or failed within 30s");
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
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 of 2 jobs accepted by submit were not observed for 30s");
    fl_t_has(fl_t_cex_for(&v, "j2")->why, "stopped watching");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* an aborted run where no job ever left pending: pending is not taken
     * for a terminal value */
    h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    poll(h, "submit", 0, "j1", 1.5, "pending");
    poll(h, "submit", 0, "j1", 2.0, "pending");
    v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_lifecycle_nothing_accepted(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    fl_history_add(h, FL_T_S(1), 0, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    fl_history_add(h, FL_T_S(2), 0, FL_FAIL, "submit", FL_F_REQUEST, NULL, "http:503", "status 503");
    struct fl_args a = lifecycle_args(30000);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no job was accepted");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- transitions ---------------------------------------------------------- */

static struct fl_args transitions_args(void)
{
    struct fl_args a = fl_t_args("transitions");
    fl_t_arg_s(&a, "workload", "submit");
    fl_t_arg_list(&a, "order", order3, 3);
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
    fl_history_add(h, FL_T_S(1.6), 1, FL_INFO, "submit", FL_F_POLL, "j2", NULL, "timeout");
    struct fl_args a = transitions_args();
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 2 keys followed by submit moved forward along pending -> running -> complete");
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
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "2 of 3 keys followed by submit");
    const struct fl_cex *c = fl_t_cex_for(&v, "j1");
    fl_t_has(c->why, "pending@1.2s -> http:404@1.5s -> pending@1.7s -> complete@2.0s");
    assert_true(fl_t_cex_has_op(c, acc));
    assert_true(fl_t_cex_has_op(c, nf));
    assert_true(fl_t_cex_has_op(c, back));
    fl_t_has(fl_t_cex_for(&v, "j2")->why, "running@1.2s -> pending@1.4s");
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
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "j1");
    fl_t_has(c->why, "pending@1.0s -> running@1.1s -> pending@1.2s");
    fl_t_has(c->why, " -> ...");
    assert_true(c->nops <= 20);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_transitions_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    accept_job(h, "submit", 0, "j1", 1.0);
    fl_history_add(h, FL_T_S(1.5), 0, FL_INFO, "submit", FL_F_POLL, "j1", NULL, "timeout");
    struct fl_args a = transitions_args();
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no key followed by submit was polled");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- registry -------------------------------------------------------------- */

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
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
