/* test_scenario.c - the scenario loader on the fixtures in
 * tests/data/scenarios: a full valid file checked field by field, defaults,
 * and files with known mistakes whose diagnostics must name the exact
 * line:col. Run from the repo root (or with FL_SOURCE_DIR set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkers/checker.h"
#include "injectors/registry.h"
#include "scenario/scenario.h"

#include "diag_expect.h"
#include "support/procs.h"

static void test_valid_full(void **state)
{
    (void)state;
    const char *path = DIR "valid_full.yaml";
    struct fl_scenario *sc = load_ok(path, NULL, 0);
    assert_string_equal(sc->file, path);
    assert_string_equal(sc->name, "killed-pod-mid-job");
    assert_non_null(strstr(sc->description, "SIGKILLed while jobs are in flight"));
    assert_int_equal(sc->nvars, 2);
    assert_string_equal(sc->vars[0].key, "state");
    assert_string_equal(sc->vars[0].value, "redis");
    assert_int_equal(sc->vars[0].pos.line, 5);
    assert_string_equal(sc->vars[1].key, "level");
    assert_int_equal(sc->duration_ms, 30000);
    assert_int_equal(sc->settle_ms, 15000);
    assert_true(sc->has_seed);
    assert_int_equal(sc->seed, 42);

    assert_int_equal(sc->nservices, 2);
    const struct fl_service *redis = &sc->services[0], *api = &sc->services[1];
    assert_string_equal(redis->name, "redis");
    assert_int_equal(redis->pos.line, 12);
    assert_int_equal(redis->pos.col, 3);
    assert_int_equal(redis->ncommand, 5);
    assert_string_equal(redis->command[0], "redis-server");
    assert_string_equal(redis->command[2], "${port}");
    assert_string_equal(redis->command[4], "");
    assert_null(redis->command[5]);
    assert_int_equal(redis->replicas, 1);
    assert_int_equal(redis->ready.kind, FL_READY_TCP);
    assert_string_equal(redis->ready.target, "127.0.0.1:${port}");
    assert_int_equal(redis->ready.timeout_ms, 20000);
    assert_int_equal(redis->restart, FL_RESTART_NEVER);

    assert_string_equal(api->name, "api");
    assert_int_equal(api->replicas, 3);
    assert_int_equal(api->ncommand, 7);
    assert_string_equal(api->command[4], "127.0.0.1:${redis.port}");
    assert_null(api->command[7]);
    assert_int_equal(api->nenv, 2);
    assert_string_equal(api->env[0].key, "LOG_LEVEL");
    assert_string_equal(api->env[0].value, "${level}");
    assert_string_equal(api->env[1].key, "OUT");
    assert_string_equal(api->env[1].value, "${out}/api.log");
    assert_string_equal(api->workdir, "${out}");
    assert_int_equal(api->ready.kind, FL_READY_HTTP);
    assert_string_equal(api->ready.target, "http://127.0.0.1:${port}/healthz");
    assert_int_equal(api->ready.timeout_ms, 10000);
    assert_int_equal(api->ready.interval_ms, 50);
    assert_int_equal(api->restart, FL_RESTART_ALWAYS);
    assert_int_equal(api->stop_grace_ms, 5000);
    assert_int_equal(api->backoff_ms, 100);
    assert_int_equal(api->backoff_max_ms, 2000);

    assert_int_equal(sc->nworkloads, 1);
    const struct fl_workload *w = &sc->workloads[0];
    assert_string_equal(w->name, "submit");
    assert_int_equal(w->pos.line, 27);
    assert_true(w->rate > 9.999 && w->rate < 10.001);
    assert_int_equal(w->start_ms, 0);
    assert_int_equal(w->stop_ms, 25000);
    assert_int_equal(w->concurrency, 8);
    assert_string_equal(w->request.method, "POST");
    assert_string_equal(w->request.url, "http://${api}/api/overview");
    assert_string_equal(w->request.body, "{\"range\":\"7d\"}");
    assert_int_equal(w->request.nheaders, 2);
    assert_string_equal(w->request.headers[0].key, "Content-Type");
    assert_string_equal(w->request.headers[0].value, "application/json");
    assert_string_equal(w->request.headers[1].value, "${seed}");
    assert_int_equal(w->request.timeout_ms, 2000);
    assert_int_equal(w->nok_status, 1);
    assert_int_equal(w->ok_status[0], 202);
    assert_int_equal(w->ncapture, 1);
    assert_string_equal(w->capture[0].name, "job");
    assert_string_equal(w->capture[0].pointer, "/job_id");
    assert_true(w->has_follow);
    assert_string_equal(w->follow.request.method, "GET");
    assert_string_equal(w->follow.request.url, "http://${api}/api/jobs/${job}");
    assert_null(w->follow.request.body);
    assert_int_equal(w->follow.request.timeout_ms, 5000);
    assert_int_equal(w->follow.every_ms, 250);
    assert_string_equal(w->follow.record, "/status");
    assert_int_equal(w->follow.nuntil, 2);
    assert_string_equal(w->follow.until[0], "complete");
    assert_string_equal(w->follow.until[1], "failed");
    assert_null(w->follow.until[2]);
    assert_int_equal(w->follow.timeout_ms, 30000);

    assert_int_equal(sc->nprobes, 1);
    const struct fl_probe *pr = &sc->probes[0];
    assert_string_equal(pr->name, "health");
    assert_int_equal(pr->kind, FL_PROBE_HTTP);
    assert_string_equal(pr->url, "http://127.0.0.1:${api.0.port}/healthz");
    assert_null(pr->record);
    assert_int_equal(pr->nok_status, 1);
    assert_int_equal(pr->ok_status[0], 200);
    assert_int_equal(pr->every_ms, 500);
    assert_int_equal(pr->timeout_ms, 2000);

    /* Written at 12s then 5s: sorted by at. */
    assert_int_equal(sc->nfaults, 2);
    const struct fl_fault *k = &sc->faults[0], *p = &sc->faults[1];
    assert_ptr_equal(k->type, fl_injector_find("process.kill"));
    assert_int_equal(k->at_ms, 5000);
    assert_int_equal(k->for_ms, 0);
    assert_int_equal(k->pos.line, 53);
    assert_string_equal(k->args.v[0].s, "api");
    assert_int_equal(k->args.v[1].pick.kind, FL_PICK_ONE);
    assert_int_equal(k->args.v[2].sig, SIGKILL);
    assert_ptr_equal(p->type, fl_injector_find("process.pause"));
    assert_int_equal(p->at_ms, 12000);
    assert_int_equal(p->for_ms, 6000);
    assert_string_equal(p->args.v[0].s, "redis");
    assert_true(p->args.v[1].set);       /* pick: default "one" */
    assert_int_equal(p->args.v[1].pick.kind, FL_PICK_ONE);

    assert_int_equal(sc->ninvariants, 3);
    assert_ptr_equal(sc->invariants[0].type, fl_checker_find("lifecycle"));
    assert_string_equal(sc->invariants[0].label, "lifecycle(submit)");
    assert_string_equal(sc->invariants[0].args.v[0].s, "submit");
    assert_int_equal(sc->invariants[0].args.v[1].nlist, 1);
    assert_string_equal(sc->invariants[0].args.v[1].list[0], "complete");
    assert_int_equal(sc->invariants[0].args.v[2].ms, 30000);
    assert_string_equal(sc->invariants[1].label, "transitions(submit)");
    assert_int_equal(sc->invariants[1].args.v[1].nlist, 3);
    assert_string_equal(sc->invariants[1].args.v[1].list[2], "complete");
    assert_string_equal(sc->invariants[2].label, "recovers(health)");
    assert_int_equal(sc->invariants[2].args.v[1].ms, 10000);
    assert_int_equal(sc->invariants[2].pos.line, 59);

    /* Lookups. */
    assert_string_equal(fl_scenario_var(sc, "state-and-more", 5), "redis");
    assert_null(fl_scenario_var(sc, "stat", 4));
    assert_ptr_equal(fl_scenario_service(sc, "api.port", 3), api);
    assert_null(fl_scenario_service(sc, "ap", 2));
    assert_ptr_equal(fl_scenario_workload(sc, "submit"), w);
    assert_null(fl_scenario_workload(sc, "submi"));
    assert_ptr_equal(fl_scenario_probe(sc, "health"), pr);
    assert_null(fl_scenario_probe(sc, "x"));
    fl_scenario_free(sc);
}

