/* test_checkers_capacity.c - capacity on hand-written histories: dips a
 * restart explains, capacity draining while starts are refused, flapping
 * replicas, a loss the system surfaces or hides, missing samples, empty
 * windows, and instance keys that only look like the service's. */
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

/* Ops are buffered, then added sorted by time (stable), as a run records
 * them. */
struct bop {
    double t;
    int32_t process;
    enum fl_optype type;
    const char *source, *f, *key, *value;
};

static struct bop ops[4096];
static size_t nops;

static void op(double t, int32_t process, enum fl_optype type, const char *source, const char *f,
               const char *key, const char *value)
{
    assert_true(nops < sizeof ops / sizeof ops[0]);
    ops[nops++] = (struct bop){t, process, type, source, f, key, value};
}

static void phase(double t, const char *name)
{
    op(t, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, FL_F_PHASE, NULL, name);
}

static void ev(double t, const char *inst, enum fl_optype type, const char *value)
{
    op(t, FL_PROC_TARGET + inst[strlen(inst) - 1] - '0', type, "target", FL_F_INSTANCE, inst,
       value);
}

static void up(double t, const char *inst)
{
    ev(t, inst, FL_OK, "started pid 100");
    ev(t + 0.3, inst, FL_OK, "ready after 0.3s");
}

static void down(double t, const char *inst)
{
    ev(t, inst, FL_INFO, "pod kill: 1 process (cgroup.kill)");
    ev(t + 0.01, inst, FL_INFO, "killed by SIGKILL");
}

/* Probe samples every 0.5s in [t0, t1]: value v (ok) or, with v == NULL,
 * failed with 503; "info" for timeouts. */
static void samples(const char *probe, double t0, double t1, const char *v, enum fl_optype type)
{
    for (double t = t0; t <= t1 + 1e-9; t += 0.5) {
        op(t - 0.005, FL_PROC_PROBE, FL_INVOKE, probe, FL_F_PROBE, NULL, NULL);
        op(t, FL_PROC_PROBE, type, probe, FL_F_PROBE, NULL, v);
    }
}

