/* test_workload_pacing.c - a workload that falls behind yields to the loop
 * and records what it skipped.
 *
 * A workload at an absurd rate (1,000,000/s) runs against a loopback
 * server while a timer stalls the loop for 250 ms: the workload is then far
 * behind. The old pacing re-armed a 0 ms timer from its own callback, which
 * libuv 1.44 runs again in the same pass: tens of thousands of operations
 * went out before any other handle (a fault's timer) could run. No timing
 * is asserted (the machine may be noisy): a check handle counts the history
 * records added per loop iteration, which must stay within two batches, and
 * every due operation must be either issued or counted in a "skipped"
 * record. Skipped operations are not accepted jobs for the lifecycle
 * checker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkers/checker.h"
#include "core/model.h"
#include "core/run_context.h"
#include "history/history.h"
#include "support/checks.h"
#include "workload/workload.h"
#include "workload/workload_impl.h"   /* WL_BATCH_MAX, the driver's state */

#define RATE 1000000.0
#define STOP_MS 400
#define STALL_AT_MS 50
#define STALL_US 250000
#define CONCURRENCY 4

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)url; (void)method; (void)version; (void)upload;
    static int seen;
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    static const char body[] = "{\"job_id\":\"j1\"}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ok;
}

struct t {
    uv_loop_t loop;
    struct fl_run run;
    struct fl_scenario sc;
    struct fl_workload wl;
    struct fl_kv vars[1];
    char addr[64];
    struct fl_workers *w;
    uv_timer_t stall, step, watchdog;
    uv_check_t check;
    size_t last_len, max_per_iteration, iterations;
    int closed, watchdog_fired;
};

/* After every loop iteration's I/O: how many records it added. */
static void on_check(uv_check_t *h)
{
    struct t *t = h->data;
    size_t len = fl_history_len(t->run.history);
    if (len - t->last_len > t->max_per_iteration)
        t->max_per_iteration = len - t->last_len;
    t->last_len = len;
    t->iterations++;
}

/* A stall of the whole loop, as a slow disk or a swapped-out page would
 * cause: busy-waits (bounded) without returning to the loop. */
static void on_stall(uv_timer_t *h)
{
    (void)h;
    int64_t end = fl_now_us() + STALL_US;
    while (fl_now_us() < end)
        ;
}

static void on_closed(void *ud)
{
    struct t *t = ud;
    t->closed = 1;
    uv_close((uv_handle_t *)&t->stall, NULL);
    uv_close((uv_handle_t *)&t->step, NULL);
    uv_close((uv_handle_t *)&t->watchdog, NULL);
    uv_close((uv_handle_t *)&t->check, NULL);
}

/* Close once the driver has gone through every operation due before its
 * stop (issued or skipped): it stops by itself there. */
static void on_step(uv_timer_t *h)
{
    struct t *t = h->data;
    if (t->w->wl[0].running)
        return;
    uv_timer_stop(h);
    fl_workers_close(t->w, on_closed, t);
}

static void on_watchdog(uv_timer_t *h)
{
    struct t *t = h->data;
    t->watchdog_fired = 1;
    uv_timer_stop(&t->step);
    fl_workers_close(t->w, on_closed, t);
}

static const struct fl_capture cap_job[] = {{.name = "job", .pointer = "/job_id"}};

static void run_behind(struct t *t, int port)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    snprintf(t->addr, sizeof t->addr, "127.0.0.1:%d", port);
    t->vars[0] = (struct fl_kv){.key = "addr", .value = t->addr};
    t->wl = (struct fl_workload){
        .name = "flood", .rate = RATE, .stop_ms = STOP_MS, .concurrency = CONCURRENCY,
        .request = {.method = "GET", .url = "http://${addr}/", .timeout_ms = 2000},
        .capture = cap_job, .ncapture = 1,
    };
    t->sc = (struct fl_scenario){.name = "pacing", .vars = t->vars, .nvars = 1,
                                 .duration_ms = STOP_MS, .workloads = &t->wl, .nworkloads = 1};
    t->run.loop = &t->loop;
    t->run.sc = &t->sc;
    t->run.history = fl_history_new(0);
    assert_non_null(t->run.history);
    t->run.t0_us = fl_now_us();
    struct fl_error err = {0};
    assert_int_equal(fl_workers_create(&t->w, &t->run, &err), 0);
    uv_timer_init(&t->loop, &t->stall);
    uv_timer_init(&t->loop, &t->step);
    uv_timer_init(&t->loop, &t->watchdog);
    uv_check_init(&t->loop, &t->check);
    t->stall.data = t->step.data = t->watchdog.data = t->check.data = t;
    uv_check_start(&t->check, on_check);
    uv_timer_start(&t->stall, on_stall, STALL_AT_MS, 0);
    uv_timer_start(&t->step, on_step, STOP_MS, 50);
    uv_timer_start(&t->watchdog, on_watchdog, 30000, 0);
    assert_int_equal(fl_workers_start_workloads(t->w), 0);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_true(t->closed);
    assert_false(t->watchdog_fired);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

