/* test_junit.c - JUnit XML, the fault timeline and the console summary,
 * from hand-built results: passing, failing (with hostile strings), a
 * harness error and a load error. The XML is validated with xmllint
 * against the strict Ant and the Jenkins schemas and parsed back with
 * libxml2 to check counts and attributes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "reports/report.h"
#include "reports/sanitize.h"

#define FFFD "\xEF\xBF\xBD"
#define NASTY "\x01 ]]> <&>\" \xff\xfe"

static const struct fl_checker_type chk_lifecycle = {.name = "lifecycle"};
static const struct fl_checker_type chk_transitions = {.name = "transitions"};
static const struct fl_checker_type chk_recovers = {.name = "recovers"};

static const struct fl_invariant invs[] = {
    {.pos = {"scenarios/s.yaml", 30, 5}, .type = &chk_lifecycle, .label = "lifecycle(submit)"},
    {.pos = {"scenarios/s.yaml", 31, 5}, .type = &chk_transitions, .label = "transitions(submit)"},
    {.pos = {"scenarios/s.yaml", 32, 5}, .type = &chk_recovers, .label = "recovers(health)"},
};
static const struct fl_kv vars[] = {
    {.key = "state", .value = "redis"},
    {.key = "nasty", .value = "v" NASTY},
};
static const struct fl_scenario sc_pass = {
    .file = "scenarios/pass.yaml", .name = "killed-pod-mid-job", .vars = vars, .nvars = 1,
    .invariants = invs, .ninvariants = 3,
};
static const struct fl_scenario sc_fail = {
    .file = "scenarios/fail.yaml", .name = "fail" NASTY "  name", .vars = vars, .nvars = 2,
    .invariants = invs, .ninvariants = 3,
};

struct fx {
    struct fl_history *h;
    size_t poll_ops[3];
    struct fl_inv_result inv_pass[3], inv_fail[3], inv_harness[3];
    struct fl_result pass, fail, harness, load;
    char path[64];
};

static void add(struct fl_history *h, int64_t us, int32_t proc, enum fl_optype t,
                const char *src, const char *f, const char *key, const char *value,
                const char *error)
{
    assert_non_null(fl_history_add(h, us, proc, t, src, f, key, value, error));
}

static void build_history(struct fx *x)
{
    struct fl_history *h = x->h = fl_history_new(0);
    assert_non_null(h);
    add(h, 0, FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "steady-state", NULL);
    add(h, 1000, 0, FL_INVOKE, "submit", "request", NULL, NULL, NULL);
    add(h, 2000, 0, FL_OK, "submit", "request", "j1", "202", NULL);
    x->poll_ops[0] = fl_history_len(h);
    add(h, 3000, 0, FL_OK, "submit", "poll", "j1", "pending", NULL);
    add(h, 5000000, FL_PROC_FAULT, FL_INVOKE, "process.kill", "fault", "api.1", "SIGKILL api.1", NULL);
    add(h, 5001000, FL_PROC_FAULT, FL_OK, "process.kill", "fault", "api.1",
        "SIGKILL api.1 (pid 1234)", NULL);
    add(h, 5002000, FL_PROC_TARGET, FL_INFO, "local", "instance", "api.1", "exited", "signal 9");
    x->poll_ops[1] = fl_history_len(h);
    add(h, 6000000, 0, FL_OK, "submit", "poll", "j1", "http:404", NULL);
    x->poll_ops[2] = fl_history_len(h);
    add(h, 7000000, 0, FL_OK, "submit", "poll", "j1", "pend" NASTY, "err" NASTY);
    add(h, 12000000, FL_PROC_FAULT + 1, FL_INVOKE, "redis.pause", "fault", "redis.0",
        "SIGSTOP redis.0", NULL);
    add(h, 12000500, FL_PROC_FAULT + 1, FL_FAIL, "redis.pause", "fault", "redis.0", NULL,
        "EPERM" NASTY);
    add(h, 18000000, FL_PROC_FAULT + 2, FL_INVOKE, "process.kill", "heal", "api.1",
        "restart api.1", NULL);
    add(h, 30000000, FL_PROC_RUNNER, FL_OK, "runner", "phase", NULL, "settle", NULL);
}

static void fill_result(struct fl_result *r, const struct fl_scenario *sc, struct fx *x,
                        struct fl_inv_result *inv)
{
    memset(r, 0, sizeof *r);
    r->file = sc->file;
    r->name = sc->name;
    r->sc = sc;
    r->seed = 42;
    r->target = "local";
    r->started = 1700000000;   /* 2023-11-14T22:13:20Z */
    r->duration_s = 31.5;
    r->history = x->h;
    r->inv = inv;
    r->ninv = 3;
    r->outdir = "out/run-1";
    for (size_t i = 0; i < 3; i++) {
        inv[i].inv = &invs[i];
        inv[i].time_s = 0.001 * (double)(i + 1);
    }
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    build_history(x);
    fill_result(&x->pass, &sc_pass, x, x->inv_pass);

    fill_result(&x->fail, &sc_fail, x, x->inv_fail);
    struct fl_verdict *v = &x->inv_fail[0].verdict;
    v->validity = FL_INVALID;
    assert_int_equal(fl_verdict_summary(v, "2 of 3 jobs moved backwards%s", NASTY), 0);
    assert_int_equal(fl_verdict_add_cex(v, "j1" NASTY, "pending -> http:404 -> pending" NASTY,
                                        x->poll_ops, 3), 0);
    size_t bogus = 999999;
    assert_int_equal(fl_verdict_add_cex(v, "j2", "never terminal", &bogus, 1), 0);
    v->ncex_total = 7;
    v = &x->inv_fail[1].verdict;
    v->validity = FL_UNKNOWN;
    assert_int_equal(fl_verdict_summary(v, "no jobs observed\x02"), 0);

    fill_result(&x->harness, &sc_pass, x, x->inv_harness);
    x->harness.harness_status = FL_ENOTREADY;
    snprintf(x->harness.harness_error, sizeof x->harness.harness_error,
             "service api never became ready" NASTY);
    for (size_t i = 0; i < 3; i++) {
        x->inv_harness[i].verdict.validity = FL_UNKNOWN;
        fl_verdict_summary(&x->inv_harness[i].verdict, "not checked: the run did not complete");
    }

    memset(&x->load, 0, sizeof x->load);
    x->load.file = x->load.name = "scenarios/broken.yaml";
    x->load.harness_status = FL_ESCENARIO;
    x->load.started = 1700000000;
    x->load.target = "local";
    snprintf(x->load.harness_error, sizeof x->load.harness_error,
             "scenarios/broken.yaml:3:5: unknown key \"servces\"" NASTY);

    snprintf(x->path, sizeof x->path, "/tmp/fl_test_junit_XXXXXX");
    int fd = mkstemp(x->path);
    assert_true(fd >= 0);
    close(fd);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    for (size_t i = 0; i < 3; i++) {
        fl_verdict_free(&x->inv_pass[i].verdict);
        fl_verdict_free(&x->inv_fail[i].verdict);
        fl_verdict_free(&x->inv_harness[i].verdict);
    }
    fl_history_free(x->h);
    unlink(x->path);
    free(x);
    return 0;
}

