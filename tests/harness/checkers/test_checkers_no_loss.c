/* test_checkers_no_loss.c - no_loss (Jepsen's set checker) on hand-written
 * histories: valid, invalid and unknown, and against a reference on random
 * histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "checkers/no_loss.h"
#include "history/history.h"
#include "base/util.h"

#include "support/checks.h"

extern const struct fl_checker_type fl_checker_no_loss;

#define WL "writer"
#define PR "backend"

/* ---- no_loss -------------------------------------------------------------- */

struct w_ops {
    size_t inv, done;
};

/* One write of elem to key by process proc: invoke at t - 0.01s, then the
 * completion (ok/fail/info) at t. */
static struct w_ops write_op(struct fl_history *h, int proc, const char *key,
                             const char *elem, double t, enum fl_optype done)
{
    struct w_ops w;
    w.inv = fl_history_add(h, FL_T_S(t) - 10000, proc, FL_INVOKE, WL, FL_F_WRITE, key, elem,
                           NULL)->index;
    w.done = fl_history_add(h, FL_T_S(t), proc, done, WL, FL_F_WRITE, key, elem,
                            done == FL_OK ? NULL : "timeout")->index;
    return w;
}

/* The final read of key: invoke at t - 0.1s, ok at t. Returns the ok. */
static size_t read_op(struct fl_history *h, int proc, const char *key, double t,
                      const char *json)
{
    fl_history_add(h, FL_T_S(t) - 100000, proc, FL_INVOKE, WL, FL_F_READ, key, NULL, NULL);
    return fl_history_add(h, FL_T_S(t), proc, FL_OK, WL, FL_F_READ, key, json, NULL)->index;
}

static struct fl_verdict run_no_loss(const struct fl_history *h, const char *key)
{
    struct fl_args a = fl_t_args("no_loss");
    fl_t_arg(&a, "workload")->s = WL;
    if (key)
        fl_t_arg(&a, "key")->s = key;
    return fl_t_check(&fl_checker_no_loss, h, &a);
}

static struct fl_no_loss_counts counts(const struct fl_history *h, const char *key)
{
    struct fl_no_loss_counts n;
    assert_int_equal(fl_no_loss_count(h, WL, key, &n), 0);
    return n;
}

static void test_no_loss_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_OK);
    write_op(h, 1, "set", "b", 1.5, FL_OK);
    write_op(h, 0, "set", "c", 2.0, FL_OK);
    write_op(h, 1, "set", "d", 2.5, FL_INFO);   /* unknown, present: recovered */
    write_op(h, 0, "set", "e", 3.0, FL_INFO);   /* unknown, absent: indeterminate */
    write_op(h, 1, "set", "f", 3.5, FL_FAIL);   /* failed, absent: fine */
    write_op(h, 2, "set", "x", 3.6, FL_OK);
    /* noise the checker must ignore: another workload, a probe */
    fl_history_add(h, FL_T_S(3.7), 5, FL_OK, "other", FL_F_WRITE, "set", "zz", NULL);
    fl_history_add(h, FL_T_S(3.8), FL_PROC_PROBE, FL_OK, PR, FL_F_PROBE, "api.0", "redis", NULL);
    read_op(h, 9, "set", 10.0, "[\"c\", \"a\", \"d\", \"b\", \"x\", \"a\"]");
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_VALID);
    assert_string_equal(v.summary, "all 4 acknowledged writes are in the final read "
                        "(4 ok, 2 unknown: 1 recovered, 1 absent, 1 failed)");
    assert_int_equal(v.ncex, 0);
    struct fl_no_loss_counts n = counts(h, NULL);
    assert_int_equal(n.writes, 7);
    assert_int_equal(n.acknowledged, 4);
    assert_int_equal(n.lost, 0);
    assert_int_equal(n.recovered, 1);
    assert_int_equal(n.indeterminate, 1);
    assert_int_equal(n.failed, 1);
    assert_int_equal(n.read_elements, 5);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_no_loss_lost(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_OK);
    struct w_ops b = write_op(h, 1, "set", "b", 4.2, FL_OK);
    write_op(h, 0, "set", "c", 5.0, FL_OK);
    write_op(h, 1, "set", "d", 6.0, FL_INFO);
    size_t r = read_op(h, 9, "set", 25.0, "[\"a\", \"c\"]");
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    assert_string_equal(v.summary, "1 of 3 acknowledged writes lost "
                        "(3 ok, 1 unknown: 0 recovered, 1 absent)");
    assert_int_equal(v.ncex, 1);
    const struct fl_cex *c = fl_t_cex_for(&v, "b");
    assert_string_equal(c->why, "acknowledged at 4.2s, absent from the final read at 25.0s");
    assert_int_equal(c->nops, 3);
    assert_true(fl_t_cex_has_op(c, b.inv) && fl_t_cex_has_op(c, b.done) && fl_t_cex_has_op(c, r));
    fl_t_ops_sorted(c);
    assert_int_equal(counts(h, NULL).lost, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_no_loss_unexpected_and_failed_present(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_OK);
    write_op(h, 0, "set", "f", 2.0, FL_FAIL);   /* refused, yet present */
    size_t r = read_op(h, 9, "set", 25.0, "[\"a\", \"f\", \"ghost\"]");
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 element in the final read never written");
    fl_t_has(v.summary, "1 failed: 1 present anyway");
    const struct fl_cex *c = fl_t_cex_for(&v, "ghost");
    assert_string_equal(c->why, "present in the final read at 25.0s, never written");
    assert_int_equal(c->nops, 1);
    assert_int_equal(c->ops[0], r);
    assert_int_equal(v.ncex, 1);
    fl_verdict_free(&v);

    /* without the ghost: valid, and the failed write present is said */
    struct fl_history *h2 = fl_history_new(0);
    write_op(h2, 0, "set", "a", 1.0, FL_OK);
    write_op(h2, 0, "set", "f", 2.0, FL_FAIL);
    read_op(h2, 9, "set", 25.0, "[\"a\", \"f\"]");
    v = run_no_loss(h2, NULL);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "1 failed: 1 present anyway");
    struct fl_no_loss_counts n = counts(h2, NULL);
    assert_int_equal(n.recovered, 1);
    assert_int_equal(n.recovered_failed, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
    fl_history_free(h2);
}