static void test_behind_yields_and_records_skipped(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
    assert_non_null(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    struct t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    run_behind(t, info->port);
    MHD_stop_daemon(d);

    const struct fl_history *h = t->run.history;
    size_t invokes = 0, skipped_records = 0, ok = 0, accepted_keys = 0;
    uint64_t skipped = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_SKIPPED) == 0) {
            assert_int_equal(op->type, FL_INFO);
            assert_null(op->key);
            assert_non_null(op->value);
            char *end;
            unsigned long long n = strtoull(op->value, &end, 10);
            assert_true(*end == '\0' && n > 0);
            assert_non_null(strstr(op->error, "behind its schedule"));
            skipped += n;
            skipped_records++;
        } else if (strcmp(op->f, FL_F_REQUEST) == 0 && op->type == FL_INVOKE) {
            invokes++;
        } else if (strcmp(op->f, FL_F_REQUEST) == 0 && op->type == FL_OK) {
            ok++;
            accepted_keys += op->key != NULL;
        }
    }
    print_message("  %zu iterations, at most %zu records in one; %zu issued, %llu skipped in "
                  "%zu records, %zu ok\n", t->iterations, t->max_per_iteration, invokes,
                  (unsigned long long)skipped, skipped_records, ok);
    /* The loop ran its other handles between two batches: per iteration
     * at most a timer batch and an idle batch (two records per operation),
     * a skipped record and the completions of the requests in flight. */
    assert_true(t->max_per_iteration <= 4 * WL_BATCH_MAX + 4 * CONCURRENCY + 8);
    /* The stall left it far behind: what it could not issue is recorded. */
    assert_true(skipped_records >= 1);
    /* Every operation due before stop was either issued or skipped. */
    assert_int_equal(invokes + skipped, (uint64_t)(RATE * STOP_MS / 1000));

    /* The lifecycle checker counts accepted keys: skipped operations have
     * none, so they are never taken for accepted jobs. */
    struct fl_args a = fl_t_args("lifecycle");
    fl_t_arg_s(&a, "workload", "flood");
    static const char *const done[] = {"complete"};
    fl_t_arg_list(&a, "terminal", done, 1);
    fl_t_arg_ms(&a, "within", 1000);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    if (accepted_keys == 0)
        assert_int_equal(v.validity, FL_UNKNOWN);
    fl_verdict_free(&v);
    fl_history_free(t->run.history);
    free(t);
}

/* A history where the only workload records are skipped ones: no job was
 * accepted, whatever their counts say. */
static void test_lifecycle_ignores_skipped(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    assert_non_null(h);
    assert_non_null(fl_history_add(h, FL_T_S(0.1), 0, FL_INFO, "submit", FL_F_SKIPPED, NULL,
                                   "5000", "not issued"));
    assert_non_null(fl_history_add(h, FL_T_S(0.2), 1, FL_INFO, "submit", FL_F_SKIPPED, NULL,
                                   "12", "not issued"));
    struct fl_args a = fl_t_args("lifecycle");
    fl_t_arg_s(&a, "workload", "submit");
    static const char *const done[] = {"complete"};
    fl_t_arg_list(&a, "terminal", done, 1);
    fl_t_arg_ms(&a, "within", 1000);
    struct fl_verdict v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_UNKNOWN);
    assert_int_equal(v.ncex, 0);
    fl_t_has(v.summary, "no job was accepted");
    fl_verdict_free(&v);

    /* Beside one accepted job that completed, they change nothing. */
    assert_non_null(fl_history_add(h, FL_T_S(0.3), 2, FL_INVOKE, "submit", FL_F_REQUEST, NULL,
                                   NULL, NULL));
    assert_non_null(fl_history_add(h, FL_T_S(0.31), 2, FL_OK, "submit", FL_F_REQUEST, "j1",
                                   "202", NULL));
    assert_non_null(fl_history_add(h, FL_T_S(0.4), 2, FL_INVOKE, "submit", FL_F_POLL, "j1",
                                   NULL, NULL));
    assert_non_null(fl_history_add(h, FL_T_S(0.41), 2, FL_OK, "submit", FL_F_POLL, "j1",
                                   "complete", NULL));
    v = fl_t_run("lifecycle", h, &a);
    assert_int_equal(v.validity, FL_VALID);
    fl_t_has(v.summary, "all 1 jobs");
    fl_verdict_free(&v);
    fl_history_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_behind_yields_and_records_skipped),
        cmocka_unit_test(test_lifecycle_ignores_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