static void write_all(struct fx *x)
{
    const struct fl_result *rs[] = {&x->pass, &x->fail, &x->harness, &x->load};
    struct fl_error err = {0};
    int rc = fl_junit_write(x->path, rs, 4, &err);
    if (rc)
        fail_msg("fl_junit_write: %s", err.msg);
}

/* ---- schema validation ---------------------------------------------------- */

static void schema_path(char *buf, size_t len, const char *name)
{
    const char *src = getenv("FL_SOURCE_DIR");
    snprintf(buf, len, "%s/tests/data/junit/%s", src && *src ? src : ".", name);
    /* a missing schema is a failure, never a skip */
    if (access(buf, R_OK) != 0)
        fail_msg("schema %s is missing (set FL_SOURCE_DIR)", buf);
}

static int xmllint(const char *xsd, const char *file)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "xmllint --nonet --noout --schema '%s' '%s'", xsd, file);
    int rc = system(cmd);
    return rc != -1 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void assert_valid(const char *file)
{
    static const char *const xsds[] = {"ant-junit-strict.xsd", "jenkins-junit.xsd"};
    for (size_t i = 0; i < 2; i++) {
        char xsd[4096];
        schema_path(xsd, sizeof xsd, xsds[i]);
        if (xmllint(xsd, file) != 0)
            fail_msg("%s does not validate against %s", file, xsds[i]);
    }
}

