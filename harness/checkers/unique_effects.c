/* unique_effects.c - each side effect happens once per logical request.
 *
 * The sink is read by a probe whose samples are JSON arrays of effect
 * records (e.g. `record: /effects` of GET /api/effects); `request` is the
 * JSON Pointer of the logical request id in a record. Every ok sample is
 * looked at, not only the last, so a sink that trims its history cannot
 * hide a duplicate that was once visible:
 *
 *   invalid  some sample holds two or more records of one request;
 *   unknown  no ok sample, an ok sample without a value (larger than the
 *            probe keeps: 64 KiB) or that is not a JSON array ("sink
 *            sample unreadable"), or records without the request id
 *            (they cannot be counted);
 *   valid    otherwise.
 *
 * Request ids compare as canonical JSON (sorted keys), so 1 and "1" are
 * two requests, and an object id with its members in another order is the
 * same one. The same record seen again in a later sample is not a
 * duplicate: samples are snapshots of one growing list.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "base/jsonptr.h"
#include "checkers/index.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_PROBE, P_REQUEST };

static const struct fl_param params[] = {
    [P_PROBE] = {"probe", FL_PT_PROBE, 1, NULL, "probe that reads the sink: each sample a JSON array of effect records"},
    [P_REQUEST] = {"request", FL_PT_STRING, 0, "/request", "JSON Pointer of the logical request id in an effect record", .hi = 256},
};

#define REPORTED_MAX 1000   /* counterexamples listed; every duplicate is counted */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct state {
    size_t samples, unreadable, no_id, effects, dups;
    char **seen;              /* ids already counted as duplicated, sorted */
    size_t nseen, capseen;
};

/* Whether id was already counted as duplicated; if not, remember it (so a
 * later sample showing it again does not count it twice). Returns 1, 0,
 * or FL_ENOMEM. */
static int already(struct state *s, const char *id)
{
    size_t lo = 0, hi = s->nseen;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->seen[mid], id);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (s->nseen == s->capseen) {
        size_t cap = s->capseen ? s->capseen * 2 : 64;
        char **p = realloc(s->seen, cap * sizeof *p);
        if (!p)
            return FL_ENOMEM;
        s->seen = p;
        s->capseen = cap;
    }
    char *copy = strdup(id);
    if (!copy)
        return FL_ENOMEM;
    memmove(&s->seen[lo + 1], &s->seen[lo], (s->nseen - lo) * sizeof *s->seen);
    s->seen[lo] = copy;
    s->nseen++;
    return 0;
}

/* One sample: its ids sorted, runs of equal ids reported. 0 or FL_ENOMEM. */
static int sample(struct state *s, const struct fl_op *op, const char *ptr, struct fl_verdict *out)
{
    json_t *doc = json_loads(op->value, JSON_DECODE_ANY, NULL);
    if (!json_is_array(doc)) {
        s->unreadable++;
        json_decref(doc);
        return 0;
    }
    s->samples++;
    size_t n = json_array_size(doc), m = 0;
    char **ids = calloc(n ? n : 1, sizeof *ids);
    int rc = ids ? 0 : FL_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *v = NULL;
        struct fl_error err = {0};
        if (fl_jsonptr_get(json_array_get(doc, i), ptr, &v, &err)) {
            s->no_id++;
            continue;
        }
        ids[m] = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        rc = ids[m] ? 0 : FL_ENOMEM;
        m += ids[m] != NULL;
    }
    s->effects = m > s->effects ? m : s->effects;
    qsort(ids, m, sizeof *ids, cmp_str);
    for (size_t i = 0; !rc && i < m;) {
        size_t e = i + 1;
        while (e < m && strcmp(ids[e], ids[i]) == 0)
            e++;
        int seen = e - i > 1 ? already(s, ids[i]) : 1;
        if (seen < 0) {
            rc = seen;
        } else if (!seen) {
            s->dups++;
            if (s->dups <= REPORTED_MAX) {
                char why[160], t[32];
                fl_fmt_time(t, sizeof t, op->time_us);
                snprintf(why, sizeof why, "%zu effects of one request in the sink (sample at %s)",
                         e - i, t);
                size_t idx = (size_t)op->index;
                rc = fl_verdict_add_cex(out, ids[i], why, &idx, 1);
            }
        }
        i = e;
    }
    for (size_t i = 0; i < m; i++)
        free(ids[i]);
    free(ids);
    json_decref(doc);
    return rc;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    size_t *idx = NULL, n = 0;
    int rc = fl_probe_samples(h, args->v[P_PROBE].s, &idx, &n);
    struct state s = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        const struct fl_op *op = fl_history_get(h, idx[i]);
        if (op->type != FL_OK)
            continue;
        if (op->value)
            rc = sample(&s, op, args->v[P_REQUEST].s, out);
        else
            s.unreadable++;   /* it answered, but no value: too large (the probe keeps
                               * 64 KiB) or the field missing */
    }
    free(idx);
    for (size_t i = 0; i < s.nseen; i++)
        free(s.seen[i]);
    free(s.seen);
    if (rc)
        return rc;
    const char *p = args->v[P_PROBE].s;
    if (s.dups) {
        out->validity = FL_INVALID;
        return fl_verdict_summary(out, "%zu requests had their side effect more than once in "
                                  "the sink read by %s", s.dups, p);
    }
    if (s.samples == 0) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "no sample of %s was a JSON array of effects (%zu sink "
                                  "samples unreadable): the sink was never read", p,
                                  s.unreadable);
    }
    if (s.unreadable) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "no duplicate seen, but %zu sink samples of %s "
                                  "unreadable (no value: larger than the probe keeps, or not "
                                  "a JSON array): a duplicate may have been in them",
                                  s.unreadable, p);
    }
    if (s.no_id) {
        out->validity = FL_UNKNOWN;
        return fl_verdict_summary(out, "no duplicate seen, but %zu effect records carry no "
                                  "request id at %s", s.no_id, args->v[P_REQUEST].s);
    }
    out->validity = FL_VALID;
    return fl_verdict_summary(out, "every request had its side effect at most once (%zu effects "
                              "in %zu samples of %s)", s.effects, s.samples, p);
}

const struct fl_checker_type fl_checker_unique_effects = {
    .name = "unique_effects",
    .help = "each side effect recorded at the sink (a probe's JSON array) happens once per "
            "logical request",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
