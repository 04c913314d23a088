/* lifecycle.c - every key a workload captured reaches a terminal value in time.
 *
 * Per accepted key (a request ok with a key, at time t):
 *   valid    a poll ok with a value in `terminal` at or before t + within;
 *   invalid  that value came later, or the key ended on another terminal
 *            value (e.g. failed), or the observation covered the window
 *            (an op of the key at or after t + within, or a follow give-up)
 *            without it;
 *   unknown  the run stopped watching the key before t + within.
 * Watching means answers: an ok poll with a value, or the follow giving
 * up. A poll that failed, timed out or never completed says nothing about
 * the job, so a key whose last answer came before its deadline is unknown,
 * not stuck.
 *
 * An accepted request (ok) that carries no key is a counterexample of its
 * own: the system said yes and gave no job id, so nobody can follow that
 * job, and "every accepted job finished" cannot hold. A request without a
 * completion, or with info, may or may not have been accepted: it is
 * indeterminate, counted in the summary, never assumed either way. Keys
 * that were polled but whose acceptance is not in the history mean the
 * history lost ops: they make an otherwise valid verdict unknown.
 *
 * The checker is not told which other values end a follow (`until` belongs
 * to the workload), so it infers them from the history: a key "ended" on a
 * value when its polls stopped there without a give-up while the workload
 * went on polling other keys (so the run was not simply cut short), and the
 * value counts as terminal when no key ever moved on from it.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_WORKLOAD, P_TERMINAL, P_WITHIN };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose captured keys are checked"},
    [P_TERMINAL] = {"terminal", FL_PT_STRINGS, 1, NULL, "values that count as done, e.g. [complete]"},
    [P_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed from acceptance to a terminal value"},
};

/* What one key's ops show. */
struct keyobs {
    size_t acc;          /* request ok, SIZE_MAX: never accepted */
    size_t term;         /* first poll ok with a wanted terminal value */
    size_t last_poll;    /* last poll ok with a value */
    size_t gave_up;      /* follow info */
    int64_t last_time;   /* latest op time of the key */
    int64_t last_seen;   /* latest answer about the key (request ok, poll ok
                          * with a value, follow give-up) */
    int64_t max_gap;     /* longest pause between two ops of the key */
};

enum outcome { O_SKIP, O_VALID, O_LATE, O_OTHER_END, O_STUCK, O_UNKNOWN };

/* The workload's main requests that are not jobs with a key. */
struct requests {
    size_t keyless;          /* ok without a key: counterexamples */
    size_t indeterminate;    /* info, or invoked and never completed */
    size_t orphan_keys;      /* keys polled, never accepted */
};

/* Value flags kept per interned value pointer. */
#define V_TERMINAL 1u    /* in the caller's terminal list */
#define V_MOVES_ON 2u    /* some key had it, then another value */
#define V_ENDS 4u        /* some follow ended on it without giving up */

struct ctx {
    const struct fl_history *h;
    const struct fl_args *args;
    struct fl_strmatch request, poll, follow;
    struct fl_pmap vflags;   /* value pointer -> V_* */
    struct fl_verdict *out;
};

static size_t *value_flags(struct ctx *c, const char *v)
{
    int added;
    size_t *f = fl_pmap_put(&c->vflags, (uintptr_t)v, 0, &added);
    if (f && added) {
        const struct fl_pval *t = &c->args->v[P_TERMINAL];
        for (size_t i = 0; i < t->nlist; i++)
            if (strcmp(t->list[i], v) == 0)
                *f = V_TERMINAL;
    }
    return f;
}

