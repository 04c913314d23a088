/* index.c - per-key index, fault windows and probe samples for checkers. */
#include "checkers/index.h"

#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- pointer map ---------------------------------------------------------- */

static size_t word_hash(uintptr_t k)
{
    /* interned pointers are 8-byte aligned and close together: mix the
     * low bits away with a Fibonacci multiply */
    uint64_t x = (uint64_t)k;
    x ^= x >> 29;
    x *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(x ^ (x >> 32));
}

int fl_pmap_init(struct fl_pmap *m, size_t hint)
{
    size_t cap = 64;
    while (cap < hint * 2)
        cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        fl_pmap_free(m);
        return FL_ENOMEM;
    }
    return 0;
}

void fl_pmap_free(struct fl_pmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

size_t *fl_pmap_get(const struct fl_pmap *m, uintptr_t k)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t j = word_hash(k) & mask;; j = (j + 1) & mask) {
        if (m->keys[j] == k)
            return &m->vals[j];
        if (m->keys[j] == 0)
            return NULL;
    }
}

static int pmap_grow(struct fl_pmap *m)
{
    struct fl_pmap bigger;
    if (fl_pmap_init(&bigger, m->cap))
        return FL_ENOMEM;
    size_t mask = bigger.cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = word_hash(m->keys[i]) & mask;
        while (bigger.keys[j])
            j = (j + 1) & mask;
        bigger.keys[j] = m->keys[i];
        bigger.vals[j] = m->vals[i];
    }
    bigger.n = m->n;
    fl_pmap_free(m);
    *m = bigger;
    return 0;
}

size_t *fl_pmap_put(struct fl_pmap *m, uintptr_t k, size_t def, int *added)
{
    if (added)
        *added = 0;
    if ((m->n + 1) * 2 > m->cap && pmap_grow(m))
        return NULL;
    size_t mask = m->cap - 1;
    size_t j = word_hash(k) & mask;
    while (m->keys[j]) {
        if (m->keys[j] == k)
            return &m->vals[j];
        j = (j + 1) & mask;
    }
    m->keys[j] = k;
    m->vals[j] = def;
    m->n++;
    if (added)
        *added = 1;
    return &m->vals[j];
}

/* ---- key index ------------------------------------------------------------ */

/* fl_grow: see index.h. */
int fl_grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    if (c > SIZE_MAX / sz)
        return FL_ENOMEM;
    void *q = realloc(*p, c * sz);
    if (!q)
        return FL_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

void fl_keyidx_free(struct fl_keyidx *ix)
{
    free(ix->keys);
    free(ix->start);
    free(ix->ops);
    memset(ix, 0, sizeof *ix);
}

/* Pass 1 records (op, key number) pairs of the matching ops; a counting
 * sort by key number then lays them out grouped, history order kept. */
int fl_keyidx_build(struct fl_keyidx *ix, const struct fl_history *h,
                    const char *source)
{
    memset(ix, 0, sizeof *ix);
    struct fl_strmatch src;
    fl_strmatch_init(&src, source);
    struct fl_pmap map;
    size_t *pair_op = NULL, *count = NULL;
    uint32_t *pair_key = NULL;
    size_t npairs = 0, cap_op = 0, cap_key = 0, cap_keys = 0, cap_count = 0;
    int rc = FL_ENOMEM;
    if (fl_pmap_init(&map, 1024))
        return FL_ENOMEM;
    size_t len = fl_history_len(h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (!op->key || !fl_strmatch(&src, op->source))
            continue;
        int added;
        size_t *slot = fl_pmap_put(&map, (uintptr_t)op->key, ix->nkeys, &added);
        if (!slot)
            goto out;
        size_t k = *slot;
        if (added) {
            if (fl_grow((void **)&ix->keys, &cap_keys, ix->nkeys + 1, sizeof *ix->keys) ||
                fl_grow((void **)&count, &cap_count, ix->nkeys + 1, sizeof *count))
                goto out;
            ix->keys[ix->nkeys] = op->key;
            count[ix->nkeys] = 0;
            ix->nkeys++;
        }
        if (fl_grow((void **)&pair_op, &cap_op, npairs + 1, sizeof *pair_op) ||
            fl_grow((void **)&pair_key, &cap_key, npairs + 1, sizeof *pair_key))
            goto out;
        pair_op[npairs] = i;
        pair_key[npairs] = (uint32_t)k;
        npairs++;
        count[k]++;
    }
    ix->start = malloc((ix->nkeys + 1) * sizeof *ix->start);
    ix->ops = malloc((npairs ? npairs : 1) * sizeof *ix->ops);
    if (!ix->start || !ix->ops)
        goto out;
    size_t acc = 0;
    for (size_t k = 0; k < ix->nkeys; k++) {
        ix->start[k] = acc;
        acc += count[k];
        count[k] = ix->start[k];   /* now: next free position of key k */
    }
    ix->start[ix->nkeys] = acc;
    for (size_t p = 0; p < npairs; p++)
        ix->ops[count[pair_key[p]]++] = pair_op[p];
    rc = 0;
out:
    fl_pmap_free(&map);
    free(pair_op);
    free(pair_key);
    free(count);
    return rc;
}

