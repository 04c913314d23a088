/* test_workload.c - workloads and probes against a real HTTP server.
 *
 * The server is libmicrohttpd (thread per connection, 127.0.0.1, port 0)
 * implementing a tiny job API; the client side is the real faultline
 * workload code on a libuv loop. Assertions are on the recorded history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "history/history.h"
#include "core/model.h"
#include "core/run_context.h"
#include "core/target.h"
#include "workload/workload.h"
#include "support/checks.h"

/* ---- the job API ----
 *
 *   POST /jobs        202 {"job_id":"jN"}       N = 1, 2, ...
 *   GET  /jobs/jN     by N % 4: 0,3: pending twice, then complete
 *                                1:   404, pending, then complete
 *                                2:   pending forever
 *   POST /stuck       202 {"job_id":"sN"};  GET /jobs/sN: pending forever
 *   POST /fail        500
 *   GET  /slow        200 after 1 s (or when the server stops)
 *   GET  /health      200 {"n":K} with K counting the health checks
 *   GET  /down        503
 */

#define MAX_JOBS 1024

struct server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    int jobs, stuck, health;
    int polls[MAX_JOBS];
    volatile int stopping;
};

static int reply(struct MHD_Connection *c, unsigned int status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    int ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static int job_poll(struct server *s, struct MHD_Connection *c, const char *id)
{
    if (id[0] == 's')
        return reply(c, 200, "{\"status\":\"pending\"}");
    char *end;
    long n = strtol(id + 1, &end, 10);
    if (id[0] != 'j' || *end || n < 1 || n >= MAX_JOBS)
        return reply(c, 404, "{\"error\":\"no such job\"}");
    pthread_mutex_lock(&s->mu);
    int k = ++s->polls[n];
    pthread_mutex_unlock(&s->mu);
    switch (n % 4) {
    case 1:
        if (k == 1)
            return reply(c, 404, "{\"error\":\"not found on this replica\"}");
        return reply(c, 200, k == 2 ? "{\"status\":\"pending\"}" : "{\"status\":\"complete\"}");
    case 2:
        return reply(c, 200, "{\"status\":\"pending\"}");
    default:
        return reply(c, 200, k <= 2 ? "{\"status\":\"pending\"}" : "{\"status\":\"complete\"}");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    struct server *s = cls;
    static int first;
    /* Answer from the second call: answering in the first one makes
     * libmicrohttpd close the connection, and keep-alive is part of what
     * the client is tested on. */
    if (!*con_cls) {
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    char body[128];
    int post = strcmp(method, "POST") == 0;
    if (post && strcmp(url, "/jobs") == 0) {
        pthread_mutex_lock(&s->mu);
        int n = ++s->jobs;
        pthread_mutex_unlock(&s->mu);
        snprintf(body, sizeof body, "{\"job_id\":\"j%d\"}", n);
        return reply(c, 202, body);
    }
    if (post && strcmp(url, "/stuck") == 0) {
        pthread_mutex_lock(&s->mu);
        int n = ++s->stuck;
        pthread_mutex_unlock(&s->mu);
        snprintf(body, sizeof body, "{\"job_id\":\"s%d\"}", n);
        return reply(c, 202, body);
    }
    if (post && strcmp(url, "/fail") == 0)
        return reply(c, 500, "{\"error\":\"boom\"}");
    if (strncmp(url, "/jobs/", 6) == 0)
        return job_poll(s, c, url + 6);
    if (strcmp(url, "/slow") == 0) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        for (int i = 0; i < 50 && !s->stopping; i++)
            nanosleep(&ts, NULL);
        return reply(c, 200, "{\"slow\":true}");
    }
    if (strcmp(url, "/health") == 0) {
        pthread_mutex_lock(&s->mu);
        int n = ++s->health;
        pthread_mutex_unlock(&s->mu);
        snprintf(body, sizeof body, "{\"n\":%d}", n);
        return reply(c, 200, body);
    }
    if (strcmp(url, "/down") == 0)
        return reply(c, 503, "{\"status\":\"down\"}");
    return reply(c, 404, "{\"error\":\"no route\"}");
}

static struct server *server_start(void)
{
    struct server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)10, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
    return s;
}

static void server_stop(struct server *s)
{
    s->stopping = 1;   /* /slow handlers return within 20 ms */
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- building a run by hand ---- */

struct harness {
    uv_loop_t loop;
    struct fl_run run;
    struct fl_scenario sc;
    struct fl_kv vars[1];
    char addr[64];
    struct fl_workers *w;
    uv_timer_t step, watchdog;
    int drained, closed, watchdog_fired;
    int64_t drain_called_us;
    size_t issued, ok, fail, info;   /* fl_workers_counts at the drain */
    uint64_t drain_ms;   /* 0: close without draining */
};

static void harness_init(struct harness *t, struct server *s)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    snprintf(t->addr, sizeof t->addr, "127.0.0.1:%d", s->port);
    t->vars[0].key = "addr";
    t->vars[0].value = t->addr;
    t->sc.name = "test";
    t->sc.vars = t->vars;
    t->sc.nvars = 1;
    t->sc.duration_ms = 10000;
    t->run.loop = &t->loop;
    t->run.sc = &t->sc;
    t->run.history = fl_history_new(0);
    assert_non_null(t->run.history);
    t->run.target = NULL;   /* names resolve through vars only */
    t->run.t0_us = fl_now_us();
}

static void on_closed(void *ud)
{
    struct harness *t = ud;
    t->closed = 1;
    uv_close((uv_handle_t *)&t->step, NULL);
    uv_close((uv_handle_t *)&t->watchdog, NULL);
}

static void on_drained(void *ud)
{
    struct harness *t = ud;
    t->drained++;
    t->drain_called_us = fl_run_now(&t->run);
    assert_int_equal(fl_workers_pending(t->w), 0);
    fl_workers_counts(t->w, &t->issued, &t->ok, &t->fail, &t->info);
    fl_workers_stop_probes(t->w);
    fl_workers_close(t->w, on_closed, t);
}

static void on_step(uv_timer_t *timer)
{
    struct harness *t = timer->data;
    fl_workers_stop_workloads(t->w);
    if (t->drain_ms) {
        assert_int_equal(fl_workers_drain(t->w, t->drain_ms, on_drained, t), 0);
    } else {
        fl_workers_stop_probes(t->w);
        fl_workers_close(t->w, on_closed, t);
    }
}

static void on_watchdog(uv_timer_t *timer)
{
    struct harness *t = timer->data;
    t->watchdog_fired = 1;
    fl_workers_close(t->w, on_closed, t);
}

/* Start probes and workloads, stop the workloads after stop_ms, then drain
 * (drain_ms) or close at once (drain_ms == 0); run the loop to the end. */
static void harness_run(struct harness *t, uint64_t stop_ms, uint64_t drain_ms)
{
    struct fl_error err = {0};
    assert_int_equal(fl_workers_create(&t->w, &t->run, &err), 0);
    t->drain_ms = drain_ms;
    uv_timer_init(&t->loop, &t->step);
    uv_timer_init(&t->loop, &t->watchdog);
    t->step.data = t->watchdog.data = t;
    uv_timer_start(&t->step, on_step, stop_ms, 0);
    uv_timer_start(&t->watchdog, on_watchdog, 20000, 0);
    assert_int_equal(fl_workers_start_probes(t->w), 0);
    assert_int_equal(fl_workers_start_workloads(t->w), 0);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_true(t->closed);
    assert_false(t->watchdog_fired);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* ---- history queries ---- */

static int has(const char *s, const char *sub)
{
    return s && strstr(s, sub);
}

/* Ops matching source, f and type; value must equal `value` and error
 * contain `error` when those are given. */
static size_t count(const struct fl_history *h, const char *source, const char *f, int type,
                    const char *value, const char *error)
{
    size_t n = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, source) || strcmp(op->f, f) || (int)op->type != type)
            continue;
        if (value && (!op->value || strcmp(op->value, value)))
            continue;
        if (error && !has(op->error, error))
            continue;
        n++;
    }
    return n;
}

