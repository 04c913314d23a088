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
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/model.h"
#include "core/run_context.h"
#include "core/target.h"
#include "injectors/faketime.h"
#include "run/recover.h"

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
    setenv("TMPDIR", dir, 1);          /* the clock folder goes under $TMPDIR */
    struct fl_run run = {.outdir = dir, .run_tag = "run-1-2-0"};
    struct fl_instance in = {.service = "api", .replica = 1};
    snprintf(in.id, sizeof in.id, "api.1");
    char path[4096];
    assert_int_equal(fl_faketime_path(&run, in.id, path, sizeof path), 0);
    char want[4200], clocks[4096];
    snprintf(want, sizeof want, "%s/faultline-run-1-2-0.clocks/api.1.clock", dir);
    assert_string_equal(path, want);
    assert_int_equal(fl_faketime_dir(&run, clocks, sizeof clocks), 0);
    assert_int_equal(mkdir(clocks, 0700), 0);       /* fl_faketime_attach makes it */
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

    /* a symlink planted at the temporary name does not redirect the write */
    char victim[4200];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    f = fopen(victim, "w");
    assert_non_null(f);
    fputs("keep", f);
    fclose(f);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(fl_faketime_shift(&run, &in, 1000, &now, &err), 0);
    f = fopen(victim, "r");
    assert_non_null(f);
    text[0] = '\0';
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_string_equal(text, "keep");
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    /* a .tmp left by a crash goes with the reset */
    f = fopen(tmp, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(fl_faketime_reset_file(path), 0);
    assert_int_not_equal(access(tmp, F_OK), 0);
    f = fopen(tmp, "w");            /* also when the clock file itself is gone */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(fl_faketime_reset_file(path), 1);
    assert_int_not_equal(access(tmp, F_OK), 0);
    assert_int_equal(unlink(victim), 0);
    assert_int_equal(rmdir(clocks), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- fl_faketime_attach: the clock folder, the journal, the environment -- */

static int hooks;

static int fake_add_env_hook(struct fl_target *t, fl_env_hook fn, void *ud, struct fl_error *err)
{
    (void)t;
    (void)fn;
    (void)ud;
    (void)err;
    hooks++;
    return 0;
}

static const struct fl_target_type fake_type = {
    .name = "fake", .ops = FL_TOP_ENV, .add_env_hook = fake_add_env_hook};

static void test_attach(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-faketime-XXXXXX", lib[64];
    assert_non_null(mkdtemp(dir));          /* the state folder: 0700 */
    setenv("TMPDIR", dir, 1);
    snprintf(lib, sizeof lib, "%s/lib.so", dir);
    FILE *f = fopen(lib, "w");              /* stands in for libfaketime: only opened */
    assert_non_null(f);
    fclose(f);
    setenv("FAULTLINE_LIBFAKETIME", lib, 1);
    struct fl_service svc = {.name = "api", .clock = FL_CLOCK_CONTROLLED,
                             .clock_pos = {.file = "s.yaml", .line = 3, .col = 12}};
    struct fl_scenario sc = {.name = "t", .services = &svc, .nservices = 1};
    struct fl_target target = {.type = &fake_type};
    struct fl_run run = {.sc = &sc, .target = &target, .outdir = dir, .run_tag = "run-1-2-0"};
    struct fl_error err = {0};

    /* without a journal a faked clock could outlive a crash: refused */
    assert_int_equal(fl_faketime_attach(&run, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, "no journal"));

    assert_int_equal(fl_journal_open(&run.journal, dir, run.run_tag, "test", &err), 0);
    /* any inherited FAKETIME* variable, not only FAKETIME: refused */
    setenv("FAKETIME_NO_CACHE", "0", 1);
    memset(&err, 0, sizeof err);
    assert_int_equal(fl_faketime_attach(&run, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, "FAKETIME_NO_CACHE is set"));
    unsetenv("FAKETIME_NO_CACHE");
    assert_int_equal(hooks, 0);

    memset(&err, 0, sizeof err);
    assert_int_equal(fl_faketime_attach(&run, &err), 0);
    assert_int_equal(hooks, 1);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);          /* the state folder is left alone */
    char clocks[4096];
    assert_int_equal(fl_faketime_dir(&run, clocks, sizeof clocks), 0);
    assert_int_equal(lstat(clocks, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0711);
    /* a clock file and a leftover .tmp in it; the run's recovery removes all */
    char path[4200];
    snprintf(path, sizeof path, "%s/api.0.clock.tmp", clocks);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(fl_recover_file(fl_journal_path(run.journal), 1, NULL, NULL, NULL, &err),
                     0);
    assert_int_not_equal(access(clocks, F_OK), 0);
    fl_journal_close(run.journal, 1);
    unsetenv("FAULTLINE_LIBFAKETIME");
    unsetenv("TMPDIR");
    assert_int_equal(unlink(lib), 0);
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
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
