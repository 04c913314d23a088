/* test_scenario_proxies.c - the proxies: section: a valid file checked
 * field by field, and mistakes whose diagnostics name the exact line:col
 * (undeclared proxies in faults, invariants and ${proxy.NAME}, HTTP faults
 * and checkers on a TCP proxy, non-loopback listen, unknown protocol). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/injector.h"
#include "scenario/scenario.h"

#include "diag_expect.h"

static void test_proxies_ok(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "proxies_ok.yaml", NULL, 0);
    assert_int_equal(sc->nproxies, 2);
    assert_string_equal(sc->proxies[0].name, "dep");
    assert_string_equal(sc->proxies[0].upstream, "127.0.0.1:${web.port}");
    assert_int_equal(sc->proxies[0].http, 1);
    assert_string_equal(sc->proxies[0].listen, "127.0.0.1:0");
    assert_string_equal(sc->proxies[1].name, "raw");
    assert_int_equal(sc->proxies[1].http, 0);
    assert_int_equal(sc->nfaults, 2);
    assert_string_equal(sc->faults[0].type->name, "http.ratelimit");
    assert_string_equal(sc->faults[1].type->name, "net.latency");
    fl_scenario_free(sc);
}

static void test_proxies_bad(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    load_bad(DIR "proxies_bad.yaml", NULL, 0, &d);
    const char *f = DIR "proxies_bad.yaml";
    EXPECT_DIAG(&d, f, 4, 47, "${proxy.nope} refers to nothing", "proxy.raw");
    EXPECT_DIAG(&d, f, 6, 44, "listen: expected a loopback address", "0.0.0.0:9");
    EXPECT_DIAG(&d, f, 7, 18, "protocol: expected one of: tcp, http");
    EXPECT_DIAG(&d, f, 11, 27, "http.status acts on HTTP requests", "needs protocol: http");
    EXPECT_DIAG(&d, f, 14, 24, "net.down: proxy 'missing' is not declared", "declared: raw, x");
    EXPECT_DIAG(&d, f, 16, 26, "rate_limit reads the HTTP exchanges", "protocol: http");
    assert_int_equal(d.n, 6);
    fl_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxies_ok),
        cmocka_unit_test(test_proxies_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