static void test_no_loss_multiple_keys(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "k1", "a", 1.0, FL_OK);
    write_op(h, 1, "k2", "a", 1.1, FL_OK);     /* same element, other key */
    write_op(h, 0, "k1", "b", 1.2, FL_OK);
    struct w_ops c2 = write_op(h, 1, "k2", "c", 1.3, FL_OK);
    read_op(h, 9, "k1", 20.0, "[\"a\", \"b\"]");
    read_op(h, 9, "k2", 20.5, "[\"a\", \"b\"]");   /* c lost, b belongs to k1 */
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 4 acknowledged writes lost");
    fl_t_has(v.summary, "1 element in the final read never written");
    const struct fl_cex *c = fl_t_cex_for(&v, "c");
    assert_string_equal(c->why, "acknowledged at 1.3s, absent from the final read of k2 at 20.5s");
    assert_true(fl_t_cex_has_op(c, c2.done));
    fl_t_has(fl_t_cex_for(&v, "b")->why, "of k2");
    assert_int_equal(v.ncex, 2);
    fl_verdict_free(&v);
    /* key: only k1 counts, and it is fine */
    v = run_no_loss(h, "k1");
    assert_int_equal(v.validity, FL_VALID);
    assert_string_equal(v.summary, "all 2 acknowledged writes are in the final read (2 ok)");
    fl_verdict_free(&v);
    assert_int_equal(counts(h, "k2").lost, 1);
    assert_int_equal(counts(h, "k2").keys_read, 1);
    /* a key written to but never read leaves the verdict unknown */
    write_op(h, 0, "k3", "z", 2.0, FL_OK);
    v = run_no_loss(h, "k3");
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no final read");
    fl_verdict_free(&v);
    fl_history_free(h);

    h = fl_history_new(0);
    write_op(h, 0, "k1", "a", 1.0, FL_OK);
    write_op(h, 0, "k3", "z", 2.0, FL_OK);
    read_op(h, 9, "k1", 20.0, "[\"a\"]");
    v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_string_equal(v.summary, "1 of 2 writes unchecked; no final read of k3 (1 unchecked)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_no_loss_last_read_wins(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_OK);
    write_op(h, 0, "set", "b", 2.0, FL_OK);
    read_op(h, 9, "set", 10.0, "[\"a\"]");
    /* a failed read in between does not count */
    fl_history_add(h, FL_T_S(11.0), 9, FL_INVOKE, WL, FL_F_READ, "set", NULL, NULL);
    fl_history_add(h, FL_T_S(11.5), 9, FL_FAIL, WL, FL_F_READ, "set", NULL, "connection refused");
    read_op(h, 9, "set", 12.0, "[\"a\", \"b\"]");
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    /* the other way round: the later read misses b */
    read_op(h, 9, "set", 14.0, "[\"b\"]");
    v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    assert_string_equal(fl_t_cex_for(&v, "a")->why,
                        "acknowledged at 1.0s, absent from the final read at 14.0s");
    assert_int_equal(v.ncex, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_no_loss_bad_read(void **state)
{
    (void)state;
    static const struct {
        const char *json, *why;
    } cases[] = {
        {"not json", "unparsable JSON"},
        {"{\"a\": 1}", "not a JSON array"},
        {"\"a\"", "not a JSON array"},
        {"[\"a\", 2]", "element 1 is not a string"},
        {NULL, "unparsable JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fl_history *h = fl_history_new(0);
        write_op(h, 0, "set", "a", 1.0, FL_OK);
        write_op(h, 0, "set", "b", 2.0, FL_OK);
        read_op(h, 9, "set", 25.0, cases[i].json);
        struct fl_verdict v = run_no_loss(h, NULL);
        assert_int_equal(v.validity, FL_UNKNOWN);
        fl_t_has(v.summary, "2 of 2 writes unchecked; the final read of set at 25.0s is not a "
            "JSON array of strings: ");
        fl_t_has(v.summary, cases[i].why);
        assert_int_equal(v.ncex, 0);
        assert_int_equal(counts(h, NULL).bad_reads, 1);
        fl_verdict_free(&v);
        fl_history_free(h);
    }
}

static void test_no_loss_unknown_and_edges(void **state)
{
    (void)state;
    /* no read at all */
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_OK);
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_string_equal(v.summary, "no final read by writer (1 write unchecked)");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* every write unknown, none acknowledged: nothing to vouch for */
    h = fl_history_new(0);
    write_op(h, 0, "set", "a", 1.0, FL_INFO);
    read_op(h, 9, "set", 25.0, "[]");
    v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no acknowledged write");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* pairing by process; an invoke never completed is unknown; the element
     * may be on the completion only; a write acknowledged after the read
     * began is not judged */
    h = fl_history_new(0);
    fl_history_add(h, FL_T_S(1.0), 0, FL_INVOKE, WL, FL_F_WRITE, "set", "a", NULL);
    fl_history_add(h, FL_T_S(1.1), 1, FL_INVOKE, WL, FL_F_WRITE, "set", NULL, NULL);
    fl_history_add(h, FL_T_S(1.2), 2, FL_INVOKE, WL, FL_F_WRITE, "set", "c", NULL);
    fl_history_add(h, FL_T_S(1.3), 1, FL_OK, WL, FL_F_WRITE, "set", "b", NULL);
    fl_history_add(h, FL_T_S(1.4), 0, FL_OK, WL, FL_F_WRITE, NULL, NULL, NULL);
    fl_history_add(h, FL_T_S(9.8), 3, FL_INVOKE, WL, FL_F_WRITE, "set", "late", NULL);
    fl_history_add(h, FL_T_S(9.9), 9, FL_INVOKE, WL, FL_F_READ, "set", NULL, NULL);
    fl_history_add(h, FL_T_S(10.1), 3, FL_OK, WL, FL_F_WRITE, "set", "late", NULL);
    fl_history_add(h, FL_T_S(10.2), 9, FL_OK, WL, FL_F_READ, NULL, "[\"a\"]", NULL);
    v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    assert_string_equal(v.summary, "1 of 3 acknowledged writes lost (3 ok, 1 unknown: "
                        "0 recovered, 1 absent); 1 acknowledged after the final read began, "
                        "not judged");
    assert_non_null(fl_t_cex_for(&v, "b"));
    struct fl_no_loss_counts n = counts(h, NULL);
    assert_int_equal(n.late, 1);
    assert_int_equal(n.indeterminate, 1);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_no_loss_many_lost(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    char e[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(e, sizeof e, "e%d", i);
        write_op(h, i % 8, "set", e, 1.0 + i * 0.01, i % 75 == 0 ? FL_INFO : FL_OK);
    }
    /* the read keeps every element but the multiples of 7 */
    struct fl_buf b;
    fl_buf_init(&b, 1 << 20);
    fl_buf_adds(&b, "[");
    for (int i = 0; i < 1500; i++)
        if (i % 7)
            fl_buf_addf(&b, "%s\"e%d\"", b.len > 1 ? "," : "", i);
    fl_buf_adds(&b, "]");
    read_op(h, 9, "set", 30.0, fl_buf_str(&b));
    fl_buf_free(&b);
    /* independent count: multiples of 7 that were acknowledged */
    size_t lost = 0, ack = 0, recov = 0, absent = 0;
    for (int i = 0; i < 1500; i++) {
        int info = i % 75 == 0;
        ack += !info;
        lost += !info && i % 7 == 0;
        recov += info && i % 7 != 0;
        absent += info && i % 7 == 0;
    }
    struct fl_verdict v = run_no_loss(h, NULL);
    assert_int_equal(v.validity, FL_INVALID);
    char want[160];
    snprintf(want, sizeof want, "%zu of %zu acknowledged writes lost (%zu ok, 20 unknown: "
             "%zu recovered, %zu absent)", lost, ack, ack, recov, absent);
    assert_string_equal(v.summary, want);
    assert_int_equal(v.ncex, FL_MAX_CEX);
    assert_int_equal(v.ncex_total, lost);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Random writes and reads against a reference that is slow and plain: per
 * key, scan every write for every element. */
static void test_no_loss_random_vs_reference(void **state)
{
    (void)state;
    struct fl_rng rng;
    fl_rng_seed(&rng, 42);
    const char *keys[] = {"k0", "k1", "k2"};
    for (int round = 0; round < 30; round++) {
        struct fl_history *h = fl_history_new(0);
        int nw = 1 + (int)fl_rng_below(&rng, 200);
        enum fl_optype *type = malloc((size_t)nw * sizeof *type);
        int *key = malloc((size_t)nw * sizeof *key);
        int *in = malloc((size_t)nw * sizeof *in);
        assert_true(type && key && in);
        char e[32];
        for (int i = 0; i < nw; i++) {
            static const enum fl_optype t[] = {FL_OK, FL_OK, FL_OK, FL_FAIL, FL_INFO};
            type[i] = t[fl_rng_below(&rng, 5)];
            key[i] = (int)fl_rng_below(&rng, 3);
            in[i] = fl_rng_below(&rng, 10) < 8;
            snprintf(e, sizeof e, "x%d", i);
            write_op(h, (int)fl_rng_below(&rng, 6), keys[key[i]], e, 1.0 + i * 0.05, type[i]);
        }
        struct fl_no_loss_counts want;
        memset(&want, 0, sizeof want);
        for (int k = 0; k < 3; k++) {
            struct fl_buf b;
            fl_buf_init(&b, 1 << 20);
            fl_buf_adds(&b, "[");
            for (int i = 0; i < nw; i++) {
                if (key[i] != k || !in[i])
                    continue;
                fl_buf_addf(&b, "%s\"x%d\"", b.len > 1 ? "," : "", i);
                want.recovered += type[i] != FL_OK;
            }
            int ghosts = (int)fl_rng_below(&rng, 3);
            for (int g = 0; g < ghosts; g++)
                fl_buf_addf(&b, "%s\"ghost%d.%d\"", b.len > 1 ? "," : "", k, g);
            want.unexpected += (size_t)ghosts;
            fl_buf_adds(&b, "]");
            read_op(h, 9, keys[k], 100.0 + k, fl_buf_str(&b));
            fl_buf_free(&b);
        }
        for (int i = 0; i < nw; i++) {
            want.acknowledged += type[i] == FL_OK;
            want.lost += type[i] == FL_OK && !in[i];
            want.indeterminate += type[i] == FL_INFO && !in[i];
        }
        struct fl_no_loss_counts got = counts(h, NULL);
        assert_int_equal(got.writes, nw);
        assert_int_equal(got.acknowledged, want.acknowledged);
        assert_int_equal(got.lost, want.lost);
        assert_int_equal(got.unexpected, want.unexpected);
        assert_int_equal(got.recovered, want.recovered);
        assert_int_equal(got.indeterminate, want.indeterminate);
        struct fl_verdict v = run_no_loss(h, NULL);
        assert_int_equal(v.validity, want.lost || want.unexpected ? FL_INVALID
                         : want.acknowledged ? FL_VALID : FL_UNKNOWN);
        assert_int_equal(v.ncex_total, want.lost + want.unexpected);
        fl_verdict_free(&v);
        free(type);
        free(key);
        free(in);
        fl_history_free(h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss_valid),
        cmocka_unit_test(test_no_loss_lost),
        cmocka_unit_test(test_no_loss_unexpected_and_failed_present),
        cmocka_unit_test(test_no_loss_multiple_keys),
        cmocka_unit_test(test_no_loss_last_read_wins),
        cmocka_unit_test(test_no_loss_bad_read),
        cmocka_unit_test(test_no_loss_unknown_and_edges),
        cmocka_unit_test(test_no_loss_many_lost),
        cmocka_unit_test(test_no_loss_random_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
