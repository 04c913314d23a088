/* fresh_retry.c - a retry really re-executes.
 *
 * Reads what retry.stale recorded (source `source`): per key, the key's
 * state before the retry (f "retry.read"), the answers to the retry
 * (f "retry") and polls after it (f "retry.poll"), each value the whole
 * JSON answer. For every key with an accepted retry (a "retry" ok):
 *
 *   invalid  the first final answer after the retry (status in `terminal`)
 *            came with no non-final status seen since the retry was
 *            accepted ("complete at once"), or its execution marker
 *            (`marker`, e.g. /attempts) equals the one read before the
 *            retry (the old result came back); or the batch of copies
 *            sent at once (a double click) ran the job more than once:
 *            two or more copies accepted (2xx), or two different new
 *            markers in the answers after it;
 *   unknown  no final answer was seen after the retry, no read came
 *            before it, or the marker or status is not in an answer;
 *   valid    otherwise.
 *
 * Markers compare as equal when jansson finds them equal or when they
 * render alike (1 and "1"): a marker that only changed its JSON type did
 * not change. Keys whose every copy was refused (409, say) were not
 * retried and are counted, not judged. A batch ends at the next read of
 * the key (retry.stale reads before every batch).
 *
 * Executions are at-least-once in some services: a job re-run after its
 * lease expired, between one retry and its final answer, also shows a
 * second new marker, and is reported here as well (it did run twice).
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "base/jsonptr.h"
#include "checkers/index.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SOURCE, P_TERMINAL, P_MARKER, P_STATUS };

static const struct fl_param params[] = {
    [P_SOURCE] = {"source", FL_PT_STRING, 0, "retry.stale", "the fault type (history source) whose retries are checked", .hi = 128},
    [P_TERMINAL] = {"terminal", FL_PT_STRINGS, 1, NULL, "final status values, e.g. [complete, failed]"},
    [P_MARKER] = {"marker", FL_PT_STRING, 0, "/attempts", "JSON Pointer of the attempt or execution marker that a real re-execution changes", .hi = 256},
    [P_STATUS] = {"status", FL_PT_STRING, 0, "/status", "JSON Pointer of the status in an answer", .hi = 256},
};

enum outcome { O_SKIP, O_VALID, O_INVALID, O_UNKNOWN };

/* A value at ptr in a recorded JSON answer: new reference or NULL. */
static json_t *value_at(const char *body, const char *ptr)
{
    if (!body)
        return NULL;
    json_t *doc = json_loads(body, JSON_DECODE_ANY, NULL);
    if (!doc)
        return NULL;
    json_t *v = NULL;
    struct fl_error err = {0};
    if (fl_jsonptr_get(doc, ptr, &v, &err) == 0)
        json_incref(v);
    else
        v = NULL;
    json_decref(doc);
    return v;
}

static int same_marker(const json_t *a, const json_t *b)
{
    if (json_equal((json_t *)a, (json_t *)b))
        return 1;
    struct fl_buf x, y;
    fl_buf_init(&x, 4096);
    fl_buf_init(&y, 4096);
    int same = fl_jsonptr_render(a, &x) == 0 && fl_jsonptr_render(b, &y) == 0 &&
               strcmp(fl_buf_str(&x), fl_buf_str(&y)) == 0;
    fl_buf_free(&x);
    fl_buf_free(&y);
    return same;
}

static int is_terminal(const struct fl_pval *t, const json_t *status)
{
    if (!json_is_string(status))
        return 0;
    for (size_t i = 0; i < t->nlist; i++)
        if (strcmp(t->list[i], json_string_value(status)) == 0)
            return 1;
    return 0;
}

struct judged {
    enum outcome oc;
    char why[400];
    size_t ops[6];
    size_t nops;
};

static void render(const json_t *v, char *buf, size_t len)
{
    struct fl_buf b;
    fl_buf_init(&b, 256);
    if (!v || fl_jsonptr_render(v, &b))
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%.60s", fl_buf_str(&b));
    fl_buf_free(&b);
}

/* The batch of the first accepted retry (from it to the next retry.read):
 * more than one copy accepted, or two different new markers (not the one
 * read before) in its answers, means the job ran more than once. Judged
 * after judge_first, whose finding (nothing re-executed) explains more:
 * overrides j only with an invalid outcome. */
