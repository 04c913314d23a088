/* main.c - the faultline command line. The only code that prints or exits.
 *
 *   faultline run SCENARIO|DIR... [options]   replay scenarios, check invariants
 *   faultline validate SCENARIO|DIR...        check files, report every error
 *   faultline list [DIR]                      name and describe scenarios
 *   faultline reference                       injector/checker reference (markdown)
 *
 * Exit codes: 0 every invariant held; 1 at least one invariant was violated;
 * 2 the verdict is unknown (the harness could not run a scenario: never
 * ready, injection or heal failed, interrupted; or a checker could not
 * decide); 64 usage error; 65 invalid scenario.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkers/checker.h"
#include "targets/local/exec_shim.h"
#include "injectors/registry.h"
#include "run/runner.h"
#include "scenario/scenario.h"

enum {
    EXIT_PASS = 0,
    EXIT_VIOLATED = 1,
    EXIT_UNKNOWN = 2,
    EXIT_USAGE = 64,
    EXIT_SCENARIO = 65,
};

#define MAX_FILES 256
#define MAX_VARS 64

struct cli {
    const char *junit;
    const char *events;
    const char *out;
    struct fl_var_override vars[MAX_VARS];
    size_t nvars;
    int has_seed;
    uint64_t seed;
    int verbose;
    const char *files[MAX_FILES];
    size_t nfiles;
    char *owned[MAX_FILES];      /* paths found in folders */
    size_t nowned;
};

static const char *prog = "faultline";

static void usage_main(FILE *f)
{
    fprintf(f,
            "faultline %s - replay real failure modes against a system and check what must hold\n"
            "\n"
            "Usage:\n"
            "  faultline run SCENARIO|DIR... [--junit FILE] [--events FILE] [--out DIR]\n"
            "                [--var NAME=VALUE]... [--seed N] [-v|-q]\n"
            "  faultline validate SCENARIO|DIR...\n"
            "  faultline list [DIR]\n"
            "  faultline reference        injectors and checkers with their parameters\n"
            "  faultline COMMAND --help   help for one command\n"
            "  faultline --version\n"
            "\n"
            "Exit codes:\n"
            "  0   every invariant held\n"
            "  1   at least one invariant was violated (the system broke)\n"
            "  2   verdict unknown: the harness could not run a scenario (a service never\n"
            "      became ready, an injection or heal failed, interrupted) or a checker\n"
            "      could not decide\n"
            "  64  usage error\n"
            "  65  invalid scenario (every error is printed as file:line:col)\n",
            FL_VERSION);
}

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

static void usage_validate(FILE *f)
{
    fprintf(f,
            "Usage: faultline validate SCENARIO|DIR... [--var NAME=VALUE]...\n"
            "\n"
            "Load each scenario and print every problem as file:line:col: message.\n"
            "Exit: 0 all valid, 65 at least one invalid, 64 usage.\n");
}

static void usage_list(FILE *f)
{
    fprintf(f,
            "Usage: faultline list [DIR]\n"
            "\n"
            "Print the name, file and description of each scenario in DIR (default\n"
            "scenarios). Exit: 0, or 65 when a file does not load.\n");
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a file, or every *.yaml / *.yml of a folder (sorted). */
static int add_path(struct cli *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (c->nfiles >= MAX_FILES)
            return EXIT_USAGE;
        c->files[c->nfiles++] = path;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return EXIT_USAGE;
    }
    char *found[MAX_FILES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FILES) {
        if (e->d_name[0] == '.' || !(ends_with(e->d_name, ".yaml") || ends_with(e->d_name, ".yml")))
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
        found[n++] = p;
    }
    closedir(d);
    qsort(found, n, sizeof found[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (c->nfiles < MAX_FILES && c->nowned < MAX_FILES) {
            c->files[c->nfiles++] = found[i];
            c->owned[c->nowned++] = found[i];
        } else {
            free(found[i]);
        }
    }
    if (n == 0)
        fprintf(stderr, "%s: %s: no *.yaml scenario in this folder\n", prog, path);
    return 0;
}

static void print_diag(const struct fl_diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct fl_diag_item *it = &d->items[i];
        if (it->line > 0)
            fprintf(stderr, "%s:%d:%d: error: %s\n", it->file, it->line, it->col, it->msg);
        else
            fprintf(stderr, "%s: error: %s\n", it->file, it->msg);
    }
}

