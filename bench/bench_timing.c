/* bench_timing.c - how late faults fire while a workload runs at a high
 * rate, through the real loader, runner and fault timeline.
 *
 * Each run is a generated scenario: a static HTTP server (static_server,
 * next to this binary) as the system under test, an idle `sleep` service,
 * one HTTP workload at the given rate (none for the baseline) and a fault
 * every 20 ms from 200 ms on: process.kill with signal CONT on the idle
 * service, which changes nothing but goes through the whole injection
 * path (timer, journal record, target signal). A fault's lateness is the
 * time of its invoke record minus (start of the timeline + its `at`).
 *
 * usage: bench_timing [seconds=2] [rate/s...]   (default rates 1000 10000
 *        100000 500000)
 * output: one line per run with p50 / p99 / max lateness in ms, the ratio
 * of p50 and p99 to the baseline (no workload) measured in the same
 * invocation, and how many operations were issued and skipped.
 *
 * Bounded: every run ends after its duration plus the runner's own
 * timeouts; the services are stopped by the runner (and, through the exec
 * shim, die with this process). Traffic stays on 127.0.0.1.
 */
#include <dirent.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "run/runner.h"
#include "scenario/scenario.h"
#include "targets/local/exec_shim.h"

#define FAULT_FIRST_MS 200
#define FAULT_EVERY_MS 20
#define MAX_FAULTS 1024
#define MAX_RATES 8

struct stats {
    double p50, p99, max;   /* ms */
    size_t n;
    unsigned long long issued, skipped;
};

/* Write the scenario for one run to path (rate 0: no workload). */
static int write_scenario(const char *path, double rate, unsigned seconds)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "name: bench-timing\nduration: %us\nsettle: 0s\n", seconds);
    fprintf(f, "services:\n"
               "  web:\n"
               "    command: [static_server, \"${port}\", \"120\"]\n"
               "    ready: { tcp: \"127.0.0.1:${port}\" }\n"
               "    stop_grace: 1s\n"
               "  idle:\n"
               "    command: [sleep, \"120\"]\n"
               "    stop_grace: 1s\n");
    if (rate > 0)
        fprintf(f, "workload:\n"
                   "  - name: load\n"
                   "    rate: %.0f/s\n"
                   "    concurrency: 64\n"
                   "    request: { url: \"http://${web}/\", timeout: 2s }\n", rate);
    fprintf(f, "faults:\n");
    for (unsigned at = FAULT_FIRST_MS; at + 100 <= seconds * 1000 && at < 1000u * MAX_FAULTS;
         at += FAULT_EVERY_MS)
        fprintf(f, "  - { at: %ums, process.kill: { service: idle, signal: CONT } }\n", at);
    return fclose(f) ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Lateness of every fault's invoke in a run's history, relative to the
 * timer base. The timers are started from the loop's cached clock, which
 * may be a few ms older than the timeline's phase record: the base is the
 * earlier of that record and the earliest (invoke - at) of the run (libuv
 * never fires a timer before it is due on its clock). So a constant delay
 * of every fault would be hidden unless the phase record bounds it, but
 * any spread (a fault starved by the workload) is not. */
static int measure(const struct fl_scenario *sc, const struct fl_history *h, struct stats *st)
{
    int64_t t0 = -1, base = INT64_MAX;
    int64_t off[MAX_FAULTS];
    double late[MAX_FAULTS];
    size_t n = 0;
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_PHASE) == 0 && op->value && strcmp(op->value, "timeline") == 0)
            t0 = op->time_us;
        else if (strcmp(op->f, FL_F_FAULT) == 0 && op->type == FL_INVOKE && t0 >= 0 &&
                 n < MAX_FAULTS) {
            size_t idx = (size_t)(op->process - FL_PROC_FAULT);
            if (idx < sc->nfaults)
                off[n++] = op->time_us - (int64_t)sc->faults[idx].at_ms * 1000;
        } else if (strcmp(op->f, FL_F_REQUEST) == 0 && op->type == FL_INVOKE) {
            st->issued++;
        } else if (strcmp(op->f, FL_F_SKIPPED) == 0 && op->value) {
            st->skipped += strtoull(op->value, NULL, 10);
        }
    }
    if (n == 0)
        return -1;
    base = t0;
    for (size_t i = 0; i < n; i++)
        if (off[i] < base)
            base = off[i];
    for (size_t i = 0; i < n; i++)
        late[i] = (double)(off[i] - base) / 1000.0;
    qsort(late, n, sizeof late[0], cmp_double);
    st->n = n;
    st->p50 = percentile(late, n, 0.50);
    st->p99 = percentile(late, n, 0.99);
    st->max = late[n - 1];
    return 0;
}

