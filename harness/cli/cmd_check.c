/* cmd_check.c - `faultline check`: judge a recorded history again, offline.
 *
 * Jepsen keeps every test's history and can re-run its checkers on it
 * later; this is that. The scenario gives the invariants (its services are
 * not started), the events file gives the ops, and both go through the
 * same fl_judge the runner uses, integrity rules included: a history with
 * a lost line, a cut-short recording or dropped ops gives unknown
 * verdicts, never a pass. Exit codes are run's.
 */
#include "cli/cli.h"
#include "reports/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define prog fl_cli_prog

static void usage_check(FILE *f)
{
    fprintf(f,
            "Usage: faultline check EVENTS.jsonl SCENARIO [--var NAME=VALUE]... [--junit FILE]\n"
            "                       [--html FILE] [-v|-q]\n"
            "\n"
            "Judge a recorded history again: read the ops of one run from EVENTS.jsonl (a\n"
            "run's faultline-out/NAME/events.jsonl), take the invariants from SCENARIO (give\n"
            "the same --var values as the run; nothing is started), run every checker and\n"
            "report as `faultline run` does. Use it to re-check an old run with a fixed or\n"
            "newer checker, or to try an invariant on a run that already happened.\n"
            "\n"
            "The history must be whole. If ops are missing (a gap in the op indexes: a lost\n"
            "line; the file stops before the run's final \"phase done\" record; ops dropped\n"
            "at the limit), every verdict is unknown and says why, together with what the\n"
            "recorded ops alone show. A run that recorded a harness failure is not checked,\n"
            "as with `faultline run`.\n"
            "\n"
            "Options:\n"
            "  --var NAME=VALUE    override a var the scenario declares (repeatable)\n"
            "  --junit FILE        also write the verdicts as JUnit XML\n"
            "  --html FILE         also write the HTML report of the history and verdicts\n"
            "  -v, --verbose       show every counterexample (-vv: with its ops)\n"
            "  -q, --quiet         only the verdicts\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit: 0 every invariant held, 1 an invariant was violated (this wins over\n"
            "unknown), 2 unknown (incomplete history, harness failure recorded, checker could\n"
            "not decide, or EVENTS.jsonl unreadable or malformed: the error names\n"
            "file:line:col), 64 usage, 65 invalid scenario.\n"
            "\n"
            "Example:\n"
            "  faultline run scenarios/killed-pod-mid-job.yaml --out out\n"
            "  faultline check out/killed-pod-mid-job/events.jsonl scenarios/killed-pod-mid-job.yaml\n");
}

struct check_opts {
    const char *events, *scenario, *junit, *html;
    struct fl_var_override vars[MAX_VARS];
    size_t nvars;
    int verbose;
};

static int parse(struct check_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"junit", required_argument, NULL, 'j'}, {"var", required_argument, NULL, 'V'},
        {"html", required_argument, NULL, 'H'},
        {"verbose", no_argument, NULL, 'v'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': o->junit = optarg; break;
        case 'H': o->html = optarg; break;
        case 'v': o->verbose = o->verbose < 0 ? 1 : o->verbose + 1; break;
        case 'q': o->verbose = -1; break;
        case 'V': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || o->nvars >= MAX_VARS) {
                fprintf(stderr, "%s check: --var expects NAME=VALUE, got '%s'\n", prog, optarg);
                return EXIT_USAGE;
            }
            *eq = '\0';
            o->vars[o->nvars].name = optarg;
            o->vars[o->nvars].value = eq + 1;
            o->nvars++;
            break;
        }
        case 'h': usage_check(stdout); exit(EXIT_PASS);
        default: usage_check(stderr); return EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "%s check: expected EVENTS.jsonl and SCENARIO, got %d argument%s\n\n",
                prog, argc - optind, argc - optind == 1 ? "" : "s");
        usage_check(stderr);
        return EXIT_USAGE;
    }
    o->events = argv[optind];
    o->scenario = argv[optind + 1];
    struct stat st;
    if (stat(o->scenario, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s check: %s is a folder; give the one scenario the run used\n", prog,
                o->scenario);
        return EXIT_USAGE;
    }
    return 0;
}