/* Every invoke is completed exactly once, by the same process and
 * function, before that process invokes again (probes never overlap). */
static void assert_invokes_completed(const struct fl_history *h)
{
    enum { MAXP = 4096, MAXPROBE = 8192 };
    static const char *open_f[MAXP];
    static int open_probe[MAXPROBE];   /* per-replica: + 1000 * replica */
    memset(open_f, 0, sizeof open_f);
    memset(open_probe, 0, sizeof open_probe);
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_FOLLOW) == 0 || strcmp(op->f, FL_F_SKIPPED) == 0)
            continue;   /* a standalone give-up or skip count, not a completion */
        int is_probe = op->process >= FL_PROC_PROBE;
        int idx = is_probe ? op->process - FL_PROC_PROBE : op->process;
        assert_true(idx >= 0 && idx < (is_probe ? MAXPROBE : MAXP));
        if (is_probe) {
            assert_int_equal(open_probe[idx], op->type != FL_INVOKE);
            open_probe[idx] = op->type == FL_INVOKE;
            continue;
        }
        if (op->type == FL_INVOKE) {
            assert_null(open_f[idx]);
            open_f[idx] = op->f;
        } else {
            assert_non_null(open_f[idx]);
            assert_string_equal(open_f[idx], op->f);
            open_f[idx] = NULL;
        }
    }
    for (int i = 0; i < MAXP; i++)
        assert_null(open_f[i]);
    for (int i = 0; i < MAXPROBE; i++)
        assert_false(open_probe[i]);
}

