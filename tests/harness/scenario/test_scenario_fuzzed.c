/* test_scenario_fuzzed.c - inputs the fuzzers found (tests/fuzz/), run by
 * the ordinary build: every file under tests/fuzz/regressions/ must load
 * or be refused with a diagnostic, and return (a hang fails the test at
 * ctest's timeout). The first finding: libfyaml 0.7.12 loops forever on a
 * YAML directive line holding a control character, so the loader refuses
 * control characters itself, at their line and column. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "history/history.h"
#include "scenario/scenario.h"

#define REGRESSIONS "tests/fuzz/regressions"

static size_t each_file(const char *dir, void (*fn)(const char *path))
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        fn(path);
        n++;
    }
    closedir(d);
    return n;
}

static void load_scenario(const char *path)
{
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    int rc = fl_scenario_load(path, NULL, 0, &sc, &diag);
    assert_true(rc == 0 || (rc == FL_ESCENARIO && diag.n > 0));
    fl_scenario_free(sc);
    fl_diag_free(&diag);
}

static void load_history(const char *path)
{
    struct fl_history *h = fl_history_new(64);
    struct fl_error err = {0};
    int rc = fl_history_load_jsonl(h, path, &err);
    assert_true(rc == 0 || err.msg[0]);
    fl_history_free(h);
}

static void test_scenario_regressions(void **state)
{
    (void)state;
    assert_true(each_file(REGRESSIONS "/scenario", load_scenario) >= 1);
}

static void test_history_regressions(void **state)
{
    (void)state;
    each_file(REGRESSIONS "/history", load_history);
}

static void expect_refused(const char *text, size_t len, int line, int col, const char *what)
{
    char path[] = "/tmp/fl-test-fuzzed.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    assert_int_equal(fl_scenario_load(path, NULL, 0, &sc, &diag), FL_ESCENARIO);
    unlink(path);
    assert_int_equal(diag.n, 1);
    assert_int_equal(diag.items[0].line, line);
    assert_int_equal(diag.items[0].col, col);
    assert_non_null(strstr(diag.items[0].msg, what));
    fl_diag_free(&diag);
}

/* The directive hangs, minimized ("# sic 3s\n%  \x01\0..."), and what
 * the loader now refuses before libfyaml sees it, each at its position
 * (columns count characters, not bytes). */
static void test_refused_bytes(void **state)
{
    (void)state;
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    const char *path = REGRESSIONS "/scenario/libfyaml-directive-hang";
    assert_int_equal(fl_scenario_load(path, NULL, 0, &sc, &diag), FL_ESCENARIO);
    assert_int_equal(diag.n, 1);
    assert_int_equal(diag.items[0].line, 2);
    assert_int_equal(diag.items[0].col, 1);
    assert_non_null(strstr(diag.items[0].msg, "YAML directive"));
    fl_diag_free(&diag);
    static const char ctl[] = "name: x\nduration: 1\x01s\n";
    expect_refused(ctl, sizeof ctl - 1, 2, 12, "control character 0x01");
    static const char nul[] = "name: x\0y\n";
    expect_refused(nul, sizeof nul - 1, 1, 8, "control character 0x00");
    static const char bad[] = "name: \xc3\xa9t\xc3\xa9\xff\n";
    expect_refused(bad, sizeof bad - 1, 1, 10, "starts no character");
    static const char cut[] = "name: \xe2\x82x\n";
    expect_refused(cut, sizeof cut - 1, 1, 7, "cut short");
    static const char overlong[] = "name: \xe0\x80\xaf\n";
    expect_refused(overlong, sizeof overlong - 1, 1, 7, "overlong");
    static const char surrogate[] = "name: \xed\xa0\x80\n";
    expect_refused(surrogate, sizeof surrogate - 1, 1, 7, "surrogate");
    static const char end[] = "name: \xf0\x9f\x98";
    expect_refused(end, sizeof end - 1, 1, 7, "ends inside");
    static const char dir[] = "%YAML 1.2\n---\nname: x\n";
    expect_refused(dir, sizeof dir - 1, 1, 1, "YAML directive");
}

/* What stays accepted: a tab, CRLF line ends, UTF-8 of every length, a
 * '%' anywhere but the start of a line. Loading goes on to the scenario's
 * own errors (no services), not to a refusal of its bytes. */
static void test_accepted_bytes(void **state)
{
    (void)state;
    static const char ok[] = "name: \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 50%\"\r\n"
                             "description:\t'%x'\r\n";
    char path[] = "/tmp/fl-test-fuzzed.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ok, sizeof ok - 1), (ssize_t)(sizeof ok - 1));
    close(fd);
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    fl_scenario_load(path, NULL, 0, &sc, &diag);
    unlink(path);
    for (size_t i = 0; i < diag.n; i++) {
        assert_null(strstr(diag.items[i].msg, "UTF-8"));
        assert_null(strstr(diag.items[i].msg, "control character"));
        assert_null(strstr(diag.items[i].msg, "directive"));
    }
    fl_scenario_free(sc);
    fl_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_regressions),
        cmocka_unit_test(test_history_regressions),
        cmocka_unit_test(test_refused_bytes),
        cmocka_unit_test(test_accepted_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
