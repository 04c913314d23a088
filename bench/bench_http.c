/* bench_http.c - drive faultline's HTTP client (harness/http.c) at its
 * maximum rate: C requests in flight against one URL for D seconds, then
 * print the completed requests per second.
 *
 * usage: bench_http URL [connections=50] [seconds=5]
 * output: "bench_http: N requests, E errors, R req/s"
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "proto/http.h"
#include "base/util.h"

struct bench {
    struct fl_http *http;
    struct fl_http_request rq;
    uv_timer_t timer;
    int stopping;
    unsigned long long done, errors;
    int64_t t0_us, t1_us;
};

static void on_response(void *ud, const struct fl_http_result *res);

static int submit(struct bench *b)
{
    struct fl_error err = {0};
    if (fl_http_submit(b->http, &b->rq, on_response, b, NULL, &err)) {
        fprintf(stderr, "bench_http: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void on_http_closed(void *ud)
{
    (void)ud;
}

static void finish(struct bench *b)
{
    if (fl_http_inflight(b->http) == 0) {
        fl_http_close(b->http, on_http_closed, b);
        uv_close((uv_handle_t *)&b->timer, NULL);
    }
}

static void on_response(void *ud, const struct fl_http_result *res)
{
    struct bench *b = ud;
    if (res->outcome == FL_HTTP_ABORTED)
        return;
    if (b->stopping) {   /* completed after the clock stopped: not counted */
        finish(b);
        return;
    }
    if (res->outcome == FL_HTTP_DONE && res->status == 200)
        b->done++;
    else
        b->errors++;
    if (submit(b))
        b->errors++;
}

static void on_stop(uv_timer_t *t)
{
    struct bench *b = t->data;
    b->stopping = 1;
    b->t1_us = fl_now_us();
    finish(b);
}

static long arg_long(const char *s, long lo, long hi, const char *what)
{
    long long v;
    if (fl_parse_int(s, lo, hi, &v)) {
        fprintf(stderr, "bench_http: %s must be %ld..%ld\n", what, lo, hi);
        exit(2);
    }
    return (long)v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_http URL [connections=50] [seconds=5]\n");
        return 2;
    }
    long conns = argc > 2 ? arg_long(argv[2], 1, 10000, "connections") : 50;
    long secs = argc > 3 ? arg_long(argv[3], 1, 600, "seconds") : 5;

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct bench b = {0};
    struct fl_error err = {0};
    if (fl_http_new(&b.http, &loop, &err)) {
        fprintf(stderr, "bench_http: %s\n", err.msg);
        return 1;
    }
    b.rq.url = argv[1];
    b.rq.timeout_ms = 10000;
    uv_timer_init(&loop, &b.timer);
    b.timer.data = &b;
    uv_timer_start(&b.timer, on_stop, (uint64_t)secs * 1000, 0);
    b.t0_us = fl_now_us();
    for (long i = 0; i < conns; i++)
        if (submit(&b))
            return 1;
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    double elapsed = (double)(b.t1_us - b.t0_us) / 1e6;
    printf("bench_http: %llu requests, %llu errors, %.0f req/s\n", b.done, b.errors,
           elapsed > 0 ? (double)b.done / elapsed : 0.0);
    return rc == 0 && b.done > 0 ? 0 : 1;
}