/* The ok poll values of key, in order, joined by ","; and the process of
 * the request that captured it. */
static void polls_of(const struct fl_history *h, const char *key, char *out, size_t outlen,
                     int32_t proc)
{
    out[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_POLL) || !op->key || strcmp(op->key, key))
            continue;
        assert_int_equal(op->process, proc);
        if (op->type != FL_OK || !op->value)
            continue;
        int n = snprintf(out + len, outlen - len, "%s%s", len ? "," : "", op->value);
        assert_true(n > 0 && (size_t)n < outlen - len);
        len += (size_t)n;
    }
}

/* ---- tests ---- */

static const struct fl_kv json_header[] = {{.key = "Content-Type", .value = "application/json"}};
static const int ok202[] = {202};
static const struct fl_capture cap_job[] = {{.name = "job", .pointer = "/job_id"}};
static const char *const until_complete[] = {"complete"};

static struct fl_workload submit_workload(const char *name, const char *path, double rate,
                                          uint64_t stop_ms, uint64_t follow_timeout_ms)
{
    static char urls[4][64];
    static int nurl;
    char *url = urls[nurl++ % 4];
    snprintf(url, 64, "http://${addr}%s", path);
    return (struct fl_workload){
        .name = name,
        .rate = rate,
        .stop_ms = stop_ms,
        .concurrency = 16,
        .request = {.method = "POST", .url = url, .body = "{\"range\":\"7d\"}",
                    .headers = json_header, .nheaders = 1, .timeout_ms = 2000},
        .ok_status = ok202,
        .nok_status = 1,
        .capture = cap_job,
        .ncapture = 1,
        .has_follow = 1,
        .follow = {.request = {.url = "http://${addr}/jobs/${job}", .timeout_ms = 2000},
                   .every_ms = 50,
                   .record = "/status",
                   .until = until_complete,
                   .nuntil = 1,
                   .timeout_ms = follow_timeout_ms},
    };
}