/* The verdict of every invariant into res (fl_judge: the runner's rules). */
static void judge_all(struct fl_result *res, const struct fl_history *h,
                      const struct fl_integrity *in)
{
    const struct fl_scenario *sc = res->sc;
    res->inv = calloc(sc->ninvariants ? sc->ninvariants : 1, sizeof *res->inv);
    if (!res->inv)
        return;
    res->ninv = sc->ninvariants;
    const char *harness = res->harness_status ? res->harness_error : NULL;
    for (size_t i = 0; i < sc->ninvariants; i++) {
        const struct fl_invariant *inv = &sc->invariants[i];
        struct fl_inv_result *ir = &res->inv[i];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ir->inv = inv;
        fl_judge(inv->type, &inv->args, h, in, harness, &ir->verdict);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ir->time_s = harness ? 0 : (double)(t1.tv_sec - t0.tv_sec) +
                                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
}

static int exit_code_of(const struct fl_result *res)
{
    int invalid = 0, unknown = res->harness_status != 0 || !res->inv;
    for (size_t i = 0; i < res->ninv; i++) {
        invalid |= res->inv[i].verdict.validity == FL_INVALID;
        unknown |= res->inv[i].verdict.validity == FL_UNKNOWN;
    }
    return invalid ? EXIT_VIOLATED : unknown ? EXIT_UNKNOWN : EXIT_PASS;
}

/* Load the events into res->history, apply the integrity rules, judge.
 * A file that cannot be read becomes a harness error (unknown). */
static void check_history(struct fl_result *res, const struct check_opts *o,
                          struct fl_history *h)
{
    struct fl_error err = {0};
    struct fl_integrity in;
    memset(&in, 0, sizeof in);
    in.complete = 1;
    if (fl_history_load_jsonl(h, o->events, &err)) {
        fprintf(stderr, "%s check: %s\n", prog, err.msg);
        res->harness_status = err.code ? err.code : FL_EIO;
        snprintf(res->harness_error, sizeof res->harness_error, "cannot read the history: %.480s",
                 err.msg);
    } else {
        fl_history_integrity(h, &in);
        if (in.harness) {
            res->harness_status = FL_EABORT;
            snprintf(res->harness_error, sizeof res->harness_error, "the recorded run did not "
                     "complete: %.460s", in.harness->error ? in.harness->error : "harness failure");
        }
        size_t n = fl_history_len(h);
        res->duration_s = n ? (double)fl_history_get(h, n - 1)->time_us / 1e6 : 0;
        if (o->verbose >= 0)
            fprintf(stderr, "history: %zu ops from %s%s%s\n", n, o->events,
                    in.complete ? "" : "; incomplete: ", in.complete ? "" : in.why);
    }
    judge_all(res, h, &in);
}

int fl_cmd_check(int argc, char **argv)
{
    struct check_opts o = {0};
    int rc = parse(&o, argc, argv);
    if (rc)
        return rc;
    struct fl_scenario *sc = NULL;
    struct fl_diag diag = {0};
    if (fl_scenario_load(o.scenario, o.vars, o.nvars, &sc, &diag)) {
        fl_cli_print_diag(&diag);
        fl_diag_free(&diag);
        return EXIT_SCENARIO;
    }
    struct fl_history *h = fl_history_new(0);
    if (!h) {
        fprintf(stderr, "%s check: out of memory\n", prog);
        fl_scenario_free(sc);
        fl_diag_free(&diag);
        return EXIT_UNKNOWN;
    }
    struct fl_result res;
    memset(&res, 0, sizeof res);
    res.file = o.scenario;
    res.name = sc->name;
    res.sc = sc;
    res.target = "local";
    res.seed = sc->has_seed ? sc->seed : 0;
    res.history = h;
    struct stat st;
    res.started = stat(o.events, &st) == 0 ? st.st_mtime : time(NULL);
    check_history(&res, &o, h);
    fl_console_result(stdout, &res, o.verbose);
    int code = exit_code_of(&res);
    if (o.junit) {
        struct fl_error err = {0};
        const struct fl_result *rp = &res;
        if (fl_junit_write(o.junit, &rp, 1, &err)) {
            fprintf(stderr, "%s check: %s\n", prog, err.msg);
            if (code == EXIT_PASS)
                code = EXIT_UNKNOWN;
        } else if (o.verbose >= 0) {
            fprintf(stderr, "JUnit report: %s\n", o.junit);
        }
    }
    if (o.html) {
        struct fl_error err = {0};
        const struct fl_result *rp = &res;
        if (fl_html_write(o.html, &rp, 1, &err)) {
            fprintf(stderr, "%s check: %s\n", prog, err.msg);
            if (code == EXIT_PASS)
                code = EXIT_UNKNOWN;
        } else if (o.verbose >= 0) {
            fprintf(stderr, "HTML report: %s\n", o.html);
        }
    }
    if (o.verbose >= 0)
        fprintf(stdout, "%s\n", code == EXIT_PASS ? "PASS: every invariant held"
                                : code == EXIT_VIOLATED ? "FAIL: an invariant was violated"
                                : "ERROR: verdict unknown (see above)");
    for (size_t i = 0; i < res.ninv; i++)
        fl_verdict_free(&res.inv[i].verdict);
    free(res.inv);
    fl_history_free(h);
    fl_scenario_free(sc);
    fl_diag_free(&diag);
    return code;
}
