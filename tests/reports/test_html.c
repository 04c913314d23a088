/* test_html.c - the HTML report's data and page, and the verdicts file
 * that lets `faultline report` render a recorded run again.
 *
 * Hand-built histories: a fault healed, an instant kill, an injection that
 * failed, a heal of another fault that must not close a band, flapping
 * probes, workload latencies, notes and counterexamples, with strings that
 * try to close the page's script element. The browser side is
 * tests/e2e/report_html.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "reports/html_int.h"
#include "reports/report.h"

#define NASTY "\x01 </script><!--<script> \xff"

static const struct fl_checker_type chk_lifecycle = {.name = "lifecycle"};
static const struct fl_checker_type chk_recovers = {.name = "recovers"};
static const struct fl_invariant invs[] = {
    {.pos = {"scenarios/s.yaml", 30, 5}, .type = &chk_lifecycle, .label = "lifecycle(submit)"},
    {.pos = {"scenarios/s.yaml", 31, 7}, .type = &chk_recovers, .label = "recovers(health)"},
};
static const struct fl_kv vars[] = {
    {.key = "profile", .value = "buggy"},
    {.key = "nasty", .value = NASTY},
};
static const struct fl_scenario sc = {
    .file = "scenarios/s.yaml", .name = "s" NASTY, .vars = vars, .nvars = 2,
    .invariants = invs, .ninvariants = 2,
};

struct fx {
    struct fl_history *h;
    struct fl_inv_result inv[2];
    struct fl_result r;
    char path[64];
};

static void add(struct fl_history *h, int64_t us, int32_t proc, enum fl_optype t, const char *src,
                const char *f, const char *key, const char *value)
{
    assert_non_null(fl_history_add(h, us, proc, t, src, f, key, value, NULL));
}

#define S(x) ((int64_t)((x) * 1000000))

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    struct fl_history *h = x->h = fl_history_new(0);
    add(h, 0, FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "steady");
    /* Workload: two chains, latencies 10 ms and 30 ms in second 1, one
     * failure in second 2. */
    add(h, S(1.0), 0, FL_INVOKE, "submit", "request", NULL, NULL);
    add(h, S(1.0), 1, FL_INVOKE, "submit", "request", NULL, NULL);
    add(h, S(1.01), 0, FL_OK, "submit", "request", "j1", "202");
    add(h, S(1.03), 1, FL_OK, "submit", "request", "j2", "202");
    add(h, S(2.0), 0, FL_INVOKE, "submit", "poll", "j1", NULL);
    add(h, S(2.5), 0, FL_FAIL, "submit", "poll", "j1", NULL);
    /* A pause healed at 3.5 s; a kill (instant); an injection that
     * failed; the heal of another fault process in between. */
    add(h, S(2.0), FL_PROC_FAULT, FL_INVOKE, "process.pause", "fault", NULL, NULL);
    add(h, S(2.0), FL_PROC_FAULT, FL_OK, "process.pause", "fault", "api.0", "SIGSTOP " NASTY);
    add(h, S(2.2), FL_PROC_FAULT + 1, FL_OK, "process.kill", "fault", "api.1", "SIGKILL api.1");
    add(h, S(2.4), FL_PROC_FAULT + 2, FL_OK, "process.pause", "heal", "api.2", "stray heal");
    add(h, S(3.5), FL_PROC_FAULT, FL_OK, "process.pause", "heal", "api.0", "SIGCONT");
    add(h, S(4.0), FL_PROC_FAULT + 3, FL_FAIL, "redis.failover", "fault", NULL, "no sentinel");
    /* A probe that flaps: ok, ok (merged), 503, ok; a per-replica probe. */
    add(h, S(1.0), FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "200");
    add(h, S(1.5), FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "200");
    add(h, S(2.0), FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "503");
    add(h, S(3.0), FL_PROC_PROBE, FL_INFO, "health", "probe", NULL, NULL);
    add(h, S(4.0), FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "200");
    add(h, S(1.0), FL_PROC_PROBE + 1, FL_OK, "mode", "probe", "api.0", "redis");
    add(h, S(4.5), FL_PROC_RUNNER + 1, FL_OK, "operator", "note", NULL, "saw it " NASTY);
    add(h, S(5.0), FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "done");
    x->r = (struct fl_result){.file = sc.file, .name = sc.name, .sc = &sc, .seed = 42,
                              .target = "local", .started = 1796254797, .duration_s = 5.0,
                              .history = h, .inv = x->inv, .ninv = 2, .outdir = "out/s"};
    snprintf(x->r.containment, sizeof x->r.containment, "cgroup v2");
    x->inv[0].inv = &invs[0];
    x->inv[0].verdict.validity = FL_INVALID;
    assert_int_equal(fl_verdict_summary(&x->inv[0].verdict, "1 of 2 jobs %s", NASTY), 0);
    size_t ops[] = {5, 6};
    assert_int_equal(fl_verdict_add_cex(&x->inv[0].verdict, "j1" NASTY, "why " NASTY, ops, 2), 0);
    x->inv[0].verdict.ncex_total = 7;
    x->inv[1].inv = &invs[1];
    x->inv[1].verdict.validity = FL_VALID;
    assert_int_equal(fl_verdict_summary(&x->inv[1].verdict, "recovered"), 0);
    snprintf(x->path, sizeof x->path, "/tmp/fl-test-html.XXXXXX");
    int fd = mkstemp(x->path);
    assert_true(fd >= 0);
    close(fd);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++)
        fl_verdict_free(&x->inv[i].verdict);
    fl_history_free(x->h);
    unlink(x->path);
    free(x);
    return 0;
}