static void ran_twice(const struct fl_history *h, const char *mptr, const size_t *ops, size_t n,
                      struct judged *j)
{
    size_t r0 = SIZE_MAX, before = SIZE_MAX;
    for (size_t k = 0; k < n && r0 == SIZE_MAX; k++) {
        const struct fl_op *op = fl_history_get(h, ops[k]);
        if (op->type == FL_OK && strcmp(op->f, "retry.read") == 0)
            before = k;
        else if (op->type == FL_OK && strcmp(op->f, "retry") == 0)
            r0 = k;
    }
    if (r0 == SIZE_MAX)
        return;
    /* without the marker read before, which one is new is not known */
    json_t *mb = before != SIZE_MAX ? value_at(fl_history_get(h, ops[before])->value, mptr)
                                    : NULL;
    size_t accepted = 0, second = SIZE_MAX, m1 = SIZE_MAX, m2 = SIZE_MAX;
    json_t *first = NULL;
    for (size_t k = r0; k < n; k++) {
        const struct fl_op *op = fl_history_get(h, ops[k]);
        if (strcmp(op->f, "retry.read") == 0)
            break;
        if (op->type != FL_OK || (strcmp(op->f, "retry") && strcmp(op->f, "retry.poll")))
            continue;
        if (strcmp(op->f, "retry") == 0 && ++accepted == 2)
            second = k;
        json_t *m = mb && m2 == SIZE_MAX ? value_at(op->value, mptr) : NULL;
        if (m && !same_marker(m, mb)) {
            if (!first) {
                first = json_incref(m);
                m1 = k;
            } else if (!same_marker(m, first)) {
                m2 = k;
            }
        }
        json_decref(m);
    }
    if (accepted > 1) {
        j->oc = O_INVALID;
        if (j->nops < 6)
            j->ops[j->nops++] = ops[second];
        snprintf(j->why, sizeof j->why, "%zu copies of one retry were accepted (2xx): the job "
                 "was queued %zu times, ran more than once", accepted, accepted);
    } else if (m2 != SIZE_MAX) {
        char a[80], b[80];
        json_t *v = value_at(fl_history_get(h, ops[m2])->value, mptr);
        render(first, a, sizeof a);
        render(v, b, sizeof b);
        json_decref(v);
        j->oc = O_INVALID;
        if (j->nops + 2 <= 6) {
            j->ops[j->nops++] = ops[m1];
            j->ops[j->nops++] = ops[m2];
        }
        snprintf(j->why, sizeof j->why, "two executions after one retry: %.60s %s, then %s",
                 mptr, a, b);
    }
    json_decref(first);
    json_decref(mb);
}

/* One key's ops (history order): judge its first accepted retry. */
static void judge_first(const struct fl_history *h, const struct fl_args *args, const size_t *ops,
                      size_t n, struct judged *j)
{
    const char *mptr = args->v[P_MARKER].s, *sptr = args->v[P_STATUS].s;
    const struct fl_pval *term = &args->v[P_TERMINAL];
    *j = (struct judged){.oc = O_SKIP};
    size_t r0 = SIZE_MAX, before = SIZE_MAX;
    for (size_t k = 0; k < n && r0 == SIZE_MAX; k++) {
        const struct fl_op *op = fl_history_get(h, ops[k]);
        if (op->type != FL_OK)
            continue;
        if (strcmp(op->f, "retry.read") == 0)
            before = k;
        else if (strcmp(op->f, "retry") == 0)
            r0 = k;
    }
    if (r0 == SIZE_MAX)
        return;
    j->ops[j->nops++] = before != SIZE_MAX ? ops[before] : ops[r0];
    if (before != SIZE_MAX)
        j->ops[j->nops++] = ops[r0];
    json_t *mb = before != SIZE_MAX ? value_at(fl_history_get(h, ops[before])->value, mptr) : NULL;
    if (!mb) {
        j->oc = O_UNKNOWN;
        snprintf(j->why, sizeof j->why, before == SIZE_MAX ? "no read of the job before the retry"
                 : "marker %.60s is not in the answer read before the retry", mptr);
        return;
    }
    int nonfinal = 0;
    size_t fin = SIZE_MAX;
    json_t *st = NULL;
    for (size_t k = r0; k < n && fin == SIZE_MAX; k++) {
        const struct fl_op *op = fl_history_get(h, ops[k]);
        if (op->type != FL_OK || (strcmp(op->f, "retry") && strcmp(op->f, "retry.poll")))
            continue;
        st = value_at(op->value, sptr);
        if (st && is_terminal(term, st))
            fin = k;
        else if (st)
            nonfinal = 1;
        if (fin == SIZE_MAX)
            json_decref(st);
    }
    if (fin == SIZE_MAX) {
        j->oc = O_UNKNOWN;
        snprintf(j->why, sizeof j->why, "no final status seen after the retry");
        json_decref(mb);
        return;
    }
    if (fin != r0)
        j->ops[j->nops++] = ops[fin];
    json_t *mf = value_at(fl_history_get(h, ops[fin])->value, mptr);
    char sv[80], b[80];
    render(st, sv, sizeof sv);
    render(mb, b, sizeof b);
    if (!mf) {
        j->oc = O_UNKNOWN;
        snprintf(j->why, sizeof j->why, "%s after the retry, but marker %.60s is not in that "
                 "answer", sv, mptr);
    } else if (same_marker(mb, mf) || !nonfinal) {
        int same = same_marker(mb, mf);
        j->oc = O_INVALID;
        snprintf(j->why, sizeof j->why, "retried, then %s%s, %.60s %s%s", sv,
                 nonfinal ? "" : " at once (no non-final status after the retry)", mptr,
                 same ? "still " : "changed", same ? b : "");
        if (same)
            snprintf(j->why + strlen(j->why), sizeof j->why - strlen(j->why),
                     ": not re-executed");
    } else {
        j->oc = O_VALID;
    }
    json_decref(st);
    json_decref(mf);
    json_decref(mb);
}

