/* history.c - the append-only operation log and its string table.
 *
 * Ops live in fixed-size blocks rather than one realloc'ed array: a pointer
 * returned by fl_history_add (and handed to the sink) must stay valid for the
 * history's lifetime, and a realloc would move it. Strings are interned in an
 * open-addressing hash table whose bytes live in an arena of large chunks, so
 * a million ops cost a handful of allocations and checkers can compare
 * source/f/key by pointer.
 */
#include "history/history.h"
#include "base/error.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SHIFT 14
#define BLOCK_OPS ((size_t)1 << BLOCK_SHIFT)
#define BLOCK_MASK (BLOCK_OPS - 1)
#define DEFAULT_MAX_OPS ((size_t)50000000)
#define ARENA_CHUNK ((size_t)64 * 1024)

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
};

struct intern_slot {
    const char *s;      /* NULL: empty slot */
    uint64_t hash;
};

struct fl_history {
    struct fl_op **blocks;
    size_t nblocks, blocks_cap;
    size_t len, max_ops, dropped;

    struct intern_slot *slots;
    size_t nslots;      /* power of two */
    size_t nstrings;
    struct arena_chunk *arena;

    fl_history_sink sink;
    void *sink_ud;

    struct fl_history_origin origin;   /* set by the JSONL loader */
};

struct fl_history *fl_history_new(size_t max_ops)
{
    struct fl_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->max_ops = max_ops ? max_ops : DEFAULT_MAX_OPS;
    return h;
}

void fl_history_free(struct fl_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nblocks; i++)
        free(h->blocks[i]);
    free(h->blocks);
    free(h->slots);
    struct arena_chunk *c = h->arena;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(h);
}

void fl_history_set_sink(struct fl_history *h, fl_history_sink sink, void *ud)
{
    h->sink = sink;
    h->sink_ud = ud;
}

/* FNV-1a: strings here are short (names, ids, statuses), where it is as
 * fast as anything fancier. */
static uint64_t str_hash(const char *s, size_t n)
{
    uint64_t x = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= (unsigned char)s[i];
        x *= 1099511628211ULL;
    }
    return x;
}

/* Copy n bytes + NUL into the arena. Big strings get a chunk of their own
 * so they never waste the rest of a shared chunk. NULL when out of memory. */
static const char *arena_copy(struct fl_history *h, const char *s, size_t n)
{
    struct arena_chunk *c = h->arena;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > ARENA_CHUNK / 4 ? n + 1 : ARENA_CHUNK;
        struct arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        if (c && cap != ARENA_CHUNK) {
            /* keep the partly used chunk at the head for small strings */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            h->arena = nc;
        }
        c = nc;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static int intern_grow(struct fl_history *h)
{
    size_t n = h->nslots ? h->nslots * 2 : 1024;
    struct intern_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return FL_ENOMEM;
    for (size_t i = 0; i < h->nslots; i++) {
        if (!h->slots[i].s)
            continue;
        size_t j = (size_t)h->slots[i].hash & (n - 1);
        while (slots[j].s)
            j = (j + 1) & (n - 1);
        slots[j] = h->slots[i];
    }
    free(h->slots);
    h->slots = slots;
    h->nslots = n;
    return 0;
}

/* Returns the interned copy of s, or NULL when out of memory (s != NULL). */
const char *fl_history_intern(struct fl_history *h, const char *s)
{
    if (!s)
        return NULL;
    /* keep the load factor under 1/2 so probe chains stay short */
    if ((h->nstrings + 1) * 2 > h->nslots && intern_grow(h))
        return NULL;
    size_t n = strlen(s);
    uint64_t hash = str_hash(s, n);
    size_t mask = h->nslots - 1;
    size_t j = (size_t)hash & mask;
    while (h->slots[j].s) {
        if (h->slots[j].hash == hash && strcmp(h->slots[j].s, s) == 0)
            return h->slots[j].s;
        j = (j + 1) & mask;
    }
    const char *copy = arena_copy(h, s, n);
    if (!copy)
        return NULL;
    h->slots[j].s = copy;
    h->slots[j].hash = hash;
    h->nstrings++;
    return copy;
}

/* A free op slot at index h->len, or NULL when a new block cannot be had. */
static struct fl_op *op_slot(struct fl_history *h)
{
    size_t b = h->len >> BLOCK_SHIFT;
    if (b == h->nblocks) {
        if (h->nblocks == h->blocks_cap) {
            size_t cap = h->blocks_cap ? h->blocks_cap * 2 : 16;
            struct fl_op **blocks = realloc(h->blocks, cap * sizeof *blocks);
            if (!blocks)
                return NULL;
            h->blocks = blocks;
            h->blocks_cap = cap;
        }
        struct fl_op *blk = malloc(BLOCK_OPS * sizeof *blk);
        if (!blk)
            return NULL;
        h->blocks[h->nblocks++] = blk;
    }
    return &h->blocks[b][h->len & BLOCK_MASK];
}

const struct fl_op *fl_history_add(struct fl_history *h, int64_t time_us,
                                   int32_t process, enum fl_optype type,
                                   const char *source, const char *f,
                                   const char *key, const char *value,
                                   const char *error)
{
    if (h->len >= h->max_ops) {
        h->dropped++;
        return NULL;
    }
    struct fl_op *op = op_slot(h);
    const char *isrc = fl_history_intern(h, source ? source : "");
    const char *ifn = fl_history_intern(h, f ? f : "");
    const char *ikey = fl_history_intern(h, key);
    const char *ival = fl_history_intern(h, value);
    const char *ierr = fl_history_intern(h, error);
    if (!op || !isrc || !ifn || (key && !ikey) || (value && !ival) ||
        (error && !ierr)) {
        h->dropped++;
        return NULL;
    }
    op->index = h->len;
    op->time_us = time_us;
    op->process = process;
    op->type = type;
    op->source = isrc;
    op->f = ifn;
    op->key = ikey;
    op->value = ival;
    op->error = ierr;
    h->len++;
    if (h->sink)
        h->sink(h->sink_ud, op);
    return op;
}

size_t fl_history_len(const struct fl_history *h)
{
    return h->len;
}

const struct fl_op *fl_history_get(const struct fl_history *h, size_t i)
{
    if (i >= h->len)
        return NULL;
    return &h->blocks[i >> BLOCK_SHIFT][i & BLOCK_MASK];
}

size_t fl_history_dropped(const struct fl_history *h)
{
    return h->dropped;
}

const char *fl_optype_name(enum fl_optype t)
{
    switch (t) {
    case FL_INVOKE: return "invoke";
    case FL_OK: return "ok";
    case FL_FAIL: return "fail";
    case FL_INFO: return "info";
    }
    return "?";
}

size_t fl_history_max_ops(const struct fl_history *h)
{
    return h->max_ops;
}

const struct fl_history_origin *fl_history_origin(const struct fl_history *h)
{
    return &h->origin;
}

struct fl_history_origin *fl_history_origin_edit(struct fl_history *h)
{
    return &h->origin;
}