static json_t *find_by(json_t *arr, const char *k, const char *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *s = json_string_value(json_object_get(e, k));
        if (s && strcmp(s, v) == 0)
            return e;
    }
    return NULL;
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void test_bands(void **state)
{
    struct fx *x = *state;
    json_t *run = fl_html_run_json(&x->r);
    assert_non_null(run);
    json_t *faults = json_object_get(run, "faults");
    assert_int_equal(json_array_size(faults), 3);
    json_t *pause = find_by(faults, "type", "process.pause");
    assert_non_null(pause);
    /* Closed by its own heal at 3.5 s, not by the stray heal at 2.4 s. */
    assert_true(num(pause, "t0") == 2.0 && num(pause, "t1") == 3.5);
    json_t *kill = find_by(faults, "type", "process.kill");
    assert_true(json_is_null(json_object_get(kill, "t1")));
    json_t *fo = find_by(faults, "type", "redis.failover");
    assert_string_equal(json_string_value(json_object_get(fo, "result")), "fail");
    /* The injected string stays text, on one line, with U+FFFD for the
     * control character and the invalid byte. */
    const char *desc = json_string_value(json_object_get(pause, "desc"));
    assert_non_null(strstr(desc, "</script>"));
    assert_null(strchr(desc, '\x01'));
    json_decref(run);
}

static void test_workloads_and_probes(void **state)
{
    struct fx *x = *state;
    json_t *run = fl_html_run_json(&x->r);
    json_t *wl = json_array_get(json_object_get(run, "workloads"), 0);
    assert_string_equal(json_string_value(json_object_get(wl, "name")), "submit");
    json_t *b = json_object_get(wl, "buckets");
    assert_int_equal(json_array_size(b), 6);       /* 5 s: one bucket per second */
    json_t *b1 = json_array_get(b, 1), *b2 = json_array_get(b, 2);
    assert_true(num(b1, "ok") == 2 && num(b1, "fail") == 0);
    assert_true(num(b1, "p50") > 9.9 && num(b1, "p50") < 10.1);
    assert_true(num(b1, "p99") > 29.9 && num(b1, "p99") < 30.1);
    assert_true(num(b2, "fail") == 1);
    assert_null(json_object_get(b2, "p50"));       /* a failure has no latency */
    json_t *probes = json_object_get(run, "probes");
    assert_int_equal(json_array_size(probes), 2);
    json_t *health = find_by(probes, "name", "health");
    json_t *segs = json_object_get(health, "segs");
    /* 200 (two samples merged), 503, no answer, 200 again. */
    assert_int_equal(json_array_size(segs), 4);
    const char *want[] = {"ok", "bad", "bad", "ok"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(segs, i), "state")),
                            want[i]);
    assert_true(num(json_array_get(segs, 0), "t1") == 2.0);
    assert_true(num(json_array_get(segs, 3), "t1") == 5.0);   /* until the end */
    json_t *mode = find_by(probes, "name", "mode");
    assert_string_equal(json_string_value(json_object_get(mode, "key")), "api.0");
    json_t *notes = json_object_get(run, "notes");
    assert_int_equal(json_array_size(notes), 1);
    assert_true(num(json_array_get(notes, 0), "t") == 4.5);
    json_t *inv = json_array_get(json_object_get(run, "invariants"), 0);
    json_t *cex = json_array_get(json_object_get(inv, "cex"), 0);
    assert_true(num(cex, "t") == 2.0);             /* the time of op 5 */
    assert_string_equal(json_string_value(json_object_get(run, "status")), "FAIL");
    json_decref(run);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_page(void **state)
{
    struct fx *x = *state;
    const struct fl_result *rp = &x->r;
    struct fl_error err = {0};
    assert_int_equal(fl_html_write(x->path, &rp, 1, &err), 0);
    char *page = slurp(x->path);
    /* Exactly the page's own two script elements close; no '<' inside the
     * data, so no value can end it or open a comment in it. */
    size_t closes = 0;
    for (char *p = page; (p = strstr(p, "</script")); p++)
        closes++;
    assert_int_equal(closes, 2);
    char *open = strstr(page, "id=\"fl-data\">");
    assert_non_null(open);
    open += strlen("id=\"fl-data\">");
    char *end = strstr(open, "</script>");
    *end = '\0';
    assert_null(strchr(open, '<'));
    assert_null(strstr(page, "http://") ? strstr(strstr(page, "http://"), "src=") : NULL);
    json_error_t je;
    json_t *data = json_loads(open, 0, &je);
    assert_non_null(data);
    json_t *run = json_array_get(json_object_get(data, "runs"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(run, "name")), "</script>"));
    json_decref(data);
    /* An unwritable path is an error, not a crash. */
    assert_int_equal(fl_html_write("/nonexistent/dir/r.html", &rp, 1, &err), FL_EIO);
}

