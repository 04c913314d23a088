/* test_checkers_recovers.c - histories that try to fool recovers and
 * always: a probe that is healthy once and then down most of the time,
 * flapping, sampling gaps across a deadline, a run that stops sampling, a
 * probe that never answered, one sick replica among healthy ones.
 * (The ordinary cases are in test_checkers_probes.c.) */
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

/* One sample of probe `health` at t: ok "200" when healthy, else fail
 * "http:503". Returns the completion's index. */
static size_t sample(struct fl_history *h, double t, int healthy)
{
    fl_history_add(h, FL_T_S(t) - 5000, FL_PROC_PROBE, FL_INVOKE, "health", FL_F_PROBE, NULL,
                   NULL, NULL);
    if (healthy)
        return fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_OK, "health", FL_F_PROBE, NULL,
                              "200", NULL)->index;
    return fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_FAIL, "health", FL_F_PROBE, NULL,
                          "http:503", NULL)->index;
}

/* Samples every 0.5s in [t0, t1], healthy as fn says. */
static void samples(struct fl_history *h, double t0, double t1, int (*fn)(double))
{
    for (int k = 0; t0 + k * 0.5 <= t1 + 1e-9; k++)
        sample(h, t0 + k * 0.5, fn(t0 + k * 0.5));
}

static size_t fault(struct fl_history *h, int n, double t, const char *desc)
{
    return fl_history_add(h, FL_T_S(t), FL_PROC_FAULT + n, FL_OK, "redis.pause", FL_F_FAULT,
                          "redis.0", desc, NULL)->index;
}

static size_t heal(struct fl_history *h, int n, double t)
{
    return fl_history_add(h, FL_T_S(t), FL_PROC_FAULT + n, FL_OK, "redis.pause", FL_F_HEAL,
                          "redis.0", "resumed", NULL)->index;
}

static struct fl_args recovers_args(uint64_t within_ms)
{
    struct fl_args a = fl_t_args("recovers");
    fl_t_arg_s(&a, "probe", "health");
    fl_t_arg_ms(&a, "within", within_ms);
    return a;
}

static int always_up(double t)
{
    (void)t;
    return 1;
}

/* Healthy at 6.5s, 503 from 7s to 29.5s, healthy at 30s. */
static int once_then_down(double t)
{
    return t < 5.0 || t == 6.5 || t >= 30.0;
}

/* The blind spot: one healthy sample in the window, then down for 23s.
 * Judging only the window and the last sample called this valid. */
static void test_recovers_healthy_once_then_down(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    size_t f = fault(h, 0, 5.0, "pause redis.0");
    samples(h, 5.0, 5.5, once_then_down);
    size_t he = heal(h, 0, 6.0);
    samples(h, 6.0, 30.0, once_then_down);
    struct fl_args a = recovers_args(10000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "health did not stay healthy after recovering: 46 unhealthy samples in 1 "
             "run from 7.0s");
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "health/after-fault-1");
    fl_t_has(c->why, "unhealthy again from 7.0s to 29.5s (46 samples): fail: http:503, after "
             "recovering at 6.5s from fault 1 (pause redis.0) healed at 6.0s (10s allowed)");
    assert_true(fl_t_cex_has_op(c, f));
    assert_true(fl_t_cex_has_op(c, he));
    assert_true(c->nops <= 20);
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);

    /* a tolerance for blips does not excuse an outage */
    fl_t_arg(&a, "tolerate")->i = 3;
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* After the deadline: healthy, except every 4th sample. */
static int flapping(double t)
{
    return t < 5.0 || (t >= 7.0 && ((int)(t * 2) % 4) != 0);
}

