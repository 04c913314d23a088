/* transitions.c - a key's observed value only moves forward along an order.
 *
 * Per key, the values of its ok polls in history order: each must be in
 * `order` with a rank at least the highest seen so far. A value outside the
 * order ("http:404" when a replica does not know the job) is a violation:
 * that is the pending / not found / pending flip.
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

struct ctx {
    const struct fl_history *h;
    const struct fl_args *args;
    struct fl_verdict *out;
    struct fl_strmatch request, poll;
    struct fl_pmap rank;      /* value pointer -> rank + 1, 0: not in order */
    struct vrun *runs;        /* scratch, one key at a time */
    size_t cap_runs;
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

/* Check one key. *polled: the key had at least one ok poll; *bad: it went
 * backwards or off the order. */
static int check_key(struct ctx *c, const char *key, const size_t *ops, size_t n,
                     int *polled, int *bad)
{
    size_t nruns = 0, acc = SIZE_MAX, first_bad = SIZE_MAX;
    long high = -1;
    *polled = *bad = 0;
    for (size_t j = 0; j < n; j++) {
        const struct fl_op *op = fl_history_get(c->h, ops[j]);
        if (op->type != FL_OK)
            continue;
        if (acc == SIZE_MAX && fl_strmatch(&c->request, op->f)) {
            acc = ops[j];
            continue;
        }
        if (!op->value || !fl_strmatch(&c->poll, op->f))
            continue;
        *polled = 1;
        if (nruns && c->runs[nruns - 1].value == op->value)
            continue;
        if (nruns == c->cap_runs) {
            size_t cap = c->cap_runs ? c->cap_runs * 2 : 64;
            struct vrun *r = realloc(c->runs, cap * sizeof *r);
            if (!r)
                return FL_ENOMEM;
            c->runs = r;
            c->cap_runs = cap;
        }
        c->runs[nruns++] = (struct vrun){op->value, ops[j], op->time_us};
        long rank;
        if (value_rank(c, op->value, &rank))
            return FL_ENOMEM;
        if (first_bad == SIZE_MAX && (rank < 0 || rank < high))
            first_bad = nruns - 1;
        if (rank > high)
            high = rank;
    }
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
    size_t npolled = 0, nbad = 0;
    int rc = fl_keyidx_build(&ix, h, wl);
    if (rc || (rc = fl_pmap_init(&c.rank, 16)))
        goto out;
    for (size_t k = 0; k < ix.nkeys; k++) {
        int polled, bad;
        rc = check_key(&c, ix.keys[k], ix.ops + ix.start[k],
                       ix.start[k + 1] - ix.start[k], &polled, &bad);
        if (rc)
            goto out;
        npolled += (size_t)polled;
        nbad += (size_t)bad;
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
out:
    fl_buf_free(&order);
    free(c.runs);
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
};