/* One pass over a key's ops: fill o and the value flags. */
static int observe(struct ctx *c, const size_t *ops, size_t n, struct keyobs *o)
{
    *o = (struct keyobs){SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, INT64_MIN, INT64_MIN, 0};
    const char *prev = NULL;
    for (size_t j = 0; j < n; j++) {
        const struct fl_op *op = fl_history_get(c->h, ops[j]);
        if (j && op->time_us - o->last_time > o->max_gap)
            o->max_gap = op->time_us - o->last_time;
        if (op->time_us > o->last_time)
            o->last_time = op->time_us;
        if (op->type == FL_OK && o->acc == SIZE_MAX && fl_strmatch(&c->request, op->f)) {
            o->acc = ops[j];
            o->last_seen = op->time_us > o->last_seen ? op->time_us : o->last_seen;
        } else if (op->type == FL_OK && op->value && fl_strmatch(&c->poll, op->f)) {
            o->last_seen = op->time_us > o->last_seen ? op->time_us : o->last_seen;
            size_t *f = value_flags(c, op->value);
            if (!f)
                return FL_ENOMEM;
            if ((*f & V_TERMINAL) && o->term == SIZE_MAX)
                o->term = ops[j];
            if (prev && prev != op->value) {
                size_t *pf = fl_pmap_get(&c->vflags, (uintptr_t)prev);
                *pf |= V_MOVES_ON;
            }
            prev = op->value;
            o->last_poll = ops[j];
        } else if (op->type == FL_INFO && fl_strmatch(&c->follow, op->f)) {
            o->gave_up = ops[j];
            o->last_seen = op->time_us > o->last_seen ? op->time_us : o->last_seen;
        }
    }
    return 0;
}

/* Did the key's follow stop on its last value while the workload went on?
 * Then that value ended it (the runner records a give-up otherwise). */
static int ended_early(const struct keyobs *o, int64_t workload_end)
{
    if (o->last_poll == SIZE_MAX || o->gave_up != SIZE_MAX)
        return 0;
    int64_t margin = 2 * o->max_gap > 1000000 ? 2 * o->max_gap : 1000000;
    return workload_end > o->last_time + margin;
}

static enum outcome classify(struct ctx *c, const struct keyobs *o, int64_t within_us,
                             int64_t workload_end)
{
    if (o->acc == SIZE_MAX)
        return O_SKIP;
    int64_t deadline = fl_history_get(c->h, o->acc)->time_us + within_us;
    if (o->term != SIZE_MAX)
        return fl_history_get(c->h, o->term)->time_us <= deadline ? O_VALID : O_LATE;
    if (ended_early(o, workload_end)) {
        const char *v = fl_history_get(c->h, o->last_poll)->value;
        size_t f = *fl_pmap_get(&c->vflags, (uintptr_t)v);
        if ((f & V_ENDS) && !(f & V_MOVES_ON))
            return O_OTHER_END;
    }
    if (o->gave_up != SIZE_MAX || o->last_seen >= deadline)
        return O_STUCK;
    return O_UNKNOWN;
}

/* "complete" or "complete or done" */
static void join_terminal(const struct fl_pval *t, struct fl_buf *b)
{
    for (size_t i = 0; i < t->nlist; i++)
        fl_buf_addf(b, "%s%.40s", i ? " or " : "", t->list[i]);
}

static int add_cex(struct ctx *c, const struct fl_keyidx *ix, size_t k,
                   const struct keyobs *o, enum outcome oc, const char *terms,
                   const char *within)
{
    char ta[32], tx[32], buf[512];
    const struct fl_op *acc = fl_history_get(c->h, o->acc);
    fl_fmt_time(ta, sizeof ta, acc->time_us);
    const struct fl_op *lp = o->last_poll != SIZE_MAX ? fl_history_get(c->h, o->last_poll) : NULL;
    if (lp)
        fl_fmt_time(tx, sizeof tx, lp->time_us);
    if (oc == O_LATE) {
        const struct fl_op *t = fl_history_get(c->h, o->term);
        fl_fmt_time(tx, sizeof tx, t->time_us);
        snprintf(buf, sizeof buf, "reached %.40s at %s, accepted at %s: later than %s",
                 t->value, tx, ta, within);
    } else if (oc == O_OTHER_END) {
        snprintf(buf, sizeof buf, "ended %.40s at %s, accepted at %s; only %s counts",
                 lp->value, tx, ta, terms);
    } else if (oc == O_UNKNOWN) {
        fl_fmt_time(tx, sizeof tx, o->last_seen);
        snprintf(buf, sizeof buf, "last observed at %s, accepted at %s: the run stopped "
                 "watching before the %s deadline", tx, ta, within);
    } else if (lp) {
        snprintf(buf, sizeof buf, "last seen %.40s at %s, accepted at %s, no %s within %s%s",
                 lp->value, tx, ta, terms, within,
                 o->gave_up != SIZE_MAX ? " (the follow gave up)" : "");
    } else {
        snprintf(buf, sizeof buf, "never polled successfully, accepted at %s, no %s within %s",
                 ta, terms, within);
    }
    /* the key's completions: acceptance and polls, first and last ones */
    size_t n = ix->start[k + 1] - ix->start[k], m = 0;
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t keep[FL_CEX_OPS];
    if (!tmp)
        return FL_ENOMEM;
    for (size_t j = ix->start[k]; j < ix->start[k + 1]; j++)
        if (fl_history_get(c->h, ix->ops[j])->type != FL_INVOKE)
            tmp[m++] = ix->ops[j];
    size_t nk = fl_keep_ends(tmp, m, keep, FL_CEX_OPS);
    free(tmp);
    return fl_verdict_add_cex(c->out, ix->keys[k], buf, keep, nk);
}