static void test_defaults(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "minimal.yaml", NULL, 0);
    assert_null(sc->description);
    assert_int_equal(sc->nvars, 0);
    assert_int_equal(sc->duration_ms, 30000);
    assert_int_equal(sc->settle_ms, 10000);
    assert_false(sc->has_seed);
    const struct fl_service *s = &sc->services[0];
    assert_int_equal(s->replicas, 1);
    assert_int_equal(s->nenv, 0);
    assert_null(s->workdir);
    assert_int_equal(s->ready.kind, FL_READY_EXEC);
    assert_int_equal(s->ready.argc, 3);
    assert_string_equal(s->ready.argv[2], "${out}");
    assert_null(s->ready.argv[3]);
    assert_int_equal(s->ready.timeout_ms, 20000);
    assert_int_equal(s->ready.interval_ms, 100);
    assert_int_equal(s->restart, FL_RESTART_NEVER);
    assert_int_equal(s->stop_grace_ms, 5000);
    assert_int_equal(s->backoff_ms, 200);
    assert_int_equal(s->backoff_max_ms, 5000);
    const struct fl_workload *w = &sc->workloads[0];
    assert_true(w->rate > 9.999 && w->rate < 10.001);   /* 600/m */
    assert_int_equal(w->start_ms, 0);
    assert_int_equal(w->stop_ms, 30000);
    assert_int_equal(w->concurrency, 64);
    assert_string_equal(w->request.method, "GET");
    assert_int_equal(w->request.timeout_ms, 5000);
    assert_null(w->request.body);
    assert_int_equal(w->nok_status, 0);
    assert_string_equal(w->capture[0].pointer, "");
    assert_int_equal(w->follow.every_ms, 250);
    assert_int_equal(w->follow.timeout_ms, 30000);
    assert_int_equal(w->follow.nuntil, 1);
    assert_string_equal(w->follow.until[0], "done");
    const struct fl_probe *p = &sc->probes[0];
    assert_int_equal(p->every_ms, 500);
    assert_int_equal(p->timeout_ms, 2000);
    assert_int_equal(p->nok_status, 0);
    assert_int_equal(sc->nfaults, 0);
    assert_int_equal(sc->ninvariants, 0);
    fl_scenario_free(sc);
}

