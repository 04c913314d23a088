/* test_checkers_retry.c - fresh_retry and unique_effects on hand-written
 * histories (valid, invalid, unknown, and ones that try to fool them), and
 * the key choice of retry.stale (fl_resend_candidates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "history/history.h"
#include "injectors/resend.h"

#include "support/checks.h"

#define SRC "retry.stale"
static const char *const final2[] = {"complete", "failed"};

static size_t op(struct fl_history *h, double t, enum fl_optype type, const char *f,
                 const char *key, const char *value)
{
    return fl_history_add(h, FL_T_S(t), 7, type, SRC, f, key, value, NULL)->index;
}

/* read before, one accepted retry (answer body), then polls. */
static void retry_chain(struct fl_history *h, const char *key, double t, const char *before,
                        const char *answer, const char *const *polls, size_t npolls)
{
    op(h, t, FL_INVOKE, "retry.read", key, NULL);
    if (before)
        op(h, t + 0.01, FL_OK, "retry.read", key, before);
    op(h, t + 0.02, FL_INVOKE, "retry", key, NULL);
    op(h, t + 0.03, FL_OK, "retry", key, answer);
    for (size_t i = 0; i < npolls; i++) {
        op(h, t + 0.1 * (double)(i + 1), FL_INVOKE, "retry.poll", key, NULL);
        op(h, t + 0.1 * (double)(i + 1) + 0.01, FL_OK, "retry.poll", key, polls[i]);
    }
}

static struct fl_verdict fresh(const struct fl_history *h)
{
    struct fl_args a = fl_t_args("fresh_retry");
    fl_t_arg_s(&a, "source", SRC);
    fl_t_arg_list(&a, "terminal", final2, 2);
    fl_t_arg_s(&a, "marker", "/attempts");
    fl_t_arg_s(&a, "status", "/status");
    return fl_t_run("fresh_retry", h, &a);
}

#define DONE1 "{\"status\":\"complete\",\"attempts\":1,\"output\":\"o1\"}"

