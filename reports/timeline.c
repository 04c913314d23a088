/* timeline.c - the fault timeline of a history as text, and the one-line
 * form of an op that the JUnit and console writers share.
 *
 * The timeline shows what was done to the system, not the workload:
 * phases, faults, heals, instance events and harness errors. Faults and
 * heals take time (an invoke, then ok/fail/info on the same process); the
 * timeline shows one line per operation, at its completion, because that
 * is when the fault was in effect (or known to have failed). An invoke
 * that never completed (the run crashed mid-injection) shows as PENDING at
 * the time it started.
 */
#include "reports/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reports/sanitize.h"

#define FIELD_MAX 1024           /* per field of a line */
#define LINE_MAX_BYTES (8 * 1024)
#define COLLECT_MAX 200000       /* events considered; output is capped anyway */
#define NOTE_ROOM 128

static int is_timeline_f(const char *f)
{
    return strcmp(f, FL_F_FAULT) == 0 || strcmp(f, FL_F_HEAL) == 0 ||
           strcmp(f, FL_F_INSTANCE) == 0 || strcmp(f, FL_F_PHASE) == 0 ||
           strcmp(f, "harness") == 0;
}

static void process_name(int32_t p, char *buf, size_t len)
{
    if (p >= FL_PROC_RUNNER)
        snprintf(buf, len, "runner");
    else if (p >= FL_PROC_TARGET)
        snprintf(buf, len, "target#%" PRId32, p - FL_PROC_TARGET);
    else if (p >= FL_PROC_FAULT)
        snprintf(buf, len, "fault#%" PRId32, p - FL_PROC_FAULT);
    else if (p >= FL_PROC_PROBE)
        snprintf(buf, len, "probe#%" PRId32, p - FL_PROC_PROBE);
    else
        snprintf(buf, len, "p%" PRId32, p);
}

static int add_field(struct fl_buf *b, const char *label, const char *s)
{
    if (!s)
        return 0;
    int rc = fl_buf_adds(b, label);
    return rc ? rc : fl_sanitize_append(b, s, FIELD_MAX, FL_SAN_ONELINE);
}

int fl_report_op_line(struct fl_buf *b, const struct fl_op *op)
{
    char proc[32];
    process_name(op->process, proc, sizeof proc);
    int rc = fl_buf_addf(b, "#%" PRIu64 " %.3fs %s %s ", op->index,
                         (double)op->time_us / 1e6, proc, fl_optype_name(op->type));
    if (!rc)
        rc = fl_sanitize_append(b, op->source, FIELD_MAX, FL_SAN_TOKEN);
    if (!rc)
        rc = fl_buf_adds(b, " ");
    if (!rc)
        rc = fl_sanitize_append(b, op->f, FIELD_MAX, FL_SAN_TOKEN);
    if (!rc)
        rc = add_field(b, " key=", op->key);
    if (!rc)
        rc = add_field(b, " value=", op->value);
    if (!rc)
        rc = add_field(b, " error=", op->error);
    return rc;
}

/* One timeline event: an op, and for a completion its invoke (or for an
 * invoke, whether it completed). */
struct ent {
    const struct fl_op *op;
    const struct fl_op *invoke;   /* completion: the invoke it ends */
    int completed;                /* invoke: a completion follows */
};

static int by_process(const void *a, const void *b)
{
    const struct ent *x = *(const struct ent *const *)a;
    const struct ent *y = *(const struct ent *const *)b;
    if (x->op->process != y->op->process)
        return x->op->process < y->op->process ? -1 : 1;
    return x->op->index < y->op->index ? -1 : x->op->index > y->op->index;
}

/* Pair each invoke with the next op of the same process (Jepsen: a
 * process has at most one operation outstanding). */
static int pair_up(struct ent *e, size_t n)
{
    struct ent **idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = &e[i];
    qsort(idx, n, sizeof *idx, by_process);
    for (size_t i = 0; i + 1 < n; i++) {
        struct ent *a = idx[i], *b = idx[i + 1];
        if (a->op->type == FL_INVOKE && b->op->type != FL_INVOKE &&
            a->op->process == b->op->process) {
            a->completed = 1;
            b->invoke = a->op;
        }
    }
    free(idx);
    return 0;
}

