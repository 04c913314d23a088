/* cmd_lint.c - `faultline lint-images`: a static check for image references
 * that are not pinned by digest (harness/lint does the reading). */
#include "cli/cli.h"
#include "lint/lint.h"
#include "reports/lint_report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define prog fl_cli_prog
#define ALLOW_MAX 256

static void usage_lint(FILE *f)
{
    fprintf(f,
            "Usage: faultline lint-images FILE|DIR... [--allow PATTERN]... [--junit FILE] [-v|-q]\n"
            "\n"
            "Report every container image reference that is not pinned by digest, with\n"
            "file:line:col and the rule it breaks:\n"
            "  no-tag       no tag and no digest (\"nginx\": that is :latest)\n"
            "  latest       the tag is latest\n"
            "  mutable-tag  any other tag (\"nginx:1.25\": a tag can be moved)\n"
            "  unresolved   built from a variable the file gives no value (compose\n"
            "               \"${TAG}\", Dockerfile ARG without a default)\n"
            "  invalid      not a valid image reference\n"
            "A reference with a digest (app@sha256:..., app:1.2@sha256:...) is pinned.\n"
            "\n"
            "Reads docker-compose files (services.*.image), Kubernetes manifests and Helm's\n"
            "rendered output (multi-document YAML: Pod, Deployment, StatefulSet, DaemonSet,\n"
            "ReplicaSet, Job, CronJob, List, and any kind with spec.template.spec;\n"
            "containers, initContainers, ephemeralContainers) and Dockerfiles (FROM, COPY\n"
            "--from, # syntax=; stages are not images; ARG defaults are substituted).\n"
            "A folder is searched for *.yaml, *.yml, Dockerfile, Dockerfile.*, *.Dockerfile\n"
            "and Containerfile (hidden entries skipped); a file named on the command line\n"
            "is read whatever its name (YAML unless it is named like a Dockerfile); - reads\n"
            "YAML from standard input (helm template ... | faultline lint-images -).\n"
            "\n"
            "Options:\n"
            "  --allow PATTERN   exempt references matching the glob (fnmatch; '*' also\n"
            "                    matches '/'), tried on the reference as written and on its\n"
            "                    normalized form: --allow 'localhost:5000/*',\n"
            "                    --allow 'docker.io/library/*' (repeatable)\n"
            "  --junit FILE      also write JUnit XML: a suite per file, a testcase per\n"
            "                    reference (failure: a finding; skipped: allowed)\n"
            "  -v, --verbose     list pinned and allowed references too\n"
            "  -q, --quiet       no summary line\n"
            "  -h, --help        this help\n"
            "\n"
            "Exit: 0 no finding, 1 at least one finding (this wins over 2), 2 a file could\n"
            "not be read or parsed (the error names file:line:col) or the JUnit report\n"
            "could not be written, 64 usage.\n"
            "\n"
            "Example:\n"
            "  faultline lint-images docker-compose.yml k8s/ Dockerfile --junit lint.xml\n");
}

int fl_cmd_lint_images(int argc, char **argv)
{
    static const struct option opts[] = {
        {"allow", required_argument, NULL, 'a'}, {"junit", required_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},     {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *allow[ALLOW_MAX];
    size_t nallow = 0;
    const char *junit = NULL;
    int verbose = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (nallow >= ALLOW_MAX || !optarg[0]) {
                fprintf(stderr, "%s lint-images: --allow needs a pattern (at most %d)\n", prog,
                        ALLOW_MAX);
                return EXIT_USAGE;
            }
            allow[nallow++] = optarg;
            break;
        case 'j': junit = optarg; break;
        case 'v': verbose = 1; break;
        case 'q': verbose = -1; break;
        case 'h': usage_lint(stdout); return EXIT_PASS;
        default: usage_lint(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s lint-images: name at least one file or folder\n\n", prog);
        usage_lint(stderr);
        return EXIT_USAGE;
    }
    struct fl_lint l = {.allow = allow, .nallow = nallow};
    int rc = 0;
    for (int i = optind; i < argc && !rc; i++)
        rc = fl_lint_path(&l, argv[i]);
    if (rc) {
        fprintf(stderr, "%s lint-images: out of memory\n", prog);
        fl_lint_free(&l);
        return EXIT_UNKNOWN;
    }
    char *text = fl_lint_text_report(&l, verbose > 0);
    size_t nerr = l.errors.n, findings = fl_lint_findings(&l);
    if (text) {
        /* errors first, on stderr; findings on stdout */
        char *p = text;
        for (size_t i = 0; i < nerr && p; i++) {
            char *nl = strchr(p, '\n');
            fprintf(stderr, "%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
            p = nl ? nl + 1 : NULL;
        }
        if (p)
            fputs(p, stdout);
    }
    int out_error = !text;
    free(text);
    if (junit) {
        struct fl_error err = {0};
        if (fl_lint_junit_write(junit, &l, &err)) {
            fprintf(stderr, "%s lint-images: %s\n", prog, err.msg);
            out_error = 1;
        }
    }
    if (verbose >= 0) {
        size_t by[FL_LINT_INVALID + 1] = {0}, allowed = 0;
        for (size_t i = 0; i < l.nrefs; i++) {
            if (l.refs[i].rule != FL_LINT_PINNED && l.refs[i].allowed_by)
                allowed++;
            else
                by[l.refs[i].rule]++;
        }
        fprintf(stderr, "%s lint-images: %zu reference%s in %zu file%s: %zu finding%s", prog,
                l.nrefs, l.nrefs == 1 ? "" : "s", l.nfiles, l.nfiles == 1 ? "" : "s", findings,
                findings == 1 ? "" : "s");
        const char *sep = " (";
        for (int r = FL_LINT_NO_TAG; r <= FL_LINT_INVALID; r++) {
            if (by[r]) {
                fprintf(stderr, "%s%zu %s", sep, by[r], fl_lint_rule_name(r));
                sep = ", ";
            }
        }
        fprintf(stderr, "%s, %zu pinned, %zu allowed%s\n", findings ? ")" : "",
                by[FL_LINT_PINNED], allowed, nerr ? ", and unreadable input" : "");
    }
    fl_lint_free(&l);
    if (findings)
        return EXIT_VIOLATED;
    return nerr || out_error ? EXIT_UNKNOWN : EXIT_PASS;
}
