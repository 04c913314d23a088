/* test_workload_redis.c - Redis workloads and Redis probes against real
 * redis-server processes (and a real sentinel) on loopback.
 *
 * Each test starts its servers on free 127.0.0.1 ports and kills them by
 * PID in teardown, whatever happened (and PDEATHSIG covers a crash of this
 * process). The client side is the real workers code on a libuv loop;
 * assertions are on the recorded history, cross-checked with a blocking
 * hiredis client. Every test ends with uv_loop_close() == 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
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

#include <hiredis/hiredis.h>

#include "support/procs.h"

#include "history/history.h"
#include "core/model.h"
#include "core/run_context.h"
#include "workload/workload.h"
#include "support/checks.h"

/* ---- processes ---- */

static char g_tmpdir[128];

#define kill_pid fl_test_kill
#define kill_all fl_test_kill_all
#define sleep_ms fl_test_sleep_ms

static int free_port(void)
{
    int port = fl_test_free_port();
    assert_true(port > 0);
    return port;
}

/* A blocking connection with short timeouts, or NULL. */
static redisContext *sync_connect(int port)
{
    struct timeval tv = {0, 300000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

#define spawn_redis fl_test_redis_spawn

/* A plain server on port (0: a free one, written back). replicaof: the
 * primary's port or 0. */
static pid_t start_server(int *port, int replicaof)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int p = *port ? *port : free_port();
        char ps[16], rs[16], dbf[64];
        snprintf(ps, sizeof ps, "%d", p);
        snprintf(dbf, sizeof dbf, "fl-test-wr-%d.rdb", p);
        snprintf(rs, sizeof rs, "%d", replicaof);
        const char *args[] = {"--port", ps, "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--daemonize", "no",
                              "--repl-diskless-sync-delay", "0", "--dir", "/tmp",
                              "--dbfilename", dbf,
                              replicaof ? "--replicaof" : NULL, "127.0.0.1", rs, NULL};
        pid_t pid = spawn_redis(p, args);
        if (pid > 0) {
            *port = p;
            return pid;
        }
    }
    fail_msg("redis-server did not start");
    return -1;
}

/* One sentinel watching the primary on mport, its config in g_tmpdir. */
static pid_t start_sentinel(int *port, int mport)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int p = free_port();
        char conf[256];
        snprintf(conf, sizeof conf, "%s/sentinel-%d.conf", g_tmpdir, p);
        FILE *f = fopen(conf, "w");
        assert_non_null(f);
        fprintf(f, "port %d\nbind 127.0.0.1\ndaemonize no\n"
                   "sentinel monitor mymaster 127.0.0.1 %d 1\n"
                   "sentinel down-after-milliseconds mymaster 1000\n"
                   "sentinel failover-timeout mymaster 3000\n", p, mport);
        fclose(f);
        const char *args[] = {conf, "--sentinel", NULL};
        pid_t pid = spawn_redis(p, args);
        if (pid > 0) {
            *port = p;
            return pid;
        }
    }
    fail_msg("redis sentinel did not start");
    return -1;
}

static long long scard(int port, const char *key)
{
    redisContext *c = sync_connect(port);
    assert_non_null(c);
    redisReply *rep = redisCommand(c, "SCARD %s", key);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    long long n = rep->integer;
    freeReplyObject(rep);
    redisFree(c);
    return n;
}

static void sync_cmd(int port, const char *cmd)
{
    redisContext *c = sync_connect(port);
    assert_non_null(c);
    redisReply *rep = redisCommand(c, cmd);
    assert_non_null(rep);
    freeReplyObject(rep);
    redisFree(c);
}

/* ---- a run built by hand ---- */

enum { MAX_VARS = 8, MAX_EVENTS = 4 };

struct harness;
typedef void (*event_fn)(struct harness *t);

