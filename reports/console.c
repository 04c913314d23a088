/* console.c - the terminal summary of one result.
 *
 *   FAIL  killed-pod-mid-job  (42.1s, seed 42)
 *     ok   lifecycle(submit)
 *     FAIL transitions(submit): 4 of 120 jobs moved backwards
 *          j17: pending -> http:404 -> pending
 *          ... 3 more (-v shows all kept)
 *
 * Strings are sanitized one line each: a status text from the system under
 * test must not be able to move the cursor or recolour the terminal.
 * Colours only on a terminal, and never when NO_COLOR is set
 * (https://no-color.org).
 */
#include "reports/report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/sanitize.h"

#define CONSOLE_CEX 5          /* counterexamples shown when not verbose */
#define CONSOLE_FIELD 2048     /* bytes per printed string */

#define C_RED "\033[1;31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[1;33m"
#define C_OFF "\033[0m"

struct out {
    FILE *f;
    int color;
    struct fl_buf tmp;
};

static void put_s(struct out *o, const char *s)
{
    fl_buf_reset(&o->tmp);
    if (fl_sanitize_append(&o->tmp, s, CONSOLE_FIELD, FL_SAN_ONELINE) == 0 || o->tmp.len)
        fputs(fl_buf_str(&o->tmp), o->f);
}

static void put_tag(struct out *o, const char *color, const char *tag)
{
    if (o->color)
        fprintf(o->f, "%s%s%s", color, tag, C_OFF);
    else
        fputs(tag, o->f);
}

static const char *status_of(const struct fl_result *r, const char **color)
{
    *color = C_YELLOW;
    if (!r->sc || r->harness_status)
        return "ERROR";
    enum fl_validity all = FL_VALID;
    for (size_t i = 0; i < r->ninv; i++)
        all = r->inv[i].verdict.validity > all ? r->inv[i].verdict.validity : all;
    if (all == FL_INVALID) {
        *color = C_RED;
        return "FAIL";
    }
    if (all == FL_UNKNOWN)
        return "ERROR";
    *color = C_GREEN;
    return "PASS";
}

static const char *label_of(const struct fl_inv_result *ir)
{
    const struct fl_invariant *inv = ir->inv;
    if (inv && inv->label && *inv->label)
        return inv->label;
    if (inv && inv->type && inv->type->name)
        return inv->type->name;
    return "invariant";
}

static void put_cex(struct out *o, const struct fl_result *r, const struct fl_verdict *v,
                    int verbose)
{
    size_t shown = verbose > 0 ? v->ncex : (v->ncex < CONSOLE_CEX ? v->ncex : CONSOLE_CEX);
    size_t total = v->ncex_total > v->ncex ? v->ncex_total : v->ncex;
    for (size_t i = 0; i < shown; i++) {
        const struct fl_cex *c = &v->cex[i];
        fputs("       ", o->f);
        put_s(o, c->key ? c->key : "-");
        if (c->why) {
            fputs(": ", o->f);
            put_s(o, c->why);
        }
        fputc('\n', o->f);
        for (size_t k = 0; verbose > 1 && r->history && k < c->nops; k++) {
            if (c->ops[k] >= fl_history_len(r->history))
                continue;
            fl_buf_reset(&o->tmp);
            if (fl_report_op_line(&o->tmp, fl_history_get(r->history, c->ops[k])) == 0)
                fprintf(o->f, "         %s\n", fl_buf_str(&o->tmp));
        }
    }
    if (total > shown)
        fprintf(o->f, "       ... %zu more%s\n", total - shown,
                v->ncex > shown ? " (-v shows all kept)" : "");
}

static void put_invariant(struct out *o, const struct fl_result *r,
                          const struct fl_inv_result *ir, int verbose)
{
    const struct fl_verdict *v = &ir->verdict;
    fputs("  ", o->f);
    if (r->harness_status) {
        put_tag(o, C_YELLOW, "--  ");
        fputc(' ', o->f);
        put_s(o, label_of(ir));
        fputs(": not checked\n", o->f);
        return;
    }
    if (v->validity == FL_VALID)
        put_tag(o, C_GREEN, "ok  ");
    else if (v->validity == FL_INVALID)
        put_tag(o, C_RED, "FAIL");
    else
        put_tag(o, C_YELLOW, "UNKN");
    fputc(' ', o->f);
    put_s(o, label_of(ir));
    /* A valid verdict's summary says what was checked ("all 1480
     * acknowledged writes are in the final read"): worth a glance too. */
    if (v->summary && v->summary[0]) {
        fputs(v->validity == FL_UNKNOWN ? ": verdict unknown: " : ": ", o->f);
        put_s(o, v->summary);
    }
    fputc('\n', o->f);
    if (v->validity != FL_VALID)
        put_cex(o, r, v, verbose);
}

void fl_console_result(FILE *f, const struct fl_result *r, int verbose)
{
    if (!f || !r)
        return;
    struct out o = {.f = f};
    const char *nc = getenv("NO_COLOR");
    o.color = isatty(fileno(f)) && !(nc && *nc);
    fl_buf_init(&o.tmp, 64 * 1024);
    const char *color;
    const char *status = status_of(r, &color);
    put_tag(&o, color, status);
    fputs("  ", f);
    put_s(&o, r->name ? r->name : r->file ? r->file : "scenario");
    const struct fl_history_origin *org = r->history ? fl_history_origin(r->history) : NULL;
    if (!r->sc) {
        fputs("  (did not load)\n", f);
    } else if (org && org->path) {
        /* re-judged by `faultline check`: no seed or run time of its own */
        fputs("  (recorded in ", f);
        put_s(&o, org->path);
        fprintf(f, ", %zu ops)\n", fl_history_len(r->history));
    } else {
        fprintf(f, "  (%.1fs, seed %llu)\n", r->duration_s, (unsigned long long)r->seed);
    }
    if (!r->sc || r->harness_status) {
        fputs("  ", f);
        put_s(&o, r->harness_error[0] ? r->harness_error : fl_strerror(r->harness_status));
        fprintf(f, " (%s)\n", fl_strerror(r->harness_status));
    }
    for (size_t i = 0; r->sc && i < r->ninv; i++)
        put_invariant(&o, r, &r->inv[i], verbose);
    fl_buf_free(&o.tmp);
}
