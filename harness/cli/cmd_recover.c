/* cmd_recover.c - `faultline recover`: heal what runs that died left
 * behind (frozen or stopped processes, escaped processes, cgroups, paused
 * Redis servers), from their journals in the state folder. */
#include "cli/cli.h"
#include "core/journal.h"
#include "run/recover.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define prog fl_cli_prog

static void usage_recover(FILE *f)
{
    fprintf(f,
            "Usage: faultline recover [--state-dir DIR] [-q]\n"
            "\n"
            "Undo every change that a faultline run which died (SIGKILL, a crash, a power\n"
            "cut) had made and not healed: thaw frozen instances, continue stopped ones,\n"
            "kill the processes it started (also the ones that escaped their process\n"
            "group), remove its cgroups, unpause Redis. Each run writes what it is about\n"
            "to change to a journal in the state folder before changing it; runs that are\n"
            "still going are left alone. Safe to run any time, and more than once.\n"
            "`faultline run` does the same before it starts.\n"
            "\n"
            "Options:\n"
            "  --state-dir DIR     the journals' folder (default: $FAULTLINE_STATE_DIR, else\n"
            "                      /run/faultline as root, else $XDG_RUNTIME_DIR/faultline,\n"
            "                      else /tmp/faultline-UID)\n"
            "  -q, --quiet         print only what failed\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit: 0 nothing left to heal, 2 something could not be undone (the journal is\n"
            "kept for another try), 64 usage.\n");
}

struct say_ctx {
    int quiet;
    int others;                  /* also say which journals belong to live runs */
    int said;
};

static void say(void *ud, const char *msg)
{
    struct say_ctx *s = ud;
    if (s->quiet && !strstr(msg, "FAILED"))
        return;
    if (!s->others && strstr(msg, "still going"))
        return;   /* another run on this machine: none of this run's business */
    fprintf(stderr, "%s: %s\n", prog, msg);
    s->said++;
}

int fl_cli_recover_state(const char *dir, int quiet, const char *why)
{
    struct say_ctx s = {quiet, strcmp(why, "recover") == 0, 0};
    struct fl_recover_stats st = {0};
    struct fl_error err = {0};
    int rc = fl_recover_dir(dir, say, &s, &st, &err);
    if (st.applied && !quiet)
        fprintf(stderr, "%s: %s: healed %zu change%s left by %zu run%s that died\n", prog, why,
                st.applied, st.applied == 1 ? "" : "s", st.journals,
                st.journals == 1 ? "" : "s");
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return EXIT_UNKNOWN;
    }
    return 0;
}

int fl_cmd_recover(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli c = {0};
    int quiet = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'S': c.state_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage_recover(stdout); return EXIT_PASS;
        default: usage_recover(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s recover: unexpected argument '%s'\n\n", prog, argv[optind]);
        usage_recover(stderr);
        return EXIT_USAGE;
    }
    if (!c.state_dir) {
        fl_state_dir_default(c.state_buf, sizeof c.state_buf);
        c.state_dir = c.state_buf;
    }
    int rc = fl_cli_recover_state(c.state_dir, quiet, "recover");
    if (rc == 0 && !quiet)
        fprintf(stderr, "%s: nothing left to heal in %s\n", prog, c.state_dir);
    return rc;
}
