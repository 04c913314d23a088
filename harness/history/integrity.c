/* integrity.c - is a history complete enough to be judged?
 *
 * Checkers are pure functions over the ops they are given. If ops were
 * lost, a checker cannot tell: the missing op may be the terminal poll
 * that makes a job valid, or the acknowledged write that makes a read
 * lossy. So the loss itself must be found and named, once, here; the
 * callers (the runner and `faultline check`) turn it into unknown
 * verdicts through fl_judge (checkers/checker.h).
 */
#include "history/history.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Append one reason to out->why ("; " between reasons); the text is cut,
 * never overflowed. */
static void reason(struct fl_integrity *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void reason(struct fl_integrity *out, const char *fmt, ...)
{
    size_t used = strlen(out->why);
    if (!out->complete && used + 2 < sizeof out->why) {
        memcpy(out->why + used, "; ", 3);
        used += 2;
    }
    out->complete = 0;
    if (used + 1 >= sizeof out->why)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why + used, sizeof out->why - used, fmt, ap);
    va_end(ap);
}

static int is_runner(const struct fl_op *op, const char **runner)
{
    if (*runner)
        return op->source == *runner;
    if (strcmp(op->source, FL_SOURCE_RUNNER) != 0)
        return 0;
    *runner = op->source;   /* interned: every later one is this pointer */
    return 1;
}

void fl_history_integrity(const struct fl_history *h, struct fl_integrity *out)
{
    memset(out, 0, sizeof *out);
    out->complete = 1;
    const struct fl_history_origin *o = fl_history_origin(h);
    size_t n = fl_history_len(h);
    const char *runner = NULL;
    int done = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (!is_runner(op, &runner))
            continue;
        if (op->type == FL_OK && strcmp(op->f, FL_F_PHASE) == 0 && op->value &&
            strcmp(op->value, FL_PHASE_DONE) == 0)
            done = 1;
        else if (!out->harness && strcmp(op->f, FL_F_HARNESS) == 0)
            out->harness = op;
    }
    size_t dropped = fl_history_dropped(h);
    if (dropped && o->path)
        reason(out, "%zu ops of %.200s were not loaded (over the limit of %zu ops, or out of "
               "memory)", dropped, o->path, fl_history_max_ops(h));
    else if (dropped)
        reason(out, "%zu ops were not recorded (the history's limit of %zu ops was reached, or "
               "memory ran out)", dropped, fl_history_max_ops(h));
    if (!o->path)
        return;
    if (o->missing && o->gap_to - o->gap_from == o->missing)
        reason(out, "%" PRIu64 " ops are missing from %.200s: line %zu holds op %" PRIu64
               " where op %" PRIu64 " was due", o->missing, o->path, o->gap_line, o->gap_to,
               o->gap_from);
    else if (o->missing)
        reason(out, "%" PRIu64 " ops are missing from %.200s; the first gap: line %zu holds op "
               "%" PRIu64 " where op %" PRIu64 " was due", o->missing, o->path, o->gap_line,
               o->gap_to, o->gap_from);
    if (o->restart_line)
        reason(out, "%.200s holds more than one run (the op index starts again at 0 on line "
               "%zu): check one run's events.jsonl", o->path, o->restart_line);
    else if (o->disordered)
        reason(out, "%.200s:%zu: op %" PRIu64 " comes after op %" PRIu64 ": %" PRIu64 " lines "
               "are duplicated or out of order", o->path, o->disorder_line, o->disorder_index,
               o->disorder_after, o->disordered);
    if (n == 0 && !dropped) {
        reason(out, "%.200s holds no op", o->path);
    } else if (!done) {
        const struct fl_op *last = n ? fl_history_get(h, n - 1) : NULL;
        if (last)
            reason(out, "%.200s stops before the run's final record (runner phase \"%s\"): the "
                   "recording was cut short after op %" PRIu64 " at %.1fs", o->path,
                   FL_PHASE_DONE, o->high, (double)last->time_us / 1e6);
        else
            reason(out, "%.200s stops before the run's final record (runner phase \"%s\")",
                   o->path, FL_PHASE_DONE);
    }
}
