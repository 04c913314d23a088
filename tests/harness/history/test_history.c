/* test_history.c - the op log: interning, limits, sink, JSON lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "checkers/checker.h"
#include "base/error.h"
#include "history/history.h"

static void test_add_and_get(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    assert_non_null(h);
    assert_int_equal(fl_history_len(h), 0);
    assert_null(fl_history_get(h, 0));
    const struct fl_op *a = fl_history_add(h, 100, 3, FL_INVOKE, "submit", "request",
                                           NULL, NULL, NULL);
    const struct fl_op *b = fl_history_add(h, 250, 3, FL_OK, "submit", "request",
                                           "j1", "202", NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(fl_history_len(h), 2);
    assert_int_equal(a->index, 0);
    assert_int_equal(b->index, 1);
    assert_ptr_equal(fl_history_get(h, 1), b);
    assert_int_equal(b->time_us, 250);
    assert_int_equal(b->process, 3);
    assert_int_equal(b->type, FL_OK);
    assert_string_equal(b->key, "j1");
    assert_string_equal(b->value, "202");
    assert_null(b->error);
    assert_null(a->key);
    assert_null(fl_history_get(h, 2));
    fl_history_free(h);
}

static void test_interning(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    char src[16], key[16];
    snprintf(src, sizeof src, "%s", "submit");
    snprintf(key, sizeof key, "%s", "job-1");
    const struct fl_op *a = fl_history_add(h, 1, 0, FL_OK, src, "poll", key, "pending", NULL);
    /* the caller's buffers change: the history kept its own copies */
    snprintf(src, sizeof src, "%s", "other");
    snprintf(key, sizeof key, "%s", "job-2");
    const struct fl_op *b = fl_history_add(h, 2, 0, FL_OK, "submit", "poll", "job-1",
                                           "pending", NULL);
    assert_string_equal(a->source, "submit");
    assert_string_equal(a->key, "job-1");
    assert_ptr_equal(a->source, b->source);
    assert_ptr_equal(a->f, b->f);
    assert_ptr_equal(a->key, b->key);
    assert_ptr_equal(a->value, b->value);
    assert_ptr_not_equal(a->source, (const char *)src);
    assert_ptr_equal(fl_history_intern(h, "pending"), a->value);
    assert_null(fl_history_intern(h, NULL));
    const char *x = fl_history_intern(h, "fresh");
    assert_string_equal(x, "fresh");
    assert_ptr_equal(fl_history_intern(h, "fresh"), x);
    assert_ptr_not_equal(fl_history_intern(h, "fresh2"), x);

    /* many distinct strings: the table grows and every pointer survives */
    const char *first[5000];
    for (int i = 0; i < 5000; i++) {
        char s[32];
        snprintf(s, sizeof s, "key-%d", i);
        first[i] = fl_history_intern(h, s);
        assert_non_null(first[i]);
    }
    for (int i = 0; i < 5000; i++) {
        char s[32];
        snprintf(s, sizeof s, "key-%d", i);
        assert_ptr_equal(fl_history_intern(h, s), first[i]);
        assert_string_equal(first[i], s);
    }
    /* a long string (own arena chunk) interns too */
    char *big = malloc(100000);
    memset(big, 'x', 99999);
    big[99999] = '\0';
    const char *bi = fl_history_intern(h, big);
    assert_string_equal(bi, big);
    assert_ptr_equal(fl_history_intern(h, big), bi);
    assert_ptr_equal(fl_history_intern(h, "key-42"), first[42]);
    free(big);
    fl_history_free(h);
}

static void test_limit_and_drop(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(3);
    for (int i = 0; i < 5; i++) {
        const struct fl_op *op = fl_history_add(h, i, 0, FL_OK, "p", "probe", NULL, "200", NULL);
        if (i < 3)
            assert_non_null(op);
        else
            assert_null(op);
    }
    assert_int_equal(fl_history_len(h), 3);
    assert_int_equal(fl_history_dropped(h), 2);
    fl_history_free(h);
}

static void test_pointers_stable(void **state)
{
    (void)state;
    /* more ops than one storage block: earlier op pointers stay valid */
    struct fl_history *h = fl_history_new(0);
    const struct fl_op *first = fl_history_add(h, 0, 0, FL_OK, "s", "f", "k0", NULL, NULL);
    for (int i = 1; i < 100000; i++)
        assert_non_null(fl_history_add(h, i, 0, FL_OK, "s", "f", NULL, NULL, NULL));
    assert_ptr_equal(fl_history_get(h, 0), first);
    assert_string_equal(first->key, "k0");
    assert_int_equal(fl_history_get(h, 99999)->time_us, 99999);
    assert_int_equal(fl_history_get(h, 77777)->index, 77777);
    fl_history_free(h);
}

struct sink_log {
    size_t n;
    const struct fl_op *last;
    uint64_t indexes[8];
};

static void sink(void *ud, const struct fl_op *op)
{
    struct sink_log *l = ud;
    if (l->n < 8)
        l->indexes[l->n] = op->index;
    l->n++;
    l->last = op;
}

static void test_sink(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(2);
    struct sink_log log = {0};
    fl_history_set_sink(h, sink, &log);
    const struct fl_op *a = fl_history_add(h, 1, 0, FL_INVOKE, "w", "request", NULL, NULL, NULL);
    assert_int_equal(log.n, 1);
    assert_ptr_equal(log.last, a);
    const struct fl_op *b = fl_history_add(h, 2, 0, FL_OK, "w", "request", "k", "202", NULL);
    assert_int_equal(log.n, 2);
    assert_ptr_equal(log.last, b);
    assert_int_equal(log.indexes[1], 1);
    /* a dropped op is not streamed */
    assert_null(fl_history_add(h, 3, 0, FL_OK, "w", "request", "k", "202", NULL));
    assert_int_equal(log.n, 2);
    fl_history_free(h);
}

