/* main.c - the faultline command line. The only code that prints or exits.
 *
 *   faultline run SCENARIO|DIR... [options]   replay scenarios, check invariants
 *   faultline validate SCENARIO|DIR...        check files, report every error
 *   faultline list [DIR]                      name and describe scenarios
 *   faultline reference                       injector/checker reference (markdown)
 *   faultline check EVENTS.jsonl SCENARIO     judge a recorded history again
 *   faultline lint-images FILE|DIR...         image references not pinned by digest
 *
 * Exit codes: 0 every invariant held; 1 at least one invariant was violated;
 * 2 the verdict is unknown (the harness could not run a scenario: never
 * ready, injection or heal failed, interrupted; or a checker could not
 * decide); 64 usage error; 65 invalid scenario.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "reports/report.h"
#include "targets/local/exec_shim.h"

#define prog fl_cli_prog

static void usage_main(FILE *f)
{
    fprintf(f,
            "faultline %s - replay real failure modes against a system and check what must hold\n"
            "\n"
            "Usage:\n"
            "  faultline run SCENARIO|DIR... [--junit FILE] [--html FILE] [--events FILE] [--out DIR]\n"
            "                [--var NAME=VALUE]... [--seed N] [--state-dir DIR]\n"
            "                [--teardown-timeout D] [--target compose --compose-project P]\n"
            "                [-v|-q]\n"
            "  faultline validate SCENARIO|DIR...\n"
            "  faultline list [DIR]\n"
            "  faultline lint-images FILE|DIR... [--allow PATTERN]... [--junit FILE]\n"
            "                             image references without a digest (compose,\n"
            "                             Kubernetes, Helm output, Dockerfiles)\n"
            "  faultline recover [--state-dir DIR]   heal what a run that died left behind\n"
            "  faultline halt [RUN_TAG...] [--state-dir DIR]   make running runs heal and stop\n"
            "  faultline check EVENTS.jsonl SCENARIO [--var NAME=VALUE]... [--junit FILE]\n"
            "  faultline report RUN... [--html FILE] [--junit FILE]   render a recorded run again\n"
            "  faultline proxy [--listen HOST:PORT] [--heartbeat D]   fault proxies with\n"
            "                             Toxiproxy's JSON API, for game days\n"
            "  faultline reference        injectors and checkers with their parameters\n"
            "  faultline COMMAND --help   help for one command\n"
            "  faultline --version\n"
            "\n"
            "Exit codes:\n"
            "  0   every invariant held\n"
            "  1   at least one invariant was violated (the system broke)\n"
            "  2   verdict unknown: the harness could not run a scenario (a service never\n"
            "      became ready, an injection or heal failed, interrupted), an output\n"
            "      could not be written, the history is incomplete, or a checker could\n"
            "      not decide (a violation, 1, wins over all of these)\n"
            "  64  usage error\n"
            "  65  invalid scenario (every error is printed as file:line:col)\n",
            FL_VERSION);
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
    if (strcmp(cmd, "lint-images") == 0)
        return fl_cmd_lint_images(argc - 1, argv + 1);
    if (strcmp(cmd, "proxy") == 0)
        return fl_cmd_proxy(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return fl_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return fl_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return fl_cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "recover") == 0)
        return fl_cmd_recover(argc - 1, argv + 1);
    if (strcmp(cmd, "reference") == 0)
        return fl_cmd_reference();
    if (strcmp(cmd, "check") == 0)
        return fl_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "halt") == 0)
        return fl_cmd_halt(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return fl_cmd_report(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
