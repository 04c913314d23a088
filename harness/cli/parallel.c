/* parallel.c - `faultline run -j N` and `--matrix NAME=V1,V2`: scenarios
 * side by side.
 *
 * Each job (a scenario, or a scenario with one value of the matrix var)
 * runs in a faultline process of its own: its own loop, ports, cgroups,
 * journal and control socket, exactly as if it were started alone, so a
 * job cannot disturb another and a crash stays in its job. Runs mostly
 * wait (on timers, probes, the services), so more jobs than cores is
 * fine. Each job writes its folder (events.jsonl, verdicts.json, logs,
 * console.log); the parent reads the verdicts back (reports/verdicts.c),
 * prints them as they finish and writes one JUnit and one HTML report
 * over all jobs. Ctrl-C reaches every job (same process group); each
 * heals and writes its reports, then the parent writes its own.
 */
#include "cli/cli.h"
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define prog fl_cli_prog
#define MAX_JOBS 512
#define MAX_MATRIX 32

struct job {
    const char *file;
    const char *value;            /* the matrix value, or NULL */
    char label[160];              /* "killed-pod-mid-job [profile=buggy]" for messages */
    char dir[PATH_MAX];           /* OUT/NAME or OUT/NAME@VAR=VALUE */
    pid_t pid;
    int status;                   /* exit code, or 128 + signal */
    double secs;
    struct timespec t0;
    struct fl_history *h;
    struct fl_loaded_run *lr;
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A folder name from a scenario file and a matrix value. */
static void job_dir(struct job *j, const char *out, const char *mvar)
{
    const char *base = strrchr(j->file, '/');
    base = base ? base + 1 : j->file;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
        n -= 4;
    char name[200];
    snprintf(name, sizeof name, "%.*s%s%s%s%s", (int)(n < 120 ? n : 120), base,
             j->value ? "@" : "", j->value ? mvar : "", j->value ? "=" : "",
             j->value ? j->value : "");
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
    snprintf(j->dir, sizeof j->dir, "%s/%s", out, name);
    snprintf(j->label, sizeof j->label, "%.*s%s%s%s%s%s", (int)(n < 120 ? n : 120), base,
             j->value ? " [" : "", j->value ? mvar : "", j->value ? "=" : "",
             j->value ? j->value : "", j->value ? "]" : "");
}

/* fork + exec `faultline run FILE` for one job, its output in its folder. */
static int start(struct job *j, const struct cli *c, const char *self, const char *mvar)
{
    char *argv[32 + 2 * MAX_VARS];
    int a = 0;
    char out[PATH_MAX + 16], junit[PATH_MAX + 16], seed[32], tt[32], var[600], label[200];
    snprintf(out, sizeof out, "%s", j->dir);
    snprintf(junit, sizeof junit, "%s/junit.xml", j->dir);
    argv[a++] = (char *)self;
    argv[a++] = "run";
    argv[a++] = (char *)j->file;
    argv[a++] = "--out";
    argv[a++] = out;
    argv[a++] = "--junit";
    argv[a++] = junit;
    argv[a++] = "--state-dir";
    argv[a++] = (char *)c->state_dir;
    if (c->has_seed) {
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
        argv[a++] = "--seed";
        argv[a++] = seed;
    }
    /* The same target for every job (a compose project is shared: its
     * jobs act on the same containers, so run them with -j 1). */
    if (c->target.kind) {
        argv[a++] = "--target";
        argv[a++] = (char *)c->target.kind;
    }
    if (c->target.project) {
        argv[a++] = "--compose-project";
        argv[a++] = (char *)c->target.project;
    }
    if (c->teardown_ms) {
        snprintf(tt, sizeof tt, "%llums", (unsigned long long)c->teardown_ms);
        argv[a++] = "--teardown-timeout";
        argv[a++] = tt;
    }
    /* NAME=VALUE of every --var: the child's copy is what exec uses; the
     * parent frees its own after the fork. */
    char *kv[MAX_VARS];
    size_t nkv = 0;
    for (size_t i = 0; i < c->nvars; i++) {
        size_t len = strlen(c->vars[i].name) + strlen(c->vars[i].value) + 2;
        if (!(kv[nkv] = malloc(len))) {
            while (nkv)
                free(kv[--nkv]);
            return -1;
        }
        snprintf(kv[nkv], len, "%s=%s", c->vars[i].name, c->vars[i].value);
        argv[a++] = "--var";
        argv[a++] = kv[nkv++];
    }
    if (j->value) {
        snprintf(var, sizeof var, "%s=%s", mvar, j->value);
        argv[a++] = "--var";
        argv[a++] = var;
        snprintf(label, sizeof label, " [%s=%s]", mvar, j->value);
        argv[a++] = "--label";
        argv[a++] = label;
    }
    argv[a++] = c->verbose > 0 ? "-v" : "--quiet";
    argv[a] = NULL;
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/console.log", j->dir);
    clock_gettime(CLOCK_MONOTONIC, &j->t0);
    pid_t pid = fl_cli_mkdir_p(j->dir) ? -1 : fork();
    if (pid != 0)
        while (nkv)
            free(kv[--nkv]);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (in >= 0)
            dup2(in, STDIN_FILENO);
        execv(self, argv);
        _exit(127);
    }
    j->pid = pid;
    return 0;
}