static void test_recovers_flapping_and_tolerate(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    samples(h, 5.0, 5.5, flapping);
    heal(h, 0, 6.0);
    samples(h, 6.0, 30.0, flapping);
    struct fl_args a = recovers_args(5000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    /* unhealthy at 12, 14, ... 30: the one at 30 is also the end */
    fl_t_has(v.summary, "did not stay healthy after recovering: 9 unhealthy samples in 9 runs "
             "from 12.0s and ended unhealthy");
    fl_t_has(fl_t_cex_for(&v, "health/after-fault-1")->why, "unhealthy again at 12.0s");
    fl_t_has(fl_t_cex_for(&v, "health/last")->why, "the last sample (30.0s) was unhealthy");
    fl_verdict_free(&v);

    /* isolated blips tolerated on request, but never an unhealthy end */
    fl_t_arg(&a, "tolerate")->i = 1;
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "health ended unhealthy (last sample at 30.0s: fail: http:503) (9 "
             "unhealthy runs of at most 1 samples tolerated)");
    fl_verdict_free(&v);
    sample(h, 30.5, 1);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "recovered within 5s after each of 1 faults and stayed healthy (10 "
             "unhealthy runs of at most 1 samples tolerated)");
    fl_verdict_free(&v);
    /* a bad parameter is not silently read as 0 */
    fl_t_arg(&a, "tolerate")->i = -1;
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "tolerate must be 0 or more");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A kill's effect shows a little after the injection: the sample right at
 * the kill is still healthy, then the probe is down for 2s. That is the
 * recovery, not a relapse. */
static int kill_effect(double t)
{
    return t <= 5.0 || t >= 7.5;
}

static void test_recovers_flaps_inside_window(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "kill api.1");
    samples(h, 5.0, 20.0, kill_effect);
    struct fl_args a = recovers_args(5000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "health recovered within 5s after each of 1 faults and stayed healthy");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Sampling gaps: the verdict must come from samples, not from silence. */
static void test_recovers_gaps(void **state)
{
    (void)state;
    struct fl_args a = recovers_args(10000);
    /* unhealthy until 15.5s, deadline 16s, next sample at 17s healthy:
     * the recovery may have come at 15.9s */
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    for (double t = 6.0; t < 16.0; t += 0.5)
        sample(h, t, 0);
    samples(h, 17.0, 25.0, always_up);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "recovery not observed within 10s after 1 of 1 faults (no sample between "
             "the last unhealthy one and the deadline)");
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "not sampled between 15.5s (fail: http:503) "
             "and 17.0s (healthy)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* not sampled at all within the window, then healthy: unknown */
    h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    samples(h, 20.0, 25.0, always_up);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "no sample within 10s after it (next, "
             "healthy, at 20.0s)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* ... but unhealthy past the deadline is proof, however sparse */
    h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    sample(h, 20.0, 0);
    samples(h, 21.0, 25.0, always_up);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "first healthy sample at 21.0s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The run stops sampling: before the window (never sampled after the
 * fault), and inside it after a short recovery. Both unknown. */
static void test_recovers_stopped_sampling(void **state)
{
    (void)state;
    struct fl_args a = recovers_args(10000);
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 5.5, always_up);
    fault(h, 0, 6.0, "pause redis.0");
    heal(h, 0, 8.0);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "the run stopped sampling before 10s had "
             "passed");
    fl_verdict_free(&v);

    samples(h, 8.5, 9.0, always_up);
    for (double t = 9.5; t <= 12.0; t += 0.5)
        sample(h, t, 0);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(fl_t_cex_for(&v, "health/fault-1")->why, "healthy at 8.5s, then unhealthy again when "
             "the run stopped sampling (12.0s: fail: http:503), before 10s had passed");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Outages between faults count; outages during the next fault do not. */
