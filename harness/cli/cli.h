/* cli.h - shared by the command files of the faultline CLI (the only code
 * that prints or exits). */
#ifndef FL_CLI_H
#define FL_CLI_H

#include <stdint.h>
#include <stdio.h>

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
    const char *html;            /* --html, else beside the JUnit */
    const char *events;
    const char *out;
    struct fl_var_override vars[MAX_VARS];
    size_t nvars;
    int has_seed;
    uint64_t seed;
    int verbose;
    int dry_run;                 /* --dry-run: print the plan, run nothing */
    int step;                    /* --step: confirm each fault */
    int jobs;                    /* -j N: scenarios at once (parallel.c); 0: 1 */
    const char *matrix;          /* --matrix NAME=V1,V2: each scenario once per value */
    const char *label;           /* --label TEXT: appended to the result's name */
    const char *state_dir;       /* --state-dir, else fl_state_dir_default */
    uint64_t teardown_ms;        /* --teardown-timeout, 0: default */
    struct fl_target_override target;  /* --target, --compose-project */
    char state_buf[1024];
    const char *files[MAX_FILES];
    size_t nfiles;
    char *owned[MAX_FILES];      /* paths found in folders */
    size_t nowned;
};

extern const char *const fl_cli_prog;   /* "faultline", for messages */

/* Add a file, or every *.yaml / *.yml of a folder (sorted). */
int fl_cli_add_path(struct cli *c, const char *path);
int fl_cli_ends_with(const char *s, const char *suf);
void fl_cli_print_diag(const struct fl_diag *d);
/* Options shared by run/validate/list; run: whether run-only options are
 * allowed. Prints usage and exits 0 on --help. Returns 0 or an exit code. */
int fl_cli_parse_common(struct cli *c, int argc, char **argv, int run, void (*usage)(FILE *));
void fl_cli_free_cli(struct cli *c);
/* Load every file; print all diagnostics. Returns the number that failed. */
size_t fl_cli_load_all(struct cli *c, struct fl_scenario **sc, struct fl_diag *diags);
int fl_cli_mkdir_p(const char *path);

/* The exit code of n results out of nfiles scenarios: a violation (1)
 * wins over everything; then unknown (2) when a result is unknown or has
 * a harness error, when not every scenario ran, or when an output could
 * not be written (output_error); else 0. */
struct fl_result;
int fl_cli_exit_code(const struct fl_result *res, size_t n, size_t nfiles, int output_error);

int fl_cmd_run(int argc, char **argv);
int fl_cmd_validate(int argc, char **argv);
int fl_cmd_list(int argc, char **argv);
int fl_cmd_reference(void);
int fl_cmd_recover(int argc, char **argv);
int fl_cmd_lint_images(int argc, char **argv);   /* cmd_lint.c */

/* Heal what dead runs left in the state folder, saying so on stderr
 * (quiet: only failures). Returns 0, or EXIT_UNKNOWN when something could
 * not be undone. */
int fl_cli_recover_state(const char *dir, int quiet, const char *why);

/* Fork the guardian (guard.c) that heals the state folder once this
 * process ends, however it ends. Returns 0 or -errno. */
int fl_cli_start_guard(const char *state_dir);
int fl_cmd_check(int argc, char **argv);      /* cmd_check.c */
int fl_cmd_report(int argc, char **argv);     /* cmd_report.c */
int fl_cmd_halt(int argc, char **argv);       /* cmd_halt.c */

/* The live view (live.c): a status block redrawn in place on a terminal,
 * plain lines every 5 s elsewhere; log lines go above the block. */
struct fl_run_status;
struct fl_live {
    int verbose, tty, color;
    int drawn;                  /* lines of the block on the screen */
    double last_plain;          /* run time of the last plain line */
    char block[8192];
};
void fl_live_init(struct fl_live *l, int verbose);
void fl_live_log(struct fl_live *l, int level, const char *line);
void fl_live_status(void *ud, const struct fl_run_status *st);
void fl_live_done(struct fl_live *l);

/* -j N / --matrix (parallel.c): every scenario (x every matrix value) in a
 * faultline process of its own, N at a time; one JUnit and HTML report
 * over all. self: this executable. Returns the exit code. */
int fl_cli_run_parallel(struct cli *c, const char *self);

/* Where the HTML report goes when --html is not given: beside the JUnit,
 * with .html for its .xml ("out/junit.xml" -> "out/junit.html"). */
void fl_cli_html_beside(const char *junit, char *buf, size_t len);
int fl_cmd_proxy(int argc, char **argv);      /* cmd_proxy.c */

#endif