/* ---- requests without a job ----------------------------------------------- */

static int keyless_cex(struct ctx *c, const struct fl_op *ok, size_t inv)
{
    char key[96], why[512], ta[32];
    fl_fmt_time(ta, sizeof ta, ok->time_us);
    snprintf(key, sizeof key, "%.60s#%llu", ok->source, (unsigned long long)ok->index);
    snprintf(why, sizeof why, "accepted at %s (%.40s) but carried no job id%s%.300s", ta,
             ok->value ? ok->value : "ok", ok->error ? ": " : "", ok->error ? ok->error : "");
    size_t ops[2], n = 0;
    if (inv != SIZE_MAX)
        ops[n++] = inv;
    ops[n++] = (size_t)ok->index;
    return fl_verdict_add_cex(c->out, key, why, ops, n);
}

/* The workload's main requests, paired invoke -> completion by process
 * (each main request starts a chain of its own): the accepted ones without
 * a key, and the indeterminate ones. Returns 0 or FL_ENOMEM. */
static int scan_requests(struct ctx *c, struct requests *rq)
{
    struct fl_strmatch src;
    fl_strmatch_init(&src, c->args->v[P_WORKLOAD].s);
    struct fl_pmap open;      /* process + 1 -> its request invoke */
    if (fl_pmap_init(&open, 64))
        return FL_ENOMEM;
    int rc = FL_ENOMEM;
    size_t len = fl_history_len(c->h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(c->h, i);
        if (!fl_strmatch(&c->request, op->f) || !fl_strmatch(&src, op->source))
            continue;
        size_t *slot = fl_pmap_put(&open, (uintptr_t)(uint32_t)op->process + 1, SIZE_MAX, NULL);
        if (!slot)
            goto out;
        size_t inv = *slot;
        if (op->type == FL_INVOKE) {
            rq->indeterminate += inv != SIZE_MAX;   /* an earlier one never completed */
            *slot = i;
            continue;
        }
        *slot = SIZE_MAX;
        if (op->type == FL_INFO)
            rq->indeterminate++;
        if (op->type == FL_OK && !op->key) {
            rq->keyless++;
            if (keyless_cex(c, op, inv))
                goto out;
        }
    }
    for (size_t k = 0; k < open.cap; k++)
        rq->indeterminate += open.keys[k] && open.vals[k] != SIZE_MAX;
    rc = 0;
out:
    fl_pmap_free(&open);
    return rc;
}

/* ---- verdict ---------------------------------------------------------------- */

static int summarize(struct ctx *c, const size_t *count, const struct requests *rq,
                     const char *terms, const char *within)
{
    const char *wl = c->args->v[P_WORKLOAD].s;
    size_t bad = count[O_LATE] + count[O_OTHER_END] + count[O_STUCK];
    size_t total = bad + count[O_VALID] + count[O_UNKNOWN];
    struct fl_verdict *v = c->out;
    struct fl_buf b;
    fl_buf_init(&b, 2048);
    if (bad || rq->keyless) {
        v->validity = FL_INVALID;
        if (bad)
            fl_buf_addf(&b, "%zu of %zu jobs accepted by %s never reached %s within %s", bad,
                        total, wl, terms, within);
        if (bad && count[O_UNKNOWN])
            fl_buf_addf(&b, " (%zu more not observed long enough)", count[O_UNKNOWN]);
        if (rq->keyless)
            fl_buf_addf(&b, "%s%zu accepted requests carried no job id, so their jobs could "
                        "not be followed", bad ? "; " : "", rq->keyless);
        if (!bad && total && count[O_UNKNOWN])
            fl_buf_addf(&b, "; of the other %zu, %zu reached %s within %s and %zu were not "
                        "observed for %s", total, count[O_VALID], terms, within,
                        count[O_UNKNOWN], within);
        else if (!bad && total)
            fl_buf_addf(&b, "; the other %zu reached %s within %s", total, terms, within);
    } else if (total == 0) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "no job was accepted by %s", wl);
    } else if (count[O_UNKNOWN]) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "%zu of %zu jobs accepted by %s were not observed for %s; the other "
                    "%zu reached %s in time", count[O_UNKNOWN], total, wl, within,
                    count[O_VALID], terms);
    } else if (rq->orphan_keys) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "all %zu jobs accepted by %s reached %s within %s, but %zu more keys "
                    "were polled whose acceptance is not in the history (lost ops?)", total, wl,
                    terms, within, rq->orphan_keys);
    } else {
        v->validity = FL_VALID;
        fl_buf_addf(&b, "all %zu jobs accepted by %s reached %s within %s", total, wl, terms,
                    within);
    }
    if (rq->indeterminate)
        fl_buf_addf(&b, " (%zu requests got no answer: indeterminate, not judged)",
                    rq->indeterminate);
    int rc = fl_verdict_summary(v, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return rc;
}

