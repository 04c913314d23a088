/* test_checkers_traffic.c - rate_limit, slo and delivered on hand-written histories,
 * including ones built to fool a naive checker (fixed windows, in-flight
 * requests, a whole-run error rate hiding a bad phase). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "checkers/checker.h"
#include "history/history.h"
#include "support/checks.h"

/* One exchange through proxy px: request at t seconds, answered after lat
 * seconds with status (ra: Retry-After, -1 none) to client. */
static size_t xchg(struct fl_history *h, const char *px, double t, double lat, int status,
                   int ra, const char *client, const char *path)
{
    char v[512];
    snprintf(v, sizeof v, "{\"conn\":1,\"method\":\"GET\",\"path\":\"%s\",\"client\":\"%s\","
             "\"status\":%d,\"start_us\":%lld,\"latency_us\":%lld,\"injected\":false%s%d}",
             path, client, status, (long long)FL_T_S(t), (long long)FL_T_S(lat),
             ra >= 0 ? ",\"retry_after\":" : ",\"x\":", ra);
    return fl_history_add(h, FL_T_S(t + lat), FL_PROC_PROXY + 1, status ? FL_OK : FL_INFO,
                          FL_SOURCE_PROXY, FL_F_HTTP, px, v, NULL)->index;
}

static struct fl_verdict rl(struct fl_history *h, long long limit, int max_retries)
{
    struct fl_args a = fl_t_args("rate_limit");
    fl_t_arg_s(&a, "proxy", "dep");
    fl_t_arg(&a, "limit")->i = limit;
    fl_t_arg_ms(&a, "window", 1000);
    if (max_retries)
        fl_t_arg(&a, "max_retries")->i = max_retries;
    return fl_t_run("rate_limit", h, &a);
}

static void test_rate_limit_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    for (int i = 0; i < 10; i++)
        xchg(h, "dep", 0.2 * i, 0.01, 200, -1, "a", "/x");
    /* Another proxy's burst is not this one's. */
    for (int i = 0; i < 20; i++)
        xchg(h, "other", 0.5, 0.01, 200, -1, "a", "/x");
    struct fl_verdict v = rl(h, 5, 0);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "10 requests");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_rate_limit_burst(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    for (int i = 0; i < 8; i++)
        xchg(h, "dep", 0.05 * i, 0.01, 200, -1, "a", "/x");
    struct fl_verdict v = rl(h, 5, 0);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "window");
    fl_t_has(c->why, "8 requests");
    assert_int_equal(c->nops, 8);
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fixed one-second buckets hold 4 each; the sliding window sees 8. */
static void test_rate_limit_sliding_not_fixed(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    for (int i = 0; i < 4; i++)
        xchg(h, "dep", 0.9 + 0.02 * i, 0.001, 200, -1, "a", "/x");
    for (int i = 0; i < 4; i++)
        xchg(h, "dep", 1.0 + 0.02 * i, 0.001, 200, -1, "a", "/x");
    struct fl_verdict v = rl(h, 5, 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_rate_limit_retry_after(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    xchg(h, "dep", 0.9, 0.1, 429, 2, "a", "/export");        /* answered at 1.0 */
    xchg(h, "dep", 0.95, 0.2, 200, -1, "a", "/x");           /* in flight: fine */
    xchg(h, "dep", 1.5, 0.01, 200, -1, "b", "/x");           /* another client: fine */
    xchg(h, "dep", 3.1, 0.01, 200, -1, "a", "/export");      /* after R: fine */
    struct fl_verdict v = rl(h, 100, 0);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    size_t bad = xchg(h, "dep", 1.6, 0.01, 200, -1, "a", "/export");  /* too early */
    v = rl(h, 100, 0);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "a");
    fl_t_has(c->why, "Retry-After: 2");
    assert_true(fl_t_cex_has_op(c, bad));
    fl_t_has(v.summary, "1 sent before Retry-After");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_rate_limit_retry_storm(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    xchg(h, "dep", 0.0, 0.01, 503, -1, "a", "/export");
    for (int i = 1; i <= 5; i++)
        xchg(h, "dep", 0.1 * i, 0.01, 503, -1, "a", "/export");
    /* Different paths are not retries of each other. */
    xchg(h, "dep", 0.7, 0.01, 200, -1, "a", "/other");
    struct fl_verdict v = rl(h, 100, 3);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "window")->why, "5 retries");
    fl_verdict_free(&v);
    v = rl(h, 100, 5);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_rate_limit_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    xchg(h, "other", 0.1, 0.01, 200, -1, "a", "/x");
    struct fl_verdict v = rl(h, 5, 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- slo ---------------------------------------------------------------- */

static int proc_next;

static void req(struct fl_history *h, double t, double lat, enum fl_optype done)
{
    int p = proc_next++;
    fl_history_add(h, FL_T_S(t), p, FL_INVOKE, "users", FL_F_REQUEST, NULL, NULL, NULL);
    if (lat >= 0)
        fl_history_add(h, FL_T_S(t + lat), p, done, "users", FL_F_REQUEST, NULL,
                       done == FL_OK ? "200" : "503", NULL);
}

static void fault(struct fl_history *h, double t, const char *f)
{
    fl_history_add(h, FL_T_S(t), FL_PROC_FAULT, FL_OK, "http.close_idle", f, "dep", "x", NULL);
}

static struct fl_verdict slo(struct fl_history *h, int max_err, uint64_t p99_ms)
{
    struct fl_args a = fl_t_args("slo");
    fl_t_arg_s(&a, "workload", "users");
    fl_t_arg(&a, "max_error_rate")->i = max_err;
    if (p99_ms)
        fl_t_arg_ms(&a, "p99", p99_ms);
    return fl_t_run("slo", h, &a);
}

/* 20 requests per phase; errors[p] of them fail. Faults 2s..4s. */
static struct fl_history *phased(const int errors[3], double lat)
{
    struct fl_history *h = fl_history_new(0);
    for (int p = 0; p < 3; p++) {
        if (p == 1)
            fault(h, 2.0, FL_F_FAULT);
        if (p == 2)
            fault(h, 4.0, FL_F_HEAL);
        for (int i = 0; i < 20; i++)
            req(h, 2.0 * p + 0.05 + 0.09 * i, lat, i < errors[p] ? FL_FAIL : FL_OK);
    }
    return h;
}

static void test_slo_valid_and_phase(void **state)
{
    (void)state;
    int e0[3] = {0, 1, 0};
    struct fl_history *h = phased(e0, 0.01);
    struct fl_verdict v = slo(h, 5, 100);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "during: 20 requests, 5.0% errors");
    fl_verdict_free(&v);
    fl_history_free(h);
    /* 3 of 60 overall (5%) hides 15% after the faults. */
    int e1[3] = {0, 0, 3};
    h = phased(e1, 0.01);
    v = slo(h, 5, 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "after")->why, "15.0% of 20");
    assert_int_equal(fl_t_cex_for(&v, "after")->nops, 3);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_slo_latency_and_lost(void **state)
{
    (void)state;
    int e0[3] = {0, 0, 0};
    struct fl_history *h = phased(e0, 0.3);
    struct fl_verdict v = slo(h, 0, 100);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "before")->why, "p99 300.0 ms");
    fl_verdict_free(&v);
    fl_history_free(h);
    /* An invocation never completed is an error, not nothing. */
    h = phased(e0, 0.01);
    req(h, 5.9, -1, FL_OK);
    v = slo(h, 0, 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "after")->why, "of 21");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_slo_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    req(h, 0.1, 0.01, FL_OK);
    struct fl_verdict v = slo(h, 0, 0);   /* no faults: during and after are empty */
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no fault was injected");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- delivered ---------------------------------------------------------- */