static void test_validates_both_schemas(void **state)
{
    struct fx *x = *state;
    write_all(x);
    assert_valid(x->path);
    if (getenv("FL_TEST_DUMP")) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "cat %s >&2", x->path);
        assert_int_equal(system(cmd), 0);
    }

    /* control: the validation step does reject a report the strict
     * schema forbids (attributes on <testsuites>, a testcase without
     * classname) */
    char bad[64];
    snprintf(bad, sizeof bad, "/tmp/fl_test_junit_bad_XXXXXX");
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    const char *doc = "<?xml version=\"1.0\"?><testsuites tests=\"1\"><testsuite name=\"a\" "
                      "package=\"p\" id=\"0\" timestamp=\"2023-01-01T00:00:00\" hostname=\"h\" "
                      "tests=\"1\" failures=\"0\" errors=\"0\" time=\"1\"><properties/>"
                      "<testcase name=\"t\" time=\"1\"/><system-out/><system-err/>"
                      "</testsuite></testsuites>";
    assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    char xsd[4096];
    schema_path(xsd, sizeof xsd, "ant-junit-strict.xsd");
    assert_int_not_equal(xmllint(xsd, bad), 0);
    unlink(bad);
}

/* ---- parsed checks -------------------------------------------------------- */

static xmlDocPtr parse(const char *path)
{
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!doc)
        fail_msg("%s is not well-formed XML", path);
    return doc;
}

static double xp_num(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    assert_non_null(o);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return v;
}

/* string(expr); caller frees */
static char *xp_str(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    assert_non_null(o);
    char *s = (char *)xmlXPathCastToString(o);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return s;
}

static void assert_xp_str(xmlDocPtr doc, const char *expr, const char *want)
{
    char *s = xp_str(doc, expr);
    if (strcmp(s, want) != 0)
        fail_msg("%s = \"%s\", want \"%s\"", expr, s, want);
    xmlFree(s);
}

static void assert_xp_contains(xmlDocPtr doc, const char *expr, const char *want)
{
    char *s = xp_str(doc, expr);
    if (!strstr(s, want))
        fail_msg("%s = \"%s\" lacks \"%s\"", expr, s, want);
    xmlFree(s);
}

static void assert_xp_num(xmlDocPtr doc, const char *expr, double want)
{
    double v = xp_num(doc, expr);
    if (v != want)
        fail_msg("%s = %g, want %g", expr, v, want);
}

static void test_counts_and_attributes(void **state)
{
    struct fx *x = *state;
    write_all(x);
    xmlDocPtr doc = parse(x->path);
    assert_xp_num(doc, "count(/testsuites/testsuite)", 4);
    assert_xp_num(doc, "count(/testsuites/@*)", 0);
    /* tests, failures, errors attributes match the testcases, per suite */
    static const int want[4][3] = {{3, 0, 0}, {3, 1, 1}, {4, 0, 4}, {1, 0, 1}};
    for (int i = 1; i <= 4; i++) {
        char e[64];
        snprintf(e, sizeof e, "/testsuites/testsuite[%d]", i);
        char q[512];
        snprintf(q, sizeof q, "%s/@id", e);
        assert_xp_num(doc, q, i - 1);
        snprintf(q, sizeof q, "%s/@tests", e);
        assert_xp_num(doc, q, want[i - 1][0]);
        snprintf(q, sizeof q, "count(%s/testcase)", e);
        assert_xp_num(doc, q, want[i - 1][0]);
        snprintf(q, sizeof q, "%s/@failures", e);
        assert_xp_num(doc, q, want[i - 1][1]);
        snprintf(q, sizeof q, "count(%s/testcase/failure)", e);
        assert_xp_num(doc, q, want[i - 1][1]);
        snprintf(q, sizeof q, "%s/@errors", e);
        assert_xp_num(doc, q, want[i - 1][2]);
        snprintf(q, sizeof q, "count(%s/testcase/error)", e);
        assert_xp_num(doc, q, want[i - 1][2]);
        snprintf(q, sizeof q, "string(%s/@package)", e);
        assert_xp_str(doc, q, "faultline");
        snprintf(q, sizeof q, "string(%s/@skipped)", e);
        assert_xp_str(doc, q, "0");
        snprintf(q, sizeof q, "string(%s/@timestamp)", e);
        assert_xp_str(doc, q, "2023-11-14T22:13:20");
        snprintf(q, sizeof q, "string-length(%s/@hostname) > 0", e);
        assert_xp_num(doc, q, 1);
        snprintf(q, sizeof q, "count(%s/system-out) + count(%s/system-err)", e, e);
        assert_xp_num(doc, q, 2);
        snprintf(q, sizeof q, "count(%s/properties/property[@name='faultline.version'"
                              " and @value='" FL_VERSION "'])", e);
        assert_xp_num(doc, q, 1);
    }
    assert_xp_str(doc, "string(/testsuites/testsuite[1]/@time)", "31.500");
    assert_xp_str(doc, "string(/testsuites/testsuite[1]/testcase[2]/@time)", "0.002");
    xmlFreeDoc(doc);
}

