/* test_docker_client.c - the Docker Engine API client (targets/compose/
 * docker.c) over a real unix socket, against a small scripted server in a
 * child process: the version is negotiated before anything else and every
 * later path carries it; an event that arrives split across reads is put
 * back together and delivered from the loop, not from inside libcurl; the
 * end of the stream is reported once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "targets/compose/docker.h"

#define MAX_REQ 4

struct server {
    char path[108];
    pid_t pid;
    int report;          /* read end: the request lines the server saw */
};

/* Serve n connections on a unix socket, one answer each; '|' in an answer
 * splits it into writes 50 ms apart (one read of the client may end
 * anywhere in an event). Each request line goes to the report pipe. */
static int serve(struct server *s, const char *const *answers, int n)
{
    snprintf(s->path, sizeof s->path, "/tmp/fl-test-docker-%d.sock", (int)getpid());
    unlink(s->path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", s->path);
    int p[2];
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) || pipe(p))
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        close(p[0]);
        for (int i = 0; i < n; i++) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                _exit(1);
            char req[4096];
            size_t got = 0;
            while (got < sizeof req - 1) {
                ssize_t r = read(c, req + got, sizeof req - 1 - got);
                if (r <= 0)
                    break;
                got += (size_t)r;
                req[got] = '\0';
                if (strstr(req, "\r\n\r\n"))
                    break;
            }
            req[got] = '\0';
            char *eol = strstr(req, "\r\n");
            if (eol)
                *eol = '\0';
            dprintf(p[1], "%s\n", req);
            const char *at = answers[i];
            while (*at) {
                const char *bar = strchr(at, '|');
                size_t len = bar ? (size_t)(bar - at) : strlen(at);
                if (write(c, at, len) < 0)
                    break;
                at += len + (bar ? 1 : 0);
                if (bar)
                    usleep(50000);
            }
            close(c);
        }
        _exit(0);
    }
    close(fd);
    close(p[1]);
    s->report = p[0];
    return s->pid > 0 ? 0 : -1;
}

/* The request lines the server saw (after it served everything). */
static void finish(struct server *s, char *lines, size_t len)
{
    int status;
    waitpid(s->pid, &status, 0);
    ssize_t n = read(s->report, lines, len - 1);
    lines[n > 0 ? n : 0] = '\0';
    close(s->report);
    unlink(s->path);
}

struct got {
    int replies, events, ends;
    int status[MAX_REQ];
    char action[4][32];
    char end[128];
};

static void on_reply(void *ud, const struct fl_docker_reply *r)
{
    struct got *g = ud;
    if (g->replies < MAX_REQ)
        g->status[g->replies] = r->status;
    g->replies++;
}

static void on_event(void *ud, json_t *ev)
{
    struct got *g = ud;
    const char *a = json_string_value(json_object_get(ev, "Action"));
    if (g->events < 4)
        snprintf(g->action[g->events], sizeof g->action[0], "%s", a ? a : "?");
    g->events++;
}

static void on_end(void *ud, const char *error)
{
    struct got *g = ud;
    g->ends++;
    snprintf(g->end, sizeof g->end, "%s", error);
}

static void on_closed(void *ud)
{
    *(int *)ud = 1;
}

static void run_until(uv_loop_t *loop, int *flag, int want, int timeout_ms)
{
    int64_t end = fl_now_us() + (int64_t)timeout_ms * 1000;
    while (*flag < want && fl_now_us() < end)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
}

