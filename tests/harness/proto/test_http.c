/* test_http.c - the libcurl client on a libuv loop (proto/http.c) against a
 * real loopback server: outcomes and their details, cancel, and closing
 * the client from inside a callback (what a readiness check does when its
 * last answer arrives). Every test ends by closing its loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "proto/http.h"
#include "support/httpd.h"
#include "support/procs.h"

#define MAX_RES 8

struct got {
    int n;
    enum fl_http_outcome outcome[MAX_RES];
    int status[MAX_RES], os_errno[MAX_RES], sent_maybe[MAX_RES];
    char body[MAX_RES][64];
};

struct fx {
    uv_loop_t loop;
    struct fl_http *h;
    struct fl_test_httpd *srv;
    int silent_fd, silent_port;
    struct got got;
    int close_in_cb, closed;
    char url[128];
};

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

static void on_closed(void *ud)
{
    ((struct fx *)ud)->closed++;
}

/* Run until n results arrived (or the client closed, when n < 0). */
static int run_for(struct fx *f, int n, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(&f->loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    int64_t end = fl_now_us() + (int64_t)timeout_ms * 1000;
    while ((n >= 0 ? f->got.n < n : !f->closed) && fl_now_us() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return n >= 0 ? f->got.n >= n : f->closed;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct fl_error err = {0};
    assert_int_equal(fl_http_new(&f->h, &f->loop, &err), 0);
    f->srv = fl_test_httpd_start();
    assert_non_null(f->srv);
    f->silent_fd = fl_test_listen_silent(&f->silent_port);
    assert_true(f->silent_fd >= 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f->closed && f->h)
        fl_http_close(f->h, on_closed, f);
    assert_true(run_for(f, -1, 3000));
    assert_int_equal(f->closed, 1);
    uv_run(&f->loop, UV_RUN_DEFAULT);   /* nothing may be left to run */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fl_test_httpd_stop(f->srv);
    close(f->silent_fd);
    free(f);
    return 0;
}

static void on_result(void *ud, const struct fl_http_result *res)
{
    struct fx *f = ud;
    struct got *g = &f->got;
    assert_true(g->n < MAX_RES);
    g->outcome[g->n] = res->outcome;
    g->status[g->n] = res->status;
    g->os_errno[g->n] = res->os_errno;
    g->sent_maybe[g->n] = res->sent_maybe;
    snprintf(g->body[g->n], sizeof g->body[0], "%s", res->body);
    g->n++;
    if (f->close_in_cb && !f->closed && g->n == 1) {
        struct fl_http *h = f->h;
        f->h = NULL;
        fl_http_close(h, on_closed, f);   /* others get FL_HTTP_ABORTED now */
    }
}

static struct fl_http_req *get(struct fx *f, int port, const char *path, uint64_t timeout_ms)
{
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", port, path);
    struct fl_http_request rq = {.url = f->url, .timeout_ms = timeout_ms};
    struct fl_http_req *r = NULL;
    struct fl_error err = {0};
    if (fl_http_submit(f->h, &rq, on_result, f, &r, &err))
        fail_msg("submit %s: %s", f->url, err.msg);
    return r;
}

static void test_outcomes(void **state)
{
    struct fx *f = *state;
    get(f, fl_test_httpd_port(f->srv), "/status/503", 2000);
    assert_true(run_for(f, 1, 3000));
    assert_int_equal(f->got.outcome[0], FL_HTTP_DONE);
    assert_int_equal(f->got.status[0], 503);
    assert_string_equal(f->got.body[0], "status 503");
    assert_int_equal(f->got.os_errno[0], 0);

    int port = fl_test_free_port();
    get(f, port, "/", 2000);
    assert_true(run_for(f, 2, 3000));
    assert_int_equal(f->got.outcome[1], FL_HTTP_ERROR);
    assert_int_equal(f->got.os_errno[1], ECONNREFUSED);
    assert_int_equal(f->got.sent_maybe[1], 0);

    get(f, f->silent_port, "/", 200);
    assert_true(run_for(f, 3, 3000));
    assert_int_equal(f->got.outcome[2], FL_HTTP_TIMEOUT);
}

/* Cancel calls back at once, with ABORTED, and nothing later. */
static void test_cancel(void **state)
{
    struct fx *f = *state;
    struct fl_http_req *r = get(f, f->silent_port, "/", 5000);
    assert_false(run_for(f, 1, 100));
    fl_http_cancel(r);
    assert_int_equal(f->got.n, 1);
    assert_int_equal(f->got.outcome[0], FL_HTTP_ABORTED);
    assert_false(run_for(f, 2, 200));
    assert_int_equal(fl_http_inflight(f->h), 0);
}

/* Closing from inside a callback: the other request is aborted during the
 * close, the close callback comes later, and every handle goes. */
static void test_close_from_callback(void **state)
{
    struct fx *f = *state;
    f->close_in_cb = 1;
    get(f, f->silent_port, "/", 5000);
    get(f, fl_test_httpd_port(f->srv), "/", 5000);
    assert_true(run_for(f, -1, 3000));
    assert_int_equal(f->got.n, 2);
    assert_int_equal(f->got.outcome[0], FL_HTTP_DONE);
    assert_int_equal(f->got.outcome[1], FL_HTTP_ABORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_from_callback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