static int by_time(const void *a, const void *b)
{
    const struct bop *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static struct fl_history *build(void)
{
    /* ties keep insertion order: qsort is not stable, so a nanosecond per
     * buffer position breaks them (far below the microsecond clock) */
    for (size_t i = 0; i < nops; i++)
        ops[i].t += (double)i * 1e-9;
    qsort(ops, nops, sizeof ops[0], by_time);
    struct fl_history *h = fl_history_new(0);
    for (size_t i = 0; i < nops; i++)
        fl_history_add(h, FL_T_S(ops[i].t), ops[i].process, ops[i].type, ops[i].source, ops[i].f,
                       ops[i].key, ops[i].value, ops[i].type == FL_FAIL ? "status 503" : NULL);
    nops = 0;
    fl_t_dump(h);
    return h;
}

/* Three replicas up, the steady phase at 2s, teardown at t_end (services
 * stop: those exits must not count). */
static void run_frame(double t_end)
{
    phase(0, "start");
    up(0.1, "api.0");
    up(0.2, "api.1");
    up(0.3, "api.2");
    phase(2, "steady");
    phase(t_end, "teardown");
    ev(t_end + 0.1, "api.0", FL_INFO, "exited with status 0");
    ev(t_end + 0.1, "api.1", FL_INFO, "exited with status 0");
    ev(t_end + 0.1, "api.2", FL_INFO, "exited with status 0");
    phase(t_end + 1, "done");
}

static struct fl_args args(int min, uint64_t grace_ms, const char *surfaced, const char *expect)
{
    struct fl_args a = fl_t_args("capacity");
    fl_t_arg_s(&a, "service", "api");
    fl_t_arg(&a, "min")->i = min;
    fl_t_arg_ms(&a, "grace", grace_ms);
    if (surfaced)
        fl_t_arg_s(&a, "surfaced", surfaced);
    if (expect)
        fl_t_arg_s(&a, "expect", expect);
    return a;
}

static enum fl_validity judge(struct fl_history *h, struct fl_args *a, const char *want)
{
    struct fl_verdict v = fl_t_run("capacity", h, a);
    if (want)
        fl_t_has(v.summary, want);
    enum fl_validity r = v.validity;
    fl_verdict_free(&v);
    return r;
}

/* A kill that the restart policy repairs in half a second is a dip, not
 * a loss; the teardown's exits are not counted. */
static void test_restart_dip_is_fine(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.1");
    ev(10.2, "api.1", FL_INFO, "restarting in 200ms");
    up(10.4, "api.1");
    ev(12, "api.2", FL_INFO, "frozen: 1 process (cgroup.freeze)");   /* still counts */
    struct fl_history *h = build();
    struct fl_args a = args(3, 5000, NULL, NULL);
    assert_int_equal(judge(h, &a, "api kept 3 or more ready instances (lowest 2; 1 dip"),
                     FL_VALID);
    fl_history_free(h);
}

/* Starts refused: two replicas die and stay down. */
static void test_drain_is_a_violation(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.0");
    down(12, "api.1");
    for (double t = 10.2; t < 30; t += 2) {
        ev(t, "api.0", FL_INFO, "restart refused: mutable tag not admitted");
        ev(t + 1, "api.1", FL_INFO, "restart refused: mutable tag not admitted");
    }
    struct fl_history *h = build();
    struct fl_args a = args(2, 5000, NULL, NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "api had fewer than 2 ready instances for longer than 5s, 1 time (as low as 1)");
    assert_int_equal(v.ncex, 1);
    fl_t_has(v.cex[0].why, "from 12.0s to 30.0s (still below when judging ended)");
    /* the exit that drained it is among the ops */
    int found = 0;
    for (size_t i = 0; i < v.cex[0].nops; i++) {
        const struct fl_op *o = fl_history_get(h, v.cex[0].ops[i]);
        found |= strcmp(o->value, "killed by SIGKILL") == 0 && strcmp(o->key, "api.1") == 0;
    }
    assert_true(found);
    fl_t_ops_sorted(&v.cex[0]);
    fl_verdict_free(&v);
    /* min 1 holds */
    a = args(1, 5000, NULL, NULL);
    assert_int_equal(judge(h, &a, NULL), FL_VALID);
    fl_history_free(h);
}

/* A replica that comes back and dies again at once: each dip is shorter
 * than grace, but capacity never holds for grace in between. */
static void test_flapping_is_one_episode(void **state)
{
    (void)state;
    run_frame(40);
    for (double t = 10; t < 25; t += 1.5) {
        down(t, "api.0");
        up(t + 1.0, "api.0");    /* ready at t + 1.3, dies again at t + 1.5 */
    }
    struct fl_history *h = build();
    struct fl_args a = args(3, 3000, NULL, NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    assert_int_equal(v.ncex, 1);
    fl_t_has(v.cex[0].why, "from 10.0s to 24.8s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The loss is surfaced: the health probe fails while capacity is low
 * (after grace, its own detection time). */
static void test_surfaced(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 11.5, "200", FL_OK);     /* not yet noticed: within grace */
    samples("health", 12, 29.5, NULL, FL_FAIL);
    struct fl_history *h = build();
    struct fl_args a = args(2, 3000, "health", NULL);
    assert_int_equal(judge(h, &a, "api fell below 2 ready instances 1 time (as low as 1), and "
                           "health reported it degraded every time (33 samples)"), FL_VALID);
    /* without surfaced it is still a capacity loss */
    a = args(2, 3000, NULL, NULL);
    assert_int_equal(judge(h, &a, NULL), FL_INVALID);
    fl_history_free(h);
}

/* Hidden: health stays 200 while capacity is gone. */
static void test_hidden(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 29.5, "200", FL_OK);
    struct fl_history *h = build();
    struct fl_args a = args(2, 3000, "health", NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "while health said it was healthy");
    fl_t_has(v.cex[0].why, "yet health reported healthy (33 of 33 samples while low, first at 13.5s)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A recorded field: "degraded" is not "ok" (expect); and a probe that
 * says degraded once and then ok again while still low is hiding it. */
static void test_expect_and_relapse(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 11.5, "ok", FL_OK);
    samples("health", 12, 29.5, "degraded", FL_OK);
    struct fl_history *h = build();
    struct fl_args a = args(2, 3000, "health", "ok");
    assert_int_equal(judge(h, &a, "reported it degraded every time"), FL_VALID);
    /* without expect every ok sample is healthy: degraded is hidden */
    a = args(2, 3000, "health", NULL);
    assert_int_equal(judge(h, &a, NULL), FL_INVALID);
    fl_history_free(h);

    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 11.5, "ok", FL_OK);
    samples("health", 12, 14, "degraded", FL_OK);
    samples("health", 14.5, 29.5, "ok", FL_OK);
    h = build();
    a = args(2, 3000, "health", "ok");
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.cex[0].why, "first at 14.5s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Nobody looked: no sample, or only timeouts, while capacity was low. */
static void test_missing_samples(void **state)
{
    (void)state;
    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 9.5, "200", FL_OK);     /* the probe stopped */
    struct fl_history *h = build();
    struct fl_args a = args(2, 3000, "health", NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.cex[0].why, "health took no sample while it was low");
    fl_verdict_free(&v);
    fl_history_free(h);

    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 9.5, "200", FL_OK);
    samples("health", 10, 29.5, NULL, FL_INFO);
    h = build();
    v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.cex[0].why, "health gave only answers that say neither (timeouts, no recorded field) while it was low");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* answers without the recorded field say nothing either way */
    run_frame(30);
    down(10, "api.0");
    down(10, "api.1");
    samples("health", 1, 9.5, "ok", FL_OK);
    samples("health", 10, 29.5, NULL, FL_OK);
    h = build();
    a = args(2, 3000, "health", "ok");
    v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Nothing to judge, or nothing ever reached min. */
static void test_empty_and_never(void **state)
{
    (void)state;
    phase(0, "start");
    phase(2, "steady");
    ev(3, "other.0", FL_OK, "ready after 0.1s");
    phase(10, "teardown");
    struct fl_history *h = build();
    struct fl_args a = args(1, 3000, NULL, NULL);
    assert_int_equal(judge(h, &a, "no instance event of service api"), FL_UNKNOWN);
    fl_history_free(h);

    /* the window closes as it opens */
    up(0.1, "api.0");
    phase(2, "steady");
    phase(2, "teardown");
    h = build();
    assert_int_equal(judge(h, &a, "window (steady phase to teardown) is empty"), FL_UNKNOWN);
    fl_history_free(h);

    /* no phases: judged from the first time min was ready; never */
    up(0.1, "api.0");
    ev(1, "api.1", FL_OK, "started pid 7");   /* never ready */
    ev(30, "api.0", FL_INFO, "restarting in 1s");
    h = build();
    a = args(2, 3000, NULL, NULL);
    assert_int_equal(judge(h, &a, "api never had 2 ready instances"), FL_UNKNOWN);
    fl_history_free(h);
}

/* Fooling: a kill just before the window ends is shorter than grace only
 * because judging stopped; it is not a harmless dip. */
static void test_cut_by_window_end(void **state)
{
    (void)state;
    run_frame(30);
    down(29, "api.1");              /* 1s before teardown, grace 5s, never back */
    struct fl_history *h = build();
    struct fl_args a = args(3, 5000, NULL, NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "still below min 3 ready instances when judging ended");
    fl_t_has(fl_t_cex_for(&v, "api")->why, "still below min when judging ended");
    fl_verdict_free(&v);
    fl_history_free(h);
    /* back up before the end: a dip */
    run_frame(30);
    down(28, "api.1");
    up(28.5, "api.1");
    h = build();
    assert_int_equal(judge(h, &a, "1 dip"), FL_VALID);
    fl_history_free(h);
}

/* Keys that only look like the service's; events that do not change
 * readiness; a capacity already low when the steady phase starts. */
static void test_fooling_keys(void **state)
{
    (void)state;
    run_frame(30);
    up(0.4, "api-worker.0");
    up(0.4, "apiary.1");
    ev(0.4, "api.x", FL_OK, "ready after 0.1s");
    ev(0.4, "api.", FL_OK, "ready after 0.1s");
    down(10, "api.2");
    /* a restarting replica reports "ready" again only through its own
     * readiness event: "restarting in" and refusals change nothing */
    ev(10.2, "api.2", FL_INFO, "restart refused: mutable tag not admitted");
    ev(10.4, "api.2", FL_FAIL, "ready after 0.1s");    /* not ok: not ready */
    struct fl_history *h = build();
    struct fl_args a = args(3, 3000, NULL, NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "as low as 2");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* only two of three were ready at steady: low from the start */
    phase(0, "start");
    up(0.1, "api.0");
    up(0.2, "api.1");
    ev(0.3, "api.2", FL_OK, "started pid 9");
    phase(2, "steady");
    up(9, "api.2");
    phase(20, "teardown");
    h = build();
    v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.cex[0].why, "from 2.0s to 9.3s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The compose target's records (targets/compose/events.c): the same
 * leading words with the container's details after them. A drain through
 * them is seen as through the local target's. */
static void test_compose_records(void **state)
{
    (void)state;
    phase(0, "start");
    ev(0.1, "api.0", FL_OK, "container demo_api_1 (2378b2b4be95) running, image x:1, restart always, published on 127.0.0.1:32790");
    ev(0.1, "api.0", FL_OK, "ready after 0.0s (container demo_api_1)");
    ev(0.1, "api.1", FL_OK, "ready after 0.0s (container demo_api_2)");
    ev(0.2, "api.2", FL_OK, "ready after 0.1s (container demo_api_3)");
    phase(2, "steady");
    ev(10, "api.1", FL_INFO, "pod kill: SIGKILL to container demo_api_2 (host pid 812)");
    ev(10.01, "api.1", FL_INFO, "killed by SIGKILL (container demo_api_2 died, exit code 137)");
    ev(10.01, "api.1", FL_INFO, "restart refused: mutable tag not admitted");
    ev(20, "api.1", FL_OK, "started container demo_api_2 (incarnation 2)");
    ev(20.2, "api.1", FL_OK, "ready after 0.2s (container demo_api_2)");
    phase(30, "teardown");
    phase(31, "done");
    struct fl_history *h = build();
    struct fl_args a = args(3, 3000, NULL, NULL);
    struct fl_verdict v = fl_t_run("capacity", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "fewer than 3 ready instances for longer than 3s, 1 time (as low as 2)");
    fl_t_has(v.cex[0].why, "from 10.0s to 20.2s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_dip_is_fine),
        cmocka_unit_test(test_drain_is_a_violation),
        cmocka_unit_test(test_flapping_is_one_episode),
        cmocka_unit_test(test_surfaced),
        cmocka_unit_test(test_hidden),
        cmocka_unit_test(test_expect_and_relapse),
        cmocka_unit_test(test_missing_samples),
        cmocka_unit_test(test_empty_and_never),
        cmocka_unit_test(test_cut_by_window_end),
        cmocka_unit_test(test_fooling_keys),
        cmocka_unit_test(test_compose_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