static char *answer(const char *body)
{
    size_t len = strlen(body) + 256;
    char *s = malloc(len);
    snprintf(s, len, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
               "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    return s;
}

static void test_negotiate_and_call(void **state)
{
    (void)state;
    char *v = answer("{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}");
    char *l = answer("[]");
    const char *answers[] = {v, l};
    struct server s;
    assert_int_equal(serve(&s, answers, 2), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fl_docker *d;
    struct fl_error e = {0};
    assert_int_equal(fl_docker_new(&d, &loop, s.path, &e), 0);
    struct got g = {0};
    /* Nothing goes out before the version is known. */
    assert_int_equal(fl_docker_call(d, "GET", "/containers/json", NULL, 2000, on_reply, &g, &e),
                     FL_EINVAL);
    assert_int_equal(fl_docker_negotiate(d, on_reply, &g, &e), 0);
    run_until(&loop, &g.replies, 1, 5000);
    assert_int_equal(g.status[0], 200);
    assert_string_equal(fl_docker_api(d), "1.41");
    assert_string_equal(fl_docker_engine(d), "20.10.24");
    assert_int_equal(fl_docker_call(d, "GET", "/containers/json?all=1", NULL, 2000, on_reply, &g,
                                    &e), 0);
    run_until(&loop, &g.replies, 2, 5000);
    assert_int_equal(g.status[1], 200);
    int closed = 0;
    fl_docker_close(d, on_closed, &closed);
    run_until(&loop, &closed, 1, 2000);
    assert_int_equal(closed, 1);
    char lines[1024];
    finish(&s, lines, sizeof lines);
    assert_non_null(strstr(lines, "GET /version HTTP/1.1\n"));
    assert_non_null(strstr(lines, "GET /v1.41/containers/json?all=1 HTTP/1.1\n"));
    assert_int_equal(uv_loop_close(&loop), 0);
    free(v);
    free(l);
}

static void test_newer_engine(void **state)
{
    (void)state;
    char *v = answer("{\"Version\":\"28.2\",\"ApiVersion\":\"1.51\",\"MinAPIVersion\":\"1.24\"}");
    char *l = answer("{}");
    const char *answers[] = {v, l};
    struct server s;
    assert_int_equal(serve(&s, answers, 2), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fl_docker *d;
    struct fl_error e = {0};
    assert_int_equal(fl_docker_new(&d, &loop, s.path, &e), 0);
    struct got g = {0};
    assert_int_equal(fl_docker_negotiate(d, on_reply, &g, &e), 0);
    run_until(&loop, &g.replies, 1, 5000);
    assert_string_equal(fl_docker_api(d), FL_DOCKER_API_NEWEST);
    assert_int_equal(fl_docker_call(d, "POST", "/containers/x/pause", NULL, 2000, on_reply, &g,
                                    &e), 0);
    run_until(&loop, &g.replies, 2, 5000);
    int closed = 0;
    fl_docker_close(d, on_closed, &closed);
    run_until(&loop, &closed, 1, 2000);
    char lines[1024];
    finish(&s, lines, sizeof lines);
    assert_non_null(strstr(lines, "POST /v" FL_DOCKER_API_NEWEST "/containers/x/pause HTTP/1.1\n"));
    assert_int_equal(uv_loop_close(&loop), 0);
    free(v);
    free(l);
}

static void test_events(void **state)
{
    (void)state;
    char *v = answer("{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\"}");
    /* A stream without a length, ending when the server closes; the second
     * event arrives in two pieces. */
    const char *stream = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         "\r\n{\"Action\":\"start\",\"id\":\"a\"}\n{\"Act|ion\":\"die\",\"id\":\"a\"}\n|"
                         "{\"Action\":\"health_status: healthy\"}\n";
    const char *answers[] = {v, stream};
    struct server s;
    assert_int_equal(serve(&s, answers, 2), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fl_docker *d;
    struct fl_error e = {0};
    assert_int_equal(fl_docker_new(&d, &loop, s.path, &e), 0);
    struct got g = {0};
    assert_int_equal(fl_docker_negotiate(d, on_reply, &g, &e), 0);
    run_until(&loop, &g.replies, 1, 5000);
    assert_int_equal(fl_docker_events(d, "{\"label\":[\"com.docker.compose.project=p\"]}", on_event,
                                      on_end, &g, &e), 0);
    /* One stream per client. */
    assert_int_equal(fl_docker_events(d, "{}", on_event, on_end, &g, &e), FL_EINVAL);
    run_until(&loop, &g.ends, 1, 5000);
    run_until(&loop, &g.events, 3, 1000);
    assert_int_equal(g.events, 3);
    assert_string_equal(g.action[0], "start");
    assert_string_equal(g.action[1], "die");
    assert_string_equal(g.action[2], "health_status: healthy");
    assert_int_equal(g.ends, 1);
    assert_non_null(strstr(g.end, "ended the event stream"));
    int closed = 0;
    fl_docker_close(d, on_closed, &closed);
    run_until(&loop, &closed, 1, 2000);
    char lines[1024];
    finish(&s, lines, sizeof lines);
    /* The filters went URL-encoded. */
    assert_non_null(strstr(lines, "GET /v1.41/events?filters=%7B%22label%22%3A%5B%22com.docker."
                                  "compose.project%3Dp%22%5D%7D HTTP/1.1\n"));
    assert_int_equal(g.ends, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(v);
}

static void test_no_engine(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fl_docker *d;
    struct fl_error e = {0};
    assert_int_equal(fl_docker_new(&d, &loop, "/nonexistent/docker.sock", &e), 0);
    struct got g = {0};
    assert_int_equal(fl_docker_negotiate(d, on_reply, &g, &e), 0);
    run_until(&loop, &g.replies, 1, 5000);
    assert_int_equal(g.status[0], 0);
    assert_string_equal(fl_docker_api(d), "");
    int closed = 0;
    fl_docker_close(d, on_closed, &closed);
    run_until(&loop, &closed, 1, 2000);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_and_call),
        cmocka_unit_test(test_newer_engine),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_no_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
