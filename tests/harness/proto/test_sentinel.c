/* test_sentinel.c - the one Sentinel discovery (proto/sentinel.c) against
 * a real redis-server and a real redis-sentinel on loopback, started here
 * and killed by PID (tests/support/procs.c). Sentinels that are down, that
 * do not know the master, that are not sentinels at all, or that never
 * answer are skipped, each with its reason; the answer comes from the loop
 * exactly once; a cancelled query never calls back. Every test ends with
 * uv_loop_close() == 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "proto/sentinel.h"
#include "support/httpd.h"
#include "support/procs.h"

static char g_tmpdir[64];
static int g_primary, g_sentinel;   /* ports */

struct fx {
    uv_loop_t loop;
    struct fl_sentinel_query *q;
    int calls, status, port, closed;
    char host[128], why[1024];
};

static pid_t start(const char *const *args, int port)
{
    pid_t pid = fl_test_redis_spawn(port, args);
    if (pid <= 0)
        fail_msg("redis did not start on port %d", port);
    return pid;
}

/* One primary, and one sentinel that monitors it as m1. */
static int group_setup(void **state)
{
    (void)state;
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/fl-test-sentinel-XXXXXX");
    if (!mkdtemp(g_tmpdir))
        return -1;
    g_primary = fl_test_free_port();
    char pp[16];
    snprintf(pp, sizeof pp, "%d", g_primary);
    const char *pargs[] = {"--port", pp, "--bind", "127.0.0.1", "--save", "", "--appendonly",
                           "no", "--dir", g_tmpdir, NULL};
    start(pargs, g_primary);
    g_sentinel = fl_test_free_port();
    char conf[128];
    snprintf(conf, sizeof conf, "%s/sentinel.conf", g_tmpdir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f, "port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\n"
               "sentinel monitor m1 127.0.0.1 %d 1\n", g_sentinel, g_tmpdir, g_primary);
    fclose(f);
    const char *sargs[] = {conf, "--sentinel", NULL};
    start(sargs, g_sentinel);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    fl_test_kill_all();
    char path[128];
    snprintf(path, sizeof path, "%s/sentinel.conf", g_tmpdir);
    unlink(path);
    rmdir(g_tmpdir);
    return 0;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    *state = f;
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until the answer came, or the query closed, or ms passed. */
static void run_for(struct fx *f, int ms)
{
    uv_timer_t tick;
    uv_timer_init(&f->loop, &tick);
    uv_timer_start(&tick, on_tick, 5, 5);
    int64_t end = fl_now_us() + (int64_t)ms * 1000;
    while (!f->calls && !f->closed && fl_now_us() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void on_guard(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    /* A finished query closes its connection and timer on its own, in
     * time: a handle still open after 3s fails uv_loop_close. */
    uv_timer_t guard;
    uv_timer_init(&f->loop, &guard);
    uv_timer_start(&guard, on_guard, 3000, 0);
    uv_unref((uv_handle_t *)&guard);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void on_answer(int status, const char *host, int port, const char *why, void *ud)
{
    struct fx *f = ud;
    f->calls++;
    f->status = status;
    f->port = port;
    snprintf(f->host, sizeof f->host, "%s", host ? host : "");
    snprintf(f->why, sizeof f->why, "%s", why ? why : "");
    assert_true(status ? why != NULL && host == NULL : why == NULL && host != NULL);
}

static void ask(struct fx *f, const struct fl_sentinel_addr *s, size_t n, const char *master,
                uint64_t timeout_ms)
{
    struct fl_error err = {0};
    if (fl_sentinel_ask(&f->loop, s, n, master, timeout_ms, on_answer, f, &f->q, &err))
        fail_msg("fl_sentinel_ask: %s", err.msg);
    assert_int_equal(f->calls, 0);   /* never from inside fl_sentinel_ask */
}

static void test_names_the_primary(void **state)
{
    struct fx *f = *state;
    struct fl_sentinel_addr s[] = {{"s.0", "127.0.0.1", g_sentinel}};
    ask(f, s, 1, "m1", 1000);
    run_for(f, 3000);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->status, 0);
    assert_string_equal(f->host, "127.0.0.1");
    assert_int_equal(f->port, g_primary);
}

/* Each kind of failure is skipped with its reason, and the next sentinel
 * answers. */
static void test_skips_to_one_that_knows(void **state)
{
    struct fx *f = *state;
    int down = fl_test_free_port();
    int silent_port = 0;
    int silent = fl_test_listen_silent(&silent_port);
    assert_true(silent >= 0);
    struct fl_sentinel_addr s[] = {
        {"down.0", "127.0.0.1", down},
        {NULL, "127.0.0.1", silent_port},
        {"data.0", "127.0.0.1", g_primary},   /* a data node: not a sentinel */
        {"s.0", "127.0.0.1", g_sentinel},
    };
    ask(f, s, 4, "m1", 300);
    run_for(f, 5000);
    close(silent);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->status, 0);
    assert_int_equal(f->port, g_primary);
}

/* Nobody names it: the reasons of every sentinel, in order, bounded. */
static void test_reasons_when_none_knows(void **state)
{
    struct fx *f = *state;
    int down = fl_test_free_port();
    int silent_port = 0;
    int silent = fl_test_listen_silent(&silent_port);
    assert_true(silent >= 0);
    struct fl_sentinel_addr s[] = {
        {"down.0", "127.0.0.1", down},
        {"s.0", "127.0.0.1", g_sentinel},
        {"data.0", "127.0.0.1", g_primary},
        {NULL, "127.0.0.1", silent_port},
    };
    int64_t t0 = fl_now_us();
    ask(f, s, 4, "nosuch", 300);
    run_for(f, 5000);
    close(silent);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->status, FL_ENOTFOUND);
    assert_true(fl_now_us() - t0 < 2500000);   /* 2 x 300ms per sentinel at most */
    char want[160];
    snprintf(want, sizeof want, "sentinel down.0 (127.0.0.1:%d): ", down);
    const char *p0 = strstr(f->why, want);
    snprintf(want, sizeof want, "; sentinel s.0 (127.0.0.1:%d): does not know nosuch", g_sentinel);
    const char *p1 = strstr(f->why, want);
    snprintf(want, sizeof want, "; sentinel data.0 (127.0.0.1:%d): ", g_primary);
    const char *p2 = strstr(f->why, want);
    snprintf(want, sizeof want, "; sentinel 127.0.0.1:%d: ", silent_port);
    const char *p3 = strstr(f->why, want);
    if (!(p0 == f->why && p1 > p0 && p2 > p1 && p3 > p2))
        fail_msg("why: %s", f->why);
    assert_non_null(strstr(p0, "refused"));
    assert_non_null(strstr(p2, "ERR"));   /* a data node refuses SENTINEL */
    if (getenv("FL_TEST_VERBOSE"))
        print_message("why: %s\n", f->why);
}

/* Connects that fail at once still answer from the loop. */
static void test_answer_from_the_loop(void **state)
{
    struct fx *f = *state;
    char host[200];
    memset(host, '1', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    struct fl_sentinel_addr s[] = {{"bad.0", host, 1}};
    ask(f, s, 1, "m1", 300);
    assert_int_equal(f->calls, 0);
    run_for(f, 1000);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->status, FL_ENOTFOUND);
    assert_non_null(strstr(f->why, "sentinel bad.0"));
}

static void on_closed(void *ud)
{
    ((struct fx *)ud)->closed++;
}

/* Cancelled before its first step, and while waiting for an answer: no
 * callback, closed() once everything is gone. */
static void test_cancel(void **state)
{
    struct fx *f = *state;
    struct fl_sentinel_addr s[] = {{"s.0", "127.0.0.1", g_sentinel}};
    ask(f, s, 1, "m1", 1000);
    fl_sentinel_cancel(f->q, on_closed, f);
    run_for(f, 1000);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->closed, 1);

    int silent_port = 0;
    int silent = fl_test_listen_silent(&silent_port);
    assert_true(silent >= 0);
    struct fl_sentinel_addr t[] = {{"quiet.0", "127.0.0.1", silent_port}};
    ask(f, t, 1, "m1", 5000);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    fl_sentinel_cancel(f->q, NULL, NULL);
    f->closed = 0;
    run_for(f, 300);
    assert_int_equal(f->calls, 0);
    close(silent);
}

static void test_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct fl_sentinel_addr s[FL_SENTINEL_MAX + 1];
    for (size_t i = 0; i <= FL_SENTINEL_MAX; i++)
        s[i] = (struct fl_sentinel_addr){"s", "127.0.0.1", g_sentinel};
    struct fl_error err = {0};
    struct fl_sentinel_query *q = NULL;
    assert_int_equal(fl_sentinel_ask(&f->loop, s, 0, "m1", 100, on_answer, f, &q, &err),
                     FL_EINVAL);
    assert_int_equal(fl_sentinel_ask(&f->loop, s, FL_SENTINEL_MAX + 1, "m1", 100, on_answer, f,
                                     &q, &err), FL_EINVAL);
    assert_int_equal(fl_sentinel_ask(&f->loop, s, 1, "", 100, on_answer, f, &q, &err), FL_EINVAL);
    assert_int_equal(fl_sentinel_ask(&f->loop, s, 1, "m1", 0, on_answer, f, &q, &err), FL_EINVAL);
    assert_null(q);
    run_for(f, 50);
    assert_int_equal(f->calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names_the_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skips_to_one_that_knows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_when_none_knows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_from_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
