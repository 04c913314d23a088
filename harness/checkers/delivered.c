/* delivered.c - boundary accounting: everything the source produced
 * arrives at the sink (silent message loss).
 *
 * Two probes record lists: `source` reads what the source holds (a final
 * read of a third-party API's messages), `sink` what the system ingested.
 * Each sample's value is a JSON array of item ids (a probe's `record:`
 * pointing at it). Per item, first listed by the source at t:
 *   valid    a sink sample at or before t + within lists it;
 *   invalid  the sink listed it only later (late), or a sink sample after
 *            t + within still did not (lost): the counterexample names the
 *            item, when the source listed it first and last, and the last
 *            sink read;
 *   unknown  the sink was not read after t + within (the run stopped
 *            watching too early), or either probe never answered.
 * Items only the sink lists are not this checker's business. */
#include "checkers/checker.h"
#include "base/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SOURCE, P_SINK, P_WITHIN };

static const struct fl_param params[] = {
    [P_SOURCE] = {"source", FL_PT_PROBE, 1, NULL, "probe listing what the source produced (a JSON array of ids)"},
    [P_SINK] = {"sink", FL_PT_PROBE, 1, NULL, "probe listing what reached the sink (a JSON array of ids)"},
    [P_WITHIN] = {"within", FL_PT_DURATION, 1, NULL, "time allowed from the source listing an item to the sink"},
};

struct item {
    char *id;
    int64_t src_first, src_last, sink_first;   /* -1: never */
    size_t src_first_op, src_last_op, sink_op;
};

struct table {
    struct item *v;
    size_t n, cap;   /* cap a power of two, open addressing */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct item *lookup(struct table *t, const char *id, int add)
{
    if (add && (t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1024;
        struct item *nv = calloc(nc, sizeof *nv);
        if (!nv)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->v[i].id)
                continue;
            size_t k = hash(t->v[i].id) & (nc - 1);
            while (nv[k].id)
                k = (k + 1) & (nc - 1);
            nv[k] = t->v[i];
        }
        free(t->v);
        t->v = nv;
        t->cap = nc;
    }
    if (!t->cap)
        return NULL;
    size_t k = hash(id) & (t->cap - 1);
    while (t->v[k].id) {
        if (strcmp(t->v[k].id, id) == 0)
            return &t->v[k];
        k = (k + 1) & (t->cap - 1);
    }
    if (!add)
        return NULL;
    struct item *it = &t->v[k];
    it->id = strdup(id);
    if (!it->id)
        return NULL;
    it->src_first = it->src_last = it->sink_first = -1;
    t->n++;
    return it;
}

