/* test_ready.c - the local target's readiness checks (ready.c) on their
 * own: HTTP through the libcurl client against a real loopback server,
 * retries until 2xx, the texts of the last error, the timeouts, cancel with
 * no callback afterwards. Every test ends by closing its loop: a handle the
 * check left open fails uv_loop_close, memory it left is ASan's to find.
 * (test_target_local.c covers the checks inside the running target.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "targets/local/local_int.h"
#include "support/httpd.h"
#include "support/procs.h"
#include "support/loop.h"

struct fx {
    uv_loop_t loop;
    struct fl_test_httpd *srv;
    int silent_fd, silent_port;
    struct fl_ready_check *c;
    int calls, ok;
    uint64_t elapsed;
    char last_err[512];
    char url[256];
    int cancel_in_cb;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->srv = fl_test_httpd_start();
    assert_non_null(f->srv);
    f->silent_fd = fl_test_listen_silent(&f->silent_port);
    assert_true(f->silent_fd >= 0);
    *state = f;
    return 0;
}

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    ++*(int *)arg;
}

/* Run the loop until pred(f) holds or timeout_ms passed; returns pred. */
static int run_until(struct fx *f, int (*pred)(void *), int timeout_ms)
{
    return fl_test_run_until(&f->loop, pred, f, timeout_ms);
}

static int no_handles(void *ud)
{
    struct fx *f = ud;
    int n = 0;
    uv_walk(&f->loop, count_handle, &n);
    return n == 1;   /* run_until's own tick */
}

static int never(void *ud)
{
    (void)ud;
    return 0;
}

static int called(void *ud)
{
    const struct fx *f = ud;
    return f->calls > 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    /* Whatever the test did, the check's handles must all close, in time. */
    assert_true(run_until(f, no_handles, 3000));
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fl_test_httpd_stop(f->srv);
    close(f->silent_fd);
    free(f);
    return 0;
}

static void on_done(struct fl_ready_check *c, int ok, const char *last_err, uint64_t elapsed_ms,
                    void *ud)
{
    struct fx *f = ud;
    assert_ptr_equal(c, f->c);
    f->calls++;
    f->ok = ok;
    f->elapsed = elapsed_ms;
    snprintf(f->last_err, sizeof f->last_err, "%s", last_err ? last_err : "(null)");
    if (f->cancel_in_cb)
        fl_ready_cancel(c);   /* too late, and harmless */
    f->c = NULL;
}

static void start(struct fx *f, enum fl_ready_kind kind, const char *target, uint64_t timeout_ms,
                  uint64_t interval_ms)
{
    struct fl_ready_spec spec = {
        .kind = kind, .target = target, .log_fd = -1,
        .timeout_ms = timeout_ms, .interval_ms = interval_ms,
    };
    struct fl_error err = {0};
    int rc = fl_ready_start(&f->loop, &spec, on_done, f, &f->c, &err);
    if (rc)
        fail_msg("fl_ready_start(%s): %s", target, err.msg);
    assert_int_equal(f->calls, 0);   /* never from inside fl_ready_start */
}

static const char *url(struct fx *f, int port, const char *path)
{
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", port, path);
    return f->url;
}

/* 503 three times, then 200: ready on the fourth GET, and the last
 * failure is still reported with the success. The GETs go through the
 * libcurl client: one kept-alive connection carries all four. */
static void test_http_retries_until_2xx(void **state)
{
    struct fx *f = *state;
    start(f, FL_READY_HTTP, url(f, fl_test_httpd_port(f->srv), "/flip/3"), 5000, 20);
    assert_true(run_until(f, called, 5000));
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->ok, 1);
    assert_int_equal(fl_test_httpd_hits(f->srv), 4);
    assert_int_equal(fl_test_httpd_connections(f->srv), 1);
    char want[320];
    snprintf(want, sizeof want, "GET %s: HTTP 503", f->url);
    assert_string_equal(f->last_err, want);
    assert_true(f->elapsed >= 60 && f->elapsed < 3000);
}

/* A status that never becomes 2xx (a redirect is not followed either). */
static void test_http_status_until_timeout(void **state)
{
    struct fx *f = *state;
    static const char *const paths[] = {"/status/500", "/status/302"};
    for (int i = 0; i < 2; i++) {
        f->calls = 0;
        start(f, FL_READY_HTTP, url(f, fl_test_httpd_port(f->srv), paths[i]), 300, 50);
        assert_true(run_until(f, called, 3000));
        assert_int_equal(f->ok, 0);
        assert_non_null(strstr(f->last_err, i ? "HTTP 302" : "HTTP 500"));
        assert_true(f->elapsed >= 250 && f->elapsed < 2000);
    }
    assert_true(fl_test_httpd_hits(f->srv) >= 4);
}