static void test_syntax_error(void **state)
{
    (void)state;
    const char *path = DIR "syntax_error.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    /* "    command: [a, b}": the stray '}' is column 19 of line 4. */
    EXPECT_DIAG(&d, path, 4, 19, "YAML syntax error", "flow");
    fl_diag_free(&d);
}

static void test_three_errors(void **state)
{
    (void)state;
    const char *path = DIR "three_errors.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    assert_int_equal(d.n, 3);
    EXPECT_DIAG(&d, path, 5, 5, "unknown key 'replics' in service 'api'",
                "expected one of: command, env, workdir, replicas", "did you mean 'replicas'?");
    EXPECT_DIAG(&d, path, 6, 17, "stop_grace: expected a duration like 250ms, 5s, 2m; got 'fast'");
    EXPECT_DIAG(&d, path, 9, 5, "unknown injector 'process.kil'",
                "process.kill, process.term, process.pause", "did you mean 'process.kill'?");
    fl_diag_free(&d);
}

static void test_bad_refs(void **state)
{
    (void)state;
    const char *path = DIR "bad_refs.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    assert_int_equal(d.n, 6);
    EXPECT_DIAG(&d, path, 5, 54, "${stat} refers to nothing; known here: port, replica, state",
                "did you mean 'state'?");
    EXPECT_DIAG(&d, path, 8, 32, "${redis.prt} refers to nothing", "redis.port");
    EXPECT_DIAG(&d, path, 8, 56, "${api.3.port} refers to nothing", "3 replicas");
    /* ${port} means nothing outside a service. */
    EXPECT_DIAG(&d, path, 12, 39, "${port} refers to nothing");
    /* A follow request knows the captures, a probe does not. */
    EXPECT_DIAG(&d, path, 15, 43, "${jobb} refers to nothing", "job", "did you mean 'job'?");
    EXPECT_DIAG(&d, path, 19, 35, "${job} refers to nothing");
    fl_diag_free(&d);
}

