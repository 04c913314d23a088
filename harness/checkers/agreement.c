/* agreement.c - the replicas of a service report the same value, or differ
 * only briefly.
 *
 * Per-replica probe samples (key = instance, value = what it reported; only
 * ok samples whose value is not in `ignore` count) are swept in time order,
 * keeping each replica's latest value. While those latest values differ, a
 * disagreement interval is open; one that lasts longer than `within` (an
 * interval still open at the end lasts until the last sample) is a
 * violation.
 *
 * Who to blame: at every moment the majority value is the most common one
 * (ties: the value held longest), and a replica on another value is
 * dissenting. Over a violating interval the replicas that dissented for
 * longer than `within` in total are reported, or the one that dissented
 * longest when nobody did (the minority rotated).
 *
 * Cost: O(n log v) for n samples and v distinct values. The majority comes
 * from a heap of values; dissent time is accounted lazily (a replica's
 * dissent over a stretch of one value = the stretch's length minus the
 * time that value was the majority, from a per-value running total), so a
 * change of majority costs O(log v) however many replicas it flips, and an
 * interval's end only visits the replicas sampled during it: the others
 * all still hold the value agreed before it began.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"

#include <stdio.h>
#include <stdlib.h>

enum { P_PROBE, P_WITHIN, P_IGNORE };

static const struct fl_param params[] = {
    [P_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "per-replica probe (key = instance) whose values must agree"},
    [P_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "how long the replicas may disagree"},
    [P_IGNORE] = {"ignore", FL_PT_STRINGS, 0, NULL, "values that do not count, e.g. [error, timeout]"},
};

#define NONE SIZE_MAX
#define IGNORED (SIZE_MAX - 1)

/* One distinct value. */
struct val {
    const char *s;
    size_t count;          /* replicas holding it now */
    int64_t held_since;    /* when count last went 0 -> 1 */
    size_t heap_pos;
    size_t head, tail;     /* holders, in order of arrival */
    int64_t maj_acc;       /* time it was the majority in interval `epoch` */
    uint64_t epoch;
    size_t against;        /* the majority it replaced, NONE */
    size_t last_op;        /* latest sample reporting it */
};

/* One replica. The stretch is the current run of one value inside the
 * open interval; best_* is its stretch with the most dissent. */
struct rep {
    const char *name;
    size_t val, prev, next, last_op;
    uint64_t epoch;        /* interval it was sampled in, for the touched list */
    int64_t st_time, st_maj;
    size_t st_op;
    int64_t dis_total, best_d;
    size_t best_val, best_start, best_end, best_against, best_witness;
};

struct ctx {
    const struct fl_history *h;
    const struct fl_args *args;
    struct fl_verdict *out;
    int64_t within_us;
    struct val *v;
    size_t nv, cap_v;
    size_t *heap;          /* value ids, best first */
    size_t cap_heap;
    struct rep *r;
    size_t nr, cap_r, nactive;
    struct fl_pmap vmap, rmap;
    size_t major;          /* heap top, NONE before any sample */
    size_t ndistinct;      /* values held by at least one replica */
    int64_t maj_since;
    /* the open interval */
    int open;
    uint64_t epoch;
    int64_t start;
    size_t agreed;         /* value all held before it began */
    size_t *touched;       /* replicas sampled during it */
    size_t ntouched, cap_touched;
    /* totals */
    size_t intervals, violations, counted;
    int64_t longest, longest_start, last_time;
    int64_t open_len;      /* interval still open at the end, -1: none */
};


/* ---- the majority heap ---------------------------------------------------- */

static int better(const struct ctx *c, size_t a, size_t b)
{
    const struct val *x = &c->v[a], *y = &c->v[b];
    if (x->count != y->count)
        return x->count > y->count;
    if (x->held_since != y->held_since)
        return x->held_since < y->held_since;
    return a < b;
}

static void heap_set(struct ctx *c, size_t pos, size_t id)
{
    c->heap[pos] = id;
    c->v[id].heap_pos = pos;
}

