/* test_history_jsonl.c - the JSONL loader on hostile input (every
 * malformed line is an error at file:line:col; nothing crashes or grows
 * without bound) and the integrity check on lost, reordered and cut-short
 * recordings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/util.h"
#include "history/history.h"
#include "reports/report.h"

/* One well-formed op line with index i at time t (seconds). */
#define OP(i, t, rest) "{\"index\":" #i ",\"time_us\":" #t ",\"process\":0," rest "}\n"
#define PROBE_OK "\"type\":\"ok\",\"source\":\"health\",\"f\":\"probe\",\"value\":\"200\""
#define DONE "\"type\":\"ok\",\"source\":\"runner\",\"f\":\"phase\",\"value\":\"done\""

static char path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/fl_test_hjsonl_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void write_bytes(const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *s)
{
    write_bytes(s, strlen(s));
}

/* Load path into a fresh history; *rc gets the result. */
static struct fl_history *load(int *rc, struct fl_error *err)
{
    struct fl_history *h = fl_history_new(0);
    assert_non_null(h);
    memset(err, 0, sizeof *err);
    *rc = fl_history_load_jsonl(h, path, err);
    return h;
}

/* The file must fail to load with `want` in the message, at line:col. */
static void expect_error(const char *text, const char *want, const char *where)
{
    write_text(text);
    struct fl_error err;
    int rc;
    struct fl_history *h = load(&rc, &err);
    if (rc != FL_EINVAL)
        fail_msg("loaded (rc %d) but expected an error with \"%s\": %s", rc, want, text);
    char at[128];
    snprintf(at, sizeof at, "%s:%s", path, where);
    if (!strstr(err.msg, want) || !strstr(err.msg, at))
        fail_msg("\"%s\" lacks \"%s\" or \"%s\"", err.msg, want, at);
    fl_history_free(h);
}

static void test_malformed_lines(void **state)
{
    (void)state;
    /* the position is the offending value's: line 2, where "type" is */
    expect_error(OP(0, 1, PROBE_OK)
                 "{\"index\":1,\"time_us\":2,\"process\":0,\"type\":\"maybe\",\"source\":\"s\",\"f\":\"p\"}\n",
                 "\"type\": expected one of invoke, ok, fail, info", "2:43:");
    expect_error("{\"index\":0,\"time_us\":1,\"process\":0,\"type\":\"ok\"\n", "invalid JSON", "1:");
    expect_error("{\"index\":0,\"time_us\":\"1\",\"process\":0,\"type\":\"ok\",\"source\":\"s\",\"f\":\"p\"}\n",
                 "\"time_us\": expected", "1:22:");
    expect_error(OP(0, 1, "\"type\":\"ok\",\"source\":\"s\",\"f\":\"p\",\"key\":5"),
                 "\"key\": expected a string or null", "1:");
    expect_error("[1,2]\n", "expected a JSON object", "1:1:");
    expect_error("  \"just a string\"\n", "invalid JSON", "1:");
    /* every field the writer always puts is required */
    expect_error("{\"time_us\":1,\"process\":0,\"type\":\"ok\",\"source\":\"s\",\"f\":\"p\"}\n",
                 "\"index\": expected a non-negative integer", "1:1:");
    expect_error(OP(-1, 1, PROBE_OK), "\"index\"", "1:10:");
    expect_error(OP(0, 1, "\"type\":\"ok\",\"f\":\"p\""), "\"source\": expected a string", "1:");
    expect_error(OP(0, 1, "\"type\":null,\"source\":\"s\",\"f\":\"p\""), "\"type\": expected a string", "1:");
    /* numbers out of range: no checker may overflow on them */
    expect_error(OP(0, 2000000000000000, PROBE_OK), "\"time_us\"", "1:22:");
    expect_error(OP(0, 1.5, PROBE_OK), "\"time_us\"", "1:");
    expect_error(OP(0, 99999999999999999999999, PROBE_OK), "invalid JSON", "1:");
    expect_error("{\"index\":0,\"time_us\":1,\"process\":3000000000," PROBE_OK "}\n", "\"process\"", "1:");
    /* ambiguous or not JSON at all */
    expect_error(OP(0, 1, PROBE_OK ",\"type\":\"fail\""), "duplicate", "1:");
    expect_error(OP(0, 1, PROBE_OK) "{} trailing\n", "invalid JSON", "2:");
    expect_error(OP(0, 1, "\"type\":\"ok\",\"source\":\"bad \xff utf8\",\"f\":\"p\""), "invalid JSON", "1:");
    expect_error(OP(0, 1, "\"type\":\"ok\",\"source\":\"nul \\u0000 inside\",\"f\":\"p\""), "invalid JSON", "1:");
    /* a member name inside a string does not fool the column finder */
    expect_error("{\"index\":0,\"source\":\"\\\"time_us\\\":\",\"time_us\":\"x\",\"process\":0}\n",
                 "\"time_us\"", "1:46:");
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    /* a NUL byte in the middle of a line */
    static const char nul[] = "{\"index\":0,\"time_us\":1,\0\"process\":0}\n";
    write_bytes(nul, sizeof nul - 1);
    struct fl_error err;
    int rc;
    struct fl_history *h = load(&rc, &err);
    assert_int_equal(rc, FL_EINVAL);
    char at[96];
    snprintf(at, sizeof at, "%s:1:24: NUL byte", path);
    if (!strstr(err.msg, at))
        fail_msg("%s", err.msg);
    fl_history_free(h);

    /* a 5 MiB line without a newline: refused at the ceiling */
    size_t big = (size_t)5 * 1024 * 1024;
    char *p = malloc(big);
    assert_non_null(p);
    memset(p, 'x', big);
    write_bytes(p, big);
    free(p);
    h = load(&rc, &err);
    assert_int_equal(rc, FL_EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));
    assert_int_equal(fl_history_len(h), 0);
    fl_history_free(h);

    /* nesting far past any sane depth */
    size_t deep = 200000;
    p = malloc(2 * deep + 2);
    assert_non_null(p);
    memset(p, '[', deep);
    memset(p + deep, ']', deep);
    p[2 * deep] = '\n';
    write_bytes(p, 2 * deep + 1);
    free(p);
    h = load(&rc, &err);
    assert_int_equal(rc, FL_EINVAL);
    fl_history_free(h);

    /* the recording stopped in the middle of its last line */
    write_text(OP(0, 1, PROBE_OK) "{\"index\":1,\"time_us\":2,\"pro");
    h = load(&rc, &err);
    assert_int_equal(rc, FL_EINVAL);
    assert_non_null(strstr(err.msg, ":2:"));
    assert_non_null(strstr(err.msg, "cut short"));
    assert_int_equal(fl_history_len(h), 1);   /* the good line before it stays */
    fl_history_free(h);

    /* unreadable */
    unlink(path);
    h = load(&rc, &err);
    assert_int_equal(rc, FL_EIO);
    assert_non_null(strstr(err.msg, path));
    fl_history_free(h);
}

