/* index.h - indexes over a history shared by the checkers.
 *
 * Everything here leans on interning (history.h): within one history equal
 * strings share one pointer, so once a wanted name has been seen, later ops
 * are matched by pointer and keys are hashed by pointer. That is what keeps a
 * million-op history checkable in tens of milliseconds.
 */
#ifndef FL_CHECKERS_INDEX_H
#define FL_CHECKERS_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "history/history.h"
#include "base/util.h"

/* Match op strings against a caller's string (not interned): the first
 * equal op string is remembered and every later one compared by pointer. */
struct fl_strmatch {
    const char *want;   /* caller's string, may be NULL (matches nothing) */
    const char *seen;   /* the history's interned copy, once met */
    const char *miss;   /* last pointer that did not match */
};

static inline void fl_strmatch_init(struct fl_strmatch *m, const char *want)
{
    m->want = want;
    m->seen = NULL;
    m->miss = NULL;
}

static inline int fl_strmatch(struct fl_strmatch *m, const char *s)
{
    if (m->seen)
        return s == m->seen;
    if (!s || !m->want || s == m->miss)
        return 0;
    if (strcmp(s, m->want) == 0) {
        m->seen = s;
        return 1;
    }
    m->miss = s;
    return 0;
}

/* Open-addressing map from a non-zero word (an interned pointer, a process
 * number + 1) to a size_t. */
/* Make room for need elements of sz bytes in *p (capacity *cap, doubling
 * from 16). 0 or FL_ENOMEM (then *p is unchanged). */
int fl_grow(void **p, size_t *cap, size_t need, size_t sz);

struct fl_pmap {
    uintptr_t *keys;    /* 0: empty slot */
    size_t *vals;
    size_t cap, n;      /* cap: power of two */
};

int fl_pmap_init(struct fl_pmap *m, size_t hint);
void fl_pmap_free(struct fl_pmap *m);
/* The value slot of k (k != 0), inserting it with value def when absent
 * (*added = 1 then). NULL when out of memory. The slot pointer is valid
 * until the next insertion. */
size_t *fl_pmap_put(struct fl_pmap *m, uintptr_t k, size_t def, int *added);
/* The value slot of k, or NULL when absent. */
size_t *fl_pmap_get(const struct fl_pmap *m, uintptr_t k);

/* Per-key index of one source's ops (CSR layout): the ops of key k are
 * ops[start[k] .. start[k + 1]), in history order. Keys are numbered in
 * order of first appearance. */
struct fl_keyidx {
    size_t nkeys;
    const char **keys;  /* interned by the history */
    size_t *start;      /* nkeys + 1 entries */
    size_t *ops;        /* history indexes */
};

/* Index every op of h whose source equals `source` and that has a key.
 * Returns 0 or FL_ENOMEM; free with fl_keyidx_free in both cases. */
int fl_keyidx_build(struct fl_keyidx *ix, const struct fl_history *h,
                    const char *source);
void fl_keyidx_free(struct fl_keyidx *ix);

/* A fault as the checkers see it: injected at `start`, over at `end` (its
 * heal when it had one, else the injection itself). */
struct fl_fault_win {
    int64_t start, end;
    size_t fault_op;
    size_t heal_op;     /* SIZE_MAX: no heal (an instant fault) */
    const char *desc;   /* the op's value, key or "fault"; never NULL */
};

/* Every ok fault of h in history order, each paired with the first later
 * ok heal of the same process (the same key first). *out is malloc'ed (NULL
 * when there is none). Returns 0 or FL_ENOMEM. */
int fl_faults_collect(const struct fl_history *h, struct fl_fault_win **out,
                      size_t *n);

/* Time spans [start, end) during which at least one healed fault was
 * active, merged and sorted. Instant faults make no span. */
struct fl_span {
    int64_t start, end;
};
int fl_fault_spans(const struct fl_fault_win *w, size_t n, struct fl_span **out,
                   size_t *nout);
/* Index of the span containing t (start <= t < end), or -1. */
long fl_span_find(const struct fl_span *s, size_t n, int64_t t);

/* Indexes of the samples of probe `name` (f == "probe"), sorted by time
 * (history order among equal times): every completion (ok/fail/info), and
 * every invoke that never got one (paired by process: a probe process has
 * one sample in flight at a time). Such an invoke is indeterminate, and
 * never healthy. *out is malloc'ed. Returns 0 or FL_ENOMEM. */
int fl_probe_samples(const struct fl_history *h, const char *name,
                     size_t **out, size_t *n);

