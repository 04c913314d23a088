/* live.c - the live view of `faultline run`.
 *
 * On a terminal (stderr), a status block is redrawn in place once a
 * second below the log: scenario, phase, elapsed of total, each workload's
 * ok/fail/info with its throughput, the faults active with their time
 * left, the invariants already known to be broken, the stop condition
 * met, the --step question waiting. Log lines are printed above it (the
 * block is erased, the line printed, the block drawn again). Off a
 * terminal, the same facts as one plain timestamped line every 5 s, fit
 * for CI logs. Colours only on a terminal and never with NO_COLOR set
 * (https://no-color.org); TERM=dumb gets the plain lines.
 */
#include "cli/cli.h"
#include "run/runner.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#define LIVE_PLAIN_EVERY_S 5.0

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_YELLOW "\033[33m"
#define C_OFF "\033[0m"

void fl_live_init(struct fl_live *l, int verbose)
{
    memset(l, 0, sizeof *l);
    l->verbose = verbose;
    const char *term = getenv("TERM");
    l->tty = verbose >= 0 && isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
    const char *nc = getenv("NO_COLOR");
    l->color = l->tty && !(nc && *nc);
    l->last_plain = -LIVE_PLAIN_EVERY_S;
}

static void erase(struct fl_live *l)
{
    if (l->drawn)
        fprintf(stderr, "\033[%dA\033[J", l->drawn);
    l->drawn = 0;
}

static void draw(struct fl_live *l)
{
    if (!l->block[0])
        return;
    fputs(l->block, stderr);
    l->drawn = 0;
    for (const char *p = l->block; *p; p++)
        l->drawn += *p == '\n';
    fflush(stderr);
}

void fl_live_log(struct fl_live *l, int level, const char *line)
{
    if (level > l->verbose)
        return;
    const char *msg = strchr(line, ']');
    if (msg && strcmp(msg + 1 + (msg[1] == ' '), FL_LOG_ECHO) == 0) {
        /* The terminal's echo of a typed line sits under the block: take
         * it back with the block (the line comes back as a note). */
        if (l->tty && l->drawn)
            l->drawn++;
        return;
    }
    if (l->tty)
        erase(l);
    fprintf(stderr, "%s\n", line);
    if (l->tty)
        draw(l);
}

void fl_live_done(struct fl_live *l)
{
    if (l->tty)
        erase(l);
    l->block[0] = '\0';
    fflush(stderr);
}

static const char *c(const struct fl_live *l, const char *code)
{
    return l->color ? code : "";
}

/* The block (terminal) or the line (anything else) for one snapshot. */
static void render(struct fl_live *l, const struct fl_run_status *st, struct fl_buf *b)
{
    const char *sep = l->tty ? "\n" : " | ";
    const char *ind = l->tty ? "  " : "";
    int width = 24;
    int fill = st->total_s > 0 ? (int)(width * st->elapsed_s / st->total_s) : 0;
    fill = fill < 0 ? 0 : fill > width ? width : fill;
    if (l->tty) {
        fl_buf_addf(b, "%s%s%s %s%-8s%s %6.1fs / %.1fs [", c(l, C_BOLD), st->scenario,
                    c(l, C_OFF), c(l, C_BOLD), st->phase, c(l, C_OFF), st->elapsed_s,
                    st->total_s);
        for (int i = 0; i < width; i++)
            fl_buf_adds(b, i < fill ? "#" : ".");
        fl_buf_adds(b, "]");
    } else {
        fl_buf_addf(b, "[%7.1fs] status: %s, %s, %.0f%% of %.1fs", st->elapsed_s, st->scenario,
                    st->phase, st->total_s > 0 ? 100 * st->elapsed_s / st->total_s : 0,
                    st->total_s);
    }
    for (size_t i = 0; i < st->nworkloads; i++) {
        const struct fl_status_workload *w = &st->workloads[i];
        fl_buf_addf(b, "%s%s%-10s %6zu ok %5zu fail %5zu info %8.1f/s", sep, ind, w->name, w->ok,
                    w->fail, w->info, w->rate);
    }
    fl_buf_addf(b, "%s%sactive     ", sep, ind);
    if (!st->nfaults)
        fl_buf_adds(b, "no fault");
    for (size_t i = 0; i < st->nfaults; i++)
        fl_buf_addf(b, "%s%s%s%s%s (%.1fs left)%s", i ? ", " : "", c(l, C_YELLOW),
                    st->faults[i].type, st->faults[i].key[0] ? " " : "", st->faults[i].key,
                    st->faults[i].left_s, c(l, C_OFF));
    if (st->nbroken || st->stop) {
        fl_buf_addf(b, "%s%sbroken     %s", sep, ind, c(l, C_RED));
        for (size_t i = 0; i < st->nbroken; i++)
            fl_buf_addf(b, "%s%s", i ? ", " : "", st->broken[i]);
        if (st->stop)
            fl_buf_addf(b, "%sstop condition %s", st->nbroken ? ", " : "", st->stop);
        fl_buf_adds(b, c(l, C_OFF));
    }
    if (st->notes)
        fl_buf_addf(b, "%s%snotes      %zu (type a line + Enter to add one)", sep, ind, st->notes);
    if (st->prompt)
        fl_buf_addf(b, "%s%s%swaiting    %s%s", sep, ind, c(l, C_BOLD), st->prompt, c(l, C_OFF));
    fl_buf_adds(b, "\n");
}

void fl_live_status(void *ud, const struct fl_run_status *st)
{
    struct fl_live *l = ud;
    if (l->verbose < 0)
        return;
    if (!l->tty && st->elapsed_s - l->last_plain < LIVE_PLAIN_EVERY_S && !st->prompt)
        return;
    struct fl_buf b;
    fl_buf_init(&b, sizeof l->block - 1);
    render(l, st, &b);
    if (l->tty) {
        erase(l);
        snprintf(l->block, sizeof l->block, "%s", fl_buf_str(&b));
        draw(l);
    } else {
        l->last_plain = st->elapsed_s;
        fputs(fl_buf_str(&b), stderr);
    }
    fl_buf_free(&b);
}
