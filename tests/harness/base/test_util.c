/* Durations, rates, signals, integers, templates and the seeded generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>

#include "base/template.h"
#include "base/util.h"

static void test_durations(void **state)
{
    (void)state;
    uint64_t ms;
    assert_int_equal(fl_parse_duration("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(fl_parse_duration("5s", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(fl_parse_duration("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(fl_parse_duration("1.5s", &ms), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(fl_parse_duration("0s", &ms), 0);
    assert_int_equal(ms, 0);
    const char *bad[] = {"", "5", "fast", "-1s", "5 s", "5sec", "1.0005s", "s", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(fl_parse_duration(bad[i], &ms), FL_EINVAL);
    char buf[32];
    fl_format_duration(250, buf, sizeof buf);
    assert_string_equal(buf, "250ms");
    fl_format_duration(5000, buf, sizeof buf);
    assert_string_equal(buf, "5s");
    fl_format_duration(120000, buf, sizeof buf);
    assert_string_equal(buf, "2m");
    fl_format_duration(1500, buf, sizeof buf);
    assert_string_equal(buf, "1.5s");
}

static void test_rates(void **state)
{
    (void)state;
    double r;
    assert_int_equal(fl_parse_rate("10/s", &r), 0);
    assert_true(r == 10.0);
    assert_int_equal(fl_parse_rate("600/m", &r), 0);
    assert_true(r == 10.0);
    assert_int_equal(fl_parse_rate("2.5/s", &r), 0);
    assert_true(r == 2.5);
    const char *bad[] = {"10", "10/x", "0/s", "-1/s", "/s", "ten/s", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(fl_parse_rate(bad[i], &r), FL_EINVAL);
}

static void test_signals_ints(void **state)
{
    (void)state;
    int sig;
    assert_int_equal(fl_parse_signal("KILL", &sig), 0);
    assert_int_equal(sig, SIGKILL);
    assert_int_equal(fl_parse_signal("SIGTERM", &sig), 0);
    assert_int_equal(sig, SIGTERM);
    assert_int_equal(fl_parse_signal("9", &sig), 0);
    assert_int_equal(sig, 9);
    assert_int_equal(fl_parse_signal("NOPE", &sig), FL_EINVAL);
    assert_string_equal(fl_signal_name(SIGSTOP), "SIGSTOP");
    long long v;
    assert_int_equal(fl_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(fl_parse_int("420", 0, 100, &v), FL_EINVAL);
    assert_int_equal(fl_parse_int("4x", 0, 100, &v), FL_EINVAL);
    /* A number at the start: "8080/tcp", "200 OK"; nothing else is one. */
    const char *end = NULL;
    assert_int_equal(fl_parse_leading_int("8080/tcp", 1, 65535, &v, &end), 0);
    assert_int_equal(v, 8080);
    assert_string_equal(end, "/tcp");
    assert_int_equal(fl_parse_leading_int("200 OK", 100, 999, &v, NULL), 0);
    assert_int_equal(v, 200);
    assert_int_equal(fl_parse_leading_int("/tcp", 1, 65535, &v, NULL), FL_EINVAL);
    assert_int_equal(fl_parse_leading_int("", 1, 65535, &v, NULL), FL_EINVAL);
    assert_int_equal(fl_parse_leading_int("-1", -5, 5, &v, NULL), FL_EINVAL);
    assert_int_equal(fl_parse_leading_int("99999", 1, 65535, &v, NULL), FL_EINVAL);
    assert_int_equal(fl_parse_leading_int("2000", 100, 999, &v, NULL), FL_EINVAL);
    /* 19 digits would overflow: refused, not wrapped. */
    assert_int_equal(fl_parse_leading_int("9999999999999999999", 0, 1, &v, NULL), FL_EINVAL);
    assert_int_equal(fl_parse_leading_int(NULL, 0, 1, &v, NULL), FL_EINVAL);
}

static int resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                   struct fl_error *err)
{
    (void)ud;
    (void)err;
    if (len == 4 && memcmp(name, "port", 4) == 0)
        return fl_buf_adds(out, "8080");
    if (len == 9 && memcmp(name, "api.0.pid", 9) == 0)
        return fl_buf_adds(out, "123");
    return FL_ENOTFOUND;
}

static void test_templates(void **state)
{
    (void)state;
    struct fl_buf b;
    struct fl_error err = {0};
    fl_buf_init(&b, 1024);
    assert_int_equal(fl_template_expand("http://127.0.0.1:${port}/x?p=${api.0.pid}$$", resolve,
                                        NULL, &b, &err), 0);
    assert_string_equal(fl_buf_str(&b), "http://127.0.0.1:8080/x?p=123$");
    fl_buf_reset(&b);
    assert_int_equal(fl_template_expand("${nope}", resolve, NULL, &b, &err), FL_ENOTFOUND);
    assert_non_null(strstr(err.msg, "${nope}"));
    fl_buf_reset(&b);
    assert_int_equal(fl_template_expand("${unterminated", resolve, NULL, &b, &err), FL_EINVAL);
    fl_buf_free(&b);
    /* A bounded buffer refuses to grow past its ceiling. */
    fl_buf_init(&b, 8);
    assert_int_equal(fl_buf_adds(&b, "1234567"), 0);
    assert_int_equal(fl_buf_adds(&b, "8"), FL_ENOMEM);
    assert_string_equal(fl_buf_str(&b), "1234567");
    fl_buf_free(&b);
}

static void test_rng(void **state)
{
    (void)state;
    struct fl_rng a, b;
    fl_rng_seed(&a, 42);
    fl_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        assert_true(fl_rng_next(&a) == fl_rng_next(&b));
    /* Known values pin the algorithm (splitmix64 seeding xoshiro256**,
     * checked against an independent implementation): a seed must replay
     * the same picks on every build and machine. */
    fl_rng_seed(&a, 0);
    assert_true(fl_rng_next(&a) == 11091344671253066420ULL);
    assert_true(fl_rng_next(&a) == 13793997310169335082ULL);
    fl_rng_seed(&b, 42);
    assert_true(fl_rng_next(&b) == 1546998764402558742ULL);
    for (int i = 0; i < 1000; i++)
        assert_true(fl_rng_below(&a, 7) < 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations), cmocka_unit_test(test_rates),
        cmocka_unit_test(test_signals_ints), cmocka_unit_test(test_templates),
        cmocka_unit_test(test_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
