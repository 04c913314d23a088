/* test_scenario_volumes.c - volumes:, disk: and metric: probes in the
 * loader, and the size and Prometheus text parsers they use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/diag.h"
#include "base/prom.h"
#include "base/size.h"
#include "scenario/scenario.h"

#include "diag_expect.h"

static void test_sizes(void **state)
{
    (void)state;
    uint64_t b;
    assert_int_equal(fl_parse_size("4096", &b), 0);
    assert_int_equal(b, 4096);
    assert_int_equal(fl_parse_size("16m", &b), 0);
    assert_int_equal(b, 16ULL << 20);
    assert_int_equal(fl_parse_size("512K", &b), 0);
    assert_int_equal(b, 512ULL << 10);
    assert_int_equal(fl_parse_size("1GiB", &b), 0);
    assert_int_equal(b, 1ULL << 30);
    const char *bad[] = {"", "m", "-1m", "1.5m", "16 m", "16q", "99999999999999999999",
                         "20000000000t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fl_parse_size(bad[i], &b), FL_EINVAL);
    char buf[32];
    fl_format_size(16ULL << 20, buf, sizeof buf);
    assert_string_equal(buf, "16m");
    fl_format_size(1536 * 1024, buf, sizeof buf);
    assert_string_equal(buf, "1536k");
    fl_format_size(100, buf, sizeof buf);
    assert_string_equal(buf, "100");
}

static const char page[] =
    "# HELP loader_rows_read_total rows\n"
    "# TYPE loader_rows_read_total counter\n"
    "loader_rows_read_total_created 1.7e9\n"
    "loader_rows_read_total 1200\n"
    "loader_errors_total{kind=\"write\",dev=\"x y\"} 3 1700000000000\n"
    "  spaced_metric   7  \r\n"
    "last_line_no_newline NaN";

static void test_prom(void **state)
{
    (void)state;
    struct fl_buf b;
    struct fl_error err = {0};
    const struct { const char *want, *val; } ok[] = {
        {"loader_rows_read_total", "1200"},
        {"loader_errors_total{kind=\"write\",dev=\"x y\"}", "3"},
        {"spaced_metric", "7"},
        {"last_line_no_newline", "NaN"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        fl_buf_init(&b, 1024);
        assert_int_equal(fl_prom_lookup(page, strlen(page), ok[i].want, &b, &err), 0);
        assert_string_equal(fl_buf_str(&b), ok[i].val);
        fl_buf_free(&b);
    }
    /* A prefix of a name, a name in a comment, another label set: not found. */
    const char *missing[] = {"loader_rows", "HELP", "loader_errors_total",
                             "loader_errors_total{kind=\"read\"}"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        fl_buf_init(&b, 1024);
        assert_int_equal(fl_prom_lookup(page, strlen(page), missing[i], &b, &err), FL_ENOTFOUND);
        fl_buf_free(&b);
    }
    fl_buf_init(&b, 1024);
    assert_int_equal(fl_prom_lookup(NULL, 0, "x", &b, &err), FL_ENOTFOUND);
    fl_buf_free(&b);
}

static void test_volumes_ok(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "volumes.yaml", NULL, 0);
    const struct fl_service *s = &sc->services[0];
    assert_int_equal(s->nvolumes, 2);
    assert_string_equal(s->volumes[0].name, "spool");
    assert_string_equal(s->volumes[0].path, "${out}/spool-${replica}");
    assert_int_equal(s->volumes[0].size, 16ULL << 20);
    assert_int_equal(s->volumes[1].size, 512ULL << 10);
    assert_int_equal(sc->probes[0].kind, FL_PROBE_DISK);
    assert_string_equal(sc->probes[0].disk, "${loader.1.volume.spool}");
    assert_int_equal(sc->probes[1].kind, FL_PROBE_HTTP);
    assert_string_equal(sc->probes[1].metric, "loader_rows_read_total");
    fl_scenario_free(sc);
}

static void test_volumes_bad(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    const char *f = DIR "volumes_bad.yaml";
    load_bad(f, NULL, 0, &d);
    EXPECT_DIAG(&d, f, 4, 19, "${volume.nope} refers to nothing");
    EXPECT_DIAG(&d, f, 6, 7, "volume 'spool' of service 'a'", "missing 'size'");
    EXPECT_DIAG(&d, f, 7, 30, "size", "between 4k and 64g");
    EXPECT_DIAG(&d, f, 8, 30, "size", "12 parsecs");
    EXPECT_DIAG(&d, f, 9, 8, "volume 'b d'", "letters, digits");
    EXPECT_DIAG(&d, f, 10, 34, "unknown key 'mode'");
    EXPECT_DIAG(&d, f, 12, 19, "${a.0.volume.other} refers to nothing", "a.N.volume.spool");
    EXPECT_DIAG(&d, f, 13, 11, "http, redis and disk are exclusive");
    EXPECT_DIAG(&d, f, 14, 30, "record (a JSON Pointer) and metric");
    fl_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_prom),
        cmocka_unit_test(test_volumes_ok),
        cmocka_unit_test(test_volumes_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