static void test_recovers_between_faults(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    samples(h, 6.0, 24.5, always_up);
    fault(h, 1, 25.0, "pause redis.0");
    for (double t = 25.0; t < 28.0; t += 0.5)
        sample(h, t, 0);
    heal(h, 1, 28.0);
    samples(h, 28.0, 40.0, always_up);
    struct fl_args a = recovers_args(5000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    samples(h, 6.0, 19.5, always_up);
    for (double t = 20.0; t < 22.0; t += 0.5)
        sample(h, t, 0);
    samples(h, 22.0, 24.5, always_up);
    fault(h, 1, 25.0, "pause redis.0");
    heal(h, 1, 28.0);
    samples(h, 28.0, 40.0, always_up);
    v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "health/after-fault-1")->why, "unhealthy again from 20.0s to "
             "21.5s (4 samples)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A probe request that never completed is no healthy sample. */
static void test_probe_never_answered(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 6.0);
    samples(h, 6.0, 20.0, always_up);
    fl_history_add(h, FL_T_S(20.5), FL_PROC_PROBE, FL_INVOKE, "health", FL_F_PROBE, NULL, NULL,
                   NULL);
    struct fl_args a = recovers_args(5000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "health/last")->why, "no answer recorded (invoked, never completed)");
    fl_verdict_free(&v);

    struct fl_args b = fl_t_args("always");
    fl_t_arg_s(&b, "probe", "health");
    v = fl_t_run("always", h, &b);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 40 samples of health were unhealthy");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* One replica healthy once after the heal, then stuck; the others fine. */
static void test_recovers_replica_once_then_down(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *reps[] = {"api.0", "api.1", "api.2"};
    fl_history_add(h, FL_T_S(5.0), FL_PROC_FAULT, FL_OK, "redis.pause", FL_F_FAULT, "redis.0",
                   "pause redis.0", NULL);
    fl_history_add(h, FL_T_S(6.0), FL_PROC_FAULT, FL_OK, "redis.pause", FL_F_HEAL, "redis.0",
                   "resumed", NULL);
    for (int k = 0; k <= 60; k++) {
        double t = k * 0.5;
        for (int r = 0; r < 3; r++) {
            int bad = t >= 5.0 && t < 6.5;
            if (r == 1)
                bad = (t >= 5.0 && t < 6.5) || (t >= 7.0 && t < 30.0);
            fl_history_add(h, FL_T_S(t) + r, FL_PROC_PROBE + 1000 * r, FL_OK, "store",
                           FL_F_PROBE, reps[r], bad ? "file" : "redis", NULL);
        }
    }
    struct fl_args a = fl_t_args("recovers");
    fl_t_arg_s(&a, "probe", "store");
    fl_t_arg_s(&a, "expect", "redis");
    fl_t_arg_ms(&a, "within", 8000);
    struct fl_verdict v = fl_t_run("recovers", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 3 replicas of probe store did not stay healthy after recovering "
             "within 8s: api.1");
    assert_int_equal(v.ncex, 1);
    fl_t_has(fl_t_cex_for(&v, "store@api.1")->why, "api.1 unhealthy again from 7.0s to 29.5s "
             "(46 samples): file, after recovering at 6.5s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* always: a probe that stopped before a fault never saw it. */
static void test_always_not_sampled_after_fault(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    samples(h, 0.0, 4.5, always_up);
    fault(h, 0, 5.0, "pause redis.0");
    heal(h, 0, 9.0);
    struct fl_args a = fl_t_args("always");
    fl_t_arg_s(&a, "probe", "health");
    struct fl_verdict v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "the 10 samples of health checked were healthy, but health was not "
             "sampled after fault 1 (pause redis.0) ended at 9.0s (last sample at 4.5s: 200)");
    fl_t_cex_for(&v, "health/fault-1");
    fl_verdict_free(&v);
    /* a sample after the heal settles it */
    sample(h, 9.5, 1);
    v = fl_t_run("always", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_healthy_once_then_down),
        cmocka_unit_test(test_recovers_flapping_and_tolerate),
        cmocka_unit_test(test_recovers_flaps_inside_window),
        cmocka_unit_test(test_recovers_gaps),
        cmocka_unit_test(test_recovers_stopped_sampling),
        cmocka_unit_test(test_recovers_between_faults),
        cmocka_unit_test(test_probe_never_answered),
        cmocka_unit_test(test_recovers_replica_once_then_down),
        cmocka_unit_test(test_always_not_sampled_after_fault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
