/* The async Redis client against a real redis-server on loopback, plus the
 * pure reply/INFO helpers on literal text.
 *
 * Each live test starts its own redis-server on a free 127.0.0.1 port and
 * kills it by PID in teardown (and at exit, and through PDEATHSIG if this
 * process dies). Every live test ends with uv_loop_close() == 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/redis.h"

#include "support/procs.h"

/* --- redis-server processes (tests/support/procs.c) ---------------------- */

#define stop_pid fl_test_kill
#define stop_all fl_test_kill_all
#define sleep_ms fl_test_sleep_ms

static int free_port(void)
{
    int port = fl_test_free_port();
    assert_true(port > 0);
    return port;
}

/* Start redis-server on a free port (extra args appended, NULL to stop);
 * retries on a fresh port if it exits (port raced). */
static pid_t start_redis(int *port_out, const char *extra1, const char *extra2,
                         const char *extra3)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int port = free_port();
        char pbuf[16], dbf[64];
        snprintf(pbuf, sizeof pbuf, "%d", port);
        /* No RDB in the source tree (a replica's sync writes one), and no
         * 5s wait before a diskless sync. */
        snprintf(dbf, sizeof dbf, "fl-test-redis-%s.rdb", pbuf);
        const char *args[] = {"--port", pbuf, "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--daemonize", "no",
                              "--repl-diskless-sync-delay", "0", "--dir", "/tmp",
                              "--dbfilename", dbf, extra1, extra2, extra3, NULL};
        pid_t pid = fl_test_redis_spawn(port, args);
        if (pid > 0) {
            *port_out = port;
            return pid;
        }
    }
    fail_msg("redis-server did not start");
    return -1;
}

/* Stop (SIGSTOP) or resume our child, and wait until the kernel says so. */
static void pause_pid(pid_t pid)
{
    int st;
    assert_int_equal(kill(pid, SIGSTOP), 0);
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    assert_true(WIFSTOPPED(st));
}

static void resume_pid(pid_t pid)
{
    assert_int_equal(kill(pid, SIGCONT), 0);
}

/* --- loop fixture ------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    uv_timer_t guard;
    int expired;
    int loop_closed;
    pid_t pid;
    int port;
};

static void on_guard(uv_timer_t *t)
{
    struct fx *fx = t->data;
    fx->expired = 1;
}

static int setup_loop(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->guard);
    fx->guard.data = fx;
    *state = fx;
    return 0;
}

static int setup_server(void **state)
{
    setup_loop(state);
    struct fx *fx = *state;
    fx->pid = start_redis(&fx->port, NULL, NULL, NULL);
    return 0;
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Runs whatever happened in the test: the server dies, the loop is torn
 * down forcibly if the test did not close it. */
static int teardown(void **state)
{
    struct fx *fx = *state;
    stop_pid(fx->pid);
    if (!fx->loop_closed) {
        uv_walk(&fx->loop, close_walk_cb, NULL);
        for (int i = 0; i < 10; i++)
            uv_run(&fx->loop, UV_RUN_NOWAIT);
        uv_loop_close(&fx->loop);
    }
    free(fx);
    return 0;
}