struct harness {
    uv_loop_t loop;
    struct fl_run run;
    struct fl_scenario sc;
    struct fl_kv vars[MAX_VARS];
    char vals[MAX_VARS][64];
    size_t nvars;
    struct fl_workers *w;
    uv_timer_t step, watchdog;
    uv_timer_t ev_timer[MAX_EVENTS];
    event_fn ev_fn[MAX_EVENTS];
    size_t nev;
    int drained, closed, watchdog_fired;
    uint64_t drain_ms;
    int64_t drain_start_us, drain_end_us;
    size_t pending_at_drain;
    /* test state shared with events */
    int ports[4];
    pid_t pids[4];
    int64_t mark_us;
};

static void h_var(struct harness *t, const char *key, int port)
{
    assert_true(t->nvars < MAX_VARS);
    snprintf(t->vals[t->nvars], sizeof t->vals[0], "127.0.0.1:%d", port);
    t->vars[t->nvars].key = key;
    t->vars[t->nvars].value = t->vals[t->nvars];
    t->nvars++;
    t->sc.nvars = t->nvars;
}

static void h_init(struct harness *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    t->sc.name = "redis-test";
    t->sc.vars = t->vars;
    t->sc.duration_ms = 60000;
    t->run.loop = &t->loop;
    t->run.sc = &t->sc;
    t->run.history = fl_history_new(0);
    assert_non_null(t->run.history);
    t->run.t0_us = fl_now_us();
}

static void on_ev(uv_timer_t *timer)
{
    struct harness *t = timer->data;
    for (size_t i = 0; i < t->nev; i++)
        if (&t->ev_timer[i] == timer)
            t->ev_fn[i](t);
}

/* Call fn at ms into the run (from the loop). */
static void h_at(struct harness *t, uint64_t ms, event_fn fn)
{
    assert_true(t->nev < MAX_EVENTS);
    size_t i = t->nev++;
    t->ev_fn[i] = fn;
    uv_timer_init(&t->loop, &t->ev_timer[i]);
    t->ev_timer[i].data = t;
    uv_timer_start(&t->ev_timer[i], on_ev, ms, 0);
}

static void on_closed(void *ud)
{
    struct harness *t = ud;
    t->closed = 1;
    uv_close((uv_handle_t *)&t->step, NULL);
    uv_close((uv_handle_t *)&t->watchdog, NULL);
    for (size_t i = 0; i < t->nev; i++)
        uv_close((uv_handle_t *)&t->ev_timer[i], NULL);
}

static void on_drained(void *ud)
{
    struct harness *t = ud;
    t->drained++;
    t->drain_end_us = fl_run_now(&t->run);
    t->pending_at_drain = fl_workers_pending(t->w);
    fl_workers_stop_probes(t->w);
    fl_workers_close(t->w, on_closed, t);
}

static void on_step(uv_timer_t *timer)
{
    struct harness *t = timer->data;
    fl_workers_stop_workloads(t->w);
    if (t->drain_ms) {
        t->drain_start_us = fl_run_now(&t->run);
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

static void h_run(struct harness *t, uint64_t stop_ms, uint64_t drain_ms)
{
    struct fl_error err = {0};
    assert_int_equal(fl_workers_create(&t->w, &t->run, &err), 0);
    t->drain_ms = drain_ms;
    uv_timer_init(&t->loop, &t->step);
    uv_timer_init(&t->loop, &t->watchdog);
    t->step.data = t->watchdog.data = t;
    uv_timer_start(&t->step, on_step, stop_ms, 0);
    uv_timer_start(&t->watchdog, on_watchdog, 30000, 0);
    assert_int_equal(fl_workers_start_probes(t->w), 0);
    assert_int_equal(fl_workers_start_workloads(t->w), 0);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    assert_true(t->closed);
    assert_false(t->watchdog_fired);
    assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* ---- history queries ---- */

static size_t count(const struct fl_history *h, const char *source, const char *f, int type,
                    const char *error)
{
    size_t n = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, source) || strcmp(op->f, f) || (int)op->type != type)
            continue;
        if (error && (!op->error || !strstr(op->error, error)))
            continue;
        n++;
    }
    return n;
}

