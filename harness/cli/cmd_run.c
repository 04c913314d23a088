/* cmd_run.c - `faultline run`: load, run each scenario, report, exit code. */
#include "cli/cli.h"
#include "run/runner.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
            "  --junit FILE        write JUnit XML (one testsuite per scenario)\n"
            "  --events FILE       write the history of every run as JSON lines\n"
            "  --out DIR           output folder (default faultline-out): per scenario\n"
            "                      DIR/NAME/ holds service logs and events.jsonl\n"
            "  --var NAME=VALUE    override a var the scenario declares (repeatable)\n"
            "  --seed N            seed for picks (default: the scenario's, else random;\n"
            "                      the seed used is printed and written to the JUnit)\n"
            "  -v, --verbose       show instance events and every counterexample\n"
            "  -q, --quiet         only the final verdicts\n"
            "  -h, --help          this help\n"
            "\n"
            "Ctrl-C heals every fault and stops every service; a second Ctrl-C kills them.\n"
            "Exit: 0 pass, 1 invariant violated, 2 unknown/harness error, 64 usage, 65 invalid.\n");
}

static void log_line(void *ud, int level, const char *msg)
{
    int verbose = *(int *)ud;
    if (level <= verbose)
        fprintf(stderr, "%s\n", msg);
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
    if (fl_cli_mkdir_p(c.out)) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, c.out, strerror(errno));
        bad = bad ? bad : 1;
    }
    FILE *events = NULL;
    if (c.events && !(events = fopen(c.events, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, c.events, strerror(errno));
        fl_cli_free_cli(&c);
        return EXIT_USAGE;
    }

    int exit_code = EXIT_PASS;
    size_t nres = 0;
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
        exit_code = EXIT_SCENARIO;
    } else {
        for (size_t i = 0; i < c.nfiles && !fl_runner_interrupted(); i++) {
            /* Owned until the reports are written: the result points at it. */
            char *outdir = malloc(PATH_MAX);
            if (!outdir || scenario_outdir(c.out, sc[i]->name, outdir, PATH_MAX)) {
                fprintf(stderr, "%s: cannot create the output folder in %s: %s\n", prog, c.out,
                        strerror(errno));
                free(outdir);
                exit_code = EXIT_UNKNOWN;
                break;
            }
            struct fl_runner_opts o = {
                .outdir = outdir, .events = events, .has_seed = c.has_seed, .seed = c.seed,
                .verbose = c.verbose, .self_exe = self[0] ? self : NULL, .bindir = bindir,
                .log = log_line, .log_ud = &c.verbose,
            };
            if (c.verbose >= 0)
                fprintf(stderr, "== %s (%s)\n", sc[i]->name, c.files[i]);
            outdirs[nres] = outdir;
            if (fl_runner_run(sc[i], &o, &res[nres])) {
                fprintf(stderr, "%s: out of memory running %s\n", prog, c.files[i]);
                free(outdirs[nres]);
                outdirs[nres] = NULL;
                exit_code = EXIT_UNKNOWN;
                break;
            }
            fl_console_result(stdout, &res[nres], c.verbose);
            fflush(stdout);
            nres++;
        }
        int any_invalid = 0, any_unknown = 0;
        for (size_t i = 0; i < nres; i++) {
            if (res[i].harness_status)
                any_unknown = 1;
            for (size_t k = 0; k < res[i].ninv; k++) {
                if (res[i].inv[k].verdict.validity == FL_INVALID)
                    any_invalid = 1;
                else if (res[i].inv[k].verdict.validity == FL_UNKNOWN)
                    any_unknown = 1;
            }
        }
        if (nres < c.nfiles)
            any_unknown = 1;
        if (exit_code == EXIT_PASS)
            exit_code = any_invalid ? EXIT_VIOLATED : any_unknown ? EXIT_UNKNOWN : EXIT_PASS;
    }
    for (size_t i = 0; i < nres; i++)
        resp[i] = &res[i];
    struct fl_error err = {0};
    char defjunit[PATH_MAX];
    snprintf(defjunit, sizeof defjunit, "%s/junit.xml", c.out);
    const char *junit = c.junit ? c.junit : defjunit;
    if (fl_junit_write(junit, resp, nres, &err)) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        if (exit_code == EXIT_PASS)
            exit_code = EXIT_UNKNOWN;
    } else if (c.verbose >= 0) {
        fprintf(stderr, "JUnit report: %s\n", junit);
    }
    if (c.verbose >= 0 && nres)
        fprintf(stdout, "%s\n", exit_code == EXIT_PASS ? "PASS: every invariant held"
                                : exit_code == EXIT_VIOLATED ? "FAIL: an invariant was violated"
                                : exit_code == EXIT_SCENARIO ? "ERROR: invalid scenario"
                                : "ERROR: verdict unknown (see above)");
    if (events)
        fclose(events);
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