/* Run the loop until *counter >= want or ms pass. 1 when reached. */
static int run_until(struct fx *fx, const int *counter, int want, uint64_t ms)
{
    fx->expired = 0;
    uv_timer_start(&fx->guard, on_guard, ms, 0);
    while (*counter < want && !fx->expired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    return *counter >= want;
}

static void run_for(struct fx *fx, uint64_t ms)
{
    int never = 0;
    run_until(fx, &never, 1, ms);
}

/* The end of every live test: nothing may be left on the loop. */
static void finish(struct fx *fx)
{
    uv_close((uv_handle_t *)&fx->guard, NULL);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    fx->loop_closed = 1;
}

/* --- recording callbacks ------------------------------------------------ */

struct conn_rec {
    int calls;
    int status;
    char msg[512];
    int close_in_cb;
    int *closed;
};

struct rec {
    int calls;
    int status;
    int type;                /* reply type, -1 for NULL */
    long long integer;
    char text[2048];
    char msg[512];
    int64_t at_us;
    char **strv;             /* for arrays */
    size_t nstrv;
    int close_in_cb;         /* close the connection from this callback */
    int *closed;
};

static void on_closed(void *ud)
{
    int *closed = ud;
    (*closed)++;
}

static void on_conn(struct fl_redis *r, int status, const char *msg, void *ud)
{
    struct conn_rec *c = ud;
    c->calls++;
    c->status = status;
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "");
    if (status == 0)
        assert_null(msg);
    else
        assert_non_null(msg);
    if (c->close_in_cb)
        fl_redis_close(r, on_closed, c->closed);
}

static void on_reply(struct fl_redis *r, const redisReply *rep, int status,
                     const char *msg, void *ud)
{
    struct rec *x = ud;
    x->calls++;
    x->status = status;
    x->at_us = fl_now_us();
    x->type = rep ? rep->type : -1;
    snprintf(x->msg, sizeof x->msg, "%s", msg ? msg : "");
    if (rep) {
        assert_int_equal(status, 0);
        x->integer = rep->integer;
        struct fl_buf b;
        fl_buf_init(&b, sizeof x->text - 1);
        assert_int_equal(fl_redis_reply_text(rep, &b, NULL), 0);
        snprintf(x->text, sizeof x->text, "%s", fl_buf_str(&b));
        fl_buf_free(&b);
        if (rep->type == REDIS_REPLY_ARRAY && !x->strv)
            assert_int_equal(fl_redis_reply_strv(rep, &x->strv, &x->nstrv, NULL), 0);
    } else {
        assert_true(status < 0);
        assert_true(msg && *msg);
    }
    if (x->close_in_cb)
        fl_redis_close(r, on_closed, x->closed);
}

/* Connect to the fixture's server and wait for it. */
static struct fl_redis *connect_ok(struct fx *fx, struct conn_rec *c)
{
    struct fl_redis *r = NULL;
    struct fl_error err = {0};
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", fx->port, 2000, on_conn,
                                      c, &r, &err), 0);
    assert_non_null(r);
    assert_true(run_until(fx, &c->calls, 1, 3000));
    assert_int_equal(c->status, 0);
    assert_true(fl_redis_is_connected(r));
    return r;
}

static void close_and_finish(struct fx *fx, struct fl_redis *r)
{
    int closed = 0;
    fl_redis_close(r, on_closed, &closed);
    assert_true(run_until(fx, &closed, 1, 2000));
    assert_int_equal(closed, 1);
    finish(fx);
}

/* --- live tests --------------------------------------------------------- */

static void test_connect_ok(void **state)
{
    struct fx *fx = *state;
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", fx->port);
    assert_string_equal(fl_redis_addr(r), addr);

    struct rec ping = {0};
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &ping, NULL, "PING"), 0);
    assert_int_equal(fl_redis_pending(r), 1);
    assert_true(run_until(fx, &ping.calls, 1, 3000));
    assert_int_equal(ping.type, REDIS_REPLY_STATUS);
    assert_string_equal(ping.text, "PONG");
    assert_int_equal(fl_redis_pending(r), 0);
    run_for(fx, 50);
    assert_int_equal(c.calls, 1);
    assert_int_equal(ping.calls, 1);
    close_and_finish(fx, r);
}

