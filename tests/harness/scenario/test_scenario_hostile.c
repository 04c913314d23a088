/* test_scenario_hostile.c - input a hostile or careless user may write is
 * refused when the file is loaded, each time with file:line:col, what was
 * allowed and, where it helps, a did-you-mean: numbers outside their range
 * (rates, durations, counts), names too long for the buffers they land in,
 * values outside a closed set, stop signals on instant faults, and vars in
 * typed values (substituted, then checked like literals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "injectors/registry.h"
#include "scenario/scenario.h"

#include "diag_expect.h"
#include "support/procs.h"

static void test_hostile_bounds(void **state)
{
    (void)state;
    const char *path = DIR "hostile_bounds.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 4, 11, "duration: expected a duration above 0 and at most 24h",
                "got '25h'");
    EXPECT_DIAG(&d, path, 10, 14, "backoff: expected a duration above 0", "got '0ms'");
    EXPECT_DIAG(&d, path, 11, 50, "ready.interval: expected a duration above 0", "got '0s'");
    EXPECT_DIAG(&d, path, 12, 3, "service name 'a-service-name-that-is-f...' is 54 characters "
                "long; at most 48");
    /* The rate whose schedule overflowed into an endless run. */
    EXPECT_DIAG(&d, path, 16, 11, "rate: expected a rate from 1/h to 1000000/s",
                "got '1e-300/s'");
    EXPECT_DIAG(&d, path, 19, 11, "rate: expected a rate from 1/h to 1000000/s",
                "got '2000000/s'");
    EXPECT_DIAG(&d, path, 20, 48, "timeout: expected a duration above 0", "got '0s'");
    EXPECT_DIAG(&d, path, 22, 11, "workload 'many' would schedule 20000000 operations in its "
                "20s window; at most 10000000");
    EXPECT_DIAG(&d, path, 24, 18, "concurrency: expected an integer from 1 to 10000",
                "got '100000'");
    EXPECT_DIAG(&d, path, 27, 44, "every: expected a duration above 0", "got '0ms'");
    EXPECT_DIAG(&d, path, 30, 41, "pick: 3 instances, but service 'api' has 2 replicas");
    EXPECT_DIAG(&d, path, 32, 10, "for: expected a duration above 0 and at most 24h",
                "got '25h'");
    EXPECT_DIAG(&d, path, 33, 42, "pick: expected a pick: one, all, a count from 1 to 256",
                "got '300'");
    /* A parameter table's own bound (redis.failover timeout: lo = 1). */
    EXPECT_DIAG(&d, path, 35, 46, "timeout: expected a duration above 0 and at most 24h",
                "got '0s'");
    assert_int_equal(d.n, 14);
    fl_diag_free(&d);
}

static void test_hostile_names(void **state)
{
    (void)state;
    const char *path = DIR "hostile_names.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 3, 7, "name: 'a-scenario-name-longer-t...' is 101 characters long; "
                "at most 100");
    EXPECT_DIAG(&d, path, 4, 9, "var name 'vxxxxxxxxxxxxxxxxxxxxxxx...' is 50 characters long; "
                "at most 48");
    /* The shorthand's name makes "NAME-sentinel.N" ids. */
    EXPECT_DIAG(&d, path, 5, 1, "redis name 'rxxxxxxxxxxxxxxxxxxxxxxx...' is 50 characters");
    EXPECT_DIAG(&d, path, 10, 11, "workload name 'wxxxxxxxxxxxxxxxxxxxxxxx...' is 50");
    EXPECT_DIAG(&d, path, 13, 16, "capture name 'cxxxxxxxxxxxxxxxxxxxxxxx...' is 50");
    EXPECT_DIAG(&d, path, 15, 3, "probe name 'pxxxxxxxxxxxxxxxxxxxxxxx...' is 50");
    assert_int_equal(d.n, 6);
    fl_diag_free(&d);
}

static void test_hostile_counts(void **state)
{
    (void)state;
    const char *path = DIR "hostile_counts.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 4, 1, "vars: 257 items; at most 256");
    EXPECT_DIAG(&d, path, 262, 1, "services: 1280 instances", "at most 1024");
    /* The steady-state check once judged only the first 64 probes. */
    EXPECT_DIAG(&d, path, 268, 1, "probes: 129 items; at most 128");
    assert_int_equal(d.n, 3);
    fl_diag_free(&d);
}

static void test_hostile_enums(void **state)
{
    (void)state;
    const char *path = DIR "hostile_enums.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 4, 9, "target: expected one of: local, compose; got 'locl'",
                "did you mean 'local'?");
    EXPECT_DIAG(&d, path, 8, 14, "restart: expected one of: always, on-failure, never",
                "got 'alwys'; did you mean 'always'?");
    /* These passed validate and failed only at injection. */
    EXPECT_DIAG(&d, path, 12, 41, "role: expected one of: primary, replica, any; got 'primry'",
                "did you mean 'primary'?");
    EXPECT_DIAG(&d, path, 15, 42, "mode: expected one of: stop, client; got 'clinet'",
                "did you mean 'client'?");
    EXPECT_DIAG(&d, path, 17, 45, "mode: expected one of: sentinel, kill; got 'kil'",
                "did you mean 'kill'?");
    EXPECT_DIAG(&d, path, 19, 48, "role: expected one of: primary, replica, any; got a list");
    assert_int_equal(d.n, 6);
    fl_diag_free(&d);
}