static void test_bad_pick(void **state)
{
    (void)state;
    const char *path = DIR "bad_pick.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    assert_int_equal(d.n, 4);
    EXPECT_DIAG(&d, path, 8, 41, "pick: expected a pick: one, all", "got '0'");
    EXPECT_DIAG(&d, path, 10, 41, "pick: expected a pick", "got '150%'");
    EXPECT_DIAG(&d, path, 12, 41, "pick: expected a pick", "got 'some'");
    EXPECT_DIAG(&d, path, 16, 54, "signal: expected a signal like KILL", "got 'BOGUS'");
    fl_diag_free(&d);
}

static void test_pause_needs_for(void **state)
{
    (void)state;
    const char *path = DIR "pause_for.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    assert_int_equal(d.n, 3);
    EXPECT_DIAG(&d, path, 7, 5, "process.pause needs 'for'");
    EXPECT_DIAG(&d, path, 9, 5, "process.kill is an instant fault and takes no 'for'");
    EXPECT_DIAG(&d, path, 13, 31, "no service named 'apii'", "did you mean 'api'?");
    fl_diag_free(&d);
}

static void test_var_override(void **state)
{
    (void)state;
    struct fl_var_override ov[] = {{"state", "memory"}};
    struct fl_scenario *sc = load_ok(DIR "valid_full.yaml", ov, 1);
    assert_string_equal(fl_scenario_var(sc, "state", 5), "memory");
    assert_string_equal(fl_scenario_var(sc, "level", 5), "info");
    assert_string_equal(sc->vars[0].value, "memory");
    fl_scenario_free(sc);

    const char *path = DIR "valid_full.yaml";
    struct fl_var_override bad[] = {{"state", "memory"}, {"stat", "x"}};
    struct fl_diag d = {0};
    load_bad(path, bad, 2, &d);
    assert_int_equal(d.n, 1);
    EXPECT_DIAG(&d, path, 5, 1, "--var stat", "declares no var 'stat'", "state, level",
                "did you mean 'state'?");
    fl_diag_free(&d);

    /* Without a vars: section the diagnostic has no position. */
    path = DIR "minimal.yaml";
    struct fl_var_override one[] = {{"x", "1"}};
    load_bad(path, one, 1, &d);
    assert_int_equal(d.n, 1);
    EXPECT_DIAG(&d, path, 0, 0, "--var x", "it declares no vars");
    fl_diag_free(&d);
}

static void test_labels(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "labels.yaml", NULL, 0);
    assert_int_equal(sc->ninvariants, 5);
    assert_string_equal(sc->invariants[0].label, "recovers(health)");
    assert_string_equal(sc->invariants[1].label, "recovers(health)#2");
    assert_string_equal(sc->invariants[2].label, "lifecycle(submit)");
    assert_string_equal(sc->invariants[3].label, "recovers(health)#3");
    assert_string_equal(sc->invariants[4].label, "always(health)");
    /* always: during_faults defaults to true from its table. */
    assert_true(sc->invariants[4].args.v[2].set);
    assert_int_equal(sc->invariants[4].args.v[2].b, 1);
    assert_int_equal(sc->invariants[1].args.v[1].ms, 20000);
    fl_scenario_free(sc);
}