/* Two passes over the keys: the first learns which values end a follow,
 * the second classifies each key (it needs the whole first pass). */
static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct ctx c = {.h = h, .args = args, .out = out};
    fl_strmatch_init(&c.request, FL_F_REQUEST);
    fl_strmatch_init(&c.poll, FL_F_POLL);
    fl_strmatch_init(&c.follow, FL_F_FOLLOW);
    int64_t within_us = fl_duration_us(args->v[P_WITHIN].ms);
    struct fl_keyidx ix;
    struct keyobs *obs = NULL;
    unsigned char *oc = NULL;
    struct fl_buf terms;
    fl_buf_init(&terms, 512);
    char within[32];
    fl_format_duration(args->v[P_WITHIN].ms, within, sizeof within);
    int rc = fl_keyidx_build(&ix, h, args->v[P_WORKLOAD].s);
    if (rc || (rc = fl_pmap_init(&c.vflags, 16)))
        goto out;
    rc = FL_ENOMEM;
    obs = malloc((ix.nkeys ? ix.nkeys : 1) * sizeof *obs);
    oc = malloc(ix.nkeys ? ix.nkeys : 1);
    if (!obs || !oc)
        goto out;
    for (size_t k = 0; k < ix.nkeys; k++)
        if (observe(&c, ix.ops + ix.start[k], ix.start[k + 1] - ix.start[k], &obs[k]))
            goto out;
    int64_t workload_end = INT64_MIN;
    for (size_t k = 0; k < ix.nkeys; k++)
        if (obs[k].last_time > workload_end)
            workload_end = obs[k].last_time;
    for (size_t k = 0; k < ix.nkeys; k++) {
        if (ended_early(&obs[k], workload_end)) {
            const char *v = fl_history_get(h, obs[k].last_poll)->value;
            *fl_pmap_get(&c.vflags, (uintptr_t)v) |= V_ENDS;
        }
    }
    size_t count[O_UNKNOWN + 1] = {0};
    struct requests rq = {0};
    for (size_t k = 0; k < ix.nkeys; k++) {
        oc[k] = (unsigned char)classify(&c, &obs[k], within_us, workload_end);
        count[oc[k]]++;
        rq.orphan_keys += oc[k] == O_SKIP;
    }
    if (scan_requests(&c, &rq))
        goto out;
    join_terminal(&args->v[P_TERMINAL], &terms);
    /* counterexamples: the offending keys, or the unknown ones when there
     * is nothing worse to show */
    int show_unknown = count[O_LATE] + count[O_OTHER_END] + count[O_STUCK] + rq.keyless == 0;
    for (size_t k = 0; k < ix.nkeys; k++) {
        if (oc[k] == O_SKIP || oc[k] == O_VALID || (oc[k] == O_UNKNOWN && !show_unknown))
            continue;
        if (add_cex(&c, &ix, k, &obs[k], (enum outcome)oc[k], fl_buf_str(&terms), within))
            goto out;
    }
    rc = summarize(&c, count, &rq, fl_buf_str(&terms), within);
out:
    free(obs);
    free(oc);
    fl_buf_free(&terms);
    fl_pmap_free(&c.vflags);
    fl_keyidx_free(&ix);
    return rc;
}

const struct fl_checker_type fl_checker_lifecycle = {
    .name = "lifecycle",
    .help = "every key captured by a workload reaches one of the terminal values within T",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
