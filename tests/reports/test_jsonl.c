/* test_jsonl.c - the --events format: one JSON object per op and line,
 * parsed back with jansson and with fl_history_load_jsonl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "reports/report.h"
#include "reports/sanitize.h"

struct spec {
    int64_t time_us;
    int32_t process;
    enum fl_optype type;
    const char *source, *f, *key, *value, *error;
};

/* Valid UTF-8 must survive exactly, control characters included; invalid
 * UTF-8 comes back with U+FFFD where the bad bytes were. */
static const struct spec ops[] = {
    {0, FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "start", NULL},
    {1500, 3, FL_INVOKE, "submit", "request", NULL, NULL, NULL},
    {2500, 3, FL_OK, "submit", "request", "j1", "202", NULL},
    {3000, 3, FL_OK, "submit", "poll", "j1", "pending", NULL},
    {4000, 3, FL_INFO, "submit", "poll", "j1", NULL, "timed out after 5s"},
    {5000, FL_PROC_FAULT + 1, FL_FAIL, "process.kill", "fault", "api.1", "SIGKILL api.1",
     "kill: \x01 no such process"},
    {6000, 7, FL_OK, "submit", "poll", "quote\"back\\slash/", "tab\tnl\nretcr\rbs\bff\fdel\x7f", NULL},
    {7000, 8, FL_OK, "submit", "poll", "\xff\xfe", "bad \xE2\x82 utf8 \xC0\xAF", "]]> <&>\""},
    {-250, FL_PROC_TARGET, FL_INFO, "local", "instance", "api.0",
     "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE2\x80\xA8", "exited (signal 9)"},
};
#define NOPS (sizeof ops / sizeof ops[0])

static struct fl_history *build(void)
{
    struct fl_history *h = fl_history_new(0);
    assert_non_null(h);
    for (size_t i = 0; i < NOPS; i++) {
        const struct spec *s = &ops[i];
        assert_non_null(fl_history_add(h, s->time_us, s->process, s->type, s->source, s->f,
                                       s->key, s->value, s->error));
    }
    return h;
}

static FILE *write_all(const struct fl_history *h, char *path, size_t len)
{
    snprintf(path, len, "/tmp/fl_test_jsonl_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    assert_non_null(f);
    for (size_t i = 0; i < fl_history_len(h); i++)
        assert_int_equal(fl_jsonl_write_op(f, fl_history_get(h, i)), 0);
    assert_int_equal(fflush(f), 0);
    rewind(f);
    return f;
}

/* What a string field must read back as (NULL: JSON null). */
static void check_str(json_t *o, const char *name, const char *orig)
{
    json_t *v = json_object_get(o, name);
    assert_non_null(v);
    if (!orig) {
        assert_true(json_is_null(v));
        return;
    }
    assert_true(json_is_string(v));
    char *want = fl_sanitize(orig, 0, FL_SAN_KEEP_CTRL);
    assert_non_null(want);
    assert_string_equal(json_string_value(v), want);
    free(want);
}

static void test_fields_round_trip(void **state)
{
    (void)state;
    struct fl_history *h = build();
    char path[64];
    FILE *f = write_all(h, path, sizeof path);
    char line[4096];
    size_t n = 0;
    static const char *const order[] = {"index", "time_us", "process", "type", "source",
                                        "f", "key", "value", "error"};
    while (fgets(line, sizeof line, f)) {
        assert_true(n < NOPS);
        size_t len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n');
        /* one object per line: no raw newline or control byte inside */
        for (size_t i = 0; i + 1 < len; i++)
            assert_true((unsigned char)line[i] >= 0x20);
        json_error_t jerr;
        json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!o)
            fail_msg("line %zu does not parse: %s: %s", n, jerr.text, line);
        assert_int_equal(json_object_size(o), 9);
        /* the exact field names, in the documented order */
        const char *at = line;
        for (size_t k = 0; k < 9; k++) {
            char quoted[32];
            snprintf(quoted, sizeof quoted, "\"%s\":", order[k]);
            const char *p = strstr(at, quoted);
            assert_non_null(p);
            at = p + strlen(quoted);
        }
        const struct spec *s = &ops[n];
        assert_int_equal(json_integer_value(json_object_get(o, "index")), n);
        assert_int_equal(json_integer_value(json_object_get(o, "time_us")), s->time_us);
        assert_int_equal(json_integer_value(json_object_get(o, "process")), s->process);
        assert_string_equal(json_string_value(json_object_get(o, "type")),
                            fl_optype_name(s->type));
        check_str(o, "source", s->source);
        check_str(o, "f", s->f);
        check_str(o, "key", s->key);
        check_str(o, "value", s->value);
        check_str(o, "error", s->error);
        json_decref(o);
        n++;
    }
    assert_int_equal(n, NOPS);
    fclose(f);
    unlink(path);
    fl_history_free(h);
}