/* Every write/read invoke of a workload process is completed exactly once
 * by the next op of that process, with the same key and element; probe
 * samples of one process never overlap. */
static void assert_completed(const struct fl_history *h)
{
    enum { MAXP = 4096 };
    static const struct fl_op *open[MAXP];
    static int open_probe[8192];
    memset(open, 0, sizeof open);
    memset(open_probe, 0, sizeof open_probe);
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->process >= FL_PROC_PROBE) {
            int idx = op->process - FL_PROC_PROBE;
            assert_true(idx >= 0 && idx < 8192);
            assert_int_equal(open_probe[idx], op->type != FL_INVOKE);
            open_probe[idx] = op->type == FL_INVOKE;
            continue;
        }
        assert_true(op->process >= 0 && op->process < MAXP);
        if (op->type == FL_INVOKE) {
            assert_null(open[op->process]);
            open[op->process] = op;
            continue;
        }
        const struct fl_op *inv = open[op->process];
        assert_non_null(inv);
        assert_string_equal(inv->f, op->f);
        assert_string_equal(inv->key, op->key);
        if (strcmp(op->f, FL_F_WRITE) == 0)
            assert_string_equal(inv->value, op->value);
        open[op->process] = NULL;
    }
    for (int i = 0; i < MAXP; i++)
        assert_null(open[i]);
    for (int i = 0; i < 8192; i++)
        assert_false(open_probe[i]);
}

/* The ok final read of source: its elements as a JSON array (owned). */
static json_t *final_read(const struct fl_history *h, const char *source)
{
    const struct fl_op *found = NULL;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, source) == 0 && strcmp(op->f, FL_F_READ) == 0 &&
            op->type != FL_INVOKE) {
            assert_null(found);   /* one completion */
            found = op;
        }
    }
    assert_non_null(found);
    if (found->type != FL_OK)
        fail_msg("final read of %s: %s %s", source, fl_optype_name(found->type),
                 found->error ? found->error : "");
    json_error_t jerr;
    json_t *arr = json_loads(found->value, 0, &jerr);
    assert_non_null(arr);
    assert_true(json_is_array(arr));
    return arr;
}

static int json_has(json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *v = json_string_value(json_array_get(arr, i));
        if (v && strcmp(v, s) == 0)
            return 1;
    }
    return 0;
}