static void test_passing_suite(void **state)
{
    struct fx *x = *state;
    write_all(x);
    xmlDocPtr doc = parse(x->path);
    const char *s = "/testsuites/testsuite[1]";
    char q[512];
    snprintf(q, sizeof q, "string(%s/@name)", s);
    assert_xp_str(doc, q, "killed-pod-mid-job");
    snprintf(q, sizeof q, "string(%s/testcase[1]/@name)", s);
    assert_xp_str(doc, q, "lifecycle(submit)");
    snprintf(q, sizeof q, "string(%s/testcase[3]/@classname)", s);
    assert_xp_str(doc, q, "faultline.killed-pod-mid-job");
    snprintf(q, sizeof q, "count(%s/testcase/*)", s);
    assert_xp_num(doc, q, 0);
    snprintf(q, sizeof q, "string(%s/properties/property[@name='seed']/@value)", s);
    assert_xp_str(doc, q, "42");
    snprintf(q, sizeof q, "string(%s/properties/property[@name='target']/@value)", s);
    assert_xp_str(doc, q, "local");
    snprintf(q, sizeof q, "string(%s/properties/property[@name='var.state']/@value)", s);
    assert_xp_str(doc, q, "redis");
    snprintf(q, sizeof q, "string(%s/properties/property[@name='scenario.file']/@value)", s);
    assert_xp_str(doc, q, "scenarios/pass.yaml");
    snprintf(q, sizeof q, "string(%s/properties/property[@name='output.dir']/@value)", s);
    assert_xp_str(doc, q, "out/run-1");
    /* the fault timeline in system-out */
    snprintf(q, sizeof q, "string(%s/system-out)", s);
    assert_xp_contains(doc, q, "process.kill");
    assert_xp_contains(doc, q, "SIGKILL api.1 (pid 1234)");
    assert_xp_contains(doc, q, "FAILED SIGSTOP redis.0: EPERM");
    assert_xp_contains(doc, q, "PENDING restart api.1");
    assert_xp_contains(doc, q, "steady-state");
    snprintf(q, sizeof q, "string(%s/system-err)", s);
    assert_xp_str(doc, q, "");
    xmlFreeDoc(doc);
}