static void test_connect_refused(void **state)
{
    struct fx *fx = *state;
    int port = free_port();
    struct conn_rec c = {0};
    struct fl_redis *r = NULL;
    struct fl_error err = {0};
    int64_t t0 = fl_now_us();
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", port, 3000, on_conn, &c,
                                      &r, &err), 0);
    /* Not connected yet: commands are refused without a callback. */
    struct rec early = {0};
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &early, &err, "PING"),
                     FL_ENOTREADY);
    assert_true(run_until(fx, &c.calls, 1, 5000));
    assert_int_equal(c.status, FL_EIO); /* not FL_ETIMEDOUT: the refusal was seen */
    assert_true(fl_now_us() - t0 < 2000000);
    assert_non_null(strstr(c.msg, "refused"));
    assert_false(fl_redis_is_connected(r));
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &early, &err, "PING"), FL_EIO);
    run_for(fx, 50);
    assert_int_equal(c.calls, 1);
    assert_int_equal(early.calls, 0);
    close_and_finish(fx, r);
}

/* A listener with a full accept queue drops SYNs: the connect hangs. */
static void test_connect_timeout(void **state)
{
    struct fx *fx = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    assert_int_equal(listen(lfd, 0), 0);
    int fillers[4];
    for (int i = 0; i < 4; i++) { /* fill the queue; later ones stay pending */
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(50);

    struct conn_rec c = {0};
    struct fl_redis *r = NULL;
    int64_t t0 = fl_now_us();
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", ntohs(a.sin_port), 300,
                                      on_conn, &c, &r, NULL), 0);
    assert_true(run_until(fx, &c.calls, 1, 3000));
    int64_t took = fl_now_us() - t0;
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(lfd);
    assert_int_equal(c.status, FL_ETIMEDOUT);
    assert_true(took >= 280000 && took < 2000000);
    run_for(fx, 50);
    assert_int_equal(c.calls, 1);
    close_and_finish(fx, r);
}

static void test_round_trips(void **state)
{
    struct fx *fx = *state;
    struct conn_rec c = {0};
    struct fl_redis *r = NULL;
    struct fl_error err = {0};
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", fx->port, 2000, on_conn, &c,
                                      &r, &err), 0);
    struct rec early = {0};
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &early, &err, "PING"),
                     FL_ENOTREADY);
    assert_true(run_until(fx, &c.calls, 1, 3000));
    assert_int_equal(c.status, 0);

    /* Pipelined: all sent at once, answered in order. */
    struct rec set = {0}, get = {0}, bin_set = {0}, bin_get = {0}, inc[3] = {{0}};
    struct rec push = {0}, range = {0}, missing = {0}, bad = {0};
    const char binval[] = {'a', '\0', 'b', '\r', '\n'};
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &set, &err, "SET %s %s", "k", "v 1"), 0);
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &get, &err, "GET %s", "k"), 0);
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &bin_set, &err, "SET bin %b",
                                      binval, sizeof binval), 0);
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &bin_get, &err, "STRLEN bin"), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fl_redis_command(r, 2000, on_reply, &inc[i], &err, "INCR ctr"), 0);
    const char *pargv[] = {"RPUSH", "list", "a", "b c", "d"};
    assert_int_equal(fl_redis_command_argv(r, 2000, on_reply, &push, &err, 5, pargv, NULL), 0);
    const char *rargv[] = {"LRANGE", "list", "0", "-1"};
    const size_t rlen[] = {6, 4, 1, 2};
    assert_int_equal(fl_redis_command_argv(r, 2000, on_reply, &range, &err, 4, rargv, rlen), 0);
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &missing, &err, "GET nope"), 0);
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &bad, &err, "INCR k"), 0);
    assert_int_equal(fl_redis_pending(r), 11);
    assert_true(run_until(fx, &bad.calls, 1, 3000));

    assert_string_equal(set.text, "OK");
    assert_int_equal(get.type, REDIS_REPLY_STRING);
    assert_string_equal(get.text, "v 1");
    assert_int_equal(bin_get.integer, (long long)sizeof binval);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(inc[i].type, REDIS_REPLY_INTEGER);
        assert_int_equal(inc[i].integer, i + 1);
    }
    assert_int_equal(push.integer, 3);
    assert_string_equal(range.text, "[a, b c, d]");
    assert_int_equal(range.nstrv, 3);
    assert_string_equal(range.strv[0], "a");
    assert_string_equal(range.strv[1], "b c");
    assert_string_equal(range.strv[2], "d");
    fl_redis_strv_free(range.strv, range.nstrv);
    assert_int_equal(missing.type, REDIS_REPLY_NIL);
    assert_int_equal(bad.type, REDIS_REPLY_ERROR); /* a server error is a reply */
    assert_int_equal(bad.status, 0);
    assert_non_null(strstr(bad.text, "not an integer"));

    /* Refused up front, never called back. */
    struct rec no = {0};
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &no, &err, "SUBSCRIBE ch"), FL_EINVAL);
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &no, &err, "monitor"), FL_EINVAL);
    assert_int_equal(fl_redis_command(r, 0, on_reply, &no, &err, "PING"), FL_EINVAL);
    const char *sargv[] = {"psubscribe", "x"};
    assert_int_equal(fl_redis_command_argv(r, 1000, on_reply, &no, &err, 2, sargv, NULL),
                     FL_EINVAL);
    run_for(fx, 50);
    assert_int_equal(no.calls, 0);
    assert_int_equal(get.calls + range.calls + bad.calls, 3);
    close_and_finish(fx, r);
}

