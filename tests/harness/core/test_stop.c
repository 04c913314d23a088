/* test_stop.c - stop conditions (core/stop.h) on hand-written samples,
 * including the ones that try to fool them: a probe that flaps just under
 * the duration, replicas whose streaks must not mix, samples of another
 * probe, invokes, values that are not numbers, a probe that goes silent,
 * and a condition met once that must stay met. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/stop.h"

static struct fl_stop make(enum fl_stop_cond c, const char *value, uint64_t for_ms)
{
    struct fl_stop s;
    memset(&s, 0, sizeof s);
    s.label = "test";
    fl_args_init(&s.args, fl_stop_params, FL_STOP_NPARAMS);
    s.args.v[FL_STOP_PROBE].set = 1;
    s.args.v[FL_STOP_PROBE].s = "health";
    s.args.v[FL_STOP_CONDITION].set = 1;
    s.args.v[FL_STOP_CONDITION].e = (int)c;
    if (value) {
        s.args.v[FL_STOP_VALUE].set = 1;
        s.args.v[FL_STOP_VALUE].s = value;
    }
    s.args.v[FL_STOP_FOR].set = 1;
    s.args.v[FL_STOP_FOR].ms = for_ms;
    return s;
}

static struct fl_op op(double t, enum fl_optype type, const char *src, const char *key,
                       const char *value)
{
    struct fl_op o = {.time_us = (int64_t)(t * 1e6), .type = type, .source = src,
                      .f = FL_F_PROBE, .key = key, .value = value};
    return o;
}

static void test_unhealthy_for(void **state)
{
    (void)state;
    struct fl_stop s = make(FL_STOP_UNHEALTHY, NULL, 2000);
    struct fl_stop_state st;
    fl_stop_state_init(&st);
    /* Flapping: unhealthy 1.9 s, one ok, unhealthy again: never 2 s. */
    struct fl_op o1 = op(1.0, FL_FAIL, "health", NULL, "503");
    struct fl_op o2 = op(2.9, FL_INFO, "health", NULL, NULL);
    struct fl_op o3 = op(3.0, FL_OK, "health", NULL, "200");
    struct fl_op o4 = op(3.1, FL_FAIL, "health", NULL, "503");
    struct fl_op o5 = op(5.0, FL_FAIL, "health", NULL, "503");
    assert_int_equal(fl_stop_feed(&s, &st, &o1), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &o2), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &o3), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &o4), 0);
    assert_int_equal(fl_stop_tick(&s, &st, (int64_t)(5.0e6)), 0);   /* 1.9 s so far */
    assert_int_equal(fl_stop_feed(&s, &st, &o5), 0);
    /* Another probe's failures and invokes do not count. */
    struct fl_op other = op(5.2, FL_FAIL, "queue", NULL, "503");
    struct fl_op inv = op(5.2, FL_INVOKE, "health", NULL, NULL);
    assert_int_equal(fl_stop_feed(&s, &st, &other), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &inv), 0);
    struct fl_op nonprobe = op(5.2, FL_FAIL, "health", NULL, "503");
    nonprobe.f = FL_F_REQUEST;
    assert_int_equal(fl_stop_feed(&s, &st, &nonprobe), 0);
    /* The probe goes silent: the time alone completes the 2 s. */
    assert_int_equal(fl_stop_tick(&s, &st, (int64_t)(5.05e6)), 0);
    assert_int_equal(fl_stop_tick(&s, &st, (int64_t)(5.1e6)), 1);
    assert_true(st.met && st.met_us == (int64_t)5.1e6);
    /* Met stays met, whatever comes next. */
    assert_int_equal(fl_stop_feed(&s, &st, &o3), 1);
}

