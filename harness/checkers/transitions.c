/* transitions.c - a key's observed value only moves forward along an order.
 *
 * Per key, the values of its ok polls: each must be in `order`, with a
 * rank at least as high as that of every poll that completed before it
 * was invoked. A value outside the order ("http:404" when a replica does
 * not know the job) is a violation: that is the pending / not found /
 * pending flip.
 *
 * "Before" is real time, as in Jepsen: two polls that overlap (the second
 * invoked before the first answered) may be served in either order, so
 * "running" answered after "pending" by overlapping polls is no step back.
 * A poll is paired with the last invoke of its process for the same key;
 * without one it is taken as instant. Polls that failed, timed out or
 * never completed observed nothing and are skipped.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_WORKLOAD, P_ORDER };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose followed keys are checked"},
    [P_ORDER] = {"order", FL_PT_STRINGS, 1, NULL, "the allowed values in forward order, e.g. [pending, running, complete]"},
};

/* A run of equal consecutive values of one key. */
struct vrun {
    const char *value;
    size_t first_op;
    int64_t time_us;
};

/* One ok poll of the key being checked. */
struct obs {
    int64_t inv, done;        /* invoke and completion times */
    long rank;                /* -1: not in the order */
    long high;                /* highest rank among this poll and earlier ones */
};

/* An invoke of the key being checked, not yet completed. */
struct pending {
    int32_t process;
    int64_t time;
};

struct ctx {
    const struct fl_history *h;
    const struct fl_args *args;
    struct fl_verdict *out;
    struct fl_strmatch request, poll;
    struct fl_pmap rank;      /* value pointer -> rank + 1, 0: not in order */
    struct vrun *runs;        /* scratch, one key at a time */
    size_t cap_runs;
    struct obs *obs;          /* scratch, one key at a time */
    size_t cap_obs;
    struct pending *pend;     /* scratch, one key at a time */
    size_t npend, cap_pend;
};

static int value_rank(struct ctx *c, const char *v, long *rank)
{
    int added;
    size_t *r = fl_pmap_put(&c->rank, (uintptr_t)v, 0, &added);
    if (!r)
        return FL_ENOMEM;
    if (added) {
        const struct fl_pval *o = &c->args->v[P_ORDER];
        for (size_t i = 0; i < o->nlist; i++) {
            if (strcmp(o->list[i], v) == 0) {
                *r = i + 1;
                break;
            }
        }
    }
    *rank = (long)*r - 1;
    return 0;
}

/* "... -> pending@1.2s -> http:404@1.5s -> pending@1.7s -> ...", centred on
 * the first bad run; ops gets the acceptance and each shown run's first op. */
static int report_key(struct ctx *c, const char *key, size_t nruns, size_t bad,
                      size_t acc)
{
    size_t from = bad > 5 ? bad - 5 : 0, to = bad + 5 < nruns ? bad + 5 : nruns;
    struct fl_buf why;
    fl_buf_init(&why, 4096);
    size_t ops[FL_CEX_OPS], nops = 0;
    if (acc != SIZE_MAX)
        ops[nops++] = acc;
    if (from > 0)
        fl_buf_adds(&why, "... -> ");
    for (size_t r = from; r < to; r++) {
        char t[32];
        fl_fmt_time(t, sizeof t, c->runs[r].time_us);
        fl_buf_addf(&why, "%s%.40s@%s", r > from ? " -> " : "", c->runs[r].value, t);
        ops[nops++] = c->runs[r].first_op;
    }
    if (to < nruns)
        fl_buf_adds(&why, " -> ...");
    int rc = fl_verdict_add_cex(c->out, key, fl_buf_str(&why), ops, nops);
    fl_buf_free(&why);
    return rc;
}

/* The invoke time of a poll completed by `process` at `done`: its
 * pending invoke (removed), or `done` when there is none. */
static int64_t take_invoke(struct ctx *c, int32_t process, int64_t done)
{
    for (size_t i = c->npend; i-- > 0;) {
        if (c->pend[i].process != process)
            continue;
        int64_t t = c->pend[i].time;
        c->pend[i] = c->pend[--c->npend];
        return t;
    }
    return done;
}

/* Does poll m go back from a poll that completed before it was invoked?
 * Polls are in completion order, so those are a prefix: walk back over the
 * ones that overlap it (few: one follow polls one key at a time). */
static int went_back(const struct ctx *c, size_t m)
{
    const struct obs *b = &c->obs[m];
    if (b->rank < 0)
        return 1;
    size_t a = m;
    while (a > 0 && c->obs[a - 1].done >= b->inv)
        a--;
    return a > 0 && c->obs[a - 1].high > b->rank;
}

/* Check one key. *polled: the key had at least one ok poll; *bad: it went
 * backwards or off the order; *accepted: its request was accepted. */