/* The writer of the --events format, same field names as reports/jsonl.c. */
static void write_op(FILE *f, const struct fl_op *op)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)op->index));
    json_object_set_new(o, "time_us", json_integer(op->time_us));
    json_object_set_new(o, "process", json_integer(op->process));
    json_object_set_new(o, "type", json_string(fl_optype_name(op->type)));
    json_object_set_new(o, "source", json_string(op->source));
    json_object_set_new(o, "f", json_string(op->f));
    json_object_set_new(o, "key", op->key ? json_string(op->key) : json_null());
    json_object_set_new(o, "value", op->value ? json_string(op->value) : json_null());
    json_object_set_new(o, "error", op->error ? json_string(op->error) : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    fprintf(f, "%s\n", s);
    free(s);
    json_decref(o);
}

static char *temp_path(void)
{
    char *p = strdup("/tmp/fl_test_history_XXXXXX");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_jsonl_round_trip(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    fl_history_add(h, 0, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, "phase", NULL, "steady", NULL);
    fl_history_add(h, 1000, 7, FL_INVOKE, "submit", "request", NULL, NULL, NULL);
    fl_history_add(h, 2500, 7, FL_OK, "submit", "request", "j1", "202", NULL);
    fl_history_add(h, 3000, 7, FL_INFO, "submit", "poll", "j1", NULL, "timeout after 5s");
    fl_history_add(h, 4000, 7, FL_FAIL, "submit", "poll", "j1", "http:404", "quote \" and \\ and\nnewline");
    fl_history_add(h, 5000, FL_PROC_FAULT + 1, FL_OK, "process.kill", "fault", "api-1", "SIGKILL api-1 (pid 42)", NULL);
    fl_history_add(h, 6000, FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "h\xc3\xa9llo", NULL);
    char *path = temp_path();
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < fl_history_len(h); i++)
        write_op(f, fl_history_get(h, i));
    fputs("\n", f);   /* a blank line is skipped */
    fclose(f);

    struct fl_history *g = fl_history_new(0);
    struct fl_error err = {0};
    assert_int_equal(fl_history_load_jsonl(g, path, &err), 0);
    assert_int_equal(fl_history_len(g), fl_history_len(h));
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *a = fl_history_get(h, i), *b = fl_history_get(g, i);
        assert_int_equal(a->index, b->index);
        assert_int_equal(a->time_us, b->time_us);
        assert_int_equal(a->process, b->process);
        assert_int_equal(a->type, b->type);
        assert_string_equal(a->source, b->source);
        assert_string_equal(a->f, b->f);
        assert_true(same_str(a->key, b->key));
        assert_true(same_str(a->value, b->value));
        assert_true(same_str(a->error, b->error));
    }
    /* loaded strings are interned like live ones */
    assert_ptr_equal(fl_history_get(g, 2)->key, fl_history_get(g, 3)->key);
    fl_history_free(g);
    fl_history_free(h);
    unlink(path);
    free(path);
}

static void test_optype_and_validity(void **state)
{
    (void)state;
    assert_string_equal(fl_optype_name(FL_INVOKE), "invoke");
    assert_string_equal(fl_optype_name(FL_OK), "ok");
    assert_string_equal(fl_optype_name(FL_FAIL), "fail");
    assert_string_equal(fl_optype_name(FL_INFO), "info");
    assert_int_equal(fl_validity_combine(FL_VALID, FL_VALID), FL_VALID);
    assert_int_equal(fl_validity_combine(FL_VALID, FL_UNKNOWN), FL_UNKNOWN);
    assert_int_equal(fl_validity_combine(FL_UNKNOWN, FL_VALID), FL_UNKNOWN);
    assert_int_equal(fl_validity_combine(FL_UNKNOWN, FL_INVALID), FL_INVALID);
    assert_int_equal(fl_validity_combine(FL_INVALID, FL_VALID), FL_INVALID);
    assert_int_equal(fl_validity_combine(FL_INVALID, FL_UNKNOWN), FL_INVALID);
    assert_string_equal(fl_validity_name(FL_VALID), "valid");
    assert_string_equal(fl_validity_name(FL_UNKNOWN), "unknown");
    assert_string_equal(fl_validity_name(FL_INVALID), "invalid");
}

static void test_verdict_helpers(void **state)
{
    (void)state;
    struct fl_verdict v = {0};
    assert_int_equal(fl_verdict_summary(&v, "%d of %d", 3, 120), 0);
    assert_string_equal(v.summary, "3 of 120");
    assert_int_equal(fl_verdict_summary(&v, "again %s", "x"), 0);
    assert_string_equal(v.summary, "again x");
    size_t ops[3] = {4, 9, 12};
    for (int i = 0; i < FL_MAX_CEX + 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(fl_verdict_add_cex(&v, key, "why", ops, 3), 0);
    }
    assert_int_equal(v.ncex, FL_MAX_CEX);
    assert_int_equal(v.ncex_total, FL_MAX_CEX + 10);
    assert_string_equal(v.cex[0].key, "k0");
    assert_int_equal(v.cex[1].nops, 3);
    assert_int_equal(v.cex[1].ops[2], 12);
    fl_verdict_free(&v);
    assert_null(v.summary);
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_get),
        cmocka_unit_test(test_interning),
        cmocka_unit_test(test_limit_and_drop),
        cmocka_unit_test(test_pointers_stable),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_jsonl_round_trip),
        cmocka_unit_test(test_optype_and_validity),
        cmocka_unit_test(test_verdict_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