static void judge_key(const struct fl_history *h, const struct fl_args *args, const size_t *ops,
                      size_t n, struct judged *j)
{
    judge_first(h, args, ops, n, j);
    if (j->oc == O_VALID || j->oc == O_UNKNOWN)
        ran_twice(h, args->v[P_MARKER].s, ops, n, j);
    /* the ops of a counterexample are listed in history order, once */
    for (size_t a = 1; a < j->nops; a++)
        for (size_t b = a; b > 0 && j->ops[b - 1] > j->ops[b]; b--) {
            size_t t = j->ops[b];
            j->ops[b] = j->ops[b - 1];
            j->ops[b - 1] = t;
        }
    size_t m = 0;
    for (size_t a = 0; a < j->nops; a++)
        if (m == 0 || j->ops[m - 1] != j->ops[a])
            j->ops[m++] = j->ops[a];
    j->nops = m;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct fl_keyidx ix;
    int rc = fl_keyidx_build(&ix, h, args->v[P_SOURCE].s);
    if (rc) {
        fl_keyidx_free(&ix);
        return rc;
    }
    size_t count[O_UNKNOWN + 1] = {0};
    for (size_t k = 0; k < ix.nkeys; k++) {
        struct judged j;
        judge_key(h, args, ix.ops + ix.start[k], ix.start[k + 1] - ix.start[k], &j);
        count[j.oc]++;
        if ((j.oc == O_INVALID || j.oc == O_UNKNOWN) &&
            fl_verdict_add_cex(out, ix.keys[k], j.why, j.ops, j.nops)) {
            fl_keyidx_free(&ix);
            return FL_ENOMEM;
        }
    }
    fl_keyidx_free(&ix);
    size_t judged = count[O_VALID] + count[O_INVALID] + count[O_UNKNOWN];
    const char *src = args->v[P_SOURCE].s, *m = args->v[P_MARKER].s;
    if (count[O_INVALID]) {
        out->validity = FL_INVALID;
        rc = fl_verdict_summary(out, "%zu of %zu retried jobs were not re-executed (final at "
                                "once, or %s unchanged) or ran twice for one retry",
                                count[O_INVALID], judged, m);
    } else if (judged == 0) {
        out->validity = FL_UNKNOWN;
        rc = fl_verdict_summary(out, "no retry by %s was accepted (%zu keys were tried)", src,
                                count[O_SKIP]);
    } else if (count[O_UNKNOWN]) {
        out->validity = FL_UNKNOWN;
        rc = fl_verdict_summary(out, "%zu of %zu retried jobs could not be judged; the other %zu "
                                "ran again", count[O_UNKNOWN], judged, count[O_VALID]);
    } else {
        out->validity = FL_VALID;
        rc = fl_verdict_summary(out, "all %zu retried jobs ran again (a non-final status, then "
                                "a new %s)", judged, m);
    }
    return rc;
}

const struct fl_checker_type fl_checker_fresh_retry = {
    .name = "fresh_retry",
    .help = "after an accepted retry a job passes through a non-final status and ends with a new "
            "attempt/execution marker (no \"complete at once with the old output\")",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
