/* cmd_report.c - `faultline report`: render the reports of recorded runs.
 *
 * A run leaves DIR/NAME/events.jsonl (what happened) and verdicts.json
 * (what faultline concluded). This reads both back and writes the HTML
 * and JUnit reports again, without the scenario, the system or a rerun:
 * for a run whose reports were lost, to render an old run with a newer
 * faultline, or to put several runs into one page. Judging again is
 * `faultline check`'s job, not this one's.
 */
#include "cli/cli.h"
#include "reports/report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define prog fl_cli_prog
#define MAX_RUNS 64

static void usage_report(FILE *f)
{
    fprintf(f,
            "Usage: faultline report RUN... [--html FILE] [--junit FILE] [--verdicts FILE]\n"
            "\n"
            "Render the reports of recorded runs again. RUN is a run's output folder\n"
            "(faultline-out/NAME) or its events.jsonl; the verdicts.json beside it says what\n"
            "the run concluded (--verdicts names another file, with one RUN). Nothing is\n"
            "started and nothing is judged again: to re-check a history against a\n"
            "scenario, use `faultline check`.\n"
            "\n"
            "Options:\n"
            "  --html FILE       write the HTML report (one page, every RUN)\n"
            "  --junit FILE      write JUnit XML (one testsuite per RUN)\n"
            "  --verdicts FILE   the verdicts of the one RUN given\n"
            "  -q, --quiet       say nothing but errors\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit: 0 every recorded invariant held, 1 a recorded invariant was violated, 2\n"
            "unknown (a recorded verdict is unknown, or a file could not be read or\n"
            "written: the error names file:line:col), 64 usage.\n"
            "\n"
            "Example:\n"
            "  faultline run scenarios/killed-pod-mid-job.yaml --out out\n"
            "  faultline report out/killed-pod-mid-job --html killed-pod.html\n");
}

struct report_opts {
    const char *html, *junit, *verdicts;
    const char *runs[MAX_RUNS];
    size_t nruns;
    int quiet;
};

static int parse(struct report_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"html", required_argument, NULL, 'H'},     {"junit", required_argument, NULL, 'j'},
        {"verdicts", required_argument, NULL, 'V'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'H': o->html = optarg; break;
        case 'j': o->junit = optarg; break;
        case 'V': o->verdicts = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage_report(stdout); exit(EXIT_PASS);
        default: usage_report(stderr); return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->nruns >= MAX_RUNS) {
            fprintf(stderr, "%s report: at most %d runs at once\n", prog, MAX_RUNS);
            return EXIT_USAGE;
        }
        o->runs[o->nruns++] = argv[i];
    }
    const char *why = !o->nruns                     ? "no run given"
                      : !o->html && !o->junit       ? "nothing to write: give --html FILE or --junit FILE"
                      : o->verdicts && o->nruns > 1 ? "--verdicts goes with one run"
                                                    : NULL;
    if (why) {
        fprintf(stderr, "%s report: %s\n\n", prog, why);
        usage_report(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

struct run_files {
    char events[PATH_MAX], verdicts[PATH_MAX];
};

/* RUN is a folder holding events.jsonl, or the events file itself. */
static int locate(const char *run, const char *verdicts, struct run_files *f)
{
    struct stat st;
    int dir = stat(run, &st) == 0 && S_ISDIR(st.st_mode);
    if (dir) {
        snprintf(f->events, sizeof f->events, "%s/events.jsonl", run);
    } else {
        snprintf(f->events, sizeof f->events, "%s", run);
    }
    if (verdicts) {
        snprintf(f->verdicts, sizeof f->verdicts, "%s", verdicts);
    } else if (dir) {
        snprintf(f->verdicts, sizeof f->verdicts, "%s/verdicts.json", run);
    } else {
        const char *slash = strrchr(run, '/');
        int n = slash ? (int)(slash - run) : 1;
        snprintf(f->verdicts, sizeof f->verdicts, "%.*s/verdicts.json", n, slash ? run : ".");
    }
    return 0;
}

static int load_run(const char *run, const struct report_opts *o, struct fl_history **h,
                    struct fl_loaded_run **lr)
{
    struct run_files f;
    struct fl_error err = {0};
    locate(run, o->verdicts, &f);
    *h = fl_history_new(0);
    if (!*h) {
        fprintf(stderr, "%s report: out of memory\n", prog);
        return -1;
    }
    if (fl_history_load_jsonl(*h, f.events, &err)) {
        fprintf(stderr, "%s report: %s\n", prog, err.msg);
        return -1;
    }
    if (fl_verdicts_load(f.verdicts, *h, lr, &err)) {
        fprintf(stderr, "%s report: %s%s\n", prog, err.msg,
                err.code == FL_EIO ? " (runs of faultline 0.1 before verdicts.json: use "
                                     "`faultline check EVENTS SCENARIO`)"
                                   : "");
        return -1;
    }
    return 0;
}

static int exit_code_of(const struct fl_result *const *r, size_t n)
{
    int invalid = 0, unknown = 0;
    for (size_t k = 0; k < n; k++) {
        unknown |= r[k]->harness_status != 0;
        for (size_t i = 0; i < r[k]->ninv; i++) {
            invalid |= r[k]->inv[i].verdict.validity == FL_INVALID;
            unknown |= r[k]->inv[i].verdict.validity == FL_UNKNOWN;
        }
    }
    return invalid ? EXIT_VIOLATED : unknown ? EXIT_UNKNOWN : EXIT_PASS;
}

int fl_cmd_report(int argc, char **argv)
{
    struct report_opts o = {0};
    int rc = parse(&o, argc, argv);
    if (rc)
        return rc;
    struct fl_history *h[MAX_RUNS] = {0};
    struct fl_loaded_run *lr[MAX_RUNS] = {0};
    const struct fl_result *res[MAX_RUNS];
    int bad = 0;
    for (size_t i = 0; i < o.nruns; i++) {
        if (load_run(o.runs[i], &o, &h[i], &lr[i]))
            bad = 1;
        else
            res[i] = fl_loaded_run_result(lr[i]);
    }
    int code = bad ? EXIT_UNKNOWN : exit_code_of(res, o.nruns);
    struct fl_error err = {0};
    if (!bad && o.junit) {
        if (fl_junit_write(o.junit, res, o.nruns, &err)) {
            fprintf(stderr, "%s report: %s\n", prog, err.msg);
            code = code == EXIT_VIOLATED ? code : EXIT_UNKNOWN;
        } else if (!o.quiet) {
            fprintf(stderr, "JUnit report: %s\n", o.junit);
        }
    }
    if (!bad && o.html) {
        if (fl_html_write(o.html, res, o.nruns, &err)) {
            fprintf(stderr, "%s report: %s\n", prog, err.msg);
            code = code == EXIT_VIOLATED ? code : EXIT_UNKNOWN;
        } else if (!o.quiet) {
            fprintf(stderr, "HTML report: %s\n", o.html);
        }
    }
    for (size_t i = 0; i < o.nruns; i++) {
        fl_loaded_run_free(lr[i]);
        fl_history_free(h[i]);
    }
    return code;
}