/* A stopped server: the command times out; the late reply after SIGCONT is
 * swallowed (no second callback) and the pipeline stays aligned. */
static void test_command_timeout(void **state)
{
    struct fx *fx = *state;
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    pause_pid(fx->pid);
    struct rec slow = {0};
    int64_t t0 = fl_now_us();
    assert_int_equal(fl_redis_command(r, 200, on_reply, &slow, NULL, "INCR ctr"), 0);
    assert_true(run_until(fx, &slow.calls, 1, 3000));
    assert_int_equal(slow.status, FL_ETIMEDOUT);
    assert_int_equal(slow.type, -1);
    int64_t took = slow.at_us - t0;
    assert_true(took >= 190000 && took < 1500000);
    assert_int_equal(fl_redis_pending(r), 0);
    assert_true(fl_redis_is_connected(r)); /* a timeout does not kill the link */

    resume_pid(fx->pid);
    struct rec after = {0};
    assert_int_equal(fl_redis_command(r, 2000, on_reply, &after, NULL, "GET ctr"), 0);
    assert_true(run_until(fx, &after.calls, 1, 3000));
    assert_int_equal(after.status, 0);
    assert_string_equal(after.text, "1"); /* the timed-out INCR did run */
    run_for(fx, 100);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(after.calls, 1);
    close_and_finish(fx, r);
}

static int g_disconnects;
static char g_disconnect_msg[512];

/* ud: NULL, or a close counter to close the connection from here. */
static void on_disc(struct fl_redis *r, const char *msg, void *ud)
{
    assert_false(fl_redis_is_connected(r));
    g_disconnects++;
    snprintf(g_disconnect_msg, sizeof g_disconnect_msg, "%s", msg ? msg : "");
    if (ud)
        fl_redis_close(r, on_closed, ud);
}