/* Restore the heap around value id after its count changed. */
static void heap_fix(struct ctx *c, size_t id)
{
    size_t pos = c->v[id].heap_pos;
    while (pos > 0 && better(c, id, c->heap[(pos - 1) / 2])) {
        heap_set(c, pos, c->heap[(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * pos + 1, r = l + 1, best = id;
        if (l < c->nv && better(c, c->heap[l], best))
            best = c->heap[l];
        if (r < c->nv && better(c, c->heap[r], best))
            best = c->heap[r];
        if (best == id)
            break;
        size_t bpos = c->v[best].heap_pos;
        heap_set(c, pos, best);
        pos = bpos;
    }
    heap_set(c, pos, id);
}

/* Time value id was the majority during the open interval, up to t. */
static int64_t majtime(const struct ctx *c, size_t id, int64_t t)
{
    const struct val *x = &c->v[id];
    int64_t acc = x->epoch == c->epoch ? x->maj_acc : 0;
    return acc + (id == c->major ? t - c->maj_since : 0);
}

static void update_major(struct ctx *c, int64_t t)
{
    size_t top = c->heap[0];
    if (top == c->major)
        return;
    if (c->major != NONE && c->open) {
        struct val *old = &c->v[c->major];
        if (old->epoch != c->epoch) {
            old->epoch = c->epoch;
            old->maj_acc = 0;
        }
        old->maj_acc += t - c->maj_since;
    }
    c->v[top].against = c->major;
    c->major = top;
    c->maj_since = t;
}

/* The majority a holder of value id dissents from (or last did). */
static size_t against(const struct ctx *c, size_t id)
{
    return id != c->major ? c->major : c->v[id].against;
}

/* ---- values and replicas -------------------------------------------------- */

/* The id of value s, IGNORED, or NONE when out of memory. */
static size_t value_id(struct ctx *c, const char *s)
{
    int added;
    size_t *slot = fl_pmap_put(&c->vmap, (uintptr_t)s, c->nv, &added);
    if (!slot)
        return NONE;
    if (!added)
        return *slot;
    const struct fl_pval *ig = &c->args->v[P_IGNORE];
    for (size_t i = 0; ig->set && i < ig->nlist; i++)
        if (strcmp(ig->list[i], s) == 0)
            return *slot = IGNORED;
    if (fl_grow((void **)&c->v, &c->cap_v, c->nv + 1, sizeof *c->v) ||
        fl_grow((void **)&c->heap, &c->cap_heap, c->nv + 1, sizeof *c->heap))
        return NONE;
    size_t id = c->nv++;
    c->v[id] = (struct val){s, 0, 0, 0, NONE, NONE, 0, 0, NONE, NONE};
    heap_set(c, id, id);
    heap_fix(c, id);
    return id;
}

static size_t rep_id(struct ctx *c, const char *name)
{
    int added;
    size_t *slot = fl_pmap_put(&c->rmap, (uintptr_t)name, c->nr, &added);
    if (!slot)
        return NONE;
    if (!added)
        return *slot;
    if (fl_grow((void **)&c->r, &c->cap_r, c->nr + 1, sizeof *c->r) ||
        fl_grow((void **)&c->touched, &c->cap_touched, c->nr + 1, sizeof *c->touched))
        return NONE;
    c->r[c->nr] = (struct rep){.name = name, .val = NONE, .prev = NONE, .next = NONE,
                               .last_op = NONE};
    return c->nr++;
}

static void hold(struct ctx *c, size_t rid, size_t id, int64_t t)
{
    struct rep *r = &c->r[rid];
    struct val *x = &c->v[id];
    r->val = id;
    r->prev = x->tail;
    r->next = NONE;
    if (x->tail != NONE)
        c->r[x->tail].next = rid;
    else
        x->head = rid;
    x->tail = rid;
    if (x->count++ == 0) {
        x->held_since = t;
        c->ndistinct++;
    }
    heap_fix(c, id);
}

static void unhold(struct ctx *c, size_t rid)
{
    struct rep *r = &c->r[rid];
    struct val *x = &c->v[r->val];
    if (r->prev != NONE)
        c->r[r->prev].next = r->next;
    else
        x->head = r->next;
    if (r->next != NONE)
        c->r[r->next].prev = r->prev;
    else
        x->tail = r->prev;
    if (--x->count == 0)
        c->ndistinct--;
    heap_fix(c, r->val);
    r->val = NONE;
}

/* A sample of a replica that holds `id`, other than rid: the proof that
 * someone held the majority. */
static size_t witness(const struct ctx *c, size_t id, size_t rid)
{
    if (id == NONE)
        return NONE;
    for (size_t h = c->v[id].head; h != NONE; h = c->r[h].next)
        if (h != rid)
            return c->r[h].last_op;
    return c->v[id].last_op;
}

/* ---- stretches ------------------------------------------------------------ */

/* First sample of rid in the open interval: its stretch so far began with
 * the interval. */
static void touch(struct ctx *c, size_t rid)
{
    struct rep *r = &c->r[rid];
    if (r->epoch == c->epoch)
        return;
    r->epoch = c->epoch;
    c->touched[c->ntouched++] = rid;
    r->st_time = c->start;
    r->st_op = r->last_op;
    r->st_maj = 0;
    r->dis_total = 0;
    r->best_d = -1;
}

static void stretch_end(struct ctx *c, size_t rid, int64_t t)
{
    struct rep *r = &c->r[rid];
    int64_t d = (t - r->st_time) - (majtime(c, r->val, t) - r->st_maj);
    r->dis_total += d;
    if (d > r->best_d) {
        r->best_d = d;
        r->best_val = r->val;
        r->best_start = r->st_op;
        r->best_end = r->last_op;
        r->best_against = against(c, r->val);
        r->best_witness = witness(c, r->best_against, rid);
    }
}

static void stretch_begin(struct ctx *c, size_t rid, int64_t t, size_t op)
{
    struct rep *r = &c->r[rid];
    r->st_time = t;
    r->st_op = op;
    r->st_maj = majtime(c, r->val, t);
}


/* ---- reporting ------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "api.0, api.1" (up to three holders of id other than rid, then "and N
 * more"), or the replica of the witness sample when nobody holds id now. */
static void holder_names(const struct ctx *c, size_t id, size_t rid, size_t wit,
                         struct fl_buf *b)
{
    const char *shown[3];
    size_t n = 0, more = 0;
    for (size_t h = id == NONE ? NONE : c->v[id].head; h != NONE; h = c->r[h].next) {
        if (h == rid)
            continue;
        if (n < 3)
            shown[n++] = c->r[h].name;
        else
            more++;
    }
    if (n == 0 && wit != NONE && fl_history_get(c->h, wit)->key)
        shown[n++] = fl_history_get(c->h, wit)->key;
    if (n == 0) {
        fl_buf_adds(b, "the others");
        return;
    }
    qsort(shown, n, sizeof *shown, name_cmp);
    for (size_t i = 0; i < n; i++)
        fl_buf_addf(b, "%s%.40s", i ? ", " : "", shown[i]);
    if (more)
        fl_buf_addf(b, " and %zu more", more);
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* One counterexample: replica rid held value id against the majority agst
 * during the interval [c->start, t_end]; ops: its samples and a witness. */
static int add_dissent(struct ctx *c, size_t rid, size_t id, size_t agst, size_t *ops,
                       size_t nops, int64_t t_end, int at_end)
{
    char ts[32], te[32], tl[32], tw[32];
    fl_fmt_time(ts, sizeof ts, c->start);
    fl_fmt_time(te, sizeof te, t_end);
    fl_fmt_time(tl, sizeof tl, t_end - c->start);
    fl_format_duration((uint64_t)(c->within_us / 1000), tw, sizeof tw);
    struct fl_buf why;
    fl_buf_init(&why, 1024);
    fl_buf_addf(&why, "%.40s reported %.60s while ", c->r[rid].name, c->v[id].s);
    holder_names(c, agst, rid, ops[nops - 1], &why);
    fl_buf_addf(&why, " reported %.60s from %s to %s (%s > %s)%s",
                agst == NONE ? "something else" : c->v[agst].s, ts, te, tl, tw,
                at_end ? ", still split at the end" : "");
    /* drop unknown ops, sort, drop duplicates */
    size_t m = 0;
    for (size_t i = 0; i < nops; i++)
        if (ops[i] != NONE)
            ops[m++] = ops[i];
    qsort(ops, m, sizeof *ops, size_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!k || ops[k - 1] != ops[i])
            ops[k++] = ops[i];
    int rc = fl_verdict_add_cex(c->out, c->r[rid].name, fl_buf_str(&why), ops, k);
    fl_buf_free(&why);
    return rc;
}

/* Report the dissenters of a violating interval ending at t_end. */
static int report(struct ctx *c, int64_t t_end, int at_end)
{
    int64_t len = t_end - c->start, best = -1;
    size_t best_rid = NONE;    /* NONE with best >= 0: the untouched group */
    for (size_t i = 0; i < c->ntouched; i++) {
        size_t rid = c->touched[i];
        stretch_end(c, rid, t_end);
        if (c->r[rid].dis_total > best) {
            best = c->r[rid].dis_total;
            best_rid = rid;
        }
    }
    /* the replicas never sampled during the interval: all on c->agreed */
    int64_t group_d = -1;
    if (c->nactive > c->ntouched) {
        group_d = len - majtime(c, c->agreed, t_end);
        if (group_d > best) {
            best = group_d;
            best_rid = NONE;
        }
    }
    int over = best > c->within_us;
    for (size_t i = 0; i < c->ntouched; i++) {
        size_t rid = c->touched[i];
        const struct rep *r = &c->r[rid];
        if (over ? r->dis_total <= c->within_us : rid != best_rid)
            continue;
        size_t ops[3] = {r->best_start, r->best_end, r->best_witness};
        int rc = add_dissent(c, rid, r->best_val, r->best_against, ops, 3, t_end, at_end);
        if (rc)
            return rc;
    }
    if (over ? group_d <= c->within_us : best_rid != NONE)
        return 0;
    size_t agst = against(c, c->agreed);
    for (size_t h = c->v[c->agreed].head; h != NONE; h = c->r[h].next) {
        if (c->r[h].epoch == c->epoch)
            continue;
        size_t ops[3] = {c->r[h].last_op, c->r[h].last_op, witness(c, agst, h)};
        int rc = add_dissent(c, h, c->agreed, agst, ops, 3, t_end, at_end);
        if (rc || !over)
            return rc;
    }
    return 0;
}

/* ---- the sweep ------------------------------------------------------------ */

static void interval_start(struct ctx *c, int64_t t, size_t rid, size_t op, size_t agreed)
{
    c->open = 1;
    c->epoch++;
    c->start = t;
    c->maj_since = t;
    c->agreed = agreed;
    c->ntouched = 0;
    touch(c, rid);
    stretch_begin(c, rid, t, op);
}

static int interval_end(struct ctx *c, int64_t t, int at_end)
{
    int64_t len = t - c->start;
    c->open = 0;
    c->intervals++;
    if (len > c->longest) {
        c->longest = len;
        c->longest_start = c->start;
    }
    if (at_end)
        c->open_len = len;
    if (len <= c->within_us)
        return 0;
    c->violations++;
    return report(c, t, at_end);
}

static int on_sample(struct ctx *c, const struct fl_op *op)
{
    size_t id = value_id(c, op->value);
    if (id == IGNORED)
        return 0;
    size_t rid = rep_id(c, op->key);
    if (id == NONE || rid == NONE)
        return FL_ENOMEM;
    struct rep *r = &c->r[rid];
    int64_t t = op->time_us;
    size_t opi = (size_t)op->index;
    c->counted++;
    c->last_time = t;
    c->v[id].last_op = opi;
    if (c->open)
        touch(c, rid);
    if (r->val == id) {
        r->last_op = opi;
        return 0;
    }
    size_t agreed = c->major;   /* what everyone held, when no interval is open */
    if (r->val != NONE) {
        if (c->open)
            stretch_end(c, rid, t);
        unhold(c, rid);
    } else {
        c->nactive++;
    }
    hold(c, rid, id, t);
    r->last_op = opi;
    update_major(c, t);
    if (!c->open) {
        if (c->ndistinct > 1)
            interval_start(c, t, rid, opi, agreed);
        return 0;
    }
    stretch_begin(c, rid, t, opi);
    return c->ndistinct == 1 ? interval_end(c, t, 0) : 0;
}

static int summarize(struct ctx *c)
{
    const char *probe = c->args->v[P_PROBE].s;
    struct fl_verdict *v = c->out;
    char tw[32], tl[32], ts[32];
    fl_format_duration((uint64_t)(c->within_us / 1000), tw, sizeof tw);
    fl_fmt_time(tl, sizeof tl, c->longest);
    fl_fmt_time(ts, sizeof ts, c->longest_start);
    if (c->nr < 2) {
        v->validity = FL_UNKNOWN;
        if (c->nr == 0)
            return fl_verdict_summary(v, "no sample of %s counts (ok, with a replica key, "
                                      "value not ignored)", probe);
        return fl_verdict_summary(v, "only one replica of %s reported (%.40s, %zu samples): "
                                  "nothing to compare", probe, c->r[0].name, c->counted);
    }
    if (c->violations) {
        v->validity = FL_INVALID;
        return fl_verdict_summary(v, "%zu of %zu disagreements between the %zu replicas of %s "
                                  "lasted longer than %s (longest %s, from %s)",
                                  c->violations, c->intervals, c->nr, probe, tw, tl, ts);
    }
    v->validity = FL_VALID;
    if (!c->intervals)
        return fl_verdict_summary(v, "the %zu replicas of %s always agreed (%zu samples)",
                                  c->nr, probe, c->counted);
    char to[96] = "";
    if (c->open_len >= 0) {
        char t[32];
        fl_fmt_time(t, sizeof t, c->open_len);
        snprintf(to, sizeof to, "; the last one was still open at the end, after %s", t);
    }
    char times[32] = "once";
    if (c->intervals > 1)
        snprintf(times, sizeof times, "%zu times", c->intervals);
    return fl_verdict_summary(v, "the %zu replicas of %s disagreed %s, never longer "
                              "than %s (longest %s)%s", c->nr, probe, times, tw, tl, to);
}

static void ctx_free(struct ctx *c)
{
    free(c->v);
    free(c->heap);
    free(c->r);
    free(c->touched);
    fl_pmap_free(&c->vmap);
    fl_pmap_free(&c->rmap);
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct ctx c = {.h = h, .args = args, .out = out, .major = NONE, .open_len = -1,
                    .within_us = (int64_t)args->v[P_WITHIN].ms * 1000};
    size_t *idx = NULL, n = 0;
    int rc = fl_probe_samples(h, args->v[P_PROBE].s, &idx, &n);
    if (rc || (rc = fl_pmap_init(&c.vmap, 16)) || (rc = fl_pmap_init(&c.rmap, 16)))
        goto out;
    for (size_t j = 0; j < n; j++) {
        const struct fl_op *op = fl_history_get(h, idx[j]);
        if (op->type != FL_OK || !op->key || !op->value)
            continue;
        if ((rc = on_sample(&c, op)))
            goto out;
    }
    if (c.open && (rc = interval_end(&c, c.last_time, 1)))
        goto out;
    rc = summarize(&c);
out:
    free(idx);
    ctx_free(&c);
    return rc;
}

const struct fl_checker_type fl_checker_agreement = {
    .name = "agreement",
    .help = "the replicas report the same value, except for disagreements shorter than T",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
