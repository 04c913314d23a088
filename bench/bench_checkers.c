/* bench_checkers.c - every checker over a synthetic 1,000,000-op history,
 * in memory and again from its JSON lines recording.
 *
 * 45,000 jobs (request invoke/ok + 10 polls pending -> running -> complete,
 * interleaved in time like a real open-loop workload), a few faults with
 * heals, and a health probe filling the rest. A fraction of jobs misbehave
 * (stuck pending, a 404 flip, ending failed), so the verdicts are known in
 * advance and printed: a checker cannot silently get faster by being wrong.
 *
 * Then the history is written as JSON lines (the --events format), read
 * back with fl_history_load_jsonl, its integrity checked and every checker
 * run again, as `faultline check` does: the parse time, the check time and
 * their ratio to the in-memory checks are printed, and the verdicts must
 * be the same. Timings are printed, never asserted.
 *
 * Usage: bench_checkers [ops]   (default 1000000)
 */
#include "checkers/checker.h"
#include "history/history.h"
#include "reports/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define POLLS 10
#define JOB_OPS (2 + 2 * POLLS)
#define STUCK(j) ((j) % 100 == 7)      /* never leaves pending, follow gives up */
#define FLIP(j) ((j) % 200 == 13)      /* one poll answers 404 */
#define FAILED(j) ((j) % 500 == 21)    /* ends failed */

enum kind { K_REQ_INV, K_REQ_OK, K_POLL_INV, K_POLL_OK, K_GIVE_UP, K_PROBE_INV,
            K_PROBE_OK, K_FAULT_INV, K_FAULT_OK, K_HEAL_INV, K_HEAL_OK, K_PHASE };

/* The runner's phase records, so that the recording is a whole run. */
static const struct {
    double at;
    const char *name;
} phases[] = {{0.0, "start"}, {0.5, "steady"}, {1.0, "timeline"}, {95.0, "heal"},
              {95.0, "settle"}, {125.0, "drain"}, {125.5, "teardown"}, {126.0, "done"}};
#define NPHASES (sizeof phases / sizeof phases[0])

struct ev {
    int64_t t;
    uint32_t seq;    /* generation order: ties keep it */
    uint32_t id;     /* job, sample or fault number */
    uint8_t kind, step;
};

struct fault_plan {
    double at, heal;   /* heal < 0: instant */
    const char *name;
};

static const struct fault_plan faults[] = {
    {20.0, -1, "process.kill"},
    {40.0, 46.0, "redis.pause"},
    {60.0, 64.0, "net.partition"},
    {80.0, -1, "process.kill"},
};
#define NFAULTS (sizeof faults / sizeof faults[0])