static void check_submit(const struct fl_history *h, size_t *giveups, size_t *notfound)
{
    size_t checked = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, "submit") || strcmp(op->f, FL_F_REQUEST) || op->type != FL_OK)
            continue;
        assert_string_equal(op->value, "202");
        assert_non_null(op->key);
        assert_int_equal(op->key[0], 'j');
        long n = strtol(op->key + 1, NULL, 10);
        char got[1024];
        polls_of(h, op->key, got, sizeof got, op->process);
        switch (n % 4) {
        case 1:
            assert_string_equal(got, "http:404,pending,complete");
            (*notfound)++;
            break;
        case 2: {
            /* pending only, then the give-up with the last value */
            assert_non_null(strstr(got, "pending"));
            assert_null(strstr(got, "complete"));
            size_t found = 0;
            for (size_t j = 0; j < fl_history_len(h); j++) {
                const struct fl_op *g = fl_history_get(h, j);
                if (strcmp(g->f, FL_F_FOLLOW) == 0 && g->key && strcmp(g->key, op->key) == 0) {
                    assert_int_equal(g->type, FL_INFO);
                    assert_string_equal(g->error, "no until-value after 600ms");
                    assert_string_equal(g->value, "pending");
                    assert_int_equal(g->process, op->process);
                    found++;
                }
            }
            assert_int_equal(found, 1);
            (*giveups)++;
            break;
        }
        default:
            assert_string_equal(got, "pending,pending,complete");
        }
        checked++;
    }
    assert_true(checked >= 36);
}

