/* test_faketime.c - the clock file syntax faultline writes and reads back
 * (libfaketime's relative offsets, in seconds with milliseconds), the
 * atomic shift of an instance's clock file, and the reset recover does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/run_context.h"
#include "core/target.h"
#include "injectors/faketime.h"

static void test_format_parse(void **state)
{
    (void)state;
    char buf[48];
    int64_t ms;
    const int64_t cases[] = {0, 1, 999, 1000, 660000, -1, -1500, -86400000, 3600123,
                             INT64_C(31536000000)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fl_faketime_format(cases[i], buf, sizeof buf);
        assert_int_equal(fl_faketime_parse(buf, &ms), 0);
        assert_true(ms == cases[i]);
    }
    fl_faketime_format(660000, buf, sizeof buf);
    assert_string_equal(buf, "+660.000");
    fl_faketime_format(-1500, buf, sizeof buf);
    assert_string_equal(buf, "-1.500");
    /* what a person (or an older faultline) may have left in the file */
    assert_int_equal(fl_faketime_parse("+0\n", &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(fl_faketime_parse("", &ms), 0);
    assert_true(ms == 0);
    assert_int_equal(fl_faketime_parse("-2.5", &ms), 0);
    assert_true(ms == -2500);
    assert_int_equal(fl_faketime_parse("+1.23456", &ms), 0);
    assert_true(ms == 1234);
    /* absolute dates and multipliers are libfaketime's, not ours: refused */
    assert_int_equal(fl_faketime_parse("@2020-01-01 00:00:00", &ms), FL_EINVAL);
    assert_int_equal(fl_faketime_parse("+1d", &ms), FL_EINVAL);
    assert_int_equal(fl_faketime_parse("+", &ms), FL_EINVAL);
    assert_int_equal(fl_faketime_parse("12", &ms), FL_EINVAL);
}

static void test_shift_and_reset(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-faketime-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct fl_run run = {.outdir = dir, .run_tag = "run-1-2-0"};
    struct fl_instance in = {.service = "api", .replica = 1};
    snprintf(in.id, sizeof in.id, "api.1");
    char path[4096];
    assert_int_equal(fl_faketime_path(&run, in.id, path, sizeof path), 0);
    char want[4200];
    snprintf(want, sizeof want, "%s/run-1-2-0.clock.api.1", dir);
    assert_string_equal(path, want);
    struct fl_error err = {0};
    int64_t now;
    /* no file yet: real time, shifts add up, and come back to +0 */
    assert_int_equal(fl_faketime_shift(&run, &in, 660000, &now, &err), 0);
    assert_true(now == 660000);
    assert_int_equal(fl_faketime_shift(&run, &in, -3600000, &now, &err), 0);
    assert_true(now == 660000 - 3600000);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[64] = "";
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_string_equal(text, "-2940.000");
    assert_int_equal(fl_faketime_shift(&run, &in, 2940000, &now, &err), 0);
    assert_true(now == 0);
    /* a file faultline did not write is an error, not a guess */
    f = fopen(path, "w");
    fputs("@2020-01-01 00:00:00", f);
    fclose(f);
    assert_int_equal(fl_faketime_shift(&run, &in, 1000, &now, &err), FL_EIO);
    /* recover's reset: the file goes; a second reset has nothing to do */
    assert_int_equal(fl_faketime_reset_file(path), 0);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(fl_faketime_reset_file(path), 1);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_loaded(void **state)
{
    (void)state;
    /* this test process has no libfaketime; a pid that cannot exist fails */
    assert_int_equal(fl_faketime_loaded((int)getpid()), 0);
    assert_true(fl_faketime_loaded(-5) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_shift_and_reset),
        cmocka_unit_test(test_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