static void test_server_killed(void **state)
{
    struct fx *fx = *state;
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    g_disconnects = 0;
    fl_redis_on_disconnect(r, on_disc, NULL);
    pause_pid(fx->pid);
    struct rec p[3] = {{0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(fl_redis_command(r, 5000, on_reply, &p[i], NULL, "INCR n"), 0);
    run_for(fx, 50); /* the requests reach the socket */
    int64_t t0 = fl_now_us();
    stop_pid(fx->pid);
    fx->pid = 0;
    assert_true(run_until(fx, &p[2].calls, 1, 3000));
    assert_true(fl_now_us() - t0 < 2000000); /* well before the 5s timeouts */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_int_equal(p[i].status, FL_EIO);
    }
    assert_int_equal(g_disconnects, 1);
    assert_true(g_disconnect_msg[0] != '\0');
    assert_false(fl_redis_is_connected(r));
    struct rec late = {0};
    assert_int_equal(fl_redis_command(r, 1000, on_reply, &late, NULL, "PING"), FL_EIO);
    run_for(fx, 50);
    assert_int_equal(late.calls, 0);
    assert_int_equal(g_disconnects, 1);
    close_and_finish(fx, r);
}

static void test_close_with_pending(void **state)
{
    struct fx *fx = *state;
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    g_disconnects = 0;
    fl_redis_on_disconnect(r, on_disc, NULL);
    pause_pid(fx->pid);
    /* One command times out first: hiredis still holds its record when the
     * context is freed, with no late reply ever. */
    struct rec timed = {0}, p[3] = {{0}};
    assert_int_equal(fl_redis_command(r, 100, on_reply, &timed, NULL, "PING"), 0);
    assert_true(run_until(fx, &timed.calls, 1, 2000));
    assert_int_equal(timed.status, FL_ETIMEDOUT);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fl_redis_command(r, 5000, on_reply, &p[i], NULL, "PING"), 0);
    int closed = 0;
    fl_redis_close(r, on_closed, &closed);
    for (int i = 0; i < 3; i++) { /* called back before close returned */
        assert_int_equal(p[i].calls, 1);
        assert_int_equal(p[i].status, FL_EABORT);
    }
    assert_true(run_until(fx, &closed, 1, 2000));
    run_for(fx, 50);
    assert_int_equal(closed, 1);
    assert_int_equal(timed.calls, 1);
    assert_int_equal(g_disconnects, 0); /* our own close is not a loss */
    finish(fx);
}

/* fl_redis_close from inside callbacks: a reply, a connect, a refusal. */
static void test_close_in_callbacks(void **state)
{
    struct fx *fx = *state;
    int closed = 0;

    /* In the first of three pipelined replies. */
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    struct rec p[3] = {{0}};
    p[0].close_in_cb = 1;
    p[0].closed = &closed;
    for (int i = 0; i < 3; i++)
        assert_int_equal(fl_redis_command(r, 2000, on_reply, &p[i], NULL, "PING"), 0);
    assert_true(run_until(fx, &closed, 1, 3000));
    assert_int_equal(p[0].status, 0);
    assert_string_equal(p[0].text, "PONG");
    for (int i = 1; i < 3; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_int_equal(p[i].status, FL_EABORT);
    }

    /* In the connect callback, success. */
    struct conn_rec c2 = {.close_in_cb = 1, .closed = &closed};
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", fx->port, 2000, on_conn, &c2,
                                      &r, NULL), 0);
    assert_true(run_until(fx, &closed, 2, 3000));
    assert_int_equal(c2.calls, 1);
    assert_int_equal(c2.status, 0);

    /* In the connect callback, refused. */
    struct conn_rec c3 = {.close_in_cb = 1, .closed = &closed};
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", free_port(), 2000, on_conn,
                                      &c3, &r, NULL), 0);
    assert_true(run_until(fx, &closed, 3, 3000));
    assert_int_equal(c3.calls, 1);
    assert_int_equal(c3.status, FL_EIO);

    /* Before the loop ever ran: the connect callback gets FL_EABORT. */
    struct conn_rec c4 = {0};
    assert_int_equal(fl_redis_connect(&fx->loop, "127.0.0.1", fx->port, 2000, on_conn, &c4,
                                      &r, NULL), 0);
    fl_redis_close(r, on_closed, &closed);
    assert_int_equal(c4.calls, 1);
    assert_int_equal(c4.status, FL_EABORT);
    assert_true(run_until(fx, &closed, 4, 3000));
    run_for(fx, 50);
    assert_int_equal(closed, 4);
    assert_int_equal(c.calls + c2.calls + c3.calls + c4.calls, 4);
    finish(fx);
}

