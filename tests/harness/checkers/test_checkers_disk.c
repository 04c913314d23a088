/* test_checkers_disk.c - progress, honest_health and bounded_usage on
 * hand-written histories: valid, invalid and unknown, plus the ones that
 * try to fool them (flapping health, missing samples, counter resets,
 * empty windows, faults that excuse a stall only while they last). */
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

/* One sample of probe at t: ok with value, or failed with value (NULL ok
 * value = an ok sample that recorded nothing). */
static size_t sample(struct fl_history *h, int proc, const char *probe, double t,
                     enum fl_optype type, const char *value)
{
    fl_history_add(h, FL_T_S(t) - 2000, FL_PROC_PROBE + proc, FL_INVOKE, probe, FL_F_PROBE, NULL,
                   NULL, NULL);
    return fl_history_add(h, FL_T_S(t), FL_PROC_PROBE + proc, type, probe, FL_F_PROBE, NULL,
                          value, type == FL_FAIL ? "status 503" : NULL)->index;
}

/* rows samples every 0.25s in [t0, t1]: value v0 + rate * (t - t0). */
static void rows(struct fl_history *h, double t0, double t1, double v0, double rate)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.25) {
        char v[32];
        snprintf(v, sizeof v, "%.0f", v0 + rate * (t - t0));
        sample(h, 0, "rows", t, FL_OK, v);
    }
}

/* health samples every 0.25s in [t0, t1], healthy or 503. */
static void health(struct fl_history *h, double t0, double t1, int ok)
{
    for (double t = t0 + 0.1; t <= t1 + 1e-9; t += 0.25)
        sample(h, 1, "health", t, ok ? FL_OK : FL_FAIL, ok ? "200" : "http:503");
}

static void fault(struct fl_history *h, double t0, double t1)
{
    fl_history_add(h, FL_T_S(t0), FL_PROC_FAULT, FL_OK, "disk.full", FL_F_FAULT, "loader.0",
                   "filled", NULL);
    fl_history_add(h, FL_T_S(t1), FL_PROC_FAULT, FL_OK, "disk.full", FL_F_HEAL, "loader.0",
                   "removed", NULL);
}

static struct fl_args progress_args(uint64_t within, uint64_t grace)
{
    struct fl_args a = fl_t_args("progress");
    fl_t_arg_s(&a, "probe", "rows");
    fl_t_arg_ms(&a, "within", within);
    fl_t_arg_ms(&a, "grace", grace);
    return a;
}

static enum fl_validity progress_of(struct fl_history *h, uint64_t within, uint64_t grace,
                                    const char *summary)
{
    struct fl_args a = progress_args(within, grace);
    struct fl_verdict v = fl_t_run("progress", h, &a);
    if (summary)
        fl_t_has(v.summary, summary);
    enum fl_validity r = v.validity;
    fl_verdict_free(&v);
    fl_history_free(h);
    return r;
}

/* ---- progress ---------------------------------------------------------- */

static void test_progress_steady(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 20, 0, 400);
    assert_int_equal(progress_of(h, 2000, 0, "advanced at least every 2.0s"), FL_VALID);
}

static void test_progress_stall(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 5.25, 12, 2000, 0);        /* flat for 7s, no fault */
    rows(h, 12.25, 20, 2100, 400);
    struct fl_args a = progress_args(2000, 0);
    struct fl_verdict v = fl_t_run("progress", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "rows");
    fl_t_has(c->why, "no advance from 5.0s to 12.2s");
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_progress_fault_excuses_only_while_it_lasts(void **state)
{
    (void)state;
    /* Stalled during the fault [5, 10], resumed within grace: valid. */
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    fault(h, 5, 10);
    rows(h, 5.25, 11, 2000, 0);
    rows(h, 11.25, 20, 2100, 400);
    assert_int_equal(progress_of(h, 2000, 2000, NULL), FL_VALID);
    /* The same stall going on long after heal + grace: invalid. */
    h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    fault(h, 5, 10);
    rows(h, 5.25, 16, 2000, 0);
    rows(h, 16.25, 20, 2100, 400);
    assert_int_equal(progress_of(h, 2000, 2000, "outside faults (longest 4.2s)"), FL_INVALID);
    /* Stalled before the fault began: the fault excuses none of it. */
    h = fl_history_new(0);
    rows(h, 0, 2, 0, 400);
    rows(h, 2.25, 6, 800, 0);
    fault(h, 6, 10);
    rows(h, 6.25, 10, 800, 0);
    rows(h, 10.25, 20, 900, 400);
    assert_int_equal(progress_of(h, 3000, 0, NULL), FL_INVALID);
}

static void test_progress_counter_reset(void **state)
{
    (void)state;
    /* A restart counts from 0 again and keeps advancing: progress. */
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 5.25, 20, 0, 400);
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_VALID);
    /* A reset is no advance: a counter that drops and stays flat stalls. */
    h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 5.25, 20, 10, 0);
    assert_int_equal(progress_of(h, 2000, 0, "stalled 1 time"), FL_INVALID);
}