static void test_fresh_valid(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"running\",\"attempts\":2}",
                           "{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 2);
    /* a copy refused as a duplicate, and noise from another source */
    op(h, 1.04, FL_FAIL, "retry", "j1", "http:409");
    fl_history_add(h, FL_T_S(1.5), 1, FL_OK, "submit", FL_F_POLL, "j1", "complete", NULL);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 1 retried jobs ran again");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* The incident: complete at once, old attempt and output. */
static void test_fresh_complete_at_once(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {DONE1};
    retry_chain(h, "j1", 1.0, DONE1, DONE1, polls, 1);
    const char *ok[] = {"{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j2", 2.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", ok, 1);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 2 retried jobs were not re-executed");
    const struct fl_cex *c = fl_t_cex_for(&v, "j1");
    fl_t_has(c->why, "at once");
    fl_t_has(c->why, "not re-executed");
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: the status goes back to pending, but nothing ran (marker unchanged). */
static void test_fresh_pending_but_same_marker(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"running\",\"attempts\":1}", DONE1};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 2);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "/attempts still 1");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: a new marker, but final in the very answer to the retry. */
static void test_fresh_new_marker_final_at_once(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"complete\",\"attempts\":2}", NULL, 0);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "at once");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: the marker only changes its JSON type (1 -> "1"): not a change. */
static void test_fresh_marker_type_change(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"complete\",\"attempts\":\"1\"}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 1);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: only a later, second retry looks fresh; the first is what counts. */
static void test_fresh_only_first_final_counts(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {DONE1, "{\"status\":\"pending\",\"attempts\":1}",
                           "{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 3);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A double click: two copies of one batch accepted ran the job twice. */
static void test_fresh_two_copies_accepted(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"running\",\"attempts\":2}",
                           "{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 2);
    size_t second = op(h, 1.05, FL_OK, "retry", "j1", "{\"status\":\"pending\",\"attempts\":1}");
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    const struct fl_cex *c = fl_t_cex_for(&v, "j1");
    fl_t_has(c->why, "2 copies of one retry were accepted");
    int has = 0;
    for (size_t i = 0; i < c->nops; i++)
        has |= c->ops[i] == second;
    assert_true(has);
    fl_t_ops_sorted(c);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* One copy accepted, but two new markers after it: it ran twice. */
static void test_fresh_two_markers(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"pending\",\"attempts\":1}",   /* the old one */
                           "{\"status\":\"running\",\"attempts\":2}",
                           "{\"status\":\"running\",\"attempts\":3}",
                           "{\"status\":\"complete\",\"attempts\":3}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 4);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "two executions after one retry: /attempts 2, then 3");
    fl_t_ops_sorted(fl_t_cex_for(&v, "j1"));
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling the other way: a later batch (after a new read) accepted again,
 * with its own new marker, is a second retry, not a double click. */
static void test_fresh_second_batch_is_not_a_duplicate(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"running\",\"attempts\":2}",
                           "{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 2);
    const char *again[] = {"{\"status\":\"complete\",\"attempts\":3}"};
    retry_chain(h, "j1", 3.0, "{\"status\":\"complete\",\"attempts\":2}",
                "{\"status\":\"pending\",\"attempts\":2}", again, 1);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_fresh_unknown(void **state)
{
    (void)state;
    /* never final again */
    struct fl_history *h = fl_history_new(0);
    const char *polls[] = {"{\"status\":\"running\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", polls, 1);
    struct fl_verdict v = fresh(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "no final status");
    fl_verdict_free(&v);
    fl_history_free(h);
    /* no read before the retry (it timed out) */
    h = fl_history_new(0);
    const char *fresh_polls[] = {"{\"status\":\"complete\",\"attempts\":2}"};
    retry_chain(h, "j1", 1.0, NULL, "{\"status\":\"pending\",\"attempts\":1}", fresh_polls, 1);
    v = fresh(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
    /* the marker is not in the final answer: cannot be judged, never valid */
    h = fl_history_new(0);
    const char *nomarker[] = {"{\"status\":\"complete\"}"};
    retry_chain(h, "j1", 1.0, DONE1, "{\"status\":\"pending\",\"attempts\":1}", nomarker, 1);
    v = fresh(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
    /* every copy refused: nothing retried, nothing judged */
    h = fl_history_new(0);
    op(h, 1.0, FL_OK, "retry.read", "j1", DONE1);
    op(h, 1.1, FL_FAIL, "retry", "j1", "http:409");
    v = fresh(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no retry");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- unique_effects ------------------------------------------------------ */

static void sample(struct fl_history *h, double t, enum fl_optype type, const char *value)
{
    fl_history_add(h, FL_T_S(t) - 10000, 1000000000, FL_INVOKE, "effects", FL_F_PROBE, NULL,
                   NULL, NULL);
    fl_history_add(h, FL_T_S(t), 1000000000, type, "effects", FL_F_PROBE, NULL, value, NULL);
}

static struct fl_verdict unique(const struct fl_history *h)
{
    struct fl_args a = fl_t_args("unique_effects");
    fl_t_arg_s(&a, "probe", "effects");
    fl_t_arg_s(&a, "request", "/request");
    return fl_t_run("unique_effects", h, &a);
}

static void test_unique_valid_growing_sink(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    /* the same effect seen in two snapshots of the sink is one effect */
    sample(h, 1.0, FL_OK, "[{\"request\":\"a/0\"}]");
    sample(h, 2.0, FL_OK, "[{\"request\":\"a/0\"},{\"request\":\"a/1\",\"attempt\":2}]");
    sample(h, 2.5, FL_FAIL, "http:503");
    /* 1 and "1" are two requests; members in another order are one id */
    sample(h, 3.0, FL_OK, "[{\"request\":\"a/0\"},{\"request\":1},{\"request\":\"1\"},"
                          "{\"request\":{\"x\":1,\"y\":2}}]");
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_unique_duplicate(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, 1.0, FL_OK, "[{\"request\":\"a/0\",\"output\":\"x\"},{\"request\":\"a/0\","
                          "\"output\":\"y\"},{\"request\":{\"x\":1,\"y\":2}},"
                          "{\"request\":{\"y\":2,\"x\":1}}]");
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "2 requests");
    fl_t_has(fl_t_cex_for(&v, "\"a/0\"")->why, "2 effects");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: the sink was trimmed later; the duplicate was visible once. */
static void test_unique_trimmed_sink(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, 1.0, FL_OK, "[{\"request\":\"a/0\"},{\"request\":\"a/0\"}]");
    sample(h, 2.0, FL_OK, "[{\"request\":\"b/0\"}]");
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Fooling: the sample that held the duplicate was too large for the probe
 * (ok, no value): not a pass. */
static void test_unique_unreadable_sample(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, 1.0, FL_OK, "[{\"request\":\"a/0\"}]");
    sample(h, 2.0, FL_OK, NULL);
    sample(h, 3.0, FL_OK, "[{\"request\":\"b/0\"}]");
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 sink samples of effects unreadable");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* More duplicated requests than counterexamples are kept, seen in two
 * snapshots: each is counted once. */
static void test_unique_many_duplicates(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t n = 1005, cap = n * 2 * 24 + 8, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    doc[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, cap - len, "%s{\"request\":%zu},{\"request\":%zu}",
                                i ? "," : "", i, i);
    snprintf(doc + len, cap - len, "]");
    sample(h, 1.0, FL_OK, doc);
    sample(h, 2.0, FL_OK, doc);
    free(doc);
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1005 requests");
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_unique_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    sample(h, 1.0, FL_FAIL, "http:503");
    struct fl_verdict v = unique(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
    /* records without an id cannot be counted: never valid */
    h = fl_history_new(0);
    sample(h, 1.0, FL_OK, "[{\"request\":\"a/0\"},{\"job\":\"a\"}]");
    v = unique(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
    /* not an array */
    h = fl_history_new(0);
    sample(h, 1.0, FL_OK, "{\"request\":\"a/0\"}");
    v = unique(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- retry.stale's choice of keys ---------------------------------------- */

static size_t candidates(const struct fl_history *h, const char *workload,
                         const char *const *st, size_t nst, const char **out, size_t max)
{
    size_t n = 99;
    assert_int_equal(fl_resend_candidates(h, workload, st, nst, out, max, &n), 0);
    return n;
}

static void test_resend_candidates(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    fl_history_add(h, 1, 1, FL_OK, "submit", FL_F_REQUEST, "a", "202", NULL);
    fl_history_add(h, 2, 2, FL_OK, "submit", FL_F_REQUEST, "b", "202", NULL);
    fl_history_add(h, 3, 3, FL_OK, "submit", FL_F_REQUEST, "c", "202", NULL);
    fl_history_add(h, 4, 9, FL_OK, "other", FL_F_REQUEST, "d", "202", NULL);
    fl_history_add(h, 5, 1, FL_OK, "submit", FL_F_POLL, "a", "complete", NULL);
    fl_history_add(h, 6, 2, FL_OK, "submit", FL_F_POLL, "b", "complete", NULL);
    fl_history_add(h, 7, 2, FL_OK, "submit", FL_F_POLL, "b", "failed", NULL);
    fl_history_add(h, 8, 3, FL_OK, "submit", FL_F_POLL, "c", "running", NULL);
    fl_history_add(h, 9, 9, FL_OK, "other", FL_F_POLL, "d", "complete", NULL);
    const char *out[4];
    const char *const done[] = {"complete"};
    assert_int_equal(candidates(h, "submit", done, 1, out, 4), 1);
    assert_string_equal(out[0], "a");
    const char *const final[] = {"complete", "failed"};
    assert_int_equal(candidates(h, "submit", final, 2, out, 4), 2);
    assert_string_equal(out[1], "b");
    assert_int_equal(candidates(h, "submit", NULL, 0, out, 4), 3);
    assert_int_equal(candidates(h, "submit", NULL, 0, out, 2), 2);
    /* a key accepted twice is chosen once; a poll before a request does
     * not count for it (e was polled complete, then accepted again) */
    fl_history_add(h, 10, 4, FL_OK, "submit", FL_F_POLL, "e", "complete", NULL);
    fl_history_add(h, 11, 4, FL_OK, "submit", FL_F_REQUEST, "e", "202", NULL);
    fl_history_add(h, 12, 1, FL_OK, "submit", FL_F_REQUEST, "a", "202", NULL);
    assert_int_equal(candidates(h, "submit", done, 1, out, 4), 1);
    assert_string_equal(out[0], "a");
    assert_int_equal(candidates(h, "submit", NULL, 0, out, 4), 4);
    assert_string_equal(out[3], "e");
    fl_history_free(h);

    /* many keys (the search was O(requests x history)): the last of 20000
     * is found */
    h = fl_history_new(0);
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        fl_history_add(h, 2 * i, 1, FL_OK, "submit", FL_F_REQUEST, key, "202", NULL);
        fl_history_add(h, 2 * i + 1, 1, FL_OK, "submit", FL_F_POLL, key,
                       i == 19999 ? "complete" : "running", NULL);
    }
    assert_int_equal(candidates(h, "submit", done, 1, out, 4), 1);
    assert_string_equal(out[0], "k19999");
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_valid),
        cmocka_unit_test(test_fresh_complete_at_once),
        cmocka_unit_test(test_fresh_pending_but_same_marker),
        cmocka_unit_test(test_fresh_new_marker_final_at_once),
        cmocka_unit_test(test_fresh_marker_type_change),
        cmocka_unit_test(test_fresh_only_first_final_counts),
        cmocka_unit_test(test_fresh_two_copies_accepted),
        cmocka_unit_test(test_fresh_two_markers),
        cmocka_unit_test(test_fresh_second_batch_is_not_a_duplicate),
        cmocka_unit_test(test_fresh_unknown),
        cmocka_unit_test(test_unique_valid_growing_sink),
        cmocka_unit_test(test_unique_duplicate),
        cmocka_unit_test(test_unique_trimmed_sink),
        cmocka_unit_test(test_unique_unreadable_sample),
        cmocka_unit_test(test_unique_many_duplicates),
        cmocka_unit_test(test_unique_unknown),
        cmocka_unit_test(test_resend_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