/* Read a finished job's result back from its folder. */
static void collect(struct job *j, const char *scenario_name_dir)
{
    char events[PATH_MAX + 300], verdicts[PATH_MAX + 300];
    struct fl_error err = {0};
    snprintf(events, sizeof events, "%s/%s/events.jsonl", j->dir, scenario_name_dir);
    snprintf(verdicts, sizeof verdicts, "%s/%s/verdicts.json", j->dir, scenario_name_dir);
    j->h = fl_history_new(0);
    if (!j->h || fl_history_load_jsonl(j->h, events, &err) ||
        fl_verdicts_load(verdicts, j->h, &j->lr, &err)) {
        fprintf(stderr, "%s: %s: %s (see %s/console.log)\n", prog, j->label,
                err.msg[0] ? err.msg : "out of memory", j->dir);
        fl_loaded_run_free(j->lr);
        j->lr = NULL;
    }
}

/* The one folder a job's run made under its --out (named after the
 * scenario's name, which the parent has not read). */
static int run_folder(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        snprintf(out, len, "%s", e->d_name);
        found++;
    }
    closedir(d);
    return found == 1 ? 0 : -1;
}

static void finished(struct job *j, int wstatus, int quiet)
{
    j->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    j->secs = since(&j->t0);
    char name[256];
    if (run_folder(j->dir, name, sizeof name) == 0)
        collect(j, name);
    else
        fprintf(stderr, "%s: %s: no run folder in %s (exit %d; see its console.log)\n", prog,
                j->label, j->dir, j->status);
    if (!quiet)
        fprintf(stderr, "[%6.1fs] %-8s %s (exit %d)\n", j->secs,
                j->status == EXIT_PASS ? "pass" : j->status == EXIT_VIOLATED ? "VIOLATED"
                : j->status == EXIT_SCENARIO ? "INVALID" : "unknown",
                j->label, j->status);
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
    got_signal = sig;
}

