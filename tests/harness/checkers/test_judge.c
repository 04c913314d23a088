/* test_judge.c - fl_judge: the rules every caller of a checker applies.
 * A history that lost ops is never judged as complete; a run with a
 * harness error is not checked; a checker that fails is unknown. */
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
#include "checkers/checker.h"
#include "history/history.h"

#include "support/checks.h"

static const char *const complete_only[] = {"complete"};

/* 10 jobs, each accepted and complete a second later. */
static void jobs(struct fl_history *h)
{
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "j%d", i);
        fl_history_add(h, FL_T_S(1 + i), i, FL_INVOKE, "submit", FL_F_REQUEST, NULL, NULL, NULL);
        fl_history_add(h, FL_T_S(1.1 + i), i, FL_OK, "submit", FL_F_REQUEST, key, "202", NULL);
        fl_history_add(h, FL_T_S(2 + i), i, FL_INVOKE, "submit", FL_F_POLL, key, NULL, NULL);
        fl_history_add(h, FL_T_S(2.1 + i), i, FL_OK, "submit", FL_F_POLL, key, "complete", NULL);
    }
}

static struct fl_args lifecycle_args(void)
{
    struct fl_args a = fl_t_args("lifecycle");
    fl_t_arg_s(&a, "workload", "submit");
    fl_t_arg_list(&a, "terminal", complete_only, 1);
    fl_t_arg_ms(&a, "within", 30000);
    return a;
}

/* Ops dropped at the history's limit: the checker alone sees a complete,
 * valid history; through fl_judge the verdict is unknown, with why. */
static void test_dropped_ops_make_unknown(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(28);
    jobs(h);
    assert_int_equal(fl_history_dropped(h), 12);
    const struct fl_checker_type *t = fl_checker_find("lifecycle");
    struct fl_args a = lifecycle_args();
    struct fl_verdict v = fl_t_check(t, h, &a);
    assert_int_equal(v.validity, FL_VALID);   /* what run_checkers used to report */
    fl_verdict_free(&v);

    struct fl_integrity in;
    fl_history_integrity(h, &in);
    assert_int_equal(in.complete, 0);
    assert_int_equal(fl_judge(t, &a, h, &in, NULL, &v), 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "the history is incomplete (12 ops were not recorded (the history's "
             "limit of 28 ops was reached, or memory ran out)); the recorded ops alone give "
             "valid: all 7 jobs accepted by submit reached complete within 30s");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A violation found in an incomplete history is unknown too (the lost
 * op may be the one that answers it), and keeps its counterexamples. */
static void test_incomplete_keeps_evidence(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    jobs(h);
    fl_history_add(h, FL_T_S(20), 20, FL_OK, "submit", FL_F_REQUEST, "late", "202", NULL);
    fl_history_add(h, FL_T_S(60), 20, FL_OK, "submit", FL_F_POLL, "late", "pending", NULL);
    struct fl_integrity in = {.complete = 0};
    snprintf(in.why, sizeof in.why, "events.jsonl stops before the run's final record");
    struct fl_args a = lifecycle_args();
    struct fl_verdict v;
    assert_int_equal(fl_judge(fl_checker_find("lifecycle"), &a, h, &in, NULL, &v), 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "the history is incomplete (events.jsonl stops before the run's final "
             "record); the recorded ops alone give invalid: 1 of 11 jobs");
    fl_t_cex_for(&v, "late");
    fl_verdict_free(&v);

    /* complete: the checker's verdict stands */
    in.complete = 1;
    assert_int_equal(fl_judge(fl_checker_find("lifecycle"), &a, h, &in, NULL, &v), 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    assert_int_equal(fl_judge(fl_checker_find("lifecycle"), &a, h, NULL, NULL, &v), 0);
    assert_int_equal(v.validity, FL_INVALID);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static void test_harness_error_not_checked(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    jobs(h);
    struct fl_args a = lifecycle_args();
    struct fl_verdict v;
    assert_int_equal(fl_judge(fl_checker_find("lifecycle"), &a, h, NULL,
                              "service api never became ready", &v), 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_string_equal(v.summary, "not checked: the run did not complete (service api never "
                        "became ready)");
    assert_int_equal(v.ncex, 0);
    fl_verdict_free(&v);
    fl_history_free(h);
}

static int failing_check(const struct fl_history *h, const struct fl_args *args,
                         struct fl_verdict *out)
{
    (void)h;
    (void)args;
    out->validity = FL_VALID;
    fl_verdict_summary(out, "half done");
    return FL_ENOMEM;
}

static void test_checker_failure(void **state)
{
    (void)state;
    static const struct fl_checker_type broken = {.name = "broken", .check = failing_check};
    struct fl_history *h = fl_history_new(0);
    struct fl_args a = {0};
    struct fl_verdict v;
    assert_int_equal(fl_judge(&broken, &a, h, NULL, NULL, &v), 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_string_equal(v.summary, "checker failed: ENOMEM");
    fl_verdict_free(&v);
    fl_history_free(h);
}

/* A recording with a lost line, loaded from a file: every checker's
 * verdict becomes unknown, even one the lost line could not affect. */
static void test_lost_line_in_file(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/fl_test_judge_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    /* op 2 (the poll's invoke) is missing */
    fputs("{\"index\":0,\"time_us\":1000000,\"process\":0,\"type\":\"invoke\",\"source\":\"submit\",\"f\":\"request\"}\n"
          "{\"index\":1,\"time_us\":1100000,\"process\":0,\"type\":\"ok\",\"source\":\"submit\",\"f\":\"request\",\"key\":\"j1\",\"value\":\"202\"}\n"
          "{\"index\":3,\"time_us\":2100000,\"process\":0,\"type\":\"ok\",\"source\":\"submit\",\"f\":\"poll\",\"key\":\"j1\",\"value\":\"complete\"}\n"
          "{\"index\":4,\"time_us\":3000000,\"process\":1300000000,\"type\":\"ok\",\"source\":\"runner\",\"f\":\"phase\",\"value\":\"done\"}\n",
          f);
    fclose(f);
    struct fl_history *h = fl_history_new(0);
    struct fl_error err = {0};
    assert_int_equal(fl_history_load_jsonl(h, path, &err), 0);
    struct fl_integrity in;
    fl_history_integrity(h, &in);
    struct fl_args a = lifecycle_args();
    struct fl_verdict v;
    assert_int_equal(fl_judge(fl_checker_find("lifecycle"), &a, h, &in, NULL, &v), 0);
    assert_int_equal(v.validity, FL_UNKNOWN);
    fl_t_has(v.summary, "1 ops are missing from");
    fl_t_has(v.summary, "line 3 holds op 3 where op 2 was due");
    fl_verdict_free(&v);
    fl_history_free(h);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_ops_make_unknown),
        cmocka_unit_test(test_incomplete_keeps_evidence),
        cmocka_unit_test(test_harness_error_not_checked),
        cmocka_unit_test(test_checker_failure),
        cmocka_unit_test(test_lost_line_in_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