static void test_failing_suite(void **state)
{
    struct fx *x = *state;
    write_all(x);
    xmlDocPtr doc = parse(x->path);
    const char *s = "/testsuites/testsuite[2]";
    char q[512];
    /* names are tokens: control bytes and bad UTF-8 replaced, spaces collapsed */
    snprintf(q, sizeof q, "string(%s/@name)", s);
    assert_xp_str(doc, q, "fail" FFFD " ]]> <&>\" " FFFD FFFD " name");
    snprintf(q, sizeof q, "string(%s/testcase[1]/@classname)", s);
    assert_xp_str(doc, q, "faultline.fail" FFFD " ]]> <&>\" " FFFD FFFD " name");
    snprintf(q, sizeof q, "string(%s/properties/property[@name='var.nasty']/@value)", s);
    assert_xp_str(doc, q, "v" FFFD " ]]> <&>\" " FFFD FFFD);

    snprintf(q, sizeof q, "string(%s/testcase[1]/failure/@message)", s);
    assert_xp_str(doc, q, "2 of 3 jobs moved backwards" FFFD " ]]> <&>\" " FFFD FFFD);
    snprintf(q, sizeof q, "string(%s/testcase[1]/failure/@type)", s);
    assert_xp_str(doc, q, "lifecycle");
    snprintf(q, sizeof q, "string(%s/testcase[1]/failure)", s);
    assert_xp_contains(doc, q, "7 counterexamples, the first 2:");
    assert_xp_contains(doc, q, "j1" FFFD " ]]> <&>\" " FFFD FFFD ": pending -> http:404 -> pending");
    assert_xp_contains(doc, q, "key=j1 value=http:404");
    assert_xp_contains(doc, q, "0.003s p0 ok submit poll key=j1 value=pending");
    assert_xp_contains(doc, q, "value=pend" FFFD " ]]> <&>\" " FFFD FFFD " error=err");
    assert_xp_contains(doc, q, "#999999 (not in the history)");
    assert_xp_contains(doc, q, "5 more counterexamples");
    assert_xp_contains(doc, q, "scenarios/s.yaml:30:5");

    snprintf(q, sizeof q, "string(%s/testcase[2]/error/@message)", s);
    assert_xp_str(doc, q, "verdict unknown: no jobs observed" FFFD);
    snprintf(q, sizeof q, "string(%s/testcase[2]/error/@type)", s);
    assert_xp_str(doc, q, "unknown");
    snprintf(q, sizeof q, "count(%s/testcase[3]/*)", s);
    assert_xp_num(doc, q, 0);
    xmlFreeDoc(doc);

    /* and no raw control byte or invalid sequence anywhere in the file */
    FILE *f = fopen(x->path, "rb");
    assert_non_null(f);
    int c;
    while ((c = fgetc(f)) != EOF) {
        assert_false(c < 0x20 && c != '\n' && c != '\t' && c != '\r');
        assert_false(c == 0xFF || c == 0xFE);
    }
    fclose(f);
}

static void test_harness_and_load_suites(void **state)
{
    struct fx *x = *state;
    write_all(x);
    xmlDocPtr doc = parse(x->path);
    const char *s = "/testsuites/testsuite[3]";
    char q[512];
    snprintf(q, sizeof q, "string(%s/testcase[1]/@name)", s);
    assert_xp_str(doc, q, "harness");
    snprintf(q, sizeof q, "string(%s/testcase[1]/@classname)", s);
    assert_xp_str(doc, q, "faultline.killed-pod-mid-job");
    snprintf(q, sizeof q, "string(%s/testcase[1]/error/@type)", s);
    assert_xp_str(doc, q, "harness");
    snprintf(q, sizeof q, "string(%s/testcase[1]/error/@message)", s);
    assert_xp_str(doc, q, "service api never became ready" FFFD " ]]> <&>\" " FFFD FFFD);
    snprintf(q, sizeof q, "count(%s/testcase[position() > 1]/error[@type='harness' and "
                          "@message='not checked: the run did not complete'])", s);
    assert_xp_num(doc, q, 3);
    snprintf(q, sizeof q, "string(%s/testcase[2]/@name)", s);
    assert_xp_str(doc, q, "lifecycle(submit)");
    snprintf(q, sizeof q, "string(%s/system-err)", s);
    assert_xp_contains(doc, q, "never became ready");

    s = "/testsuites/testsuite[4]";
    snprintf(q, sizeof q, "string(%s/@name)", s);
    assert_xp_str(doc, q, "scenarios/broken.yaml");
    snprintf(q, sizeof q, "string(%s/testcase/@name)", s);
    assert_xp_str(doc, q, "load");
    snprintf(q, sizeof q, "string(%s/testcase/@classname)", s);
    assert_xp_str(doc, q, "faultline.scenarios/broken.yaml");
    snprintf(q, sizeof q, "string(%s/testcase/error/@type)", s);
    assert_xp_str(doc, q, "load");
    snprintf(q, sizeof q, "string(%s/testcase/error/@message)", s);
    assert_xp_contains(doc, q, "broken.yaml:3:5: unknown key \"servces\"");
    xmlFreeDoc(doc);
}