/* Ops grouped by key, e.g. the samples of a per-replica probe (key = the
 * instance id): group g is idx[start[g] .. start[g + 1]) of the array given
 * to fl_keygroups_build, in the order it had (time order stays). Groups
 * are never empty; the keyless group, if any, comes first (keys[0] ==
 * NULL), the others by key name. */
struct fl_keygroups {
    size_t n;
    const char **keys;  /* interned by the history */
    size_t *start;      /* n + 1 entries */
};

/* Reorder idx[0..n) (history indexes) stably so that ops of one key are
 * adjacent, and describe the groups in *g. When every op has the same key
 * (all keyless, say) idx is left alone and there is one group (none when
 * n == 0). Returns 0 or FL_ENOMEM; free with fl_keygroups_free in both
 * cases. */
int fl_keygroups_build(struct fl_keygroups *g, const struct fl_history *h,
                       size_t *idx, size_t n);
void fl_keygroups_free(struct fl_keygroups *g);

/* ---- probe samples by replica (probe_series.c) ----
 *
 * The samples of one probe, judged healthy or not, grouped by replica: a
 * per-replica probe keys each sample with the instance it sampled
 * ("api.1"); a plain probe's samples have no key and form one series. */
struct fl_samples {
    const struct fl_history *h;
    const char *probe;
    size_t *idx;               /* sample op indexes, by replica, time order */
    size_t n;
    unsigned char *healthy;    /* per sample */
    struct fl_keygroups groups;
    int keyed;                 /* judge replica by replica */
    struct fl_fault_win *faults;
    size_t nfaults;
    struct fl_span *spans;     /* merged active fault windows */
    size_t nspans;
};

/* The samples of one replica (of the whole probe when not keyed). The
 * pointers borrow from the fl_samples. */
struct fl_series {
    const struct fl_samples *s;
    const size_t *idx;
    const unsigned char *healthy;
    size_t n;                  /* > 0 */
    const char *name;          /* the replica; NULL when not keyed */
};

/* Load probe `probe`'s samples and the faults of h. A sample is healthy
 * when it is ok and, with expect != NULL, recorded exactly expect. With
 * replica != NULL only that replica's samples are kept, and they are
 * judged as a replica. Strings are borrowed for the life of *s. Returns 0
 * or FL_ENOMEM; free with fl_samples_free in both cases. */
int fl_samples_load(struct fl_samples *s, const struct fl_history *h, const char *probe,
                    const char *expect, const char *replica);
void fl_samples_free(struct fl_samples *s);
/* Series g of s->groups.n. */
struct fl_series fl_series_of(const struct fl_samples *s, size_t g);
/* First sample of r at or after t (r->n when none). */
size_t fl_series_first_at(const struct fl_series *r, int64_t t);

static inline int64_t fl_series_time(const struct fl_series *r, size_t j)
{
    return fl_history_get(r->s->h, r->idx[j])->time_us;
}

/* The end of fault f as recovery sees it: its own end, pushed later while
 * another healed fault that overlaps it goes on. */
int64_t fl_fault_effective_end(const struct fl_samples *s, const struct fl_fault_win *f);
/* The counterexample key of replica r: "store@api.2". */
void fl_series_key(char *buf, size_t len, const struct fl_series *r);
/* The verdict when probe s->probe (or only `replica` of it) has no sample:
 * unknown. Returns 0 or FL_ENOMEM. */
struct fl_verdict;
int fl_samples_none(const struct fl_samples *s, const char *replica, struct fl_verdict *out);
/* A duration in microseconds for arithmetic with op times: ms * 1000,
 * held to FL_TIME_MAX_US so that time + duration never overflows. */
static inline int64_t fl_duration_us(uint64_t ms)
{
    return ms > (uint64_t)(FL_TIME_MAX_US / 1000) ? FL_TIME_MAX_US : (int64_t)ms * 1000;
}

/* "api.1, api.2": names[0..n) joined, at most 8 then "... (N more)". */
void fl_fmt_names(char *buf, size_t len, const char *const *names, size_t n);

/* "12.3s": seconds since the run started, one decimal. */
void fl_fmt_time(char *buf, size_t len, int64_t time_us);
/* What a probe sample or a poll recorded: the value, or "fail: why". */
void fl_fmt_outcome(char *buf, size_t len, const struct fl_op *op);

/* Copy in[0..n) to out keeping at most max entries: the first and the last
 * max/2 when there are more. Returns how many were copied. */
size_t fl_keep_ends(const size_t *in, size_t n, size_t *out, size_t max);

/* Max ops kept in one counterexample. */
#define FL_CEX_OPS 20

#endif