static void test_progress_missing_samples(void **state)
{
    (void)state;
    /* No sample between 5s and 15s: the value rose, but when? Unknown. */
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 15, 20, 5000, 400);
    assert_int_equal(progress_of(h, 2000, 0, "cannot tell"), FL_UNKNOWN);
    /* Timeouts (info) are gaps too, not proof of a stall. */
    h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    for (double t = 5.25; t < 15; t += 0.25)
        sample(h, 0, "rows", t, FL_INFO, NULL);
    rows(h, 15, 20, 5000, 400);
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_UNKNOWN);
    /* But a proven stall elsewhere still makes it invalid. */
    h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 15, 25, 5000, 0);
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_INVALID);
}

static void test_progress_unreadable_is_no_progress(void **state)
{
    (void)state;
    /* The counter endpoint fails for 8s (service down): no advance. */
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    for (double t = 5.25; t < 13; t += 0.25)
        sample(h, 0, "rows", t, FL_FAIL, "http:503");
    rows(h, 13, 20, 2100, 400);
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_INVALID);
}

static void test_progress_empty(void **state)
{
    (void)state;
    assert_int_equal(progress_of(fl_history_new(0), 2000, 0, "recorded no number"), FL_UNKNOWN);
    /* ok samples that are not numbers are not a counter */
    struct fl_history *h = fl_history_new(0);
    for (double t = 0; t < 10; t += 0.25)
        sample(h, 0, "rows", t, FL_OK, "many");
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_UNKNOWN);
    /* another probe's numbers do not count */
    h = fl_history_new(0);
    for (double t = 0; t < 10; t += 0.25)
        sample(h, 2, "other", t, FL_OK, "5");
    assert_int_equal(progress_of(h, 2000, 0, NULL), FL_UNKNOWN);
}

/* ---- honest_health ----------------------------------------------------- */

static enum fl_validity honest_of(struct fl_history *h, const char *summary)
{
    struct fl_args a = fl_t_args("honest_health");
    fl_t_arg_s(&a, "progress", "rows");
    fl_t_arg_s(&a, "health", "health");
    fl_t_arg_ms(&a, "within", 2000);
    fl_t_arg_ms(&a, "grace", 1000);
    struct fl_verdict v = fl_t_run("honest_health", h, &a);
    if (summary)
        fl_t_has(v.summary, summary);
    if (v.validity == FL_INVALID)
        fl_t_ops_sorted(&v.cex[0]);
    enum fl_validity r = v.validity;
    fl_verdict_free(&v);
    fl_history_free(h);
    return r;
}

/* rows stall in [5, 12]; health given per phase. */
static struct fl_history *stall_history(void)
{
    struct fl_history *h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 5.25, 12, 2000, 0);
    rows(h, 12.25, 20, 2100, 400);
    return h;
}

static void test_honest_health_lies(void **state)
{
    (void)state;
    struct fl_history *h = stall_history();
    health(h, 0, 20, 1);   /* green throughout: the incident */
    struct fl_args a = fl_t_args("honest_health");
    fl_t_arg_s(&a, "progress", "rows");
    fl_t_arg_s(&a, "health", "health");
    fl_t_arg_ms(&a, "within", 2000);
    fl_t_arg_ms(&a, "grace", 1000);
    struct fl_verdict v = fl_t_run("honest_health", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "health");
    fl_t_has(c->why, "rows stalled from 5.0s to 12.2s");
    fl_t_has(c->why, "said healthy 17 of 17 times after 8.0s");
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_honest_health_truthful(void **state)
{
    (void)state;
    /* 503 from 6s (health noticed within 2s + 1s grace) until progress. */
    struct fl_history *h = stall_history();
    health(h, 0, 6, 1);
    health(h, 6, 12.2, 0);
    health(h, 12.25, 20, 1);
    assert_int_equal(honest_of(h, "said unhealthy through each of 1 stall"), FL_VALID);
    /* No stall at all: nothing to judge, valid. */
    h = fl_history_new(0);
    rows(h, 0, 20, 0, 400);
    health(h, 0, 20, 1);
    assert_int_equal(honest_of(h, "never stalled"), FL_VALID);
}

static void test_honest_health_flapping(void **state)
{
    (void)state;
    /* Health flaps 503/200 during the stall: every 200 there is a lie. */
    struct fl_history *h = stall_history();
    health(h, 0, 6, 1);
    int k = 0;
    for (double t = 6.1; t <= 12.2; t += 0.25, k++)
        sample(h, 1, "health", t, k % 2 ? FL_OK : FL_FAIL, k % 2 ? "200" : "http:503");
    health(h, 12.25, 20, 1);
    assert_int_equal(honest_of(h, NULL), FL_INVALID);
}

static void test_honest_health_unknown(void **state)
{
    (void)state;
    /* No health sample at all during the stall (the probe was dropped). */
    struct fl_history *h = stall_history();
    health(h, 0, 5, 1);
    health(h, 12.5, 20, 1);
    assert_int_equal(honest_of(h, "without a health sample"), FL_UNKNOWN);
    /* The stall itself is a gap in the counter's samples: unproven. */
    h = fl_history_new(0);
    rows(h, 0, 5, 0, 400);
    rows(h, 12, 20, 2100, 400);
    health(h, 0, 20, 1);
    assert_int_equal(honest_of(h, "samples missing"), FL_UNKNOWN);
    /* No counter at all. */
    h = fl_history_new(0);
    health(h, 0, 20, 1);
    assert_int_equal(honest_of(h, "recorded no number"), FL_UNKNOWN);
}

/* ---- bounded_usage ----------------------------------------------------- */

static enum fl_validity usage_of(struct fl_history *h, const char *max, int during,
                                 const char *summary)
{
    struct fl_args a = fl_t_args("bounded_usage");
    fl_t_arg_s(&a, "probe", "usage");
    fl_t_arg_s(&a, "max", max);
    fl_t_arg_b(&a, "during_faults", during);
    struct fl_verdict v = fl_t_run("bounded_usage", h, &a);
    if (summary)
        fl_t_has(v.summary, summary);
    enum fl_validity r = v.validity;
    fl_verdict_free(&v);
    fl_history_free(h);
    return r;
}

static void usage(struct fl_history *h, double t0, double t1, unsigned long long used0,
                  unsigned long long per_s)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.5) {
        char v[64];
        snprintf(v, sizeof v, "%llu/4194304", used0 + (unsigned long long)(per_s * (t - t0)));
        sample(h, 3, "usage", t, FL_OK, v);
    }
}

