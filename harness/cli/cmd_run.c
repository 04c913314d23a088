/* cmd_run.c - `faultline run`: load, run each scenario, report, exit code. */
#include "cli/cli.h"
#include "run/plan.h"
#include "run/runner.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define prog fl_cli_prog

static void usage_run(FILE *f)
{
    fprintf(f,
            "Usage: faultline run SCENARIO|DIR... [options]\n"
            "\n"
            "Start the scenario's services, wait for the steady state, run the workload\n"
            "while faults fire on the timeline, heal every fault, settle, stop every\n"
            "process, check the invariants over the recorded history and write reports.\n"
            "A folder runs every *.yaml / *.yml in it, in name order.\n"
            "\n"
            "Options:\n"
            "  --junit FILE        write JUnit XML (one testsuite per scenario; default\n"
            "                      DIR/junit.xml)\n"
            "  --html FILE         write the HTML report (default: beside the JUnit, .html\n"
            "                      for .xml): timeline with fault bands, throughput,\n"
            "                      errors and latency over time, probes, violations\n"
            "  --events FILE       write the history of every run as JSON lines\n"
            "  --out DIR           output folder (default faultline-out): per scenario\n"
            "                      DIR/NAME/ holds service logs, events.jsonl and\n"
            "                      verdicts.json (`faultline report` renders them again)\n"
            "  --var NAME=VALUE    override a var the scenario declares (repeatable)\n"
            "  --target NAME       run against this target instead of the file's\n"
            "                      (local, compose)\n"
            "  --compose-project NAME  the compose project whose containers are the\n"
            "                      instances (implies --target compose; docs/compose.md)\n"
            "  --seed N            seed for picks (default: the scenario's, else random;\n"
            "                      the seed used is printed and written to the JUnit)\n"
            "  --state-dir DIR     where each run journals what it changes, so that a\n"
            "                      crashed run is healed by `faultline recover` or by the\n"
            "                      next run (default: $FAULTLINE_STATE_DIR, else\n"
            "                      /run/faultline as root, else $XDG_RUNTIME_DIR/faultline)\n"
            "  -j, --jobs N        run N scenarios at once, each in a faultline process of\n"
            "                      its own (own ports, cgroups, journal); one JUnit and\n"
            "                      HTML report over all; DIR/JOB/ holds each job's output\n"
            "  --matrix NAME=V1,V2 run every scenario once per value of the var NAME, e.g.\n"
            "                      --matrix profile=buggy,fixed (implies jobs; see -j)\n"
            "  --step              ask before each fault: y (or Enter) injects it, n skips\n"
            "                      it, q stops the run; the workload goes on meanwhile\n"
            "  --dry-run           print the plan (services, workloads, probes, each fault\n"
            "                      at its time with the instances its pick chooses for the\n"
            "                      seed, invariants) and start nothing\n"
            "  --teardown-timeout D  how long healing and stopping may take before every\n"
            "                      process is killed at once (default: every\n"
            "                      service's stop_grace added up, + 30s)\n"
            "  -v, --verbose       show instance events and every counterexample\n"
            "  -q, --quiet         only the final verdicts\n"
            "  -h, --help          this help\n"
            "\n"
            "On a terminal a status block is redrawn below the log (phase, time, each\n"
            "workload's counts and rate, active faults, invariants already broken); a line\n"
            "typed during the run is recorded in the history as a note. Elsewhere the same\n"
            "facts come as a line every 5 s. NO_COLOR turns colours off.\n"
            "\n"
            "Ctrl-C or SIGTERM heals every fault and stops every service; a second one\n"
            "kills them at once. Either way the reports are written, marked interrupted.\n"
            "Exit: 0 pass, 1 invariant violated (wins over everything but 64/65), 2 unknown\n"
            "(the harness could not run or finish, an output could not be written, a\n"
            "checker could not decide, interrupted), 64 usage, 65 invalid scenario.\n");
}

/* --dry-run: the plan of every scenario, nothing started, nothing written. */
static int dry_run(const struct cli *c, struct fl_scenario *const *sc)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        uint64_t seed;
        int random = !c->has_seed && !sc[i]->has_seed;
        if (c->has_seed)
            seed = c->seed;
        else if (sc[i]->has_seed)
            seed = sc[i]->seed;
        else
            seed = ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) % 1000000000ULL;
        struct fl_buf b;
        fl_buf_init(&b, 1 << 20);
        if (fl_plan_text(sc[i], seed, &b)) {
            fprintf(stderr, "%s: the plan of %s is too large\n", prog, c->files[i]);
            fl_buf_free(&b);
            return EXIT_UNKNOWN;
        }
        fputs(fl_buf_str(&b), stdout);
        if (random)
            printf("the seed was drawn at random: give --seed %llu to run this plan\n",
                   (unsigned long long)seed);
        fputs(i + 1 < c->nfiles ? "\n" : "", stdout);
        fl_buf_free(&b);
    }
    printf("dry run: nothing was started\n");
    return EXIT_PASS;
}

static void log_line(void *ud, int level, const char *msg)
{
    fl_live_log(ud, level, msg);
}