static int check_key(struct ctx *c, const char *key, const size_t *ops, size_t n,
                     int *polled, int *bad, int *accepted)
{
    size_t nruns = 0, nobs = 0, acc = SIZE_MAX, first_bad = SIZE_MAX;
    *polled = *bad = 0;
    c->npend = 0;
    for (size_t j = 0; j < n; j++) {
        const struct fl_op *op = fl_history_get(c->h, ops[j]);
        if (!fl_strmatch(&c->poll, op->f)) {
            if (op->type == FL_OK && acc == SIZE_MAX && fl_strmatch(&c->request, op->f))
                acc = ops[j];
            continue;
        }
        if (op->type == FL_INVOKE) {
            if (fl_grow((void **)&c->pend, &c->cap_pend, c->npend + 1, sizeof *c->pend))
                return FL_ENOMEM;
            c->pend[c->npend++] = (struct pending){op->process, op->time_us};
            continue;
        }
        int64_t inv = take_invoke(c, op->process, op->time_us);
        if (op->type != FL_OK || !op->value)
            continue;
        *polled = 1;
        long rank;
        if (value_rank(c, op->value, &rank) ||
            fl_grow((void **)&c->obs, &c->cap_obs, nobs + 1, sizeof *c->obs))
            return FL_ENOMEM;
        long high = nobs && c->obs[nobs - 1].high > rank ? c->obs[nobs - 1].high : rank;
        c->obs[nobs] = (struct obs){inv, op->time_us, rank, high};
        int back = went_back(c, nobs);
        nobs++;
        if (!nruns || c->runs[nruns - 1].value != op->value) {
            if (fl_grow((void **)&c->runs, &c->cap_runs, nruns + 1, sizeof *c->runs))
                return FL_ENOMEM;
            c->runs[nruns++] = (struct vrun){op->value, ops[j], op->time_us};
        }
        if (back && first_bad == SIZE_MAX)
            first_bad = nruns - 1;
    }
    *accepted = acc != SIZE_MAX;
    if (first_bad == SIZE_MAX)
        return 0;
    *bad = 1;
    return report_key(c, key, nruns, first_bad, acc);
}

static void join_order(const struct fl_pval *o, struct fl_buf *b)
{
    for (size_t i = 0; i < o->nlist; i++)
        fl_buf_addf(b, "%s%.40s", i ? " -> " : "", o->list[i]);
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct ctx c = {.h = h, .args = args, .out = out};
    fl_strmatch_init(&c.request, FL_F_REQUEST);
    fl_strmatch_init(&c.poll, FL_F_POLL);
    const char *wl = args->v[P_WORKLOAD].s;
    struct fl_keyidx ix;
    struct fl_buf order;
    fl_buf_init(&order, 1024);
    size_t npolled = 0, nbad = 0, unpolled = 0;
    int rc = fl_keyidx_build(&ix, h, wl);
    if (rc || (rc = fl_pmap_init(&c.rank, 16)))
        goto out;
    for (size_t k = 0; k < ix.nkeys; k++) {
        int polled, bad, accepted;
        rc = check_key(&c, ix.keys[k], ix.ops + ix.start[k],
                       ix.start[k + 1] - ix.start[k], &polled, &bad, &accepted);
        if (rc)
            goto out;
        npolled += (size_t)polled;
        nbad += (size_t)bad;
        unpolled += accepted && !polled;
    }
    join_order(&args->v[P_ORDER], &order);
    if (npolled == 0) {
        out->validity = FL_UNKNOWN;
        rc = fl_verdict_summary(out, "no key followed by %s was polled successfully", wl);
    } else if (nbad) {
        out->validity = FL_INVALID;
        rc = fl_verdict_summary(out, "%zu of %zu keys followed by %s went backwards or "
                                "off the order %s", nbad, npolled, wl, fl_buf_str(&order));
    } else {
        out->validity = FL_VALID;
        rc = fl_verdict_summary(out, "all %zu keys followed by %s moved forward along %s",
                                npolled, wl, fl_buf_str(&order));
    }
    if (!rc && npolled && unpolled) {
        /* not a violation of the order, but the reader should know how
         * much was not looked at */
        char *said = out->summary;
        out->summary = NULL;
        rc = fl_verdict_summary(out, "%s (%zu more accepted keys were never polled "
                                "successfully)", said, unpolled);
        free(said);
    }
out:
    fl_buf_free(&order);
    free(c.runs);
    free(c.obs);
    free(c.pend);
    fl_pmap_free(&c.rank);
    fl_keyidx_free(&ix);
    return rc;
}

const struct fl_checker_type fl_checker_transitions = {
    .name = "transitions",
    .help = "a key's observed value only moves forward along the order; any other value (404) is a violation",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
    .online = 1,
};