static void test_replicas_apart(void **state)
{
    (void)state;
    struct fl_stop s = make(FL_STOP_UNHEALTHY, NULL, 1000);
    struct fl_stop_state st;
    fl_stop_state_init(&st);
    /* api.0 and api.1 take turns failing: neither fails 1 s in a row. */
    for (int i = 0; i < 10; i++) {
        const char *bad = i % 2 ? "api.1" : "api.0", *good = i % 2 ? "api.0" : "api.1";
        struct fl_op b = op(0.6 * i, FL_FAIL, "health", bad, "503");
        struct fl_op g = op(0.6 * i, FL_OK, "health", good, "200");
        assert_int_equal(fl_stop_feed(&s, &st, &b), 0);
        assert_int_equal(fl_stop_feed(&s, &st, &g), 0);
    }
    /* api.1 answers, then keeps failing; api.0's samples (ok) must not reset it. Keys
     * are compared by value, not by pointer. */
    char k1[] = "api.1", k0[] = "api.0";
    struct fl_op ok1 = op(9.5, FL_OK, "health", "api.1", "200");
    assert_int_equal(fl_stop_feed(&s, &st, &ok1), 0);
    struct fl_op a = op(10.0, FL_FAIL, "health", k1, "503");
    struct fl_op ok0 = op(10.5, FL_OK, "health", k0, "200");
    struct fl_op b = op(11.0, FL_FAIL, "health", "api.1", "503");
    assert_int_equal(fl_stop_feed(&s, &st, &a), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &ok0), 0);
    assert_int_equal(fl_stop_feed(&s, &st, &b), 1);
    assert_string_equal(st.met_key, "api.1");
}

static void test_values(void **state)
{
    (void)state;
    struct fl_stop above = make(FL_STOP_ABOVE, "100", 0);
    struct fl_stop below = make(FL_STOP_BELOW, "1.5", 0);
    struct fl_stop eq = make(FL_STOP_EQUALS, "file", 0);
    struct fl_stop ne = make(FL_STOP_NOT_EQUALS, "redis", 0);
    struct fl_stop_state s1, s2, s3, s4;
    fl_stop_state_init(&s1);
    fl_stop_state_init(&s2);
    fl_stop_state_init(&s3);
    fl_stop_state_init(&s4);
    /* Not numbers (or a failed sample whose "value" is a status): no. */
    const char *nonnum[] = {"n/a", "", "1e999", "12abc", "nan"};
    for (size_t i = 0; i < 5; i++) {
        struct fl_op o = op(1.0, FL_OK, "health", NULL, nonnum[i]);
        assert_int_equal(fl_stop_feed(&above, &s1, &o), 0);
        assert_int_equal(fl_stop_feed(&below, &s2, &o), 0);
    }
    struct fl_op failed = op(1.0, FL_FAIL, "health", NULL, "500");
    assert_int_equal(fl_stop_feed(&above, &s1, &failed), 0);
    struct fl_op at = op(2.0, FL_OK, "health", NULL, "100");
    assert_int_equal(fl_stop_feed(&above, &s1, &at), 0);         /* not above itself */
    struct fl_op over = op(3.0, FL_OK, "health", NULL, "100.5");
    assert_int_equal(fl_stop_feed(&above, &s1, &over), 1);
    struct fl_op low = op(3.0, FL_OK, "health", NULL, "-2");
    assert_int_equal(fl_stop_feed(&below, &s2, &low), 1);
    struct fl_op redis = op(1.0, FL_OK, "health", NULL, "redis");
    struct fl_op file = op(2.0, FL_OK, "health", NULL, "file");
    struct fl_op none = op(2.0, FL_OK, "health", NULL, NULL);
    assert_int_equal(fl_stop_feed(&eq, &s3, &redis), 0);
    assert_int_equal(fl_stop_feed(&ne, &s4, &redis), 0);
    assert_int_equal(fl_stop_feed(&ne, &s4, &none), 1);         /* no value is not redis */
    assert_int_equal(fl_stop_feed(&eq, &s3, &file), 1);
}

static void test_for_zero_and_empty(void **state)
{
    (void)state;
    struct fl_stop s = make(FL_STOP_UNHEALTHY, NULL, 0);
    struct fl_stop_state st;
    fl_stop_state_init(&st);
    /* No sample at all: the time alone never meets a condition. */
    assert_int_equal(fl_stop_tick(&s, &st, (int64_t)100e6), 0);
    struct fl_op ok = op(1.0, FL_OK, "health", NULL, "200");
    assert_int_equal(fl_stop_feed(&s, &st, &ok), 0);
    assert_int_equal(fl_stop_tick(&s, &st, (int64_t)100e6), 0);
    struct fl_op bad = op(2.0, FL_INFO, "health", NULL, NULL);
    assert_int_equal(fl_stop_feed(&s, &st, &bad), 1);            /* the first sample */
    assert_true(st.met_us == (int64_t)2e6 && st.met_key == NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unhealthy_for),
        cmocka_unit_test(test_replicas_apart),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_for_zero_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