/* ---- faults --------------------------------------------------------------- */

static const char *fault_desc(const struct fl_op *op)
{
    if (op->value)
        return op->value;
    return op->key ? op->key : "fault";
}

/* Pair a heal with the earliest open fault of its process, preferring one
 * on the same key. open[] holds fault numbers whose heal is still unknown;
 * faults are few, and a process rarely has more than one open. */
static void pair_heal(struct fl_fault_win *w, size_t *open, size_t *nopen,
                      const struct fl_op *heal, const int32_t *proc,
                      const char *const *key)
{
    size_t pick = SIZE_MAX;
    for (size_t j = 0; j < *nopen; j++) {
        size_t f = open[j];
        if (proc[f] != heal->process)
            continue;
        if (key[f] == heal->key) {
            pick = j;
            break;
        }
        if (pick == SIZE_MAX)
            pick = j;
    }
    if (pick == SIZE_MAX)
        return;
    size_t f = open[pick];
    w[f].end = heal->time_us;
    w[f].heal_op = (size_t)heal->index;
    memmove(open + pick, open + pick + 1, (*nopen - pick - 1) * sizeof *open);
    (*nopen)--;
}

int fl_faults_collect(const struct fl_history *h, struct fl_fault_win **out,
                      size_t *n)
{
    struct fl_strmatch mfault, mheal;
    fl_strmatch_init(&mfault, FL_F_FAULT);
    fl_strmatch_init(&mheal, FL_F_HEAL);
    struct fl_fault_win *w = NULL;
    size_t *open = NULL;
    int32_t *proc = NULL;
    const char **key = NULL;
    size_t nw = 0, cap_w = 0, cap_open = 0, cap_proc = 0, cap_key = 0, nopen = 0;
    size_t len = fl_history_len(h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->type != FL_OK)
            continue;
        if (fl_strmatch(&mfault, op->f)) {
            if (fl_grow((void **)&w, &cap_w, nw + 1, sizeof *w) ||
                fl_grow((void **)&open, &cap_open, nopen + 1, sizeof *open) ||
                fl_grow((void **)&proc, &cap_proc, nw + 1, sizeof *proc) ||
                fl_grow((void **)&key, &cap_key, nw + 1, sizeof *key))
                goto nomem;
            w[nw] = (struct fl_fault_win){op->time_us, op->time_us, i, SIZE_MAX,
                                          fault_desc(op)};
            proc[nw] = op->process;
            key[nw] = op->key;
            open[nopen++] = nw++;
        } else if (nopen && fl_strmatch(&mheal, op->f)) {
            pair_heal(w, open, &nopen, op, proc, key);
        }
    }
    free(open);
    free(proc);
    free(key);
    *out = w;
    *n = nw;
    return 0;
nomem:
    free(w);
    free(open);
    free(proc);
    free(key);
    *out = NULL;
    *n = 0;
    return FL_ENOMEM;
}