static void sample(struct fl_history *h, const char *probe, double t, const char *json)
{
    fl_history_add(h, FL_T_S(t) - 1000, FL_PROC_PROBE, FL_INVOKE, probe, FL_F_PROBE, NULL, NULL, NULL);
    fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, FL_OK, probe, FL_F_PROBE, NULL, json, NULL);
}

static struct fl_verdict dl(struct fl_history *h)
{
    struct fl_args a = fl_t_args("delivered");
    fl_t_arg_s(&a, "source", "src");
    fl_t_arg_s(&a, "sink", "dst");
    fl_t_arg_ms(&a, "within", 2000);
    return fl_t_run("delivered", h, &a);
}

static void test_delivered(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    /* The sink may list an item before the source's probe does. */
    sample(h, "dst", 0.5, "[\"m1\"]");
    sample(h, "src", 1.0, "[\"m1\",\"m2\"]");
    sample(h, "dst", 1.5, "[\"m1\",\"m2\",\"extra\"]");   /* only the sink: ignored */
    sample(h, "src", 2.0, "[\"m1\",\"m2\",\"m3\"]");
    sample(h, "dst", 3.5, "[\"m1\",\"m2\",\"m3\"]");
    sample(h, "dst", 4.5, "[\"m1\",\"m2\",\"m3\"]");
    struct fl_verdict v = dl(h);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 3 items");
    fl_verdict_free(&v);
    /* m4 is listed by the source, the sink is read long after: lost.
     * m5 arrives, but too late. */
    sample(h, "src", 5.0, "[\"m1\",\"m2\",\"m3\",\"m4\",\"m5\"]");
    sample(h, "src", 6.0, "[\"m1\",\"m2\",\"m3\",\"m4\",\"m5\"]");
    sample(h, "dst", 8.0, "[\"m1\",\"m2\",\"m3\",\"m5\"]");
    v = dl(h);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "m4");
    fl_t_has(c->why, "lost: last seen at the source (src listed it from 5.000 s to 6.000 s)");
    fl_t_ops_sorted(c);
    fl_t_has(fl_t_cex_for(&v, "m5")->why, "3.000 s after");
    fl_t_has(v.summary, "1 of 5 items");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_delivered_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, "src", 1.0, "[\"m1\"]");
    sample(h, "dst", 2.0, "[]");    /* the sink was not read after 1.0 + 2 s */
    struct fl_verdict v = dl(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "not read long enough");
    fl_verdict_free(&v);
    fl_history_free(h);
    h = fl_history_new(0);
    sample(h, "dst", 2.0, "[\"m1\"]");
    v = dl(h);
    assert_int_equal(v.validity, FL_UNKNOWN);   /* no source: nothing shown */
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limit_valid),
        cmocka_unit_test(test_rate_limit_burst),
        cmocka_unit_test(test_rate_limit_sliding_not_fixed),
        cmocka_unit_test(test_rate_limit_retry_after),
        cmocka_unit_test(test_rate_limit_retry_storm),
        cmocka_unit_test(test_rate_limit_unknown),
        cmocka_unit_test(test_slo_valid_and_phase),
        cmocka_unit_test(test_slo_latency_and_lost),
        cmocka_unit_test(test_slo_unknown),
        cmocka_unit_test(test_delivered),
        cmocka_unit_test(test_delivered_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