static void test_structure(void **state)
{
    (void)state;
    const char *path = DIR "structure.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 3, 3, "missing required key 'command' in service 'api'");
    EXPECT_DIAG(&d, path, 4, 15, "replicas: expected an integer from 1", "got '0'");
    EXPECT_DIAG(&d, path, 5, 14, "expected exactly one check of tcp");
    EXPECT_DIAG(&d, path, 6, 14, "restart: expected one of: always, on-failure, never",
                "got 'sometimes'");
    EXPECT_DIAG(&d, path, 9, 11, "rate: expected a rate like 10/s", "got 'fast'");
    EXPECT_DIAG(&d, path, 10, 22, "url: expected a URL", "got 'ftp://x'");
    EXPECT_DIAG(&d, path, 11, 17, "ok_status", "got 'abc'");
    EXPECT_DIAG(&d, path, 12, 11, "duplicate workload name 'w'");
    EXPECT_DIAG(&d, path, 14, 24, "method: expected an HTTP method", "got 'get'");
    EXPECT_DIAG(&d, path, 15, 5, "follow needs a capture");
    EXPECT_DIAG(&d, path, 15, 59, "record: expected a JSON Pointer", "got 'status'");
    EXPECT_DIAG(&d, path, 15, 67, "until: expected", "empty list");
    EXPECT_DIAG(&d, path, 17, 5, "fault: missing the injector", "process.kill");
    EXPECT_DIAG(&d, path, 18, 5, "fault: missing required key 'at'");
    EXPECT_DIAG(&d, path, 20, 28, "no workload named 'nope'");
    EXPECT_DIAG(&d, path, 20, 60, "within: expected a duration", "got 'soon'");
    EXPECT_DIAG(&d, path, 21, 5, "unknown checker 'lifecyle'", "did you mean 'lifecycle'?");
    EXPECT_DIAG(&d, path, 22, 24, "no probe named 'health'");
    EXPECT_DIAG(&d, path, 22, 44, "unknown key 'extra' in invariant recovers",
                "expected one of: probe, within, expect");
    assert_int_equal(d.n, 19);
    fl_diag_free(&d);
}

static void test_redis_workload(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "redis_workload.yaml", NULL, 0);
    assert_int_equal(sc->nworkloads, 2);
    const struct fl_workload *w = &sc->workloads[0];
    assert_string_equal(w->name, "writes");
    assert_int_equal(w->kind, FL_WORKLOAD_REDIS);
    assert_null(w->redis.at.addr);
    assert_string_equal(w->redis.at.sentinels, "redis-sentinel");
    assert_string_equal(w->redis.at.master, "mymaster");
    assert_int_equal(w->redis.ncommand, 3);
    assert_string_equal(w->redis.command[2], "${value}");
    assert_null(w->redis.command[3]);
    assert_string_equal(w->redis.key, "acked");
    assert_int_equal(w->redis.nread, 2);
    assert_string_equal(w->redis.read[0], "SMEMBERS");
    assert_int_equal(w->redis.wait_replicas, 1);
    assert_int_equal(w->redis.wait_timeout_ms, 50);
    assert_int_equal(w->redis.timeout_ms, 2000);
    w = &sc->workloads[1];
    assert_int_equal(w->kind, FL_WORKLOAD_REDIS);
    assert_string_equal(w->redis.at.addr, "127.0.0.1:${redis.0.port}");
    assert_null(w->redis.at.sentinels);
    assert_int_equal(w->redis.nread, 0);
    assert_int_equal(w->redis.wait_replicas, 0);
    assert_int_equal(w->redis.timeout_ms, 1000);   /* default */
    assert_int_equal(w->concurrency, 4);

    assert_int_equal(sc->nprobes, 5);
    const struct fl_probe *p = &sc->probes[0];
    assert_string_equal(p->name, "role");
    assert_int_equal(p->kind, FL_PROBE_REDIS);
    assert_string_equal(p->each, "redis");
    assert_string_equal(p->field, "role");
    assert_int_equal(p->ncommand, 2);
    assert_string_equal(p->command[1], "replication");
    assert_null(p->at.addr);
    assert_int_equal(p->every_ms, 250);
    p = &sc->probes[1];
    assert_int_equal(p->kind, FL_PROBE_REDIS);
    assert_null(p->each);
    assert_null(p->field);
    assert_string_equal(p->at.addr, "${redis-sentinel.0}");
    p = &sc->probes[2];
    assert_int_equal(p->kind, FL_PROBE_HTTP);
    assert_string_equal(p->each, "api");
    assert_string_equal(p->url, "http://${each}/api/store");
    assert_string_equal(p->record, "/store");
    assert_string_equal(sc->probes[3].url, "http://127.0.0.1:${each.port}/x");
    p = &sc->probes[4];
    assert_string_equal(p->at.sentinels, "redis-sentinel");
    assert_int_equal(p->timeout_ms, 1000);
    /* HTTP workloads elsewhere keep their kind. */
    fl_scenario_free(sc);
    sc = load_ok(DIR "valid_full.yaml", NULL, 0);
    assert_int_equal(sc->workloads[0].kind, FL_WORKLOAD_HTTP);
    assert_int_equal(sc->probes[0].kind, FL_PROBE_HTTP);
    assert_null(sc->probes[0].each);
    fl_scenario_free(sc);
}