/* ok writes of source present in arr; *total: how many ok writes. */
static size_t acked_present(const struct fl_history *h, const char *source, json_t *arr,
                            int64_t after_us, size_t *total)
{
    size_t n = 0;
    *total = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, source) || strcmp(op->f, FL_F_WRITE) || op->type != FL_OK ||
            op->time_us < after_us)
            continue;
        (*total)++;
        n += json_has(arr, op->value);
    }
    return n;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/fl-wlredis-XXXXXX");
    assert_non_null(mkdtemp(g_tmpdir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kill_all();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", g_tmpdir);
    return 0;
}

static const char *const sadd_acked[] = {"SADD", "acked", "${value}", NULL};
static const char *const smembers_acked[] = {"SMEMBERS", "acked", NULL};

static struct fl_workload redis_workload(const char *name, const char *addr, double rate,
                                         uint64_t start_ms, uint64_t stop_ms)
{
    return (struct fl_workload){
        .name = name,
        .kind = FL_WORKLOAD_REDIS,
        .rate = rate,
        .start_ms = start_ms,
        .stop_ms = stop_ms,
        .concurrency = 64,
        .redis = {.at = {.addr = addr, .master = "mymaster"},
                  .command = sadd_acked, .ncommand = 3, .key = "acked",
                  .read = smembers_acked, .nread = 2, .timeout_ms = 500},
    };
}

/* ---- tests ---- */

/* Acknowledged writes, then a final read that holds them all; a WAIT
 * nobody can satisfy makes writes info, not ok. */
static void test_writes_and_final_read(void **state)
{
    (void)state;
    struct harness t;
    h_init(&t);
    t.pids[0] = start_server(&t.ports[0], 0);
    h_var(&t, "redis", t.ports[0]);
    static const char *const sadd_waited[] = {"SADD", "waited", "${value}", NULL};
    static const char *const smembers_waited[] = {"SMEMBERS", "waited", NULL};
    struct fl_workload wls[2];
    wls[0] = redis_workload("writes", "${redis}", 100, 200, 700);
    wls[1] = redis_workload("waited", "${redis}", 20, 200, 500);
    wls[1].redis.command = sadd_waited;
    wls[1].redis.read = smembers_waited;
    wls[1].redis.key = "waited";
    wls[1].redis.wait_replicas = 1;
    wls[1].redis.wait_timeout_ms = 20;
    t.sc.workloads = wls;
    t.sc.nworkloads = 2;
    h_run(&t, 800, 3000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_int_equal(t.drained, 1);
    assert_int_equal(t.pending_at_drain, 0);
    assert_completed(h);

    size_t issued = count(h, "writes", FL_F_WRITE, FL_INVOKE, NULL);
    assert_true(issued >= 45 && issued <= 50);
    assert_int_equal(count(h, "writes", FL_F_WRITE, FL_OK, NULL), issued);
    json_t *arr = final_read(h, "writes");
    size_t total;
    assert_int_equal(acked_present(h, "writes", arr, 0, &total), issued);
    assert_int_equal(json_array_size(arr), issued);
    /* two Redis workloads: elements carry the workload's name */
    assert_true(json_has(arr, "writes-w0"));
    json_decref(arr);
    assert_int_equal(scard(t.ports[0], "acked"), (long long)issued);

    /* No replica: WAIT answers 0, the writes are applied but not acked. */
    size_t waited = count(h, "waited", FL_F_WRITE, FL_INVOKE, NULL);
    assert_true(waited >= 5);
    assert_int_equal(count(h, "waited", FL_F_WRITE, FL_INFO, "wait=0, wanted 1"), waited);
    assert_int_equal(scard(t.ports[0], "waited"), (long long)waited);
    fl_history_free(t.run.history);
}

/* Error replies are fail (certainly not applied): a wrong type, and a
 * read-only replica (which also makes the client rediscover). */
static void test_error_replies_fail(void **state)
{
    (void)state;
    struct harness t;
    h_init(&t);
    t.pids[0] = start_server(&t.ports[0], 0);
    int dead = free_port();
    t.pids[1] = start_server(&t.ports[1], dead);   /* a replica of nothing */
    sync_cmd(t.ports[0], "SET acked notaset");
    h_var(&t, "redis", t.ports[0]);
    h_var(&t, "replica", t.ports[1]);
    struct fl_workload wls[2];
    wls[0] = redis_workload("wrongtype", "${redis}", 20, 100, 400);
    wls[0].redis.nread = 0;
    wls[1] = redis_workload("readonly", "${replica}", 20, 100, 400);
    t.sc.workloads = wls;
    t.sc.nworkloads = 2;
    h_run(&t, 500, 3000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_completed(h);
    size_t n = count(h, "wrongtype", FL_F_WRITE, FL_INVOKE, NULL);
    assert_true(n >= 5);
    assert_int_equal(count(h, "wrongtype", FL_F_WRITE, FL_FAIL, "WRONGTYPE"), n);
    assert_int_equal(count(h, "wrongtype", FL_F_READ, FL_INVOKE, NULL), 0);
    n = count(h, "readonly", FL_F_WRITE, FL_INVOKE, NULL);
    assert_true(n >= 5);
    /* READONLY, or no primary while it reconnects: never ok, never info */
    assert_true(count(h, "readonly", FL_F_WRITE, FL_FAIL, "READONLY") >= 1);
    assert_int_equal(count(h, "readonly", FL_F_WRITE, FL_FAIL, NULL), n);
    /* a replica serves reads: the final read is ok and empty */
    json_t *arr = final_read(h, "readonly");
    assert_int_equal(json_array_size(arr), 0);
    json_decref(arr);
    fl_history_free(t.run.history);
}

static void kill_primary(struct harness *t)
{
    kill_pid(t->pids[0]);
    t->pids[0] = 0;
}

static void restart_primary(struct harness *t)
{
    t->pids[0] = start_server(&t->ports[0], 0);   /* same port */
    t->mark_us = fl_run_now(&t->run);
}

/* The server dies mid-run: writes then are info (in flight) or fail (no
 * primary); after a restart on the same port the client reconnects. */
static void test_server_killed_and_restarted(void **state)
{
    (void)state;
    struct harness t;
    h_init(&t);
    t.pids[0] = start_server(&t.ports[0], 0);
    h_var(&t, "redis", t.ports[0]);
    struct fl_workload wls[1] = {redis_workload("writes", "${redis}", 50, 100, 2500)};
    t.sc.workloads = wls;
    t.sc.nworkloads = 1;
    h_at(&t, 700, kill_primary);
    h_at(&t, 1300, restart_primary);
    h_run(&t, 2600, 5000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_completed(h);
    assert_true(t.mark_us > 0);
    size_t before = 0, during_bad = 0, during_ok = 0, after_ok = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_WRITE) || op->type == FL_INVOKE)
            continue;
        if (op->time_us < 690000)
            before += op->type == FL_OK;
        else if (op->time_us < 1290000)
            op->type == FL_OK ? during_ok++ : during_bad++;
        else if (op->time_us > t.mark_us + 300000)
            after_ok += op->type == FL_OK;
    }
    assert_true(before >= 20);
    assert_int_equal(during_ok, 0);
    assert_true(during_bad >= 20);
    assert_true(count(h, "writes", FL_F_WRITE, FL_FAIL, "no primary known") >= 10);
    assert_true(after_ok >= 30);
    /* the restarted server lost the old data: the read has the new writes */
    json_t *arr = final_read(h, "writes");
    size_t total;
    size_t present = acked_present(h, "writes", arr, t.mark_us, &total);
    assert_true(total >= 30);
    assert_int_equal(present, total);
    json_decref(arr);
    fl_history_free(t.run.history);
}

static void kill_first(struct harness *t)
{
    kill_pid(t->pids[0]);
    t->pids[0] = 0;
    t->mark_us = fl_run_now(&t->run);
}

/* Primary + replica + one sentinel: the workload finds the primary
 * through the sentinel, a per-replica Redis probe reports each node's
 * role; when the primary dies the sentinel promotes the replica and the
 * workload follows it. */
static void test_sentinel_discovery_and_failover(void **state)
{
    (void)state;
    struct harness t;
    h_init(&t);
    t.pids[0] = start_server(&t.ports[0], 0);
    t.pids[1] = start_server(&t.ports[1], t.ports[0]);
    t.pids[2] = start_sentinel(&t.ports[2], t.ports[0]);
    /* No target here: "svc.N" names come from vars. */
    h_var(&t, "redis.0", t.ports[0]);
    h_var(&t, "redis.1", t.ports[1]);
    h_var(&t, "sentinel.0", t.ports[2]);
    struct fl_workload wls[1] = {redis_workload("writes", NULL, 40, 200, 9000)};
    wls[0].redis.at.sentinels = "sentinel";
    wls[0].redis.at.addr = NULL;
    static const char *const info_repl[] = {"INFO", "replication", NULL};
    static const char *const info_server[] = {"INFO", "server", NULL};
    struct fl_probe probes[2] = {
        {.name = "role", .kind = FL_PROBE_REDIS, .each = "redis", .command = info_repl,
         .ncommand = 2, .field = "role", .every_ms = 200, .timeout_ms = 500},
        /* the primary's own port, as the sentinel names the primary */
        {.name = "primary", .kind = FL_PROBE_REDIS, .command = info_server, .ncommand = 2,
         .field = "tcp_port", .at = {.sentinels = "sentinel", .master = "mymaster"},
         .every_ms = 200, .timeout_ms = 500},
    };
    t.sc.workloads = wls;
    t.sc.nworkloads = 1;
    t.sc.probes = probes;
    t.sc.nprobes = 2;
    h_at(&t, 1500, kill_first);
    h_run(&t, 9000, 8000);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_completed(h);

    /* Before the kill: every write acknowledged, by the first primary. */
    size_t early = 0, late_ok = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_WRITE) || op->type == FL_INVOKE)
            continue;
        if (op->time_us < 1450000) {
            assert_int_equal(op->type, FL_OK);
            early++;
        } else if (op->time_us > 7000000) {
            late_ok += op->type == FL_OK;
        }
    }
    assert_true(early >= 40);
    /* After the failover the writes go to the promoted replica. */
    assert_true(late_ok >= 40);
    json_t *arr = final_read(h, "writes");
    size_t total;
    size_t present = acked_present(h, "writes", arr, 7000000, &total);
    assert_int_equal(present, total);
    json_decref(arr);
    assert_true(scard(t.ports[1], "acked") >= (long long)late_ok);

    /* The probe: one sample per node per tick, keyed by node, the role
     * field extracted; node 0 is refused once dead, node 1 is promoted. */
    size_t master0 = 0, slave1 = 0, master1 = 0, dead0 = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, "role") || op->type == FL_INVOKE)
            continue;
        assert_non_null(op->key);
        int node = strcmp(op->key, "redis.0") == 0 ? 0 : strcmp(op->key, "redis.1") == 0 ? 1 : -1;
        assert_true(node >= 0);
        assert_int_equal(op->process, FL_PROC_PROBE + 1000 * node);
        if (op->type == FL_OK && node == 0) {
            assert_string_equal(op->value, "master");
            assert_true(op->time_us < 1600000);
            master0++;
        } else if (node == 0) {
            assert_true(op->time_us > 1400000);
            dead0++;
        } else if (op->type == FL_OK && strcmp(op->value, "slave") == 0) {
            assert_true(op->time_us < 7000000);
            slave1++;
        } else if (op->type == FL_OK && strcmp(op->value, "master") == 0) {
            master1++;
        }
    }
    assert_true(master0 >= 5);
    assert_true(slave1 >= 5);
    assert_true(master1 >= 5);
    assert_true(dead0 >= 10);
    char p0[16], p1[16];
    snprintf(p0, sizeof p0, "%d", t.ports[0]);
    snprintf(p1, sizeof p1, "%d", t.ports[1]);
    size_t on0 = 0, on1 = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, "primary") || op->type != FL_OK)
            continue;
        assert_null(op->key);
        if (strcmp(op->value, p0) == 0) {
            assert_true(op->time_us < 1600000);
            on0++;
        } else {
            assert_string_equal(op->value, p1);
            on1++;
        }
    }
    assert_true(on0 >= 5 && on1 >= 5);
    fl_history_free(t.run.history);
}

/* Closing without a drain still does the final read, and every write in
 * flight is completed. */
static void test_close_reads_and_completes(void **state)
{
    (void)state;
    struct harness t;
    h_init(&t);
    t.pids[0] = start_server(&t.ports[0], 0);
    h_var(&t, "redis", t.ports[0]);
    struct fl_workload wls[1] = {redis_workload("writes", "${redis}", 200, 100, 60000)};
    t.sc.workloads = wls;
    t.sc.nworkloads = 1;
    h_run(&t, 400, 0);
    const struct fl_history *h = t.run.history;
    fl_t_dump(h);
    assert_completed(h);
    size_t n = count(h, "writes", FL_F_WRITE, FL_INVOKE, NULL);
    assert_true(n >= 40);
    json_t *arr = final_read(h, "writes");
    size_t total;
    size_t present = acked_present(h, "writes", arr, 0, &total);
    assert_int_equal(present, total);
    assert_true(total >= 40);
    json_decref(arr);
    fl_history_free(t.run.history);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_and_final_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_replies_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_killed_and_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sentinel_discovery_and_failover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_reads_and_completes, setup, teardown),
    };
    atexit(kill_all);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