static int parse_common(struct cli *c, int argc, char **argv, int run, void (*usage)(FILE *))
{
    static const struct option opts[] = {
        {"junit", required_argument, NULL, 'j'}, {"events", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},   {"var", required_argument, NULL, 'V'},
        {"seed", required_argument, NULL, 's'},  {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        if (!run && strchr("jeosvq", ch)) {
            fprintf(stderr, "%s: this option is for `faultline run`\n", prog);
            return EXIT_USAGE;
        }
        switch (ch) {
        case 'j': c->junit = optarg; break;
        case 'e': c->events = optarg; break;
        case 'o': c->out = optarg; break;
        case 'v': c->verbose++; break;
        case 'q': c->verbose = -1; break;
        case 's': {
            long long v;
            if (fl_parse_int(optarg, 0, LLONG_MAX, &v)) {
                fprintf(stderr, "%s: --seed expects a non-negative integer, got '%s'\n", prog, optarg);
                return EXIT_USAGE;
            }
            c->has_seed = 1;
            c->seed = (uint64_t)v;
            break;
        }
        case 'V': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || c->nvars >= MAX_VARS) {
                fprintf(stderr, "%s: --var expects NAME=VALUE, got '%s'\n", prog, optarg);
                return EXIT_USAGE;
            }
            *eq = '\0';
            c->vars[c->nvars].name = optarg;
            c->vars[c->nvars].value = eq + 1;
            c->nvars++;
            break;
        }
        case 'h': usage(stdout); exit(EXIT_PASS);
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        int rc = add_path(c, argv[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static void free_cli(struct cli *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
}

/* Load every file; print all diagnostics. Returns the number that failed. */
static size_t load_all(struct cli *c, struct fl_scenario **sc, struct fl_diag *diags)
{
    size_t bad = 0;
    for (size_t i = 0; i < c->nfiles; i++) {
        memset(&diags[i], 0, sizeof diags[i]);
        if (fl_scenario_load(c->files[i], c->vars, c->nvars, &sc[i], &diags[i])) {
            sc[i] = NULL;
            print_diag(&diags[i]);
            bad++;
        }
    }
    return bad;
}

static int cmd_validate(int argc, char **argv)
{
    struct cli c = {0};
    int rc = parse_common(&c, argc, argv, 0, usage_validate);
    if (rc || c.nfiles == 0) {
        if (!rc)
            usage_validate(stderr);
        free_cli(&c);
        return rc ? rc : EXIT_USAGE;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    size_t bad = load_all(&c, sc, diags);
    for (size_t i = 0; i < c.nfiles; i++) {
        if (sc[i])
            printf("%s: ok (%s: %zu services, %zu workloads, %zu faults, %zu invariants)\n",
                   c.files[i], sc[i]->name, sc[i]->nservices, sc[i]->nworkloads,
                   sc[i]->nfaults, sc[i]->ninvariants);
        fl_scenario_free(sc[i]);
        fl_diag_free(&diags[i]);
    }
    free_cli(&c);
    return bad ? EXIT_SCENARIO : EXIT_PASS;
}

static int cmd_list(int argc, char **argv)
{
    struct cli c = {0};
    int rc = parse_common(&c, argc, argv, 0, usage_list);
    if (!rc && c.nfiles == 0)
        rc = add_path(&c, "scenarios");
    if (rc) {
        free_cli(&c);
        return rc;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    size_t bad = load_all(&c, sc, diags);
    for (size_t i = 0; i < c.nfiles; i++) {
        if (sc[i]) {
            printf("%-28s %s\n", sc[i]->name, c.files[i]);
            if (sc[i]->description)
                printf("    %s\n", sc[i]->description);
        } else {
            printf("%-28s %s (invalid, see above)\n", "?", c.files[i]);
        }
        fl_scenario_free(sc[i]);
        fl_diag_free(&diags[i]);
    }
    free_cli(&c);
    return bad ? EXIT_SCENARIO : EXIT_PASS;
}

static void print_params(const struct fl_param *p, size_t n)
{
    printf("| parameter | type | required | default | meaning |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++)
        printf("| `%s` | %s | %s | %s%s%s | %s |\n", p[i].name, fl_ptype_name(p[i].type),
               p[i].required ? "yes" : "no", p[i].def ? "`" : "", p[i].def ? p[i].def : "-",
               p[i].def ? "`" : "", p[i].help);
}

/* The reference section of docs/scenario-format.md is this output; a test
 * checks that the two agree. */
static int cmd_reference(void)
{
    printf("## Injectors\n");
    for (size_t i = 0; fl_injectors[i]; i++) {
        const struct fl_injector_type *t = fl_injectors[i];
        printf("\n### `%s`\n\n%s. %s\n\n", t->name, t->help,
               t->wants_duration ? "Needs `for:`; healed when it elapses."
                                 : "Instant: takes no `for:`.");
        print_params(t->params, t->nparams);
    }
    printf("\n## Checkers\n");
    for (size_t i = 0; fl_checkers[i]; i++) {
        const struct fl_checker_type *t = fl_checkers[i];
        printf("\n### `%s`\n\n%s.\n\n", t->name, t->help);
        print_params(t->params, t->nparams);
    }
    return EXIT_PASS;
}

static void log_line(void *ud, int level, const char *msg)
{
    int verbose = *(int *)ud;
    if (level <= verbose)
        fprintf(stderr, "%s\n", msg);
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
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
    if (mkdir_p(buf))
        return -1;
    DIR *d = opendir(buf);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (ends_with(e->d_name, ".log") || ends_with(e->d_name, ".jsonl") ||
                ends_with(e->d_name, ".rdb") || ends_with(e->d_name, ".conf")) {
                char p[PATH_MAX + 300];
                snprintf(p, sizeof p, "%s/%s", buf, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct cli c = {0};
    c.out = "faultline-out";
    int rc = parse_common(&c, argc, argv, 1, usage_run);
    if (!rc && c.nfiles == 0) {
        fprintf(stderr, "%s run: no scenario given\n\n", prog);
        usage_run(stderr);
        rc = EXIT_USAGE;
    }
    if (rc) {
        free_cli(&c);
        return rc;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    struct fl_result res[MAX_FILES];
    const struct fl_result *resp[MAX_FILES];
    char *outdirs[MAX_FILES] = {0};
    memset(res, 0, sizeof res);
    size_t bad = load_all(&c, sc, diags);

    char self[PATH_MAX] = "", bindir[PATH_MAX] = ".";
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        memcpy(bindir, self, (size_t)n + 1);
        char *slash = strrchr(bindir, '/');
        if (slash)
            *slash = '\0';
    }
    if (mkdir_p(c.out)) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, c.out, strerror(errno));
        bad = bad ? bad : 1;
    }
    FILE *events = NULL;
    if (c.events && !(events = fopen(c.events, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, c.events, strerror(errno));
        free_cli(&c);
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
    free_cli(&c);
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "__exec") == 0)
        return fl_exec_shim_main(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("faultline %s\n", FL_VERSION);
        return EXIT_PASS;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage_main(stdout);
        return EXIT_PASS;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "reference") == 0)
        return cmd_reference();
    fprintf(stderr, "%s: unknown command '%s'\n\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