static void test_hostile_signals(void **state)
{
    (void)state;
    const char *path = DIR "hostile_signals.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    /* STOP, TSTP, TTIN (21), TTOU (22): nothing would resume the process. */
    static const int lines[] = {9, 11, 13, 15};
    static const char *const sigs[] = {"signal: STOP stops", "signal: SIGTSTP stops",
                                       "signal: 21 stops", "signal: 22 stops"};
    for (size_t i = 0; i < 4; i++)
        EXPECT_DIAG(&d, path, lines[i], 43, sigs[i], "process.kill is an instant fault",
                    "use process.pause with for:");
    /* CONT and a process.pause are fine. */
    assert_int_equal(d.n, 4);
    fl_diag_free(&d);
}

static void test_typed_vars(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "typed_vars.yaml", NULL, 0);
    assert_int_equal(sc->duration_ms, 12000);
    const struct fl_service *api = &sc->services[0];
    assert_int_equal(api->replicas, 3);
    assert_int_equal(api->restart, FL_RESTART_ON_FAILURE);
    assert_int_equal(api->stop_grace_ms, 3000);
    const struct fl_workload *w = &sc->workloads[0];
    assert_true(w->rate > 19.999 && w->rate < 20.001);
    assert_int_equal(w->request.timeout_ms, 3000);
    assert_int_equal(w->nok_status, 2);
    assert_int_equal(w->ok_status[0], 201);
    assert_int_equal(sc->probes[0].every_ms, 3000);
    const struct fl_fault *k = &sc->faults[0];
    assert_ptr_equal(k->type, fl_injector_find("process.kill"));
    assert_int_equal(k->at_ms, 3000);
    assert_string_equal(k->args.v[0].s, "api");
    assert_int_equal(k->args.v[1].pick.kind, FL_PICK_COUNT);
    assert_int_equal(k->args.v[1].pick.n, 2);
    assert_int_equal(k->args.v[2].sig, SIGTERM);
    const struct fl_fault *p = &sc->faults[1];
    assert_int_equal(p->for_ms, 3000);
    assert_string_equal(p->args.v[1].s, "replica");
    assert_int_equal(p->args.v[1].e, 1);
    assert_string_equal(p->args.v[3].s, "client");
    assert_int_equal(p->args.v[3].e, 1);
    assert_int_equal(sc->faults[2].args.v[2].ms, 3000);
    const struct fl_invariant *iv = &sc->invariants[0];
    assert_string_equal(iv->label, "always(health)");
    assert_string_equal(iv->args.v[0].s, "health");
    assert_int_equal(iv->args.v[2].b, 0);
    assert_string_equal(iv->args.v[1].s, "$ok");   /* $$ is a literal $ */
    fl_scenario_free(sc);

    /* --var overrides feed the same substitution. */
    struct fl_var_override ov[] = {{"sig", "9"}, {"pick", "all"}, {"rate", "600/m"}};
    sc = load_ok(DIR "typed_vars.yaml", ov, 3);
    assert_int_equal(sc->faults[0].args.v[2].sig, SIGKILL);
    assert_int_equal(sc->faults[0].args.v[1].pick.kind, FL_PICK_ALL);
    assert_true(sc->workloads[0].rate > 9.999 && sc->workloads[0].rate < 10.001);
    fl_scenario_free(sc);
}

static void test_typed_vars_bad(void **state)
{
    (void)state;
    const char *path = DIR "typed_vars_bad.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 8, 15, "replicas: '${n}' = 'lots': expected an integer from 1 to 256");
    EXPECT_DIAG(&d, path, 10, 9, "at: '${d}' = '5x': expected a duration like 250ms");
    EXPECT_DIAG(&d, path, 11, 44, "signal: '${sig}' = 'STOPP': expected a signal like KILL");
    EXPECT_DIAG(&d, path, 14, 40, "role: '${role}' = 'primry': expected one of: primary, "
                "replica, any", "did you mean 'primary'?");
    /* Run-time names stay errors in a typed value. */
    EXPECT_DIAG(&d, path, 14, 57, "pick: '${api.port}': ${api.port} is a service's address, "
                "only known at run time", "vars: sig, d, role, n");
    EXPECT_DIAG(&d, path, 16, 44, "signal: '${sg}': ${sg} is not a var", "did you mean 'sig'?");
    EXPECT_DIAG(&d, path, 18, 42, "pick: '${seed}': ${seed} is a builtin, only known at run "
                "time");
    assert_int_equal(d.n, 7);
    fl_diag_free(&d);

    /* A valid file made invalid by --var: the override's value is checked
     * where the var is used. */
    path = DIR "typed_vars.yaml";
    struct fl_var_override ov[] = {{"sig", "STOP"}, {"grace", "0s"}, {"mode", "pause"}};
    load_bad(path, ov, 3, &d);
    EXPECT_DIAG(&d, path, 17, 53, "timeout: '${grace}' = '0s': expected a duration above 0");
    EXPECT_DIAG(&d, path, 20, 52, "every: '${grace}' = '0s': expected a duration above 0");
    EXPECT_DIAG(&d, path, 23, 66, "signal: STOP stops the process", "instant fault");
    EXPECT_DIAG(&d, path, 25, 10, "for: '${grace}' = '0s': expected a duration above 0");
    EXPECT_DIAG(&d, path, 26, 63, "mode: '${mode}' = 'pause': expected one of: stop, client");
    assert_int_equal(d.n, 5);
    fl_diag_free(&d);
}

int main(void)
{
    if (fl_test_chdir_source())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_bounds),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_hostile_counts),
        cmocka_unit_test(test_hostile_enums),
        cmocka_unit_test(test_hostile_signals),
        cmocka_unit_test(test_typed_vars),
        cmocka_unit_test(test_typed_vars_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
