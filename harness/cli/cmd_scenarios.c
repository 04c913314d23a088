/* cmd_scenarios.c - `validate`, `list` and `reference`. */
#include "cli/cli.h"
#include "core/stop.h"
#include "checkers/checker.h"
#include "injectors/registry.h"

#include <stdlib.h>
#include <string.h>

#define prog fl_cli_prog

static void usage_validate(FILE *f)
{
    fprintf(f,
            "Usage: faultline validate SCENARIO|DIR... [--var NAME=VALUE]... [--target NAME]\n"
            "                          [--compose-project NAME]\n"
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

int fl_cmd_validate(int argc, char **argv)
{
    struct cli c = {0};
    int rc = fl_cli_parse_common(&c, argc, argv, 0, usage_validate);
    if (rc || c.nfiles == 0) {
        if (!rc)
            usage_validate(stderr);
        fl_cli_free_cli(&c);
        return rc ? rc : EXIT_USAGE;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    size_t bad = fl_cli_load_all(&c, sc, diags);
    for (size_t i = 0; i < c.nfiles; i++) {
        if (sc[i])
            printf("%s: ok (%s: %zu services, %zu workloads, %zu faults, %zu invariants)\n",
                   c.files[i], sc[i]->name, sc[i]->nservices, sc[i]->nworkloads,
                   sc[i]->nfaults, sc[i]->ninvariants);
        fl_scenario_free(sc[i]);
        fl_diag_free(&diags[i]);
    }
    fl_cli_free_cli(&c);
    return bad ? EXIT_SCENARIO : EXIT_PASS;
}

int fl_cmd_list(int argc, char **argv)
{
    struct cli c = {0};
    int rc = fl_cli_parse_common(&c, argc, argv, 0, usage_list);
    if (!rc && c.nfiles == 0)
        rc = fl_cli_add_path(&c, "scenarios");
    if (rc) {
        fl_cli_free_cli(&c);
        return rc;
    }
    struct fl_scenario *sc[MAX_FILES];
    struct fl_diag diags[MAX_FILES];
    size_t bad = fl_cli_load_all(&c, sc, diags);
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
    fl_cli_free_cli(&c);
    return bad ? EXIT_SCENARIO : EXIT_PASS;
}

static void print_params(const struct fl_param *p, size_t n)
{
    printf("| parameter | type | required | default | meaning |\n");
    printf("|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        char type[256];
        fl_param_type_doc(&p[i], type, sizeof type);
        printf("| `%s` | %s | %s | %s%s%s | %s |\n", p[i].name, type,
               p[i].required ? "yes" : "no", p[i].def ? "`" : "", p[i].def ? p[i].def : "-",
               p[i].def ? "`" : "", p[i].help);
    }
}

/* The reference section of docs/scenario-format.md is this output; a test
 * checks that the two agree. */
int fl_cmd_reference(void)
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
    printf("\n## Stop conditions\n\n"
           "Each entry of `abort_if:` watches one probe while the timeline runs. When one is\n"
           "met, every active fault is healed at once, the rest of the timeline is skipped,\n"
           "the services stop and the reports are written: the run is recorded as aborted\n"
           "(a JUnit error naming the condition and the time; exit 2). A stopped run is not\n"
           "resumed.\n\n");
    print_params(fl_stop_params, FL_STOP_NPARAMS);
    return EXIT_PASS;
}