/* fl_redis_close from a timeout callback and from the disconnect callback. */
static void test_close_in_timeout_and_disconnect(void **state)
{
    struct fx *fx = *state;
    int closed = 0;
    struct conn_rec c = {0};
    struct fl_redis *r = connect_ok(fx, &c);
    pause_pid(fx->pid);
    struct rec a = {.close_in_cb = 1, .closed = &closed}, b = {0};
    assert_int_equal(fl_redis_command(r, 100, on_reply, &a, NULL, "PING"), 0);
    assert_int_equal(fl_redis_command(r, 5000, on_reply, &b, NULL, "PING"), 0);
    assert_true(run_until(fx, &closed, 1, 3000));
    assert_int_equal(a.status, FL_ETIMEDOUT);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.status, FL_EABORT);

    /* The server dies under a second connection, which closes itself from
     * its disconnect callback. */
    resume_pid(fx->pid);
    struct conn_rec c2 = {0};
    r = connect_ok(fx, &c2);
    g_disconnects = 0;
    fl_redis_on_disconnect(r, on_disc, &closed);
    struct rec p = {0};
    pause_pid(fx->pid);
    assert_int_equal(fl_redis_command(r, 5000, on_reply, &p, NULL, "PING"), 0);
    run_for(fx, 50);
    stop_pid(fx->pid);
    fx->pid = 0;
    assert_true(run_until(fx, &closed, 2, 3000));
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, FL_EIO);
    assert_int_equal(g_disconnects, 1);
    run_for(fx, 50);
    assert_int_equal(closed, 2);
    finish(fx);
}

/* INFO replication from a real master and a real replica. */
static void test_info_replication_live(void **state)
{
    struct fx *fx = *state;
    char portarg[16];
    snprintf(portarg, sizeof portarg, "%d", fx->port);
    int rport = 0;
    pid_t rpid = start_redis(&rport, "--replicaof", "127.0.0.1", portarg);

    struct conn_rec c = {0};
    struct fl_redis *m = connect_ok(fx, &c);
    int saved = fx->port;
    fx->port = rport;
    struct conn_rec c2 = {0};
    struct fl_redis *s = connect_ok(fx, &c2);
    fx->port = saved;

    /* The replica reports the link up within a few seconds: poll. */
    struct fl_redis_repl mi = {0}, si = {0};
    struct fl_error err = {0};
    for (int i = 0; i < 50; i++) {
        struct rec a = {0}, b = {0};
        assert_int_equal(fl_redis_command(m, 2000, on_reply, &a, NULL, "INFO replication"), 0);
        assert_int_equal(fl_redis_command(s, 2000, on_reply, &b, NULL, "INFO replication"), 0);
        assert_true(run_until(fx, &a.calls, 1, 3000));
        assert_true(run_until(fx, &b.calls, 1, 3000));
        assert_int_equal(fl_redis_parse_repl(a.text, strlen(a.text), &mi, &err), 0);
        assert_int_equal(fl_redis_parse_repl(b.text, strlen(b.text), &si, &err), 0);
        if (si.master_link_up && mi.connected_slaves == 1)
            break;
        run_for(fx, 100);
    }
    assert_true(mi.is_master);
    assert_string_equal(mi.role, "master");
    assert_int_equal(mi.connected_slaves, 1);
    assert_false(si.is_master);
    assert_string_equal(si.role, "slave");
    assert_string_equal(si.master_host, "127.0.0.1");
    assert_int_equal(si.master_port, fx->port);
    assert_true(si.master_link_up);

    int closed = 0;
    fl_redis_close(m, on_closed, &closed);
    fl_redis_close(s, on_closed, &closed);
    assert_true(run_until(fx, &closed, 2, 2000));
    stop_pid(rpid);
    finish(fx);
}

/* --- pure helpers ------------------------------------------------------- */