static void test_bounded_usage(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    usage(h, 0, 20, 100000, 1000);
    assert_int_equal(usage_of(h, "75%", 0, "stayed at or below 75%"), FL_VALID);
    /* Growing by itself until full: invalid. */
    h = fl_history_new(0);
    usage(h, 0, 20, 0, 200000);
    assert_int_equal(usage_of(h, "75%", 0, "worst 95.4% used"), FL_INVALID);
    /* A size threshold. */
    h = fl_history_new(0);
    usage(h, 0, 20, 0, 200000);
    assert_int_equal(usage_of(h, "3m", 0, NULL), FL_INVALID);
    h = fl_history_new(0);
    usage(h, 0, 20, 0, 100000);
    assert_int_equal(usage_of(h, "3m", 0, NULL), FL_VALID);
}

static void test_bounded_usage_faults(void **state)
{
    (void)state;
    /* Full only while disk.full lasts: the fault's doing, not judged... */
    struct fl_history *h = fl_history_new(0);
    usage(h, 0, 4.5, 100000, 0);
    fault(h, 5, 10);
    usage(h, 5, 9.5, 4194304, 0);
    usage(h, 10, 20, 100000, 0);
    assert_int_equal(usage_of(h, "75%", 0, NULL), FL_VALID);
    /* ...unless asked to. */
    h = fl_history_new(0);
    usage(h, 0, 4.5, 100000, 0);
    fault(h, 5, 10);
    usage(h, 5, 9.5, 4194304, 0);
    usage(h, 10, 20, 100000, 0);
    assert_int_equal(usage_of(h, "75%", 1, NULL), FL_INVALID);
}

static void test_bounded_usage_unknown(void **state)
{
    (void)state;
    assert_int_equal(usage_of(fl_history_new(0), "75%", 0, "0 usable samples"), FL_UNKNOWN);
    struct fl_history *h = fl_history_new(0);
    usage(h, 0, 5, 1000, 0);
    sample(h, 3, "usage", 6, FL_OK, "12 of 40");
    assert_int_equal(usage_of(h, "75%", 0, "1 not of the form"), FL_UNKNOWN);
    h = fl_history_new(0);
    usage(h, 0, 5, 1000, 0);
    assert_int_equal(usage_of(h, "lots", 0, "max: expected"), FL_UNKNOWN);
    /* Failed samples (the path vanished) prove nothing either way. */
    h = fl_history_new(0);
    for (double t = 0; t < 5; t += 0.5)
        sample(h, 3, "usage", t, FL_FAIL, NULL);
    assert_int_equal(usage_of(h, "75%", 0, NULL), FL_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_steady),
        cmocka_unit_test(test_progress_stall),
        cmocka_unit_test(test_progress_fault_excuses_only_while_it_lasts),
        cmocka_unit_test(test_progress_counter_reset),
        cmocka_unit_test(test_progress_missing_samples),
        cmocka_unit_test(test_progress_unreadable_is_no_progress),
        cmocka_unit_test(test_progress_empty),
        cmocka_unit_test(test_honest_health_lies),
        cmocka_unit_test(test_honest_health_truthful),
        cmocka_unit_test(test_honest_health_flapping),
        cmocka_unit_test(test_honest_health_unknown),
        cmocka_unit_test(test_bounded_usage),
        cmocka_unit_test(test_bounded_usage_faults),
        cmocka_unit_test(test_bounded_usage_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