static int ev_cmp(const void *a, const void *b)
{
    const struct ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static const char *poll_value(uint32_t j, int step)
{
    if (STUCK(j))
        return "pending";
    if (FLIP(j) && step == 4)
        return "http:404";
    if (step < 3)
        return "pending";
    if (step < POLLS - 1)
        return "running";
    return FAILED(j) ? "failed" : "complete";
}

/* Is the health probe down at t (seconds)? Down while the long faults are
 * active plus a little, and one second after each kill. */
static int probe_down(double t)
{
    return (t >= 40.0 && t < 47.5) || (t >= 60.0 && t < 64.5) ||
           (t >= 20.0 && t < 21.0) || (t >= 80.0 && t < 81.0);
}

static struct ev *plan(size_t target, size_t *nev, uint32_t *njobs)
{
    size_t fault_ops = 0;
    for (size_t i = 0; i < NFAULTS; i++)
        fault_ops += faults[i].heal < 0 ? 2 : 4;
    size_t per_job = JOB_OPS;   /* + a give-up for stuck ones, 1 in 100 */
    uint32_t jobs = (uint32_t)((target * 99 / 100) / per_job);
    size_t job_ops = 0;
    for (uint32_t j = 0; j < jobs; j++)
        job_ops += JOB_OPS + (STUCK(j) ? 1 : 0);
    fault_ops += NPHASES;
    if (job_ops + fault_ops > target) {
        fprintf(stderr, "target too small\n");
        return NULL;
    }
    size_t samples = (target - job_ops - fault_ops) / 2;
    size_t n = job_ops + fault_ops + 2 * samples;
    struct ev *e = malloc(n * sizeof *e);
    if (!e)
        return NULL;
    size_t k = 0;
    uint32_t seq = 0;
    double span_s = 90.0;   /* jobs arrive evenly over 90 s */
    for (uint32_t j = 0; j < jobs; j++) {
        int64_t t0 = 1000000 + (int64_t)((double)j * span_s * 1e6 / jobs);
        e[k++] = (struct ev){t0 - 15000, seq++, j, K_REQ_INV, 0};
        e[k++] = (struct ev){t0, seq++, j, K_REQ_OK, 0};
        for (int p = 0; p < POLLS; p++) {
            int64_t tp = t0 + (int64_t)(p + 1) * 250000;
            e[k++] = (struct ev){tp - 8000, seq++, j, K_POLL_INV, (uint8_t)p};
            e[k++] = (struct ev){tp, seq++, j, K_POLL_OK, (uint8_t)p};
        }
        if (STUCK(j))
            e[k++] = (struct ev){t0 + 31000000, seq++, j, K_GIVE_UP, 0};
    }
    for (uint32_t f = 0; f < NFAULTS; f++) {
        int64_t ta = (int64_t)(faults[f].at * 1e6);
        e[k++] = (struct ev){ta - 2000, seq++, f, K_FAULT_INV, 0};
        e[k++] = (struct ev){ta, seq++, f, K_FAULT_OK, 0};
        if (faults[f].heal >= 0) {
            int64_t th = (int64_t)(faults[f].heal * 1e6);
            e[k++] = (struct ev){th - 2000, seq++, f, K_HEAL_INV, 0};
            e[k++] = (struct ev){th, seq++, f, K_HEAL_OK, 0};
        }
    }
    for (uint32_t p = 0; p < NPHASES; p++)
        e[k++] = (struct ev){(int64_t)(phases[p].at * 1e6), seq++, p, K_PHASE, 0};
    for (size_t s = 0; s < samples; s++) {
        int64_t ts = (int64_t)((double)s * 125e6 / (double)samples);
        e[k++] = (struct ev){ts, seq++, (uint32_t)s, K_PROBE_INV, 0};
        e[k++] = (struct ev){ts + 1000, seq++, (uint32_t)s, K_PROBE_OK, 0};
    }
    qsort(e, k, sizeof *e, ev_cmp);
    *nev = k;
    *njobs = jobs;
    return e;
}

static void append(struct fl_history *h, const struct ev *e)
{
    char key[32];
    snprintf(key, sizeof key, "job-%" PRIu32, e->id);
    int32_t wp = (int32_t)(e->id % 64);
    int32_t fp = FL_PROC_FAULT + (int32_t)e->id;
    switch ((enum kind)e->kind) {
    case K_REQ_INV: fl_history_add(h, e->t, wp, FL_INVOKE, "submit", "request", NULL, NULL, NULL); break;
    case K_REQ_OK: fl_history_add(h, e->t, wp, FL_OK, "submit", "request", key, "202", NULL); break;
    case K_POLL_INV: fl_history_add(h, e->t, wp, FL_INVOKE, "submit", "poll", key, NULL, NULL); break;
    case K_POLL_OK:
        fl_history_add(h, e->t, wp, FL_OK, "submit", "poll", key, poll_value(e->id, e->step), NULL);
        break;
    case K_GIVE_UP:
        fl_history_add(h, e->t, wp, FL_INFO, "submit", "follow", key, "pending", "follow timeout 30s");
        break;
    case K_PROBE_INV: fl_history_add(h, e->t, FL_PROC_PROBE, FL_INVOKE, "health", "probe", NULL, NULL, NULL); break;
    case K_PROBE_OK:
        if (probe_down((double)e->t / 1e6))
            fl_history_add(h, e->t, FL_PROC_PROBE, FL_FAIL, "health", "probe", NULL, "503", "status 503");
        else
            fl_history_add(h, e->t, FL_PROC_PROBE, FL_OK, "health", "probe", NULL, "200", NULL);
        break;
    case K_FAULT_INV: fl_history_add(h, e->t, fp, FL_INVOKE, faults[e->id].name, "fault", "api-1", NULL, NULL); break;
    case K_FAULT_OK: fl_history_add(h, e->t, fp, FL_OK, faults[e->id].name, "fault", "api-1", faults[e->id].name, NULL); break;
    case K_HEAL_INV: fl_history_add(h, e->t, fp, FL_INVOKE, faults[e->id].name, "heal", "api-1", NULL, NULL); break;
    case K_HEAL_OK: fl_history_add(h, e->t, fp, FL_OK, faults[e->id].name, "heal", "api-1", "healed", NULL); break;
    case K_PHASE:
        fl_history_add(h, e->t, FL_PROC_RUNNER, FL_OK, FL_SOURCE_RUNNER, FL_F_PHASE, NULL,
                       phases[e->id].name, NULL);
        break;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct fl_args make_args(const struct fl_checker_type *t)
{
    struct fl_args a;
    fl_args_init(&a, t->params, t->nparams);
    return a;
}

static struct fl_pval *arg(struct fl_args *a, const char *name)
{
    struct fl_pval *v = fl_args_set(a, name);
    if (!v) {
        fprintf(stderr, "no parameter %s\n", name);
        exit(2);
    }
    return v;
}

/* One checker run with the verdict the generator planted. */
struct bcase {
    const char *label, *checker;
    struct fl_args args;
    enum fl_validity expect;
    size_t expect_cex;
};

/* Run one checker, print its speed and verdict; 1 when the verdict is not
 * the one the generator planted (validity and number of counterexamples).
 * *dt: the time it took. */
static int bench(const struct bcase *c, const struct fl_history *h, double *dt, int quiet)
{
    const struct fl_checker_type *t = fl_checker_find(c->checker);
    struct fl_verdict v;
    memset(&v, 0, sizeof v);
    double t0 = now_s();
    int rc = t->check(h, &c->args, &v);
    *dt = now_s() - t0;
    size_t n = fl_history_len(h);
    printf("%s: %zu ops in %.3f s = %.1f M ops/s\n", c->label, n, *dt, (double)n / *dt / 1e6);
    if (!quiet) {
        printf("  verdict: %s (%zu counterexamples) - %s\n", fl_validity_name(v.validity),
               v.ncex_total, v.summary ? v.summary : "(no summary)");
        if (v.ncex)
            printf("  first: %s: %s\n", v.cex[0].key, v.cex[0].why);
    }
    int bad = rc != 0 || v.validity != c->expect || v.ncex_total != c->expect_cex;
    if (bad)
        printf("  UNEXPECTED: wanted %s with %zu counterexamples (rc %d), got %s: %s\n",
               fl_validity_name(c->expect), c->expect_cex, rc, fl_validity_name(v.validity),
               v.summary ? v.summary : "");
    fl_verdict_free(&v);
    return bad;
}

/* Write h as JSON lines to a temporary file; its path into path. */
static int record(const struct fl_history *h, char *path, size_t len, double *dt)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, len, "%s/fl_bench_checkers_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        perror(path);
        return 1;
    }
    double t0 = now_s();
    int bad = 0;
    for (size_t i = 0; i < fl_history_len(h) && !bad; i++)
        bad = fl_jsonl_write_op(f, fl_history_get(h, i)) != 0;
    bad |= fclose(f) != 0;
    *dt = now_s() - t0;
    if (bad)
        fprintf(stderr, "%s: write failed\n", path);
    return bad;
}

int main(int argc, char **argv)
{
    size_t target = 1000000;
    if (argc > 1) {
        char *end;
        unsigned long long n = strtoull(argv[1], &end, 10);
        if (*end || n < 10000 || n > 50000000) {
            fprintf(stderr, "usage: %s [ops 10000..50000000]\n", argv[0]);
            return 2;
        }
        target = (size_t)n;
    }
    size_t nev;
    uint32_t jobs;
    struct ev *e = plan(target, &nev, &jobs);
    if (!e)
        return 1;
    struct fl_history *h = fl_history_new(0);
    double t0 = now_s();
    for (size_t i = 0; i < nev; i++)
        append(h, &e[i]);
    double dt = now_s() - t0;
    free(e);
    printf("history: %zu ops (%" PRIu32 " jobs, %zu faults) appended in %.3f s = %.1f M ops/s\n",
           fl_history_len(h), jobs, NFAULTS, dt, (double)fl_history_len(h) / dt / 1e6);

    static const char *const terminal[] = {"complete"};
    static const char *const order[] = {"pending", "running", "complete"};
    size_t stuck = 0, flip = 0, failed = 0;
    for (uint32_t j = 0; j < jobs; j++) {
        stuck += STUCK(j);
        flip += FLIP(j);
        failed += FAILED(j);
    }
    struct bcase cases[5];
    struct fl_args *a = &cases[0].args;
    cases[0] = (struct bcase){"lifecycle", "lifecycle", make_args(fl_checker_find("lifecycle")),
                              FL_INVALID, stuck + failed};
    arg(a, "workload")->s = "submit";
    arg(a, "terminal")->list = terminal;
    arg(a, "terminal")->nlist = 1;
    arg(a, "within")->ms = 30000;
    /* "failed" is off the order too */
    cases[1] = (struct bcase){"transitions", "transitions",
                              make_args(fl_checker_find("transitions")), FL_INVALID, flip + failed};
    a = &cases[1].args;
    arg(a, "workload")->s = "submit";
    arg(a, "order")->list = order;
    arg(a, "order")->nlist = 3;
    cases[2] = (struct bcase){"recovers", "recovers", make_args(fl_checker_find("recovers")),
                              FL_VALID, 0};
    a = &cases[2].args;
    arg(a, "probe")->s = "health";
    arg(a, "within")->ms = 10000;
    cases[3] = (struct bcase){"always", "always", make_args(fl_checker_find("always")),
                              FL_INVALID, 4};
    a = &cases[3].args;
    arg(a, "probe")->s = "health";
    arg(a, "during_faults")->b = 1;
    /* the kills are instant (nothing excused), the pauses' tails remain */
    cases[4] = cases[3];
    cases[4].label = "always(during_faults: false)";
    arg(&cases[4].args, "during_faults")->b = 0;
    size_t ncases = 5;

    int bad = 0;
    double mem = 0;
    for (size_t i = 0; i < ncases; i++) {
        bad |= bench(&cases[i], h, &dt, 0);
        mem += dt;
    }

    /* the same history, recorded and read back as `faultline check` does */
    char path[4096];
    double t_write, t_parse, t_check = 0;
    if (record(h, path, sizeof path, &t_write)) {
        fl_history_free(h);
        return 1;
    }
    struct fl_history *g = fl_history_new(0);
    struct fl_error err = {0};
    t0 = now_s();
    int rc = fl_history_load_jsonl(g, path, &err);
    t_parse = now_s() - t0;
    struct fl_integrity in;
    t0 = now_s();
    fl_history_integrity(g, &in);
    double t_integrity = now_s() - t0;
    unlink(path);
    if (rc || !in.complete || fl_history_len(g) != fl_history_len(h)) {
        printf("UNEXPECTED: the recording did not load whole: %s%s\n", rc ? err.msg : "",
               in.complete ? "" : in.why);
        fl_history_free(g);
        fl_history_free(h);
        return 1;
    }
    printf("\nrecorded as JSON lines in %.3f s; parsed back in %.3f s = %.2f M ops/s "
           "(integrity check %.3f s)\n", t_write, t_parse,
           (double)fl_history_len(g) / t_parse / 1e6, t_integrity);
    for (size_t i = 0; i < ncases; i++) {
        bad |= bench(&cases[i], g, &dt, 1);
        t_check += dt;
    }
    printf("checkers: %.3f s in memory, %.3f s on the parsed history (ratio %.2f)\n", mem,
           t_check, t_check / mem);
    printf("faultline check end to end (parse + integrity + checkers): %.3f s = %.1f x the "
           "in-memory checks\n", t_parse + t_integrity + t_check,
           (t_parse + t_integrity + t_check) / mem);
    fl_history_free(g);

    fl_history_free(h);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld MiB\n", ru.ru_maxrss / 1024);
    return bad;
}