/* Parse one literal RESP reply with hiredis' own reader. */
static redisReply *resp(const char *s)
{
    redisReader *rd = redisReaderCreate();
    assert_non_null(rd);
    assert_int_equal(redisReaderFeed(rd, s, strlen(s)), REDIS_OK);
    void *rep = NULL;
    assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
    assert_non_null(rep);
    redisReaderFree(rd);
    return rep;
}

static void test_reply_helpers(void **state)
{
    (void)state;
    struct fl_buf b;
    fl_buf_init(&b, 1024);
    redisReply *rep = resp("*4\r\n$1\r\na\r\n:5\r\n$-1\r\n+OK\r\n");
    assert_int_equal(fl_redis_reply_text(rep, &b, NULL), 0);
    assert_string_equal(fl_buf_str(&b), "[a, 5, nil, OK]");
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(fl_redis_reply_strv(rep, &v, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "5");
    assert_null(v[2]);
    assert_string_equal(v[3], "OK");
    fl_redis_strv_free(v, n);
    freeReplyObject(rep);

    rep = resp("*2\r\n$1\r\nx\r\n*2\r\n$1\r\ny\r\n:-7\r\n");
    fl_buf_reset(&b);
    assert_int_equal(fl_redis_reply_text(rep, &b, NULL), 0);
    assert_string_equal(fl_buf_str(&b), "[x, [y, -7]]");
    v = NULL;
    assert_int_equal(fl_redis_reply_strv(rep, &v, &n, NULL), FL_EINVAL);
    assert_null(v);
    freeReplyObject(rep);

    rep = resp("*0\r\n");
    assert_int_equal(fl_redis_reply_strv(rep, &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_non_null(v);
    fl_redis_strv_free(v, n);
    freeReplyObject(rep);

    rep = resp("$3\r\nabc\r\n");
    assert_int_equal(fl_redis_reply_strv(rep, &v, &n, NULL), FL_EINVAL);
    freeReplyObject(rep);

    /* The ceiling holds. */
    struct fl_buf small;
    fl_buf_init(&small, 4);
    rep = resp("$10\r\n0123456789\r\n");
    assert_int_equal(fl_redis_reply_text(rep, &small, NULL), FL_ENOMEM);
    freeReplyObject(rep);
    fl_buf_free(&small);
    fl_buf_free(&b);
}

static const char INFO_MASTER[] =
    "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
    "slave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0\r\n"
    "slave1:ip=127.0.0.1,port=7002,state=online,offset=42,lag=1\r\n"
    "master_failover_state:no-failover\r\n"
    "master_replid:8a5d2c5b1e5e4f1f0d4b5f1b8e7c0b8f9a7e6d5c\r\n"
    "master_repl_offset:42\r\nsecond_repl_offset:-1\r\n";

static const char INFO_REPLICA[] =
    "# Replication\nrole:slave\nmaster_host:127.0.0.1\nmaster_port:7000\n"
    "master_link_status:down\nmaster_last_io_seconds_ago:-1\n"
    "master_sync_in_progress:0\nslave_repl_offset:0\nconnected_slaves:0\n"
    "master_repl_offset:0\n";

static void test_parse_repl(void **state)
{
    (void)state;
    struct fl_redis_repl ri;
    struct fl_error err = {0};
    assert_int_equal(fl_redis_parse_repl(INFO_MASTER, strlen(INFO_MASTER), &ri, &err), 0);
    assert_true(ri.is_master);
    assert_string_equal(ri.role, "master");
    assert_int_equal(ri.connected_slaves, 2);
    assert_int_equal(ri.repl_offset, 42);
    assert_string_equal(ri.master_host, "");
    assert_int_equal(ri.master_port, -1);

    assert_int_equal(fl_redis_parse_repl(INFO_REPLICA, strlen(INFO_REPLICA), &ri, &err), 0);
    assert_false(ri.is_master);
    assert_string_equal(ri.master_host, "127.0.0.1");
    assert_int_equal(ri.master_port, 7000);
    assert_false(ri.master_link_up);
    assert_int_equal(ri.connected_slaves, 0);

    /* The length bounds the search: cut before master_port. */
    const char *cut = strstr(INFO_REPLICA, "master_port");
    assert_int_equal(fl_redis_parse_repl(INFO_REPLICA, (size_t)(cut - INFO_REPLICA), &ri, &err),
                     FL_EINVAL);
    assert_non_null(strstr(err.msg, "master_port"));

    const char *bad[] = {
        "connected_slaves:0\r\n",                      /* no role */
        "role:sentinel\r\n",                           /* unknown role */
        "role:master\r\nconnected_slaves:x\r\n",       /* bad number */
        "role:slave\r\nmaster_port:7000\r\n",          /* no host */
        "role:slave\r\nmaster_host:h\r\nmaster_port:0\r\n", /* bad port */
        "roles:master\r\n",                            /* key prefix only */
        NULL,
    };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(fl_redis_parse_repl(bad[i], strlen(bad[i]), &ri, &err), FL_EINVAL);

    char val[8];
    assert_int_equal(fl_redis_info_field(INFO_MASTER, strlen(INFO_MASTER), "slave1", val,
                                         sizeof val), FL_ENOMEM);
    assert_int_equal(fl_redis_info_field(INFO_MASTER, strlen(INFO_MASTER), "master", val,
                                         sizeof val), FL_ENOTFOUND);
    assert_int_equal(fl_redis_info_field(INFO_MASTER, strlen(INFO_MASTER),
                                         "second_repl_offset", val, sizeof val), 0);
    assert_string_equal(val, "-1");
}

static void test_parse_master_addr(void **state)
{
    (void)state;
    char host[64];
    int port = 0;
    struct fl_error err = {0};
    redisReply *rep = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n");
    assert_int_equal(fl_redis_parse_master_addr(rep, host, sizeof host, &port, &err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6380);
    char tiny[4];
    assert_int_equal(fl_redis_parse_master_addr(rep, tiny, sizeof tiny, &port, &err), FL_ENOMEM);
    freeReplyObject(rep);

    const char *nil[] = {"*-1\r\n", "$-1\r\n", NULL};
    for (int i = 0; nil[i]; i++) {
        rep = resp(nil[i]);
        assert_int_equal(fl_redis_parse_master_addr(rep, host, sizeof host, &port, &err),
                         FL_ENOTFOUND);
        freeReplyObject(rep);
    }
    rep = resp("-ERR No such master with that name\r\n");
    assert_int_equal(fl_redis_parse_master_addr(rep, host, sizeof host, &port, &err), FL_EIO);
    assert_non_null(strstr(err.msg, "No such master"));
    freeReplyObject(rep);

    const char *bad[] = {
        "*2\r\n$9\r\n127.0.0.1\r\n$3\r\nabc\r\n",
        "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n70000\r\n",
        "*2\r\n$9\r\n127.0.0.1\r\n:6380\r\n",
        "*3\r\n$1\r\nh\r\n$4\r\n6380\r\n$1\r\nx\r\n",
        "*2\r\n$0\r\n\r\n$4\r\n6380\r\n",
        "+OK\r\n",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        rep = resp(bad[i]);
        assert_int_equal(fl_redis_parse_master_addr(rep, host, sizeof host, &port, &err),
                         FL_EINVAL);
        freeReplyObject(rep);
    }
}

int main(void)
{
    atexit(stop_all);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_helpers),
        cmocka_unit_test(test_parse_repl),
        cmocka_unit_test(test_parse_master_addr),
        cmocka_unit_test_setup_teardown(test_connect_refused, setup_loop, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout, setup_loop, teardown),
        cmocka_unit_test_setup_teardown(test_connect_ok, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_round_trips, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_command_timeout, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_server_killed, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_pending, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_close_in_callbacks, setup_server, teardown),
        cmocka_unit_test_setup_teardown(test_close_in_timeout_and_disconnect, setup_server,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_info_replication_live, setup_server, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
