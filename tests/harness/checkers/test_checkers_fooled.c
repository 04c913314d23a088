/* test_checkers_fooled.c - histories that try to fool lifecycle,
 * transitions, no_loss and agreement: accepted answers without a key, ops
 * invoked and never completed, answers that overlap, writes whose record
 * lost its element, replicas that stop answering. (Probe checkers:
 * test_checkers_recovers.c; ordinary cases: test_checkers*.c.) */
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

#include "support/checks.h"

static const char *const complete_only[] = {"complete"};
static const char *const order3[] = {"pending", "running", "complete"};

/* Main request of process proc: invoke, then ok with key (NULL: the
 * capture failed, as the runner records it). Returns the ok's index. */
static size_t accept(struct fl_history *h, int proc, const char *key, double t)
{
    fl_history_add(h, FL_T_S(t) - 20000, proc, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    return fl_history_add(h, FL_T_S(t), proc, FL_OK, "submit", FL_F_REQUEST, key, "202",
                          key ? NULL : "capture job: no value at /job_id")->index;
}

static size_t poll(struct fl_history *h, int proc, const char *key, double t, const char *value)
{
    fl_history_add(h, FL_T_S(t) - 10000, proc, FL_INVOKE, "submit", FL_F_POLL, key, NULL, NULL);
    return fl_history_add(h, FL_T_S(t), proc, FL_OK, "submit", FL_F_POLL, key, value, NULL)->index;
}

static struct fl_args lifecycle_args(void)
{
    struct fl_args a = fl_t_args("lifecycle");
    fl_t_arg_s(&a, "workload", "submit");
    fl_t_arg_list(&a, "terminal", complete_only, 1);
    fl_t_arg_ms(&a, "within", 30000);
    return a;
}

/* ---- lifecycle ------------------------------------------------------------- */

/* The blind spot: 15 requests accepted, 5 of them without a job id. Only
 * the 10 with an id were looked at, and all of those completed. */
static void test_lifecycle_accepted_without_key(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    size_t keyless[5], nk = 0;
    for (int i = 0; i < 15; i++) {
        char key[16];
        snprintf(key, sizeof key, "j%d", i);
        double t = 1.0 + i * 0.1;
        if (i % 3 == 2) {
            keyless[nk++] = accept(h, i, NULL, t);
            continue;
        }
        accept(h, i, key, t);
        poll(h, i, key, t + 0.5, "pending");
        poll(h, i, key, t + 1.0, "complete");
    }
    struct fl_args a = lifecycle_args();
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "5 accepted requests carried no job id, so their jobs could not be "
             "followed; the other 10 reached complete within 30s");
    assert_int_equal(v.ncex_total, 5);
    char key[32];
    snprintf(key, sizeof key, "submit#%zu", keyless[0]);
    const struct fl_cex *c = fl_t_cex_for(&v, key);
    fl_t_has(c->why, "accepted at 1.2s (202) but carried no job id: capture job: no value at /job_id");
    assert_true(fl_t_cex_has_op(c, keyless[0]));
    assert_true(fl_t_cex_has_op(c, keyless[0] - 1));   /* its invoke */
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Observation means answers. A poll that was invoked after the deadline
 * but never answered, or failed, says nothing about the job. */
static void test_lifecycle_unanswered_polls(void **state)
{
    (void)state;
    struct fl_args a = lifecycle_args();
    struct fl_history *h = fl_history_new(0);
    accept(h, 0, "j1", 1.0);
    poll(h, 0, "j1", 2.0, "pending");
    fl_history_add(h, FL_T_S(40.0), 0, FL_INVOKE, "submit", FL_F_POLL, "j1", NULL, NULL);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "last observed at 2.0s");
    fl_verdict_free(&v);
    fl_history_add(h, FL_T_S(41.0), 0, FL_FAIL, "submit", FL_F_POLL, "j1", NULL,
                   "connection refused");
    v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    /* an answer past the deadline that is still pending: stuck */
    poll(h, 0, "j1", 42.0, "pending");
    v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A "complete" that came with a timeout or a failure is no terminal
 * observation; requests without an answer are indeterminate. */
static void test_lifecycle_indeterminate(void **state)
{
    (void)state;
    struct fl_args a = lifecycle_args();
    struct fl_history *h = fl_history_new(0);
    accept(h, 0, "j1", 1.0);
    fl_history_add(h, FL_T_S(1.5), 0, FL_INFO, "submit", FL_F_POLL, "j1", "complete", "timeout");
    for (int i = 0; i < 20; i++)
        poll(h, 0, "j1", 2.0 + 2 * i, "pending");
    accept(h, 1, "j2", 1.0);
    poll(h, 1, "j2", 2.0, "complete");
    /* one request timed out, one was invoked and never completed */
    fl_history_add(h, FL_T_S(3.0), 2, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    fl_history_add(h, FL_T_S(8.0), 2, FL_INFO, "submit", FL_F_REQUEST, NULL, NULL, "timeout");
    fl_history_add(h, FL_T_S(4.0), 3, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(v.summary, "1 of 2 jobs accepted by submit never reached complete within 30s "
             "(2 requests got no answer: indeterminate, not judged)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Polls of a key whose acceptance is missing: the history lost ops. */
static void test_lifecycle_key_never_accepted(void **state)
{
    (void)state;
    struct fl_args a = lifecycle_args();
    struct fl_history *h = fl_history_new(0);
    accept(h, 0, "j1", 1.0);
    poll(h, 0, "j1", 2.0, "complete");
    poll(h, 1, "j2", 2.0, "pending");
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 more keys were polled whose acceptance is not in the history");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- transitions ----------------------------------------------------------- */

static struct fl_args transitions_args(void)
{
    struct fl_args a = fl_t_args("transitions");
    fl_t_arg_s(&a, "workload", "submit");
    fl_t_arg_list(&a, "order", order3, 3);
    return a;
}

/* Two overlapping polls may be served in either order: "pending"
 * answered after "running" is no step back when it was asked first. */
static void test_transitions_overlapping_polls(void **state)
{
    (void)state;
    struct fl_args a = transitions_args();
    struct fl_history *h = fl_history_new(0);
    accept(h, 0, "j1", 1.0);
    fl_history_add(h, FL_T_S(1.1), 0, FL_INVOKE, "submit", FL_F_POLL, "j1", NULL, NULL);
    fl_history_add(h, FL_T_S(1.2), 7, FL_INVOKE, "submit", FL_F_POLL, "j1", NULL, NULL);
    fl_history_add(h, FL_T_S(1.3), 7, FL_OK, "submit", FL_F_POLL, "j1", "running", NULL);
    fl_history_add(h, FL_T_S(1.4), 0, FL_OK, "submit", FL_F_POLL, "j1", "pending", NULL);
    poll(h, 0, "j1", 2.0, "complete");
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_verdict_free(&v);

    /* a poll invoked after "running" was answered must not say pending */
    poll(h, 0, "j1", 2.5, "pending");
    v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "j1")->why, "complete@2.0s -> pending@2.5s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* Polls that observed nothing (never completed, failed, timed out) are
 * no values; keys never polled are named in the summary. */
static void test_transitions_unanswered(void **state)
{
    (void)state;
    struct fl_args a = transitions_args();
    struct fl_history *h = fl_history_new(0);
    accept(h, 0, "j1", 1.0);
    poll(h, 0, "j1", 1.5, "running");
    fl_history_add(h, FL_T_S(1.6), 0, FL_INVOKE, "submit", FL_F_POLL, "j1", NULL, NULL);
    fl_history_add(h, FL_T_S(1.8), 0, FL_FAIL, "submit", FL_F_POLL, "j1", "pending", "refused");
    fl_history_add(h, FL_T_S(1.9), 0, FL_INVOKE, "submit", FL_F_POLL, "j1", NULL, NULL);
    accept(h, 1, "j2", 1.0);
    fl_history_add(h, FL_T_S(1.5), 1, FL_INFO, "submit", FL_F_POLL, "j2", NULL, "timeout");
    struct fl_verdict v = fl_t_run("transitions", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 1 keys followed by submit moved forward along pending -> running "
             "-> complete (1 more accepted keys were never polled successfully)");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- no_loss ---------------------------------------------------------------- */

static void write_op(struct fl_history *h, int proc, const char *elem, double t,
                     enum fl_optype done)
{
    fl_history_add(h, FL_T_S(t) - 10000, proc, FL_INVOKE, "writes", FL_F_WRITE, "set", elem, NULL);
    if (done != FL_INVOKE)
        fl_history_add(h, FL_T_S(t), proc, done, "writes", FL_F_WRITE, "set", elem, NULL);
}

static void final_read(struct fl_history *h, double t, enum fl_optype type, const char *json)
{
    fl_history_add(h, FL_T_S(t) - 100000, 99, FL_INVOKE, "writes", FL_F_READ, "set", NULL, NULL);
    fl_history_add(h, FL_T_S(t), 99, type, "writes", FL_F_READ, "set", json, NULL);
}

static struct fl_verdict run_no_loss(const struct fl_history *h)
{
    struct fl_args a = fl_t_args("no_loss");
    fl_t_arg_s(&a, "workload", "writes");
    return fl_t_run("no_loss", h, &a);
}

static void test_no_loss_fooled(void **state)
{
    (void)state;
    /* an acknowledged write whose records lost the element: not checkable */
    struct fl_history *h = fl_history_new(0);
    write_op(h, 0, "a", 1.0, FL_OK);
    fl_history_add(h, FL_T_S(1.5), 1, FL_INVOKE, "writes", FL_F_WRITE, "set", NULL, NULL);
    fl_history_add(h, FL_T_S(1.6), 1, FL_OK, "writes", FL_F_WRITE, "set", NULL, NULL);
    final_read(h, 5.0, FL_OK, "[\"a\"]");
    struct fl_verdict v = run_no_loss(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 acknowledged write names no key or element and cannot be checked");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* invoked, never completed: unknown, never acknowledged, so its
     * absence is no loss */
    h = fl_history_new(0);
    write_op(h, 0, "a", 1.0, FL_OK);
    write_op(h, 1, "b", 1.5, FL_INVOKE);
    final_read(h, 5.0, FL_OK, "[\"a\"]");
    v = run_no_loss(h);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "1 unknown: 0 recovered, 1 absent");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* the final read timed out: nothing to compare with */
    h = fl_history_new(0);
    write_op(h, 0, "a", 1.0, FL_OK);
    final_read(h, 5.0, FL_INFO, NULL);
    v = run_no_loss(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "no final read by writes");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* ---- agreement --------------------------------------------------------------- */

static void store_sample(struct fl_history *h, const char *rep, double t, enum fl_optype type,
                         const char *value)
{
    fl_history_add(h, FL_T_S(t), FL_PROC_PROBE, type, "store", FL_F_PROBE, rep, value, NULL);
}

static struct fl_verdict run_agreement(const struct fl_history *h)
{
    struct fl_args a = fl_t_args("agreement");
    fl_t_arg_s(&a, "probe", "store");
    fl_t_arg_ms(&a, "within", 2000);
    return fl_t_run("agreement", h, &a);
}

static void test_agreement_fooled(void **state)
{
    (void)state;
    /* a replica that stops answering keeps the value it last reported:
     * failures, timeouts, unanswered invokes and keyless samples do not
     * end a split */
    struct fl_history *h = fl_history_new(0);
    for (int k = 0; k <= 20; k++) {
        double t = k * 0.5;
        store_sample(h, "api.0", t, FL_OK, "redis");
        store_sample(h, "api.1", t + 0.01, k < 4 ? FL_OK : FL_FAIL, k < 2 ? "redis" : "file");
        store_sample(h, NULL, t + 0.02, FL_OK, "redis");
    }
    fl_history_add(h, FL_T_S(10.2), FL_PROC_PROBE, FL_INVOKE, "store", FL_F_PROBE, "api.1", NULL, NULL);
    struct fl_verdict v = run_agreement(h);
    assert_int_equal(v.validity, FL_INVALID);
    fl_t_has(fl_t_cex_for(&v, "api.1")->why, "api.1 reported file while api.0 reported redis");
    fl_verdict_free(&v);
    fl_history_free(h);

    /* only one replica ever answered: nothing was compared */
    h = fl_history_new(0);
    for (int k = 0; k <= 20; k++) {
        store_sample(h, "api.0", k * 0.5, FL_OK, "redis");
        store_sample(h, "api.1", k * 0.5, FL_FAIL, NULL);
    }
    v = run_agreement(h);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "only one replica of store reported");
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_accepted_without_key),
        cmocka_unit_test(test_lifecycle_unanswered_polls),
        cmocka_unit_test(test_lifecycle_indeterminate),
        cmocka_unit_test(test_lifecycle_key_never_accepted),
        cmocka_unit_test(test_transitions_overlapping_polls),
        cmocka_unit_test(test_transitions_unanswered),
        cmocka_unit_test(test_no_loss_fooled),
        cmocka_unit_test(test_agreement_fooled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