/* Huge strings are capped with a note, and the file still validates. */
static void test_truncation(void **state)
{
    struct fx *x = *state;
    size_t big = 300 * 1024;
    char *s = malloc(big + 1);
    assert_non_null(s);
    for (size_t i = 0; i < big; i++)
        s[i] = (char)('a' + i % 26);
    s[big] = '\0';
    struct fl_verdict *v = &x->inv_pass[0].verdict;
    v->validity = FL_INVALID;
    assert_int_equal(fl_verdict_summary(v, "%s", s), 0);
    for (int i = 0; i < 60; i++)
        fl_verdict_add_cex(v, s + i, s, x->poll_ops, 3);
    free(s);
    const struct fl_result *rs[] = {&x->pass};
    struct fl_error err = {0};
    assert_int_equal(fl_junit_write(x->path, rs, 1, &err), 0);
    struct stat st;
    assert_int_equal(stat(x->path, &st), 0);
    assert_true(st.st_size < 200 * 1024);
    assert_valid(x->path);
    xmlDocPtr doc = parse(x->path);
    assert_xp_contains(doc, "string(//failure)", FL_SAN_TRUNCATED);
    assert_xp_contains(doc, "string(//failure/@message)", FL_SAN_TRUNCATED);
    assert_xp_num(doc, "string-length(//failure) <= 65536", 1);
    xmlFreeDoc(doc);
    fl_verdict_free(v);
}

static void test_write_errors(void **state)
{
    struct fx *x = *state;
    const struct fl_result *rs[] = {&x->pass};
    struct fl_error err = {0};
    assert_int_equal(fl_junit_write("/nonexistent-dir/x/report.xml", rs, 1, &err), FL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x/report.xml"));
    assert_int_equal(fl_junit_write(NULL, rs, 1, &err), FL_EINVAL);
    /* zero results is still a valid (empty) report */
    assert_int_equal(fl_junit_write(x->path, NULL, 0, &err), 0);
    assert_valid(x->path);
}

/* ---- timeline ------------------------------------------------------------- */

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_timeline(void **state)
{
    struct fx *x = *state;
    char *t = fl_timeline_text(x->h);
    assert_non_null(t);
    /* phase, kill (one line for invoke+ok), instance, pause (FAILED),
     * heal (PENDING), phase */
    assert_int_equal(count_lines(t), 6);
    assert_null(strstr(t, "poll"));
    assert_null(strstr(t, "request"));
    assert_non_null(strstr(t, "     5.001s  fault    process.kill  api.1    SIGKILL api.1 (pid 1234)\n"));
    assert_non_null(strstr(t, "     5.002s  instance local         api.1    exited (signal 9)\n"));
    assert_non_null(strstr(t, "    12.001s  fault    redis.pause   redis.0  FAILED SIGSTOP redis.0: EPERM" FFFD));
    assert_non_null(strstr(t, "    18.000s  heal     process.kill  api.1    PENDING restart api.1 (no completion recorded)\n"));
    assert_non_null(strstr(t, "     0.000s  phase    steady-state\n"));
    /* time order */
    assert_true(strstr(t, "steady-state") < strstr(t, "pid 1234"));
    assert_true(strstr(t, "PENDING") < strstr(t, "settle"));
    free(t);

    t = fl_timeline_text(NULL);
    assert_non_null(t);
    free(t);
}

static void test_timeline_cap(void **state)
{
    (void)state;
    struct fl_history *h = fl_history_new(0);
    char val[900];
    memset(val, 'x', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 3000; i++) {
        val[0] = (char)('a' + i % 26);   /* distinct strings */
        val[1] = (char)('a' + (i / 26) % 26);
        val[2] = (char)('a' + (i / 676) % 26);
        assert_non_null(fl_history_add(h, i * 1000, FL_PROC_TARGET, FL_INFO, "local",
                                       "instance", "api.0", val, NULL));
    }
    char *t = fl_timeline_text(h);
    assert_non_null(t);
    assert_true(strlen(t) <= FL_TIMELINE_MAX);
    assert_true(strlen(t) > FL_TIMELINE_MAX / 2);
    assert_non_null(strstr(t, "timeline truncated"));
    assert_non_null(strstr(t, "of 3000 events shown"));
    free(t);
    fl_history_free(h);
}

/* ---- console -------------------------------------------------------------- */

static char *console(const struct fl_result *r, int verbose)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fl_console_result(f, r, verbose);
    fclose(f);
    return buf;
}

