/* test_sanitize.c - the string sanitizer every report writer relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/sanitize.h"
#include "base/error.h"
#include "base/util.h"

#define FFFD "\xEF\xBF\xBD"

/* Whether s is valid UTF-8 without control characters (\t \n \r aside). */
static int clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t cp;
        int k = fl_utf8_decode(p, n, &cp);
        if (k < 0)
            return 0;
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
            (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
            return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

static void expect(const char *in, size_t max, unsigned flags, const char *want)
{
    char *got = fl_sanitize(in, max, flags);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_decode(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(fl_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    /* invalid: lone continuation, bad lead, overlong, surrogate, too big,
     * truncated (maximal subpart lengths) */
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\x80", 1, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xFF", 1, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xC0\xAF", 2, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xE0\x80\x80", 3, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &cp), -1);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xE2\x82", 2, &cp), -2);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xE2\x82Z", 3, &cp), -2);
    assert_int_equal(fl_utf8_decode((const unsigned char *)"\xF0\x9F\x98", 3, &cp), -3);
}

static void test_passthrough(void **state)
{
    (void)state;
    expect("hello, world", 0, 0, "hello, world");
    expect(NULL, 0, 0, "");
    expect("", 0, 0, "");
    expect("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 0, 0, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    expect("a\tb\nc\r\nd", 0, 0, "a\tb\nc\r\nd");
    /* markup is the XML writer's job, not ours: it must arrive intact */
    expect("]]> <&>\"'", 0, 0, "]]> <&>\"'");
}

static void test_control_chars(void **state)
{
    (void)state;
    expect("a\x01" "b", 0, 0, "a" FFFD "b");
    expect("\x1b[31mred", 0, 0, FFFD "[31mred");
    expect("del\x7f", 0, 0, "del" FFFD);
    expect("c1\xC2\x85|\xC2\x9B", 0, 0, "c1" FFFD "|" FFFD);
    expect("nonchar\xEF\xBF\xBE\xEF\xBF\xBF", 0, 0, "nonchar" FFFD FFFD);
    /* KEEP_CTRL (for JSON) keeps them but still repairs UTF-8 */
    expect("a\x01\x7f" "b\xFF", 0, FL_SAN_KEEP_CTRL, "a\x01\x7f" "b" FFFD);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect("\xFF\xFE", 0, 0, FFFD FFFD);
    expect("x\xE2\x82", 0, 0, "x" FFFD);
    expect("x\xE2\x82y", 0, 0, "x" FFFD "y");
    expect("\xC0\xAF", 0, 0, FFFD FFFD);
    expect("\xED\xA0\x80", 0, 0, FFFD FFFD FFFD);
    expect("ok\xF0\x9F\x98", 0, 0, "ok" FFFD);
}

static void test_oneline_token(void **state)
{
    (void)state;
    expect("a\nb\tc\rd", 0, FL_SAN_ONELINE, "a b c d");
    expect("  two  spaces  ", 0, FL_SAN_ONELINE, "  two  spaces  ");
    expect("  a \n\t b  ", 0, FL_SAN_TOKEN, "a b");
    expect(" \t\n ", 0, FL_SAN_TOKEN, "");
    expect("lifecycle(submit)", 0, FL_SAN_TOKEN, "lifecycle(submit)");
    expect(" x\x01 y", 0, FL_SAN_TOKEN, "x" FFFD " y");
}

static void test_truncation(void **state)
{
    (void)state;
    size_t note = strlen(FL_SAN_TRUNCATED);
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *s = fl_sanitize(big, 1000, 0);
    assert_non_null(s);
    assert_int_equal(strlen(s), 1000);
    assert_string_equal(s + 1000 - note, FL_SAN_TRUNCATED);
    free(s);

    /* exactly max: no note */
    s = fl_sanitize(big + sizeof big - 1 - 1000, 1000, 0);
    assert_int_equal(strlen(s), 1000);
    assert_null(strstr(s, "truncated"));
    free(s);

    /* multi-byte characters are never cut in half */
    char wide[3001];
    for (size_t i = 0; i < 1500; i++)
        memcpy(wide + 2 * i, "\xC3\xA9", 2);
    wide[3000] = '\0';
    for (size_t max = note + 1; max < note + 8; max++) {
        s = fl_sanitize(wide, max, 0);
        assert_non_null(s);
        assert_true(strlen(s) <= max);
        assert_true(clean(s));
        assert_non_null(strstr(s, FL_SAN_TRUNCATED));
        free(s);
    }

    /* the cap counts output bytes: replacements grow the string */
    s = fl_sanitize("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01",
                    30, 0);
    assert_true(strlen(s) <= 30);
    assert_true(clean(s));
    free(s);
}

static void test_append_bounded_buffer(void **state)
{
    (void)state;
    struct fl_buf b;
    fl_buf_init(&b, 16);
    assert_int_equal(fl_sanitize_append(&b, "abc", 0, 0), 0);
    assert_int_equal(fl_sanitize_append(&b, "\x01", 0, 0), 0);
    assert_string_equal(fl_buf_str(&b), "abc" FFFD);
    /* past the buffer's own ceiling: an error, and still valid UTF-8 */
    assert_int_equal(fl_sanitize_append(&b, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 0, 0),
                     FL_ENOMEM);
    assert_true(b.len < 16);
    assert_true(clean(fl_buf_str(&b)));
    fl_buf_free(&b);
}

/* Random bytes never produce invalid output. */
static void test_random_bytes(void **state)
{
    (void)state;
    struct fl_rng rng;
    fl_rng_seed(&rng, 12345);
    char in[257];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t)fl_rng_below(&rng, 256);
        for (size_t i = 0; i < n; i++) {
            char c = (char)(fl_rng_below(&rng, 255) + 1);   /* no NUL */
            in[i] = c;
        }
        in[n] = '\0';
        unsigned flags = (unsigned)fl_rng_below(&rng, 4);
        size_t max = fl_rng_below(&rng, 2) ? 0 : (size_t)fl_rng_below(&rng, 300);
        char *s = fl_sanitize(in, max, flags);
        assert_non_null(s);
        assert_true(clean(s));
        if (max)
            assert_true(strlen(s) <= max);
        if (flags & FL_SAN_ONELINE)
            assert_null(strpbrk(s, "\t\n\r"));
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_control_chars),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_oneline_token),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_append_bounded_buffer),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