static int by_first(const void *a, const void *b)
{
    const struct item *x = *(const struct item *const *)a, *y = *(const struct item *const *)b;
    return x->src_first < y->src_first ? -1 : x->src_first > y->src_first;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    const char *src = args->v[P_SOURCE].s, *sink = args->v[P_SINK].s;
    int64_t within = (int64_t)args->v[P_WITHIN].ms * 1000;
    struct table t = {0};
    size_t nsrc = 0, nsink = 0, bad = 0;
    int64_t sink_last = -1;
    int rc = 0;
    size_t len = fl_history_len(h);
    for (size_t i = 0; i < len && !rc; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->type != FL_OK || strcmp(op->f, FL_F_PROBE) || !op->value)
            continue;
        int is_src = !strcmp(op->source, src), is_sink = !strcmp(op->source, sink);
        if (!is_src && !is_sink)
            continue;
        json_t *a = json_loads(op->value, JSON_DECODE_ANY, NULL);
        if (!json_is_array(a)) {
            bad++;
            json_decref(a);
            continue;
        }
        if (is_src)
            nsrc++;
        if (is_sink) {
            nsink++;
            sink_last = op->time_us;
        }
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e) {
            const char *id = json_string_value(e);
            char num[32];
            if (!id && json_is_integer(e)) {
                snprintf(num, sizeof num, "%lld", (long long)json_integer_value(e));
                id = num;
            }
            if (!id)
                continue;
            struct item *it = lookup(&t, id, is_src);
            if (!it) {
                if (is_src)
                    rc = FL_ENOMEM;
                continue;
            }
            if (is_src) {
                if (it->src_first < 0) {
                    it->src_first = op->time_us;
                    it->src_first_op = op->index;
                }
                it->src_last = op->time_us;
                it->src_last_op = op->index;
            } else if (it->sink_first < 0) {
                it->sink_first = op->time_us;
                it->sink_op = op->index;
            }
        }
        json_decref(a);
    }
    /* Items the sink listed before the source did are in the table only
     * if the source listed them too: lookups from sink samples never add,
     * so a sink sample before the source's first one is missed. Read the
     * sink again for those. */
    for (size_t i = 0; i < len && !rc; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->type != FL_OK || strcmp(op->f, FL_F_PROBE) || !op->value || strcmp(op->source, sink))
            continue;
        json_t *a = json_loads(op->value, JSON_DECODE_ANY, NULL);
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e) {
            const char *id = json_string_value(e);
            struct item *it = id ? lookup(&t, id, 0) : NULL;
            if (it && (it->sink_first < 0 || op->time_us < it->sink_first)) {
                it->sink_first = op->time_us;
                it->sink_op = op->index;
            }
        }
        json_decref(a);
    }
    struct item **list = rc ? NULL : calloc(t.n ? t.n : 1, sizeof *list);
    if (!list && !rc)
        rc = FL_ENOMEM;
    size_t n = 0, lost = 0, late = 0, open = 0;
    for (size_t i = 0; list && i < t.cap; i++)
        if (t.v[i].id)
            list[n++] = &t.v[i];
    if (list)
        qsort(list, n, sizeof *list, by_first);
    for (size_t i = 0; list && i < n && !rc; i++) {
        struct item *it = list[i];
        int64_t due = it->src_first + within;
        char why[512];
        if (it->sink_first >= 0 && it->sink_first <= due)
            continue;
        if (it->sink_first >= 0) {
            late++;
            snprintf(why, sizeof why, "reached the sink %.3f s after the source listed it "
                     "(at %.3f s), allowed %.3f s", (double)(it->sink_first - it->src_first) / 1e6,
                     (double)it->src_first / 1e6, (double)within / 1e6);
            size_t ops[2] = {it->src_first_op, it->sink_op};
            rc = fl_verdict_add_cex(out, it->id, why, ops, 2);
        } else if (sink_last > due) {
            lost++;
            snprintf(why, sizeof why, "lost: last seen at the source (%s listed it from %.3f s "
                     "to %.3f s), never in the sink (last read %.3f s)", src,
                     (double)it->src_first / 1e6, (double)it->src_last / 1e6,
                     (double)sink_last / 1e6);
            size_t ops[2] = {it->src_first_op, it->src_last_op};
            rc = fl_verdict_add_cex(out, it->id, why, ops, it->src_first_op == it->src_last_op ? 1 : 2);
        } else {
            open++;
        }
    }
    for (size_t i = 0; i < t.cap; i++)
        free(t.v[i].id);
    free(t.v);
    free(list);
    if (rc)
        return rc;
    if (lost || late) {
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%zu of %zu items from %s never reached %s%s%zu late",
                                  lost, n, src, sink, late ? ", " : "; ", late);
    }
    if (!nsrc || !nsink || open || bad) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "%s", !nsrc ? "the source probe never listed anything"
                                  : !nsink ? "the sink probe never answered with a list"
                                  : open ? "the sink was not read long enough after the last items"
                                  : "some samples were not JSON arrays");
    }
    out->validity = FL_VALID;
    return fl_verdict_summary(out, "all %zu items from %s reached %s within %.3g s", n, src,
                              sink, (double)within / 1e6);
}

const struct fl_checker_type fl_checker_delivered = {
    .name = "delivered",
    .help = "every item a source probe lists reaches the sink probe's list within a time "
            "(silent message loss)",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
