/* probe_series.c - a probe's samples, judged and grouped by replica, for
 * the recovers and always checkers (contracts in index.h). */
#include "checkers/index.h"

#include "base/error.h"
#include "checkers/checker.h"

#include <stdio.h>
#include <stdlib.h>

void fl_samples_free(struct fl_samples *s)
{
    free(s->idx);
    free(s->healthy);
    fl_keygroups_free(&s->groups);
    free(s->faults);
    free(s->spans);
    s->idx = NULL;
    s->healthy = NULL;
    s->faults = NULL;
    s->spans = NULL;
}

/* Keep only the samples of `replica` (compared by value: the caller's
 * string is not interned). */
static void keep_replica(struct fl_samples *s, const char *replica)
{
    struct fl_strmatch m;
    fl_strmatch_init(&m, replica);
    size_t k = 0;
    for (size_t j = 0; j < s->n; j++)
        if (fl_strmatch(&m, fl_history_get(s->h, s->idx[j])->key))
            s->idx[k++] = s->idx[j];
    s->n = k;
}

int fl_samples_load(struct fl_samples *s, const struct fl_history *h, const char *probe,
                    const char *expect, const char *replica)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->probe = probe;
    if (fl_probe_samples(h, probe, &s->idx, &s->n))
        return FL_ENOMEM;
    if (replica)
        keep_replica(s, replica);
    if (fl_keygroups_build(&s->groups, h, s->idx, s->n) ||
        fl_faults_collect(h, &s->faults, &s->nfaults) ||
        fl_fault_spans(s->faults, s->nfaults, &s->spans, &s->nspans))
        return FL_ENOMEM;
    s->keyed = replica || s->groups.n > 1 || (s->groups.n == 1 && s->groups.keys[0]);
    s->healthy = malloc(s->n ? s->n : 1);
    if (!s->healthy)
        return FL_ENOMEM;
    struct fl_strmatch want;
    fl_strmatch_init(&want, expect);
    for (size_t j = 0; j < s->n; j++) {
        const struct fl_op *op = fl_history_get(h, s->idx[j]);
        s->healthy[j] = op->type == FL_OK && (!expect || fl_strmatch(&want, op->value));
    }
    return 0;
}

struct fl_series fl_series_of(const struct fl_samples *s, size_t g)
{
    size_t a = s->groups.start[g], b = s->groups.start[g + 1];
    const char *name = NULL;
    if (s->keyed)   /* keyless samples mixed into a per-replica probe */
        name = s->groups.keys[g] ? s->groups.keys[g] : "(no replica key)";
    return (struct fl_series){s, s->idx + a, s->healthy + a, b - a, name};
}

size_t fl_series_first_at(const struct fl_series *r, int64_t t)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fl_series_time(r, mid) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void fl_fmt_names(char *buf, size_t len, const char *const *names, size_t n)
{
    size_t used = 0, shown = n < 8 ? n : 8;
    if (!len)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < shown && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%.50s", i ? ", " : "", names[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (shown < n && used < len)
        snprintf(buf + used, len - used, ", ... (%zu more)", n - shown);
}

int64_t fl_fault_effective_end(const struct fl_samples *s, const struct fl_fault_win *f)
{
    long sp = fl_span_find(s->spans, s->nspans, f->end);
    return sp < 0 ? f->end : s->spans[sp].end;
}

void fl_series_key(char *buf, size_t len, const struct fl_series *r)
{
    snprintf(buf, len, "%.100s@%.50s", r->s->probe, r->name ? r->name : "");
}

int fl_samples_none(const struct fl_samples *s, const char *replica, struct fl_verdict *out)
{
    out->validity = FL_UNKNOWN;
    if (replica)
        return fl_verdict_summary(out, "no sample of replica %s of probe %s in the history",
                                  replica, s->probe);
    return fl_verdict_summary(out, "no sample of probe %s in the history", s->probe);
}