/* Nothing listens: the same words as the tcp check, in time. */
static void test_http_refused(void **state)
{
    struct fx *f = *state;
    int port = fl_test_free_port();
    assert_true(port > 0);
    start(f, FL_READY_HTTP, url(f, port, "/healthz"), 400, 50);
    assert_false(run_until(f, called, 150));
    /* while it runs, the last error is readable */
    char want[320];
    snprintf(want, sizeof want, "GET %s: connection refused", f->url);
    assert_string_equal(fl_ready_last_error(f->c), want);
    assert_true(run_until(f, called, 3000));
    assert_int_equal(f->ok, 0);
    assert_string_equal(f->last_err, want);
    assert_true(f->elapsed >= 350 && f->elapsed < 2000);
}

/* The connection is accepted (by the kernel) and never answered: the
 * attempt's own timeout ends the check at its deadline. */
static void test_http_no_answer(void **state)
{
    struct fx *f = *state;
    start(f, FL_READY_HTTP, url(f, f->silent_port, "/"), 400, 50);
    assert_true(run_until(f, called, 3000));
    assert_int_equal(f->ok, 0);
    char want[320];
    snprintf(want, sizeof want, "GET %s: no answer in time", f->url);
    assert_string_equal(f->last_err, want);
    assert_true(f->elapsed >= 350 && f->elapsed < 2000);
}

/* A connection closed without an answer is a failed attempt, retried. */
static void test_http_closed_without_answer(void **state)
{
    struct fx *f = *state;
    start(f, FL_READY_HTTP, url(f, fl_test_httpd_port(f->srv), "/close"), 300, 50);
    assert_true(run_until(f, called, 3000));
    assert_int_equal(f->ok, 0);
    assert_non_null(strstr(f->last_err, f->url));
    assert_null(strstr(f->last_err, "no answer in time"));
    assert_true(fl_test_httpd_hits(f->srv) >= 2);
}

/* localhost is taken (curl maps it to loopback without asking DNS). */
static void test_http_localhost(void **state)
{
    struct fx *f = *state;
    char u[128];
    snprintf(u, sizeof u, "http://localhost:%d/ready", fl_test_httpd_port(f->srv));
    start(f, FL_READY_HTTP, u, 3000, 50);
    f->cancel_in_cb = 1;
    assert_true(run_until(f, called, 3000));
    assert_int_equal(f->ok, 1);
    assert_string_equal(f->last_err, "");
}

/* Cancel while a GET is in flight, and before the first attempt: no
 * callback ever, and every handle closes (teardown). */
static void test_cancel(void **state)
{
    struct fx *f = *state;
    start(f, FL_READY_HTTP, url(f, f->silent_port, "/"), 5000, 50);
    assert_false(run_until(f, never, 200));
    assert_string_equal(fl_ready_last_error(f->c), "");
    fl_ready_cancel(f->c);
    f->c = NULL;
    assert_false(run_until(f, called, 300));

    start(f, FL_READY_HTTP, url(f, fl_test_httpd_port(f->srv), "/"), 5000, 50);
    fl_ready_cancel(f->c);
    f->c = NULL;
    assert_false(run_until(f, called, 300));
    assert_int_equal(fl_test_httpd_hits(f->srv), 0);

    int port = fl_test_free_port();
    char tcp[64];
    snprintf(tcp, sizeof tcp, "127.0.0.1:%d", port);
    start(f, FL_READY_TCP, tcp, 5000, 50);
    assert_false(run_until(f, never, 120));
    assert_non_null(strstr(fl_ready_last_error(f->c), "connection refused"));
    fl_ready_cancel(f->c);
    f->c = NULL;
    assert_false(run_until(f, called, 300));
}

/* Bad targets are refused at start, with the reason, and no callback. */
static void test_bad_targets(void **state)
{
    struct fx *f = *state;
    static const struct {
        enum fl_ready_kind kind;
        const char *target, *why;
    } bad[] = {
        {FL_READY_HTTP, "https://127.0.0.1:1/", "must start with http://"},
        {FL_READY_HTTP, "http://example.com/", "not an IP address"},
        {FL_READY_HTTP, "http:///path", "bad readiness URL"},
        {FL_READY_HTTP, "http://127.0.0.1:99999/", "bad port"},
        {FL_READY_TCP, "127.0.0.1", "no port"},
        {FL_READY_HTTP, NULL, "without a target"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fl_ready_spec spec = {.kind = bad[i].kind, .target = bad[i].target, .log_fd = -1};
        struct fl_error err = {0};
        struct fl_ready_check *c = NULL;
        assert_int_equal(fl_ready_start(&f->loop, &spec, on_done, f, &c, &err), FL_EINVAL);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("%s: '%s' does not say '%s'", bad[i].target, err.msg, bad[i].why);
        assert_null(c);
    }
    assert_false(run_until(f, called, 50));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_retries_until_2xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_status_until_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_no_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_closed_without_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_localhost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_targets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