/* Mutations of a valid file (bytes flipped, cut, duplicated): the loader
 * returns 0 or FL_EINVAL, never crashes (the sanitizer build watches), and
 * a failure always names the file and a line. */
static void test_mutations_never_crash(void **state)
{
    (void)state;
    static const char good[] =
        OP(0, 0, "\"type\":\"ok\",\"source\":\"runner\",\"f\":\"phase\",\"value\":\"start\"")
        OP(1, 1500, "\"type\":\"invoke\",\"source\":\"submit\",\"f\":\"request\",\"key\":null")
        OP(2, 2500, "\"type\":\"ok\",\"source\":\"submit\",\"f\":\"request\",\"key\":\"j1\",\"value\":\"202\",\"error\":null")
        OP(3, 9000, DONE);
    struct fl_rng rng;
    fl_rng_seed(&rng, 42);
    size_t n = sizeof good - 1;
    char buf[sizeof good + 64];
    size_t loaded = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, good, n);
        size_t len = n;
        int edits = 1 + (int)fl_rng_below(&rng, 4);
        for (int e = 0; e < edits; e++) {
            if (len == 0)
                break;
            size_t at = (size_t)fl_rng_below(&rng, len);
            switch (fl_rng_below(&rng, 4)) {
            case 0: buf[at] = (char)fl_rng_below(&rng, 256); break;
            case 1: len = at; break;
            case 2: buf[at] = "{}[]\",:\\\n0-e"[fl_rng_below(&rng, 12)]; break;
            default:
                if (len + 8 < sizeof buf) {
                    memmove(buf + at + 8, buf + at, len - at);
                    len += 8;
                }
                break;
            }
        }
        write_bytes(buf, len);
        struct fl_error err;
        int rc;
        struct fl_history *h = load(&rc, &err);
        if (rc != 0 && rc != FL_EINVAL)
            fail_msg("iteration %d: rc %d", iter, rc);
        if (rc && !strstr(err.msg, path))
            fail_msg("iteration %d: error without the file: %s", iter, err.msg);
        loaded += rc == 0;
        struct fl_integrity in;
        fl_history_integrity(h, &in);   /* must not crash either */
        fl_history_free(h);
    }
    assert_true(loaded > 0);
}

/* ---- integrity ---------------------------------------------------------- */

/* The recorded harness error of the last judge_file, "" when none: its op
 * dies with the history, so judge_file returns in.harness as NULL. */
static char harness_error[256];

static struct fl_integrity judge_file(const char *text, size_t max_ops)
{
    write_text(text);
    struct fl_history *h = fl_history_new(max_ops);
    struct fl_error err = {0};
    int rc = fl_history_load_jsonl(h, path, &err);
    if (rc)
        fail_msg("load: %s", err.msg);
    struct fl_integrity in;
    fl_history_integrity(h, &in);
    snprintf(harness_error, sizeof harness_error, "%s",
             in.harness && in.harness->error ? in.harness->error : "");
    in.harness = NULL;
    fl_history_free(h);
    return in;
}