static void rm_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    for (int i = 0; d && i < 100 && (e = readdir(d)); i++) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX + 256];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

/* One run at rate (0: baseline). */
static int run_one(const char *self, const char *bindir, const char *tmp, double rate,
                   unsigned seconds, struct stats *st)
{
    char path[PATH_MAX], out[PATH_MAX];
    snprintf(path, sizeof path, "%s/scenario.yaml", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    if (write_scenario(path, rate, seconds)) {
        fprintf(stderr, "bench_timing: cannot write %s\n", path);
        return -1;
    }
    struct fl_diag d = {0};
    struct fl_scenario *sc = NULL;
    if (fl_scenario_load(path, NULL, 0, &sc, &d)) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "%s:%d:%d: %s\n", d.items[i].file, d.items[i].line, d.items[i].col,
                    d.items[i].msg);
        fl_diag_free(&d);
        return -1;
    }
    fl_diag_free(&d);
    struct fl_runner_opts o = {.outdir = out, .verbose = -1, .self_exe = self, .bindir = bindir,
                               .has_seed = 1, .seed = 1};
    struct fl_result res = {0};
    int rc = fl_runner_run(sc, &o, &res);
    if (rc == 0 && res.harness_status) {
        fprintf(stderr, "bench_timing: run at %.0f/s: %s\n", rate, res.harness_error);
        rc = -1;
    }
    if (rc == 0 && measure(sc, res.history, st)) {
        fprintf(stderr, "bench_timing: run at %.0f/s: no fault recorded\n", rate);
        rc = -1;
    }
    fl_result_free(&res);
    fl_scenario_free(sc);
    rm_dir_files(out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], FL_EXEC_SHIM_ARG) == 0)
        return fl_exec_shim_main(argc, argv);   /* we are a service being started */
    long long secs = 2;
    if (argc > 1 && fl_parse_int(argv[1], 1, 30, &secs)) {
        fprintf(stderr, "usage: bench_timing [seconds=2] [rate/s...]\n");
        return 2;
    }
    double rates[MAX_RATES] = {1000, 10000, 100000, 500000};
    size_t nrates = 4;
    if (argc > 2) {
        nrates = 0;
        for (int i = 2; i < argc && nrates < MAX_RATES; i++) {
            long long r;
            if (fl_parse_int(argv[i], 1, 1000000, &r)) {
                fprintf(stderr, "bench_timing: rate %s: expected 1..1000000\n", argv[i]);
                return 2;
            }
            rates[nrates++] = (double)r;
        }
    }
    char self[PATH_MAX], bindir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    memcpy(bindir, self, (size_t)n + 1);
    char *slash = strrchr(bindir, '/');
    if (slash)
        *slash = '\0';
    char tmp[] = "/tmp/fl-bench-timing-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/out", tmp);
    if (mkdir(out, 0755)) {
        rmdir(tmp);
        return 1;
    }

    printf("bench_timing: a fault every %d ms from %d ms, %llds per run, workload against "
           "static_server on loopback, %ld CPUs\n", FAULT_EVERY_MS, FAULT_FIRST_MS, secs,
           sysconf(_SC_NPROCESSORS_ONLN));
    int rc = 0;
    struct stats base;
    if (run_one(self, bindir, tmp, 0, (unsigned)secs, &base)) {
        rc = 1;
        goto out;
    }
    printf("%-14s faults %3zu  lateness p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", "baseline",
           base.n, base.p50, base.p99, base.max);
    for (size_t i = 0; i < nrates; i++) {
        struct stats st;
        if (run_one(self, bindir, tmp, rates[i], (unsigned)secs, &st)) {
            rc = 1;
            continue;
        }
        char label[32];
        snprintf(label, sizeof label, "rate %.0f/s", rates[i]);
        /* Ratios against a floor of 0.1 ms: the baseline is near 0. */
        double b50 = base.p50 > 0.1 ? base.p50 : 0.1, b99 = base.p99 > 0.1 ? base.p99 : 0.1;
        printf("%-14s faults %3zu  lateness p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  "
               "ratio p50 %.1fx p99 %.1fx  issued %llu skipped %llu\n", label, st.n, st.p50,
               st.p99, st.max, (st.p50 > 0.1 ? st.p50 : 0.1) / b50,
               (st.p99 > 0.1 ? st.p99 : 0.1) / b99, st.issued, st.skipped);
    }
out:
    rm_dir_files(out);
    rmdir(out);
    rm_dir_files(tmp);   /* scenario.yaml */
    rmdir(tmp);
    return rc;
}