static int add_outcome(struct fl_buf *b, const struct ent *e)
{
    const struct fl_op *op = e->op;
    const char *desc = op->value ? op->value : e->invoke ? e->invoke->value : NULL;
    const char *tag = NULL;
    if (op->type == FL_INVOKE)
        tag = "PENDING";
    else if (op->type == FL_FAIL)
        tag = "FAILED";
    else if (op->type == FL_INFO && e->invoke)
        tag = "UNKNOWN";    /* e.g. the injection timed out */
    int rc = 0;
    if (tag)
        rc = fl_buf_adds(b, tag);
    if (!rc && tag && desc)
        rc = fl_buf_adds(b, " ");
    if (!rc && desc)
        rc = fl_sanitize_append(b, desc, FIELD_MAX, FL_SAN_ONELINE);
    if (rc)
        return rc;
    if (op->type == FL_INVOKE)
        return fl_buf_adds(b, " (no completion recorded)");
    if (!op->error)
        return 0;
    if (tag)
        return add_field(b, ": ", op->error);
    rc = add_field(b, desc ? " (" : "(", op->error);
    return rc ? rc : fl_buf_adds(b, ")");
}

static int format_line(struct fl_buf *b, const struct ent *e)
{
    const struct fl_op *op = e->op;
    const char *key = op->key ? op->key : e->invoke ? e->invoke->key : NULL;
    int rc = fl_buf_addf(b, "%10.3fs  ", (double)op->time_us / 1e6);
    if (!rc)
        rc = fl_buf_addf(b, "%-9s", op->f);
    /* The runner's own events (phases, harness errors) need no source or
     * key column: "phase  steady-state" reads better than "runner -". */
    if (!rc && strcmp(op->source, FL_SOURCE_RUNNER) != 0) {
        size_t at = b->len;
        rc = fl_sanitize_append(b, op->source, FIELD_MAX, FL_SAN_TOKEN);
        while (!rc && b->len - at < 13)
            rc = fl_buf_add(b, " ", 1);
        if (!rc)
            rc = fl_buf_adds(b, " ");
        at = b->len;
        if (!rc)
            rc = fl_sanitize_append(b, key ? key : "-", FIELD_MAX, FL_SAN_TOKEN);
        while (!rc && b->len - at < 8)
            rc = fl_buf_add(b, " ", 1);
        if (!rc)
            rc = fl_buf_adds(b, " ");
    }
    if (!rc)
        rc = add_outcome(b, e);
    if (!rc)
        rc = fl_buf_adds(b, "\n");
    return rc;
}

/* Lines are small (every field is capped), so only the whole text can run
 * into its ceiling: then the rest is counted, not shown. */
static int render(struct fl_buf *out, const struct ent *e, size_t n, size_t skipped)
{
    struct fl_buf line;
    fl_buf_init(&line, LINE_MAX_BYTES);
    size_t shown = 0, events = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (e[i].op->type == FL_INVOKE && e[i].completed)
            continue;
        events++;
        fl_buf_reset(&line);
        rc = format_line(&line, &e[i]);
        if (rc || out->len + line.len + NOTE_ROOM >= out->max)
            continue;
        rc = fl_buf_add(out, fl_buf_str(&line), line.len);
        shown++;
    }
    fl_buf_free(&line);
    if (rc)
        return rc;
    if (shown < events || skipped)
        rc = fl_buf_addf(out, "... (timeline truncated: %zu of %zu events shown)\n",
                         shown, events + skipped);
    else if (events == 0)
        rc = fl_buf_adds(out, "no phases, faults or instance events recorded\n");
    return rc;
}

char *fl_timeline_text(const struct fl_history *h)
{
    if (!h)
        return fl_strdup("no history recorded\n");
    size_t len = fl_history_len(h), n = 0, skipped = 0;
    struct ent *e = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (!op || !op->f || !op->source || !is_timeline_f(op->f))
            continue;
        if (n == COLLECT_MAX) {
            skipped++;
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct ent *ne = realloc(e, ncap * sizeof *ne);
            if (!ne) {
                free(e);
                return NULL;
            }
            e = ne;
            cap = ncap;
        }
        e[n++] = (struct ent){.op = op};
    }
    struct fl_buf out;
    fl_buf_init(&out, FL_TIMELINE_MAX);
    int rc = pair_up(e, n);
    if (!rc)
        rc = render(&out, e, n, skipped);
    if (!rc)
        rc = fl_buf_add(&out, "", 0);   /* allocate even when empty */
    free(e);
    if (rc) {
        fl_buf_free(&out);
        return NULL;
    }
    return out.p;
}