static void test_verdicts_roundtrip(void **state)
{
    struct fx *x = *state;
    struct fl_error err = {0};
    assert_int_equal(fl_verdicts_write(x->path, &x->r, &err), 0);
    struct fl_loaded_run *lr = NULL;
    assert_int_equal(fl_verdicts_load(x->path, x->h, &lr, &err), 0);
    const struct fl_result *r = fl_loaded_run_result(lr);
    assert_string_equal(r->name, "s\x01 </script><!--<script> \xEF\xBF\xBD");
    assert_string_equal(r->file, "scenarios/s.yaml");
    assert_int_equal(r->sc->nvars, 2);
    assert_string_equal(r->sc->vars[0].key, "profile");
    assert_string_equal(r->sc->vars[0].value, "buggy");
    assert_true(r->seed == 42 && r->started == 1796254797 && r->duration_s == 5.0);
    assert_string_equal(r->target, "local");
    assert_string_equal(r->containment, "cgroup v2");
    assert_string_equal(r->outdir, "out/s");
    assert_int_equal(r->ninv, 2);
    assert_string_equal(r->inv[0].inv->label, "lifecycle(submit)");
    assert_int_equal(r->inv[0].inv->pos.line, 30);
    assert_int_equal(r->inv[1].inv->pos.col, 7);
    assert_int_equal(r->inv[0].verdict.validity, FL_INVALID);
    assert_int_equal(r->inv[1].verdict.validity, FL_VALID);
    assert_int_equal(r->inv[0].verdict.ncex, 1);
    assert_int_equal(r->inv[0].verdict.ncex_total, 7);
    assert_int_equal(r->inv[0].verdict.cex[0].nops, 2);
    assert_int_equal(r->inv[0].verdict.cex[0].ops[1], 6);
    assert_string_equal(r->inv[0].verdict.cex[0].key, "j1\x01 </script><!--<script> \xEF\xBF\xBD");
    /* The checker of each invariant is found again by name (real ones). */
    assert_non_null(r->inv[0].inv->type);
    assert_string_equal(r->inv[0].inv->type->name, "lifecycle");
    fl_loaded_run_free(lr);

    /* Against a shorter history (a truncated events file), counterexample
     * ops past its end are dropped, not followed. */
    struct fl_history *h2 = fl_history_new(0);
    add(h2, 0, FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "steady");
    assert_int_equal(fl_verdicts_load(x->path, h2, &lr, &err), 0);
    assert_int_equal(fl_loaded_run_result(lr)->inv[0].verdict.cex[0].nops, 0);
    fl_loaded_run_free(lr);
    fl_history_free(h2);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static void test_verdicts_rejected(void **state)
{
    struct fx *x = *state;
    struct fl_error err = {0};
    struct fl_loaded_run *lr = NULL;
    static const char *const bad[] = {
        "{\"format\": \"faultline-verdicts/2\", \"scenario\": {\"name\": \"x\"}, \"invariants\": []}",
        "{\"format\": \"faultline-verdicts/1\", \"scenario\": {}, \"invariants\": []}",
        "{\"format\": \"faultline-verdicts/1\", \"scenario\": {\"name\": \"x\"}, \"invariants\": [1]}",
        "{\"format\": \"faultline-verdicts/1\", \"scenario\": {\"name\": \"x\"}, "
        "\"invariants\": [{\"validity\": \"maybe\"}]}",
        "[1, 2]",
        "{\"format\": \"faultline-verdicts/1\", \"format\": \"faultline-verdicts/1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(x->path, bad[i]);
        assert_int_equal(fl_verdicts_load(x->path, x->h, &lr, &err), FL_EINVAL);
        fl_loaded_run_free(lr);
        lr = NULL;
    }
    write_file(x->path, "{\n  \"format\": \n");
    assert_int_equal(fl_verdicts_load(x->path, x->h, &lr, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, x->path));
    assert_non_null(strstr(err.msg, ":3:"));      /* path:line:col */
    fl_loaded_run_free(lr);
    assert_int_equal(fl_verdicts_load("/nonexistent/verdicts.json", x->h, &lr, &err), FL_EIO);
    fl_loaded_run_free(lr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workloads_and_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdicts_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdicts_rejected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