static void test_redis_bad(void **state)
{
    (void)state;
    const char *path = DIR "redis_bad.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    /* ${value} only in a Redis workload's command... */
    EXPECT_DIAG(&d, path, 6, 24, "${value} refers to nothing",
                "only known in the command of a redis workload");
    EXPECT_DIAG(&d, path, 21, 36, "${value} refers to nothing");
    EXPECT_DIAG(&d, path, 11, 5, "workload 'both': request and redis are exclusive");
    EXPECT_DIAG(&d, path, 14, 25, "sentinels: no service named 'sentinal'",
                "services: redis, api");
    /* ...where it is known, and suggested. */
    EXPECT_DIAG(&d, path, 14, 55, "${valu} refers to nothing", "known here: value",
                "did you mean 'value'?");
    EXPECT_DIAG(&d, path, 17, 14, "missing required key 'addr' or 'sentinels' in redis of "
                "workload 'r2'");
    /* ${each} only in a probe with each:. */
    EXPECT_DIAG(&d, path, 17, 33, "${each} refers to nothing", "probe with each: SERVICE");
    EXPECT_DIAG(&d, path, 17, 60, "missing required key 'replicas' in wait of redis of "
                "workload 'r2'");
    EXPECT_DIAG(&d, path, 18, 5, "'ok_status' is only for HTTP workloads");
    EXPECT_DIAG(&d, path, 23, 23, "${each} refers to nothing");
    /* An unknown each: service is reported once, not again for ${each}. */
    EXPECT_DIAG(&d, path, 24, 41, "each: no service named 'apii'", "did you mean 'api'?");
    EXPECT_DIAG(&d, path, 25, 3, "missing required key 'addr' or 'sentinels' in probe 'p3'");
    EXPECT_DIAG(&d, path, 26, 42, "probe 'p4': 'record' is only for HTTP probes");
    EXPECT_DIAG(&d, path, 27, 34, "probe 'p5': 'field' is only for Redis probes");
    EXPECT_DIAG(&d, path, 28, 44, "${each.prt} refers to nothing", "each, each.port",
                "did you mean 'each.port'?");
    assert_int_equal(d.n, 15);
    fl_diag_free(&d);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    struct fl_scenario *sc = NULL;
    assert_int_equal(fl_scenario_load(DIR "does-not-exist.yaml", NULL, 0, &sc, &d), FL_EIO);
    assert_null(sc);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.items[0].msg, "cannot read"));
    fl_diag_free(&d);
}

static void test_diag_add(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    for (int i = 0; i < 40; i++)
        assert_int_equal(fl_diag_add(&d, "f.yaml", i + 1, 2, "problem %d of %s", i, "x"), 0);
    assert_int_equal(d.n, 40);
    assert_string_equal(d.items[39].msg, "problem 39 of x");
    assert_string_equal(d.items[0].file, "f.yaml");
    assert_int_equal(d.items[5].line, 6);
    fl_diag_free(&d);
    assert_int_equal(d.n, 0);
    assert_null(d.items);
    fl_diag_free(&d);   /* twice is harmless */
}

int main(void)
{
    if (fl_test_chdir_source())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_three_errors),
        cmocka_unit_test(test_bad_refs),
        cmocka_unit_test(test_bad_pick),
        cmocka_unit_test(test_pause_needs_for),
        cmocka_unit_test(test_var_override),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_redis_workload),
        cmocka_unit_test(test_redis_bad),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_diag_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
