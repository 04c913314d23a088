/* common.c - option parsing, scenario discovery and loading shared by the
 * commands. */
#include "cli/cli.h"
#include "base/util.h"
#include "core/journal.h"
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const fl_cli_prog = "faultline";
#define prog fl_cli_prog

int fl_cli_ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a file, or every *.yaml / *.yml of a folder (sorted). */
int fl_cli_add_path(struct cli *c, const char *path)
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
        if (e->d_name[0] == '.' || !(fl_cli_ends_with(e->d_name, ".yaml") || fl_cli_ends_with(e->d_name, ".yml")))
            continue;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p)
            break;
        snprintf(p, len, "%s%s%s", path, fl_cli_ends_with(path, "/") ? "" : "/", e->d_name);
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

void fl_cli_print_diag(const struct fl_diag *d)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct fl_diag_item *it = &d->items[i];
        if (it->line > 0)
            fprintf(stderr, "%s:%d:%d: error: %s\n", it->file, it->line, it->col, it->msg);
        else
            fprintf(stderr, "%s: error: %s\n", it->file, it->msg);
    }
}

/* Options without a short form (values above any character). */
enum { OPT_TARGET = 1000, OPT_COMPOSE_PROJECT };

int fl_cli_parse_common(struct cli *c, int argc, char **argv, int run, void (*usage)(FILE *))
{
    static const struct option opts[] = {
        {"junit", required_argument, NULL, 'U'}, {"events", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},   {"var", required_argument, NULL, 'V'},
        {"seed", required_argument, NULL, 's'},  {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},       {"help", no_argument, NULL, 'h'},
        {"state-dir", required_argument, NULL, 'S'},
        {"teardown-timeout", required_argument, NULL, 'T'},
        {"html", required_argument, NULL, 'H'},
        {"dry-run", no_argument, NULL, 'D'},
        {"step", no_argument, NULL, 'P'},
        {"jobs", required_argument, NULL, 'j'},
        {"matrix", required_argument, NULL, 'M'},
        {"label", required_argument, NULL, 'L'},
        {"target", required_argument, NULL, OPT_TARGET},
        {"compose-project", required_argument, NULL, OPT_COMPOSE_PROJECT},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "vqhj:", opts, NULL)) != -1) {
        if (!run && ch > 0 && ch < 256 && strchr("UeosvqSTHDjMLP", ch)) {
            fprintf(stderr, "%s: this option is for `faultline run`\n", prog);
            return EXIT_USAGE;
        }
        switch (ch) {
        case 'U': c->junit = optarg; break;
        case 'j': {
            long long v;
            if (fl_parse_int(optarg, 1, 64, &v)) {
                fprintf(stderr, "%s: -j expects a number of jobs from 1 to 64, got '%s'\n",
                        prog, optarg);
                return EXIT_USAGE;
            }
            c->jobs = (int)v;
            break;
        }
        case 'M': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || strstr(eq, ",,") || eq[strlen(eq) - 1] == ',') {
                fprintf(stderr, "%s: --matrix expects NAME=VALUE,VALUE..., got '%s'\n", prog,
                        optarg);
                return EXIT_USAGE;
            }
            c->matrix = optarg;
            break;
        }
        case 'L': c->label = optarg; break;
        case 'H': c->html = optarg; break;
        case 'D': c->dry_run = 1; break;
        case 'P': c->step = 1; break;
        case 'e': c->events = optarg; break;
        case 'S': c->state_dir = optarg; break;
        case 'T':
            if (fl_parse_duration(optarg, &c->teardown_ms) || c->teardown_ms == 0 ||
                c->teardown_ms > 24ULL * 3600 * 1000) {
                fprintf(stderr, "%s: --teardown-timeout expects a duration like 30s (at most "
                        "24h), got '%s'\n", prog, optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o': c->out = optarg; break;
        case OPT_TARGET: c->target.kind = optarg; break;
        case OPT_COMPOSE_PROJECT: c->target.project = optarg; break;
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
    if (!c->state_dir) {
        fl_state_dir_default(c->state_buf, sizeof c->state_buf);
        c->state_dir = c->state_buf;
    }
    for (int i = optind; i < argc; i++) {
        int rc = fl_cli_add_path(c, argv[i]);
        if (rc)
            return rc;
    }
    return 0;
}

void fl_cli_free_cli(struct cli *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
}

/* Load every file; print all diagnostics. Returns the number that failed. */
size_t fl_cli_load_all(struct cli *c, struct fl_scenario **sc, struct fl_diag *diags)
{
    size_t bad = 0;
    for (size_t i = 0; i < c->nfiles; i++) {
        memset(&diags[i], 0, sizeof diags[i]);
        if (fl_scenario_load_target(c->files[i], c->vars, c->nvars, &c->target, &sc[i],
                                    &diags[i])) {
            sc[i] = NULL;
            fl_cli_print_diag(&diags[i]);
            bad++;
        }
    }
    return bad;
}


int fl_cli_mkdir_p(const char *path)
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

int fl_cli_exit_code(const struct fl_result *res, size_t n, size_t nfiles, int output_error)
{
    int any_invalid = 0, any_unknown = output_error || n < nfiles;
    for (size_t i = 0; i < n; i++) {
        if (res[i].harness_status)
            any_unknown = 1;
        for (size_t k = 0; k < res[i].ninv; k++) {
            if (res[i].inv[k].verdict.validity == FL_INVALID)
                any_invalid = 1;
            else if (res[i].inv[k].verdict.validity == FL_UNKNOWN)
                any_unknown = 1;
        }
    }
    return any_invalid ? EXIT_VIOLATED : any_unknown ? EXIT_UNKNOWN : EXIT_PASS;
}

void fl_cli_html_beside(const char *junit, char *buf, size_t len)
{
    size_t n = strlen(junit);
    if (n > 4 && strcmp(junit + n - 4, ".xml") == 0)
        snprintf(buf, len, "%.*s.html", (int)(n - 4), junit);
    else
        snprintf(buf, len, "%s.html", junit);
}