static void test_exact_line(void **state)
{
    (void)state;
    assert_string_equal(fl_optype_name(FL_OK), "ok");
    struct fl_history *h = fl_history_new(0);
    assert_non_null(fl_history_add(h, 12, 4, FL_OK, "submit", "poll", "j1", "pending", NULL));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fl_jsonl_write_op(f, fl_history_get(h, 0)), 0);
    fclose(f);
    assert_string_equal(buf, "{\"index\":0,\"time_us\":12,\"process\":4,\"type\":\"ok\","
                             "\"source\":\"submit\",\"f\":\"poll\",\"key\":\"j1\","
                             "\"value\":\"pending\",\"error\":null}\n");
    free(buf);
    fl_history_free(h);
}

/* The history loader (another file) reads back exactly what we write. */
static void test_history_loader_round_trip(void **state)
{
    (void)state;
    struct fl_history *h = build();
    char path[64];
    FILE *f = write_all(h, path, sizeof path);
    fclose(f);
    struct fl_history *back = fl_history_new(0);
    struct fl_error err = {0};
    int rc = fl_history_load_jsonl(back, path, &err);
    if (rc)
        fail_msg("load: %s", err.msg);
    assert_int_equal(fl_history_len(back), NOPS);
    for (size_t i = 0; i < NOPS; i++) {
        const struct fl_op *a = fl_history_get(h, i), *b = fl_history_get(back, i);
        assert_int_equal(a->time_us, b->time_us);
        assert_int_equal(a->process, b->process);
        assert_int_equal(a->type, b->type);
        const char *sa[] = {a->source, a->f, a->key, a->value, a->error};
        const char *sb[] = {b->source, b->f, b->key, b->value, b->error};
        for (size_t k = 0; k < 5; k++) {
            if (!sa[k]) {
                assert_null(sb[k]);
                continue;
            }
            char *want = fl_sanitize(sa[k], 0, FL_SAN_KEEP_CTRL);
            assert_non_null(sb[k]);
            assert_string_equal(sb[k], want);
            free(want);
        }
    }
    unlink(path);
    fl_history_free(back);
    fl_history_free(h);
}

static void test_write_errors(void **state)
{
    (void)state;
    struct fl_history *h = build();
    assert_int_equal(fl_jsonl_write_op(NULL, fl_history_get(h, 0)), FL_EINVAL);
    assert_int_equal(fl_jsonl_write_op(stdout, NULL), FL_EINVAL);
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_int_equal(fl_jsonl_write_op(ro, fl_history_get(h, 1)), FL_EIO);
    fclose(ro);
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        setvbuf(full, NULL, _IONBF, 0);
        assert_int_equal(fl_jsonl_write_op(full, fl_history_get(h, 1)), FL_EIO);
        fclose(full);
    }
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_round_trip),
        cmocka_unit_test(test_exact_line),
        cmocka_unit_test(test_history_loader_round_trip),
        cmocka_unit_test(test_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