static void test_console(void **state)
{
    struct fx *x = *state;
    char *s = console(&x->pass, 0);
    assert_string_equal(s, "PASS  killed-pod-mid-job  (31.5s, seed 42)\n"
                           "  ok   lifecycle(submit)\n"
                           "  ok   transitions(submit)\n"
                           "  ok   recovers(health)\n");
    free(s);

    s = console(&x->fail, 0);
    if (getenv("FL_TEST_DUMP"))
        fputs(s, stderr);
    const char *head = "FAIL  fail" FFFD " ]]> <&>\" " FFFD FFFD "  name  (31.5s, seed 42)\n";
    assert_true(strncmp(s, head, strlen(head)) == 0);
    assert_non_null(strstr(s, "  FAIL lifecycle(submit): 2 of 3 jobs moved backwards" FFFD));
    assert_non_null(strstr(s, "       j1" FFFD " ]]> <&>\" " FFFD FFFD ": pending -> http:404"));
    assert_non_null(strstr(s, "       ... 5 more\n"));
    assert_non_null(strstr(s, "  UNKN transitions(submit): verdict unknown: no jobs observed"));
    assert_non_null(strstr(s, "  ok   recovers(health)\n"));
    assert_null(strchr(s, '\x01'));
    assert_null(strchr(s, '\x1b'));   /* not a terminal: no colours */
    assert_null(strstr(s, "key=j1"));
    free(s);

    s = console(&x->fail, 2);          /* ops of each counterexample */
    assert_non_null(strstr(s, "         #"));
    assert_non_null(strstr(s, "key=j1 value=http:404"));
    free(s);

    s = console(&x->harness, 0);
    assert_true(strncmp(s, "ERROR  killed-pod-mid-job", 25) == 0);
    assert_non_null(strstr(s, "never became ready"));
    assert_non_null(strstr(s, "(ENOTREADY)"));
    assert_non_null(strstr(s, "lifecycle(submit): not checked"));
    free(s);

    s = console(&x->load, 0);
    assert_true(strncmp(s, "ERROR  scenarios/broken.yaml  (did not load)\n", 45) == 0);
    assert_non_null(strstr(s, "unknown key"));
    free(s);
}

/* More counterexamples than the console shows by default. */
static void test_console_many_cex(void **state)
{
    struct fx *x = *state;
    struct fl_verdict *v = &x->inv_pass[1].verdict;
    v->validity = FL_INVALID;
    fl_verdict_summary(v, "12 of 12 jobs");
    for (int i = 0; i < 12; i++) {
        char key[16];
        snprintf(key, sizeof key, "job%02d", i);
        fl_verdict_add_cex(v, key, "stuck", NULL, 0);
    }
    char *s = console(&x->pass, 0);
    assert_true(strncmp(s, "FAIL  ", 6) == 0);
    assert_non_null(strstr(s, "job04: stuck"));
    assert_null(strstr(s, "job05"));
    assert_non_null(strstr(s, "... 7 more (-v shows all kept)"));
    free(s);
    s = console(&x->pass, 1);
    assert_non_null(strstr(s, "job11: stuck"));
    assert_null(strstr(s, "more"));
    free(s);
    fl_verdict_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validates_both_schemas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_and_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passing_suite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_suite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_harness_and_load_suites, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
        cmocka_unit_test(test_timeline_cap),
        cmocka_unit_test_setup_teardown(test_console, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_many_cex, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