static int span_cmp(const void *a, const void *b)
{
    const struct fl_span *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

int fl_fault_spans(const struct fl_fault_win *w, size_t n, struct fl_span **out,
                   size_t *nout)
{
    *out = NULL;
    *nout = 0;
    struct fl_span *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return FL_ENOMEM;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (w[i].heal_op != SIZE_MAX && w[i].end > w[i].start)
            s[ns++] = (struct fl_span){w[i].start, w[i].end};
    qsort(s, ns, sizeof *s, span_cmp);
    size_t m = 0;
    for (size_t i = 0; i < ns; i++) {
        if (m && s[i].start <= s[m - 1].end) {
            if (s[i].end > s[m - 1].end)
                s[m - 1].end = s[i].end;
        } else {
            s[m++] = s[i];
        }
    }
    *out = s;
    *nout = m;
    return 0;
}

long fl_span_find(const struct fl_span *s, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;   /* first span with start > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].start <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || t >= s[lo - 1].end)
        return -1;
    return (long)(lo - 1);
}

/* ---- probe samples -------------------------------------------------------- */

struct timed {
    int64_t t;
    size_t i;
};

static int timed_cmp(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Sort history indexes by op time (index among equal times). */
static int sort_by_time(const struct fl_history *h, size_t *s, size_t n)
{
    struct timed *t = malloc(n * sizeof *t);
    if (!t)
        return FL_ENOMEM;
    for (size_t k = 0; k < n; k++)
        t[k] = (struct timed){fl_history_get(h, s[k])->time_us, s[k]};
    qsort(t, n, sizeof *t, timed_cmp);
    for (size_t k = 0; k < n; k++)
        s[k] = t[k].i;
    free(t);
    return 0;
}

/* Samples of one probe: completions, plus invokes that never got one. A
 * probe process has one sample in flight at a time, so an invoke is
 * closed by the next completion of its process; one that is still open at
 * the next invoke or at the end of the history never completed. It is
 * kept as a sample (Jepsen's info: indeterminate, and never healthy)
 * rather than dropped: a probe that hung forever is the loudest
 * unhealthy sample there is. */
struct sample_list {
    size_t *s, n, cap;
    int sorted;
};

static int push_sample(const struct fl_history *h, struct sample_list *l, size_t i)
{
    if (fl_grow((void **)&l->s, &l->cap, l->n + 1, sizeof *l->s))
        return FL_ENOMEM;
    if (l->n) {
        const struct fl_op *prev = fl_history_get(h, l->s[l->n - 1]);
        const struct fl_op *op = fl_history_get(h, i);
        if (op->time_us < prev->time_us || (op->time_us == prev->time_us && i < l->s[l->n - 1]))
            l->sorted = 0;
    }
    l->s[l->n++] = i;
    return 0;
}

int fl_probe_samples(const struct fl_history *h, const char *name,
                     size_t **out, size_t *n)
{
    struct fl_strmatch src, fprobe;
    fl_strmatch_init(&src, name);
    fl_strmatch_init(&fprobe, FL_F_PROBE);
    struct fl_pmap open;      /* process + 1 -> its open invoke, SIZE_MAX: none */
    struct sample_list l = {NULL, 0, 0, 1};
    *out = NULL;
    *n = 0;
    if (fl_pmap_init(&open, 16))
        return FL_ENOMEM;
    size_t len = fl_history_len(h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (!fl_strmatch(&fprobe, op->f) || !fl_strmatch(&src, op->source))
            continue;
        size_t *slot = fl_pmap_put(&open, (uintptr_t)(uint32_t)op->process + 1, SIZE_MAX, NULL);
        if (!slot)
            goto nomem;
        size_t add = op->type == FL_INVOKE ? *slot : i;   /* an earlier invoke left open */
        *slot = op->type == FL_INVOKE ? i : SIZE_MAX;
        if (add != SIZE_MAX && push_sample(h, &l, add))
            goto nomem;
    }
    for (size_t k = 0; k < open.cap; k++)
        if (open.keys[k] && open.vals[k] != SIZE_MAX && push_sample(h, &l, open.vals[k]))
            goto nomem;
    fl_pmap_free(&open);
    /* the runner's clock is monotonic, but a loaded file might not be, and
     * the invokes left open come last */
    if (!l.sorted && sort_by_time(h, l.s, l.n)) {
        free(l.s);
        return FL_ENOMEM;
    }
    *out = l.s;
    *n = l.n;
    return 0;
nomem:
    fl_pmap_free(&open);
    free(l.s);
    return FL_ENOMEM;
}

/* ---- key groups ----------------------------------------------------------- */

void fl_keygroups_free(struct fl_keygroups *g)
{
    free(g->keys);
    free(g->start);
    memset(g, 0, sizeof *g);
}

struct named {
    const char *key;
    size_t g;           /* group number in order of first appearance */
};

static int named_cmp(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    if (!x->key || !y->key)
        return (x->key != NULL) - (y->key != NULL);
    int c = strcmp(x->key, y->key);
    return c ? c : (x->g > y->g) - (x->g < y->g);
}

static int one_group(struct fl_keygroups *g, const char *key, size_t n)
{
    g->keys = malloc(sizeof *g->keys);
    g->start = malloc(2 * sizeof *g->start);
    if (!g->keys || !g->start) {
        fl_keygroups_free(g);
        return FL_ENOMEM;
    }
    g->n = 1;
    g->keys[0] = key;
    g->start[0] = 0;
    g->start[1] = n;
    return 0;
}

/* Number the keys in order of first appearance (a map by interned
 * pointer; keyless ops get a group of their own), then lay the groups out
 * in name order with a counting sort, which keeps each group's order. */
int fl_keygroups_build(struct fl_keygroups *g, const struct fl_history *h,
                       size_t *idx, size_t n)
{
    memset(g, 0, sizeof *g);
    if (n == 0)
        return 0;
    const char *k0 = fl_history_get(h, idx[0])->key;
    size_t same = 1;
    while (same < n && fl_history_get(h, idx[same])->key == k0)
        same++;
    if (same == n)   /* the common case: a probe that is not per-replica */
        return one_group(g, k0, n);
    struct fl_pmap map;
    if (fl_pmap_init(&map, 64))
        return FL_ENOMEM;
    uint32_t *gid = malloc(n * sizeof *gid);
    size_t *count = NULL, *tmp = NULL, ng = 0, cap_names = 0, cap_count = 0;
    size_t nokey = SIZE_MAX;
    struct named *names = NULL;
    int rc = FL_ENOMEM;
    if (!gid)
        goto out;
    for (size_t j = 0; j < n; j++) {
        const char *key = fl_history_get(h, idx[j])->key;
        int added = 0;
        size_t id;
        if (!key) {
            added = nokey == SIZE_MAX;
            if (added)
                nokey = ng;
            id = nokey;
        } else {
            size_t *slot = fl_pmap_put(&map, (uintptr_t)key, ng, &added);
            if (!slot)
                goto out;
            id = *slot;
        }
        if (added) {
            if (fl_grow((void **)&names, &cap_names, ng + 1, sizeof *names) ||
                fl_grow((void **)&count, &cap_count, ng + 1, sizeof *count))
                goto out;
            names[ng] = (struct named){key, ng};
            count[ng] = 0;
            ng++;
        }
        gid[j] = (uint32_t)id;
        count[id]++;
    }
    qsort(names, ng, sizeof *names, named_cmp);
    g->keys = malloc(ng * sizeof *g->keys);
    g->start = malloc((ng + 1) * sizeof *g->start);
    tmp = malloc(n * sizeof *tmp);
    if (!g->keys || !g->start || !tmp)
        goto out;
    size_t acc = 0;
    for (size_t r = 0; r < ng; r++) {
        size_t c = count[names[r].g];
        g->keys[r] = names[r].key;
        g->start[r] = acc;
        count[names[r].g] = acc;   /* now: next free position of the group */
        acc += c;
    }
    g->start[ng] = acc;
    g->n = ng;
    for (size_t j = 0; j < n; j++)
        tmp[count[gid[j]]++] = idx[j];
    memcpy(idx, tmp, n * sizeof *idx);
    rc = 0;
out:
    if (rc)
        fl_keygroups_free(g);
    fl_pmap_free(&map);
    free(gid);
    free(count);
    free(tmp);
    free(names);
    return rc;
}

/* ---- formatting ----------------------------------------------------------- */

void fl_fmt_time(char *buf, size_t len, int64_t time_us)
{
    snprintf(buf, len, "%.1fs", (double)time_us / 1e6);
}

void fl_fmt_outcome(char *buf, size_t len, const struct fl_op *op)
{
    if (op->type == FL_INVOKE)
        snprintf(buf, len, "no answer recorded (invoked, never completed)");
    else if (op->type == FL_OK)
        snprintf(buf, len, "%.60s", op->value ? op->value : "ok");
    else
        snprintf(buf, len, "%s: %.60s", fl_optype_name(op->type),
                 op->error ? op->error : op->value ? op->value : "no answer");
}

size_t fl_keep_ends(const size_t *in, size_t n, size_t *out, size_t max)
{
    if (n <= max) {
        if (n)
            memcpy(out, in, n * sizeof *out);
        return n;
    }
    size_t head = max / 2, tail = max - head;
    memcpy(out, in, head * sizeof *out);
    memcpy(out + head, in + n - tail, tail * sizeof *out);
    return max;
}