static void test_job_api(void **state)
{
    (void)state;
    struct server *s = server_start();
    struct harness t;
    harness_init(&t, s);
    struct fl_workload wls[5];
    wls[0] = submit_workload("submit", "/jobs", 40, 1000, 600);
    wls[1] = (struct fl_workload){.name = "broken", .rate = 10, .stop_ms = 500,
                                  .request = {.method = "POST", .url = "http://${addr}/fail"}};
    wls[2] = (struct fl_workload){.name = "slow", .rate = 4, .stop_ms = 500,
                                  .request = {.url = "http://${addr}/slow", .timeout_ms = 200}};
    wls[3] = (struct fl_workload){.name = "capped", .rate = 20, .stop_ms = 500, .concurrency = 1,
                                  .request = {.url = "http://${addr}/slow", .timeout_ms = 400}};
    wls[4] = (struct fl_workload){.name = "refused", .rate = 5, .stop_ms = 400,
                                  .request = {.url = "http://127.0.0.1:1/"}};
    struct fl_probe probes[3] = {
        {.name = "health", .url = "http://${addr}/health", .record = "/n", .every_ms = 100},
        {.name = "down", .url = "http://${addr}/down", .every_ms = 200},
        {.name = "hung", .url = "http://${addr}/slow", .every_ms = 50, .timeout_ms = 150},
    };
    t.sc.workloads = wls;
    t.sc.nworkloads = 5;
    t.sc.probes = probes;
    t.sc.nprobes = 3;
    harness_run(&t, 1100, 4000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);

    assert_int_equal(t.drained, 1);
    assert_invokes_completed(h);

    /* Open loop at 40/s for 1 s: 40 operations by the clock. */
    size_t submits = count(h, "submit", FL_F_REQUEST, FL_INVOKE, NULL, NULL);
    assert_true(submits >= 36 && submits <= 40);
    assert_int_equal(count(h, "submit", FL_F_REQUEST, FL_OK, "202", NULL), submits);
    size_t giveups = 0, notfound = 0;
    check_submit(h, &giveups, &notfound);
    assert_true(giveups >= 8);
    assert_true(notfound >= 8);
    assert_int_equal(count(h, "submit", FL_F_POLL, FL_OK, "http:404", NULL), notfound);
    assert_int_equal(count(h, "submit", FL_F_FOLLOW, FL_INFO, NULL, NULL), giveups);

    /* Non-2xx main request: fail with the status. */
    size_t broken = count(h, "broken", FL_F_REQUEST, FL_INVOKE, NULL, NULL);
    assert_int_equal(broken, 5);
    assert_int_equal(count(h, "broken", FL_F_REQUEST, FL_FAIL, "http:500", NULL), broken);
    /* Timeout: info, never a guess. */
    assert_int_equal(count(h, "slow", FL_F_REQUEST, FL_INFO, NULL, "imed out"), 2);
    assert_int_equal(count(h, "slow", FL_F_REQUEST, FL_FAIL, NULL, NULL), 0);
    /* Cap: one in flight, the rest failed at once (open loop). */
    assert_true(count(h, "capped", FL_F_REQUEST, FL_FAIL, NULL, "concurrency cap reached") >= 5);
    assert_true(count(h, "capped", FL_F_REQUEST, FL_INFO, NULL, "imed out") >= 1);
    /* Connection refused: certainly not sent, so a fail with curl's message. */
    size_t refused = count(h, "refused", FL_F_REQUEST, FL_INVOKE, NULL, NULL);
    assert_int_equal(refused, 2);
    assert_int_equal(count(h, "refused", FL_F_REQUEST, FL_FAIL, NULL, "onnect"), refused);

    /* Probes: sampled on schedule, values recorded, their own processes. */
    size_t health = count(h, "health", FL_F_PROBE, FL_OK, NULL, NULL);
    assert_true(health >= 10 && health <= 40);
    long prev = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, "health") == 0) {
            assert_int_equal(op->process, FL_PROC_PROBE);
            if (op->type == FL_OK) {
                long n = strtol(op->value, NULL, 10);
                assert_true(n > prev);
                prev = n;
            }
        } else if (strcmp(op->source, "down") == 0) {
            assert_int_equal(op->process, FL_PROC_PROBE + 1);
        } else if (strcmp(op->f, FL_F_REQUEST) == 0) {
            assert_true(op->process >= 0 && op->process < FL_PROC_PROBE);
        }
    }
    assert_true(count(h, "down", FL_F_PROBE, FL_FAIL, "http:503", NULL) >= 5);
    /* A hung probe endpoint gives one timed-out sample per 150 ms, not one
     * per 50 ms (no overlapping samples: checked above). */
    size_t hung = count(h, "hung", FL_F_PROBE, FL_INVOKE, NULL, NULL);
    assert_true(hung >= 4 && hung <= 20);
    assert_int_equal(count(h, "hung", FL_F_PROBE, FL_INFO, NULL, NULL), hung);
    /* all timed out, but the last one may have been cut by the close */
    assert_true(count(h, "hung", FL_F_PROBE, FL_INFO, NULL, "imed out") + 1 >= hung);

    /* Process numbers: one per chain, from 0, each used by one chain. */
    size_t chains = 0;
    int32_t maxp = -1;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_REQUEST) == 0 && op->type == FL_INVOKE) {
            chains++;
            assert_true(op->process > maxp);
            maxp = op->process;
        }
    }
    assert_int_equal((size_t)maxp + 1, chains);
    /* The console counters agree with the history (main requests only). */
    assert_int_equal(t.issued, chains);
    assert_int_equal(t.ok, count(h, "submit", FL_F_REQUEST, FL_OK, NULL, NULL));
    assert_int_equal(t.ok + t.fail + t.info, chains);
    fl_history_free(t.run.history);
    server_stop(s);
}