/* A fresh output folder for one scenario: old logs and events removed so a
 * report never mixes two runs. */
static int scenario_outdir(const char *out, const char *name, char *buf, size_t len)
{
    char safe[128];
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < sizeof safe; i++) {
        char ch = name[i];
        int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        safe[j++] = okc ? ch : '_';
    }
    safe[j] = '\0';
    snprintf(buf, len, "%s/%s", out, safe);
    if (fl_cli_mkdir_p(buf))
        return -1;
    DIR *d = opendir(buf);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (fl_cli_ends_with(e->d_name, ".log") || fl_cli_ends_with(e->d_name, ".jsonl") ||
                fl_cli_ends_with(e->d_name, ".rdb") || fl_cli_ends_with(e->d_name, ".conf")) {
                char p[PATH_MAX + 300];
                snprintf(p, sizeof p, "%s/%s", buf, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    return 0;
}

int fl_cmd_run(int argc, char **argv)
{
    struct cli c = {0};
    c.out = "faultline-out";
    int rc = fl_cli_parse_common(&c, argc, argv, 1, usage_run);
    if (!rc && c.nfiles == 0) {
        fprintf(stderr, "%s run: no scenario given\n\n", prog);
        usage_run(stderr);
        rc = EXIT_USAGE;
    }
    if (rc) {
        fl_cli_free_cli(&c);
        return rc;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    struct fl_result res[MAX_FILES];
    const struct fl_result *resp[MAX_FILES];
    char *outdirs[MAX_FILES] = {0};
    static char labels[MAX_FILES][256];
    memset(res, 0, sizeof res);
    size_t bad = fl_cli_load_all(&c, sc, diags);
    char self[PATH_MAX] = "", bindir[PATH_MAX] = ".";
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        memcpy(bindir, self, (size_t)n + 1);
        char *slash = strrchr(bindir, '/');
        if (slash)
            *slash = '\0';
    }
    if (!bad && !c.dry_run && (c.jobs > 1 || c.matrix)) {
        int code;
        if (!self[0]) {
            fprintf(stderr, "%s: cannot find my own executable for -j: %s\n", prog,
                    strerror(errno));
            code = EXIT_UNKNOWN;
        } else if (fl_cli_mkdir_p(c.out)) {
            fprintf(stderr, "%s: cannot create the output folder %s: %s\n", prog, c.out,
                    strerror(errno));
            code = EXIT_UNKNOWN;
        } else {
            if (!c.jobs)
                c.jobs = 1;
            code = fl_cli_run_parallel(&c, self);
        }
        for (size_t i = 0; i < c.nfiles; i++) {
            fl_scenario_free(sc[i]);
            fl_diag_free(&diags[i]);
        }
        fl_cli_free_cli(&c);
        return code;
    }
    if (c.dry_run) {
        int code = bad ? EXIT_SCENARIO : dry_run(&c, sc);
        for (size_t i = 0; i < c.nfiles; i++) {
            fl_scenario_free(sc[i]);
            fl_diag_free(&diags[i]);
        }
        fl_cli_free_cli(&c);
        return code;
    }

    /* Problems with where the outputs go are the harness's, not the
     * scenario's: they make the verdict unknown (2), never "invalid" (65),
     * and never hide a violation found before them. */
    int output_error = 0;
    FILE *events = NULL;
    if (fl_cli_mkdir_p(c.out) && !bad) {
        fprintf(stderr, "%s: cannot create the output folder %s: %s\n", prog, c.out,
                strerror(errno));
        output_error = 1;
    }
    if (!bad && !output_error && c.events && !(events = fopen(c.events, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, c.events, strerror(errno));
        output_error = 1;
    }
    /* A run that died earlier may have left faults active: heal them
     * before anything else touches the system. */
    if (!bad && !output_error && fl_cli_recover_state(c.state_dir, c.verbose < 0,
                                                      "before this run") != 0) {
        fprintf(stderr, "%s: not starting: what an earlier run left could not be healed; fix "
                "it, then `faultline recover --state-dir %s`\n", prog, c.state_dir);
        output_error = 1;
    }
    if (!bad && !output_error && fl_cli_start_guard(c.state_dir) != 0)
        fprintf(stderr, "%s: warning: no guardian process (%s): if faultline is killed, run "
                "`faultline recover`\n", prog, strerror(errno));

    size_t nres = 0;
    struct fl_live live;
    fl_live_init(&live, c.verbose);
    /* Reading notes from a terminal while in the background would stop the
     * whole run (SIGTTIN). Ignored, the read fails instead: the run goes
     * on without notes (and --step stops, as at end of input). */
    signal(SIGTTIN, SIG_IGN);
    if (bad) {
        /* Nothing runs when a file is invalid: a gate must not half-run.
         * The JUnit still says which file is broken. */
        for (size_t i = 0; i < c.nfiles; i++) {
            if (sc[i])
                continue;
            res[nres].file = c.files[i];
            res[nres].name = c.files[i];
            res[nres].harness_status = FL_ESCENARIO;
            res[nres].target = "local";
            res[nres].started = time(NULL);
            const struct fl_diag_item *it = diags[i].n ? &diags[i].items[0] : NULL;
            snprintf(res[nres].harness_error, sizeof res[nres].harness_error,
                     "invalid scenario: %s:%d:%d: %s%s", c.files[i], it ? it->line : 0,
                     it ? it->col : 0, it ? it->msg : "cannot load",
                     diags[i].n > 1 ? " (and more: faultline validate)" : "");
            nres++;
        }
    } else {
        for (size_t i = 0; i < c.nfiles && !output_error && !fl_runner_interrupted(); i++) {
            /* Owned until the reports are written: the result points at it. */
            char *outdir = malloc(PATH_MAX);
            if (!outdir || scenario_outdir(c.out, sc[i]->name, outdir, PATH_MAX)) {
                fprintf(stderr, "%s: cannot create the output folder in %s: %s\n", prog, c.out,
                        strerror(errno));
                free(outdir);
                output_error = 1;
                break;
            }
            struct fl_runner_opts o = {
                .outdir = outdir, .events = events, .has_seed = c.has_seed, .seed = c.seed,
                .verbose = c.verbose, .self_exe = self[0] ? self : NULL, .bindir = bindir,
                .log = log_line, .log_ud = &live, .state_dir = c.state_dir,
                .status = fl_live_status, .status_ud = &live,
                /* Notes from the terminal (or --step's answers from a pipe). */
                .input = c.step || isatty(STDIN_FILENO), .input_fd = STDIN_FILENO,
                .step = c.step,
                .teardown_timeout_ms = c.teardown_ms,
            };
            if (c.verbose >= 0)
                fprintf(stderr, "== %s (%s)\n", sc[i]->name, c.files[i]);
            outdirs[nres] = outdir;
            int rrc = fl_runner_run(sc[i], &o, &res[nres]);
            fl_live_done(&live);
            if (rrc) {
                fprintf(stderr, "%s: out of memory running %s\n", prog, c.files[i]);
                free(outdirs[nres]);
                outdirs[nres] = NULL;
                output_error = 1;
                break;
            }
            if (c.label) {
                /* A job of -j / --matrix: its suite says which value it ran. */
                snprintf(labels[nres], sizeof labels[nres], "%s%s", res[nres].name, c.label);
                res[nres].name = labels[nres];
            }
            fl_console_result(stdout, &res[nres], c.verbose);
            fflush(stdout);
            char vpath[PATH_MAX + 16];
            struct fl_error verr = {0};
            snprintf(vpath, sizeof vpath, "%s/verdicts.json", outdir);
            if (fl_verdicts_write(vpath, &res[nres], &verr)) {
                fprintf(stderr, "%s: %s\n", prog, verr.msg);
                output_error = 1;
            }
            nres++;
        }
    }
    for (size_t i = 0; i < nres; i++)
        resp[i] = &res[i];
    struct fl_error err = {0};
    char defjunit[PATH_MAX];
    snprintf(defjunit, sizeof defjunit, "%s/junit.xml", c.out);
    const char *junit = c.junit ? c.junit : defjunit;
    if (!output_error || nres || c.junit) {
        if (fl_junit_write(junit, resp, nres, &err)) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            output_error = 1;
        } else if (c.verbose >= 0) {
            fprintf(stderr, "JUnit report: %s\n", junit);
        }
        char defhtml[PATH_MAX + 8];
        fl_cli_html_beside(junit, defhtml, sizeof defhtml);
        const char *html = c.html ? c.html : defhtml;
        if (fl_html_write(html, resp, nres, &err)) {
            fprintf(stderr, "%s: %s\n", prog, err.msg);
            output_error = 1;
        } else if (c.verbose >= 0) {
            fprintf(stderr, "HTML report: %s\n", html);
        }
    }
    if (events && (fflush(events) != 0 || ferror(events))) {
        fprintf(stderr, "%s: writing %s failed: %s\n", prog, c.events, strerror(errno));
        output_error = 1;
    }
    int exit_code = bad ? EXIT_SCENARIO : fl_cli_exit_code(res, nres, c.nfiles, output_error);
    if (c.verbose >= 0 && nres)
        fprintf(stdout, "%s\n", exit_code == EXIT_PASS ? "PASS: every invariant held"
                                : exit_code == EXIT_VIOLATED ? "FAIL: an invariant was violated"
                                : exit_code == EXIT_SCENARIO ? "ERROR: invalid scenario"
                                : "ERROR: verdict unknown (see above)");
    if (events && fclose(events) != 0 && exit_code == EXIT_PASS)
        exit_code = EXIT_UNKNOWN;
    for (size_t i = 0; i < nres; i++) {
        if (res[i].sc || res[i].history)
            fl_result_free(&res[i]);
        free(outdirs[i]);
    }
    for (size_t i = 0; i < c.nfiles; i++) {
        fl_scenario_free(sc[i]);
        fl_diag_free(&diags[i]);
    }
    fl_cli_free_cli(&c);
    return exit_code;
}
