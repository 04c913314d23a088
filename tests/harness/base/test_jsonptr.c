/* test_jsonptr.c - RFC 6901 resolver, with the RFC's own examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/jsonptr.h"

/* RFC 6901 section 5 example document. */
static const char *rfc_doc =
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3,"
    " \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8}";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);
    assert_non_null(doc);
    return doc;
}

/* Resolve ptr and return its rendering (static buffer per call site). */
static int render_at(json_t *doc, const char *ptr, char *out, size_t outlen)
{
    json_t *v = NULL;
    struct fl_error err = {0};
    int rc = fl_jsonptr_get(doc, ptr, &v, &err);
    if (rc)
        return rc;
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    assert_int_equal(fl_jsonptr_render(v, &b), 0);
    snprintf(out, outlen, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return 0;
}

static void test_rfc_examples(void **state)
{
    (void)state;
    json_t *doc = load(rfc_doc);
    static const struct {
        const char *ptr, *want;
    } cases[] = {
        {"/foo", "[\"bar\",\"baz\"]"},
        {"/foo/0", "bar"},
        {"/foo/1", "baz"},
        {"/", "0"},
        {"/a~1b", "1"},
        {"/c%d", "2"},
        {"/e^f", "3"},
        {"/g|h", "4"},
        {"/i\\j", "5"},
        {"/k\"l", "6"},
        {"/ ", "7"},
        {"/m~0n", "8"},
    };
    char got[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(render_at(doc, cases[i].ptr, got, sizeof got), 0);
        assert_string_equal(got, cases[i].want);
    }
    /* "" is the whole document: same object, not a copy. */
    json_t *v = NULL;
    assert_int_equal(fl_jsonptr_get(doc, "", &v, NULL), 0);
    assert_ptr_equal(v, doc);
    json_decref(doc);
}

static void test_escape_order(void **state)
{
    (void)state;
    /* "~01" must decode to "~1" (not "/"): ~0 is replaced after ~1. */
    json_t *doc = load("{\"~1\": \"tilde-one\", \"/\": \"slash\", \"~\": \"tilde\"}");
    char got[64];
    assert_int_equal(render_at(doc, "/~01", got, sizeof got), 0);
    assert_string_equal(got, "tilde-one");
    assert_int_equal(render_at(doc, "/~1", got, sizeof got), 0);
    assert_string_equal(got, "slash");
    assert_int_equal(render_at(doc, "/~0", got, sizeof got), 0);
    assert_string_equal(got, "tilde");
    json_decref(doc);
}

static void test_missing_and_bad(void **state)
{
    (void)state;
    json_t *doc = load(rfc_doc);
    json_t *v = NULL;
    struct fl_error err = {0};
    assert_int_equal(fl_jsonptr_get(doc, "/nope", &v, &err), FL_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nope"));
    assert_int_equal(fl_jsonptr_get(doc, "/foo/2", &v, &err), FL_ENOTFOUND);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/-", &v, &err), FL_ENOTFOUND);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/01", &v, &err), FL_EINVAL);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/x", &v, &err), FL_EINVAL);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/", &v, &err), FL_EINVAL);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/99999999999999999999999", &v, &err),
                     FL_ENOTFOUND);
    assert_int_equal(fl_jsonptr_get(doc, "/foo/0/deeper", &v, &err), FL_ENOTFOUND);
    assert_int_equal(fl_jsonptr_get(doc, "foo", &v, &err), FL_EINVAL);
    assert_int_equal(fl_jsonptr_get(doc, "/m~2n", &v, &err), FL_EINVAL);
    assert_int_equal(fl_jsonptr_get(doc, "/m~", &v, &err), FL_EINVAL);
    /* Syntax is checked before walking: a bad escape behind a missing member
     * is still a syntax error. */
    assert_int_equal(fl_jsonptr_get(doc, "/nope/~x", &v, &err), FL_EINVAL);
    /* Member names are case-sensitive (cJSON's are not). */
    assert_int_equal(fl_jsonptr_get(doc, "/FOO", &v, &err), FL_ENOTFOUND);
    json_decref(doc);
}

static void test_render_and_lookup(void **state)
{
    (void)state;
    const char *body = "{\"s\":\"complete\",\"n\":42,\"f\":1.5,\"t\":true,\"z\":null,"
                       "\"o\":{\"a\":[1,2]},\"e\":\"\"}";
    static const struct {
        const char *ptr, *want;
    } cases[] = {
        {"/s", "complete"}, {"/n", "42"}, {"/f", "1.5"}, {"/t", "true"},
        {"/z", "null"}, {"/o", "{\"a\":[1,2]}"}, {"/o/a/1", "2"}, {"/e", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fl_buf b;
        fl_buf_init(&b, 1024);
        assert_int_equal(fl_jsonptr_lookup(body, strlen(body), cases[i].ptr, &b, NULL), 0);
        assert_string_equal(fl_buf_str(&b), cases[i].want);
        fl_buf_free(&b);
    }
    struct fl_buf b;
    fl_buf_init(&b, 1024);
    struct fl_error err = {0};
    assert_int_equal(fl_jsonptr_lookup("<html>", 6, "/s", &b, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, "not JSON"));
    assert_int_equal(fl_jsonptr_lookup(body, strlen(body), "/missing", &b, &err),
                     FL_ENOTFOUND);
    /* A bare scalar document is fine with "". */
    assert_int_equal(fl_jsonptr_lookup("\"x\"", 3, "", &b, NULL), 0);
    assert_string_equal(fl_buf_str(&b), "x");
    fl_buf_free(&b);
    /* The ceiling of the output buffer is honoured. */
    fl_buf_init(&b, 4);
    assert_int_equal(fl_jsonptr_lookup(body, strlen(body), "/s", &b, NULL), FL_ENOMEM);
    fl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_escape_order),
        cmocka_unit_test(test_missing_and_bad),
        cmocka_unit_test(test_render_and_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