static void test_close_aborts_everything(void **state)
{
    (void)state;
    struct server *s = server_start();
    struct harness t;
    harness_init(&t, s);
    struct fl_workload wls[2];
    wls[0] = (struct fl_workload){.name = "slow", .rate = 20,
                                  .request = {.url = "http://${addr}/slow", .timeout_ms = 5000}};
    wls[1] = submit_workload("stuck", "/stuck", 20, 0, 10000);
    struct fl_probe probes[1] = {
        {.name = "hung", .url = "http://${addr}/slow", .every_ms = 50, .timeout_ms = 5000},
    };
    t.sc.workloads = wls;
    t.sc.nworkloads = 2;
    t.sc.probes = probes;
    t.sc.nprobes = 1;
    int64_t t0 = fl_now_us();
    harness_run(&t, 300, 0);   /* close at 300 ms, no drain */
    assert_true(fl_now_us() - t0 < 2000000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_invokes_completed(h);
    size_t slow = count(h, "slow", FL_F_REQUEST, FL_INVOKE, NULL, NULL);
    assert_true(slow >= 4);
    assert_int_equal(count(h, "slow", FL_F_REQUEST, FL_INFO, NULL, "aborted"), slow);
    /* Every accepted stuck job is still following: each gets a give-up. */
    size_t stuck = count(h, "stuck", FL_F_REQUEST, FL_OK, "202", NULL);
    assert_true(stuck >= 4);
    assert_int_equal(count(h, "stuck", FL_F_FOLLOW, FL_INFO, NULL, "aborted"), stuck);
    assert_int_equal(count(h, "hung", FL_F_PROBE, FL_INVOKE, NULL, NULL), 1);
    assert_int_equal(count(h, "hung", FL_F_PROBE, FL_INFO, NULL, "aborted"), 1);
    fl_history_free(t.run.history);
    server_stop(s);
}

static void test_drain_timeout_gives_up_follows(void **state)
{
    (void)state;
    struct server *s = server_start();
    struct harness t;
    harness_init(&t, s);
    struct fl_workload wls[1];
    wls[0] = submit_workload("stuck", "/stuck", 10, 300, 10000);
    t.sc.workloads = wls;
    t.sc.nworkloads = 1;
    harness_run(&t, 400, 300);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_int_equal(t.drained, 1);
    /* Called at the drain timeout (400 + 300 ms), not at the follow's. */
    assert_true(t.drain_called_us >= 650000 && t.drain_called_us < 2000000);
    assert_invokes_completed(h);
    size_t stuck = count(h, "stuck", FL_F_REQUEST, FL_OK, "202", NULL);
    assert_int_equal(stuck, 3);
    assert_int_equal(count(h, "stuck", FL_F_FOLLOW, FL_INFO, "pending",
                           "drain timed out after 300ms"), stuck);
    fl_history_free(t.run.history);
    server_stop(s);
}

static void test_drain_with_nothing_pending(void **state)
{
    (void)state;
    struct server *s = server_start();
    struct harness t;
    harness_init(&t, s);
    struct fl_workload wls[1] = {
        {.name = "get", .rate = 50, .stop_ms = 200, .request = {.url = "http://${addr}/health"}},
    };
    t.sc.workloads = wls;
    t.sc.nworkloads = 1;
    harness_run(&t, 400, 5000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_int_equal(t.drained, 1);
    assert_true(t.drain_called_us < 1000000);   /* immediately, not at the timeout */
    assert_invokes_completed(h);
    size_t n = count(h, "get", FL_F_REQUEST, FL_INVOKE, NULL, NULL);
    assert_int_equal(n, 10);
    assert_int_equal(count(h, "get", FL_F_REQUEST, FL_OK, "200", NULL), n);
    fl_history_free(t.run.history);
    server_stop(s);
}

/* ---- per-replica probes, on a target of three replicas ----
 *
 * A stand-in target: service "api" has replicas api.0 and api.2 served by
 * two real servers and api.1 on a port nothing listens on (a dead
 * replica). It only lists instances and resolves their names. */

static struct fl_instance fake_inst[3];

static size_t fake_instances(struct fl_target *t, const char *service, struct fl_instance **out,
                             size_t max)
{
    (void)t;
    if (strcmp(service, "api") != 0)
        return 0;
    for (size_t i = 0; i < 3 && i < max; i++)
        out[i] = &fake_inst[i];
    return 3;
}

static int fake_resolve(struct fl_target *t, const char *name, size_t len, struct fl_buf *out,
                        struct fl_error *err)
{
    (void)t;
    (void)err;
    for (size_t i = 0; i < 3; i++) {
        size_t il = strlen(fake_inst[i].id);
        if (len == il && memcmp(name, fake_inst[i].id, il) == 0)
            return fl_buf_addf(out, "127.0.0.1:%d", fake_inst[i].port) ? FL_ENOMEM : 0;
        if (len == il + 5 && memcmp(name, fake_inst[i].id, il) == 0 &&
            memcmp(name + il, ".port", 5) == 0)
            return fl_buf_addf(out, "%d", fake_inst[i].port) ? FL_ENOMEM : 0;
    }
    return FL_ENOTFOUND;
}

static const struct fl_target_type fake_target_type = {
    .name = "fake",
    .instances = fake_instances,
    .resolve = fake_resolve,
};

static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_per_replica_probe(void **state)
{
    (void)state;
    struct server *s0 = server_start(), *s2 = server_start();
    int ports[3] = {s0->port, dead_port(), s2->port};
    for (int i = 0; i < 3; i++) {
        memset(&fake_inst[i], 0, sizeof fake_inst[i]);
        fake_inst[i].service = "api";
        fake_inst[i].replica = i;
        snprintf(fake_inst[i].id, sizeof fake_inst[i].id, "api.%d", i);
        fake_inst[i].port = ports[i];
        fake_inst[i].pid = i == 1 ? 0 : 1;
    }
    struct fl_target target = {.type = &fake_target_type};
    struct harness t;
    harness_init(&t, s0);
    target.run = &t.run;
    t.run.target = &target;
    struct fl_probe probes[2] = {
        {.name = "store", .each = "api", .url = "http://${each}/health", .record = "/n",
         .every_ms = 100},
        {.name = "ports", .each = "api", .url = "http://127.0.0.1:${each.port}/down",
         .every_ms = 200},
    };
    t.sc.probes = probes;
    t.sc.nprobes = 2;
    harness_run(&t, 650, 0);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_invokes_completed(h);
    size_t n[3] = {0}, fails[3] = {0};
    long prev[3] = {0};
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_PROBE))
            continue;
        /* Every sample names its replica, and each replica is a process. */
        assert_non_null(op->key);
        assert_true(strncmp(op->key, "api.", 4) == 0);
        int r = op->key[4] - '0';
        assert_true(r >= 0 && r <= 2);
        int probe = strcmp(op->source, "store") == 0 ? 0 : 1;
        assert_int_equal(op->process, FL_PROC_PROBE + probe + 1000 * r);
        if (op->type == FL_INVOKE)
            continue;
        if (probe == 1) {
            if (r != 1)
                assert_string_equal(op->value, "http:503");
            continue;
        }
        n[r]++;
        if (r == 1) {   /* nothing listens there: refused, certainly failed */
            assert_int_equal(op->type, FL_FAIL);
            assert_non_null(op->error);
            fails[r]++;
            continue;
        }
        /* each replica is its own server: its own counter, ever growing */
        assert_int_equal(op->type, FL_OK);
        long v = strtol(op->value, NULL, 10);
        assert_true(v > prev[r]);
        prev[r] = v;
    }
    for (int r = 0; r < 3; r++)
        assert_true(n[r] >= 5 && n[r] <= 9);
    assert_int_equal(fails[1], n[1]);
    /* The servers saw only their own replica's samples. */
    assert_int_equal(prev[0], (long)n[0]);
    assert_int_equal(prev[2], (long)n[2]);
    assert_true(count(h, "ports", FL_F_PROBE, FL_FAIL, NULL, NULL) >= 6);
    fl_history_free(t.run.history);
    server_stop(s0);
    server_stop(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_api),
        cmocka_unit_test(test_close_aborts_everything),
        cmocka_unit_test(test_drain_timeout_gives_up_follows),
        cmocka_unit_test(test_drain_with_nothing_pending),
        cmocka_unit_test(test_per_replica_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