static void test_integrity_of_files(void **state)
{
    (void)state;
    struct fl_integrity in = judge_file(OP(0, 1, PROBE_OK) OP(1, 2, PROBE_OK) OP(2, 3, DONE), 0);
    assert_int_equal(in.complete, 1);
    assert_string_equal(in.why, "");
    assert_string_equal(harness_error, "");

    /* a line lost in the middle */
    in = judge_file(OP(0, 1, PROBE_OK) OP(1, 2, PROBE_OK) OP(3, 4, PROBE_OK) OP(4, 5, DONE), 0);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, "1 ops are missing from") || !strstr(in.why, "line 3 holds op 3 where op 2 was due"))
        fail_msg("%s", in.why);

    /* the head of the file cut off, and a second gap */
    in = judge_file(OP(5, 1, PROBE_OK) OP(6, 2, PROBE_OK) OP(9, 4, DONE), 0);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, "7 ops are missing") || !strstr(in.why, "line 1 holds op 5 where op 0 was due"))
        fail_msg("%s", in.why);

    /* a line written twice, another out of order */
    in = judge_file(OP(0, 1, PROBE_OK) OP(1, 2, PROBE_OK) OP(1, 2, PROBE_OK) OP(3, 3, PROBE_OK)
                    OP(2, 3, PROBE_OK) OP(4, 4, DONE), 0);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, ":3: op 1 comes after op 1: 2 lines are duplicated or out of order"))
        fail_msg("%s", in.why);

    /* cut short: no final phase record */
    in = judge_file(OP(0, 1, PROBE_OK) OP(1, 2500000, PROBE_OK), 0);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, "stops before the run's final record (runner phase \"done\")") ||
        !strstr(in.why, "after op 1 at 2.5s"))
        fail_msg("%s", in.why);
    in = judge_file("\n\n", 0);
    assert_int_equal(in.complete, 0);
    assert_non_null(strstr(in.why, "holds no op"));

    /* over the op limit: the tail is dropped (and so is "done") */
    in = judge_file(OP(0, 1, PROBE_OK) OP(1, 2, PROBE_OK) OP(2, 3, PROBE_OK) OP(3, 4, DONE), 2);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, "2 ops of") || !strstr(in.why, "were not loaded (over the limit of 2 ops"))
        fail_msg("%s", in.why);

    /* a run that recorded a harness failure is complete, and says so */
    in = judge_file(OP(0, 1, PROBE_OK)
                    OP(1, 2, "\"type\":\"info\",\"source\":\"runner\",\"f\":\"harness\",\"error\":\"api never became ready\"")
                    OP(2, 3, DONE), 0);
    assert_int_equal(in.complete, 1);
    assert_string_equal(harness_error, "api never became ready");
}

static void test_integrity_live(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(2);
    fl_history_add(h, 1, 0, FL_OK, "health", FL_F_PROBE, NULL, "200", NULL);
    struct fl_integrity in;
    fl_history_integrity(h, &in);
    assert_int_equal(in.complete, 1);   /* a live history needs no "done" */
    fl_history_add(h, 2, 0, FL_OK, "health", FL_F_PROBE, NULL, "200", NULL);
    fl_history_add(h, 3, 0, FL_OK, "health", FL_F_PROBE, NULL, "200", NULL);
    fl_history_integrity(h, &in);
    assert_int_equal(in.complete, 0);
    if (!strstr(in.why, "1 ops were not recorded (the history's limit of 2 ops"))
        fail_msg("%s", in.why);
    fl_history_free(h);
}

/* What the writer (reports/jsonl.c) puts out, the loader reads back, and
 * the file is complete. */
static void test_writer_round_trip(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    fl_history_add(h, 0, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, FL_F_PHASE, NULL, "start", NULL);
    fl_history_add(h, 10, 3, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    fl_history_add(h, 20, 3, FL_OK, "submit", FL_F_REQUEST, "j\"1\n", "202", "tab\there");
    fl_history_add(h, 30, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, FL_F_PHASE, NULL, FL_PHASE_DONE, NULL);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < fl_history_len(h); i++)
        assert_int_equal(fl_jsonl_write_op(f, fl_history_get(h, i)), 0);
    fclose(f);
    struct fl_error err;
    int rc;
    struct fl_history *g = load(&rc, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(fl_history_len(g), 4);
    assert_string_equal(fl_history_get(g, 2)->key, "j\"1\n");
    assert_string_equal(fl_history_get(g, 2)->error, "tab\there");
    const struct fl_history_origin *o = fl_history_origin(g);
    assert_string_equal(o->path, path);
    assert_int_equal(o->ops, 4);
    assert_int_equal(o->missing, 0);
    struct fl_integrity in;
    fl_history_integrity(g, &in);
    assert_int_equal(in.complete, 1);
    fl_history_free(g);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations_never_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_of_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integrity_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