int fl_cli_run_parallel(struct cli *c, const char *self)
{
    static struct job jobs[MAX_JOBS];
    size_t njobs = 0;
    const char *values[MAX_MATRIX];
    size_t nvalues = 0;
    char mvar[128] = "", mbuf[1024] = "";
    if (c->matrix) {
        const char *eq = strchr(c->matrix, '=');
        snprintf(mvar, sizeof mvar, "%.*s", eq ? (int)(eq - c->matrix) : 0, c->matrix);
        snprintf(mbuf, sizeof mbuf, "%s", eq ? eq + 1 : "");
        /* V1,V2,...: common.c refused empty values (",," or a trailing ","). */
        for (char *v = mbuf; *v && nvalues < MAX_MATRIX;) {
            char *comma = strchr(v, ',');
            if (comma)
                *comma = '\0';
            values[nvalues++] = v;
            v = comma ? comma + 1 : v + strlen(v);
        }
    }
    for (size_t f = 0; f < c->nfiles; f++)
        for (size_t v = 0; v < (nvalues ? nvalues : 1) && njobs < MAX_JOBS; v++) {
            struct job *j = &jobs[njobs++];
            memset(j, 0, sizeof *j);
            j->file = c->files[f];
            j->value = nvalues ? values[v] : NULL;
            job_dir(j, c->out, mvar);
        }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (c->verbose >= 0)
        fprintf(stderr, "%s: %zu job%s, %d at a time, output in %s\n", prog, njobs,
                njobs == 1 ? "" : "s", c->jobs, c->out);
    size_t next = 0, running = 0, done = 0;
    int start_failed = 0, forwarded = 0;
    while (done < njobs) {
        while (!got_signal && next < njobs && running < (size_t)c->jobs) {
            if (start(&jobs[next], c, self, mvar)) {
                fprintf(stderr, "%s: cannot start %s: %s\n", prog, jobs[next].label,
                        strerror(errno));
                jobs[next].status = EXIT_UNKNOWN;
                start_failed = 1;
                done++;
            } else {
                running++;
            }
            next++;
        }
        if (got_signal && !forwarded) {
            /* Jobs not started never start; the running ones heal and
             * write their reports (SIGTERM from the parent, SIGINT from the
             * terminal already reached them). */
            forwarded = 1;
            done += njobs - next;
            next = njobs;
            for (size_t i = 0; i < njobs; i++)
                if (jobs[i].pid > 0 && got_signal == SIGTERM)
                    kill(jobs[i].pid, SIGTERM);
        }
        if (!running)
            break;
        int ws;
        pid_t pid = waitpid(-1, &ws, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < njobs; i++)
            if (jobs[i].pid == pid) {
                finished(&jobs[i], ws, c->verbose < 0);
                jobs[i].pid = -1;
                running--;
                done++;
            }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    const struct fl_result *res[MAX_JOBS];
    size_t nres = 0;
    int invalid = 0, unknown = start_failed || got_signal != 0, scenario = 0;
    for (size_t i = 0; i < njobs; i++) {
        scenario |= jobs[i].status == EXIT_SCENARIO;
        if (!jobs[i].lr) {
            unknown = 1;
            continue;
        }
        const struct fl_result *r = fl_loaded_run_result(jobs[i].lr);
        res[nres++] = r;
        fl_console_result(stdout, r, c->verbose);
        unknown |= r->harness_status != 0;
        for (size_t k = 0; k < r->ninv; k++) {
            invalid |= r->inv[k].verdict.validity == FL_INVALID;
            unknown |= r->inv[k].verdict.validity == FL_UNKNOWN;
        }
    }
    struct fl_error err = {0};
    char junit[PATH_MAX + 16], html[PATH_MAX + 16];
    if (c->junit)
        snprintf(junit, sizeof junit, "%s", c->junit);
    else
        snprintf(junit, sizeof junit, "%s/junit.xml", c->out);
    if (c->html)
        snprintf(html, sizeof html, "%s", c->html);
    else
        fl_cli_html_beside(junit, html, sizeof html);
    if (fl_junit_write(junit, res, nres, &err) || fl_html_write(html, res, nres, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        unknown = 1;
    } else if (c->verbose >= 0) {
        fprintf(stderr, "JUnit report: %s\nHTML report: %s\n", junit, html);
    }
    int code = invalid ? EXIT_VIOLATED : scenario ? EXIT_SCENARIO : unknown ? EXIT_UNKNOWN
                                                                         : EXIT_PASS;
    if (c->verbose >= 0)
        printf("%s (%zu job%s in %.1fs, %d at a time)\n",
               code == EXIT_PASS ? "PASS: every invariant held"
               : code == EXIT_VIOLATED ? "FAIL: an invariant was violated"
               : code == EXIT_SCENARIO ? "ERROR: invalid scenario"
               : "ERROR: verdict unknown (see above)",
               njobs, njobs == 1 ? "" : "s", since(&t0), c->jobs);
    for (size_t i = 0; i < njobs; i++) {
        fl_loaded_run_free(jobs[i].lr);
        fl_history_free(jobs[i].h);
    }
    return code;
}
