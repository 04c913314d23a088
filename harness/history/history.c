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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define BLOCK_SHIFT 14
#define BLOCK_OPS ((size_t)1 << BLOCK_SHIFT)
#define BLOCK_MASK (BLOCK_OPS - 1)
#define DEFAULT_MAX_OPS ((size_t)50000000)
#define ARENA_CHUNK ((size_t)64 * 1024)
#define LOAD_MAX_LINE ((size_t)4 * 1024 * 1024)

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

static int optype_parse(const char *s, enum fl_optype *t)
{
    static const enum fl_optype all[] = {FL_INVOKE, FL_OK, FL_FAIL, FL_INFO};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, fl_optype_name(all[i])) == 0) {
            *t = all[i];
            return 0;
        }
    }
    return FL_EINVAL;
}

/* ---- JSON lines ---------------------------------------------------------- */

/* A string field: required ones must be strings, optional ones may also be
 * null or missing (*out = NULL). */
static int json_str(json_t *o, const char *name, int required, const char **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? FL_EINVAL : 0;
    if (!json_is_string(v))
        return FL_EINVAL;
    *out = json_string_value(v);
    return 0;
}

static int load_line(struct fl_history *h, const char *path, size_t lineno,
                     const char *line, size_t len, struct fl_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o)
        return fl_error_set(err, FL_EINVAL, "%s:%zu:%d: invalid JSON: %s",
                            path, lineno, jerr.column, jerr.text);
    int rc = FL_EINVAL;
    const char *what = "a JSON object";
    const char *src, *f, *key, *value, *error, *type;
    enum fl_optype t;
    json_t *tu = json_object_get(o, "time_us");
    json_t *pr = json_object_get(o, "process");
    if (!json_is_object(o))
        goto out;
    what = "\"time_us\" and \"process\" as integers";
    if (!json_is_integer(tu) || !json_is_integer(pr) ||
        json_integer_value(pr) < INT32_MIN || json_integer_value(pr) > INT32_MAX)
        goto out;
    what = "\"type\" one of invoke, ok, fail, info";
    if (json_str(o, "type", 1, &type) || optype_parse(type, &t))
        goto out;
    what = "\"source\" and \"f\" as strings, \"key\", \"value\", \"error\" as strings or null";
    if (json_str(o, "source", 1, &src) || json_str(o, "f", 1, &f) ||
        json_str(o, "key", 0, &key) || json_str(o, "value", 0, &value) ||
        json_str(o, "error", 0, &error))
        goto out;
    /* Over the limit the op is dropped and counted, like a live run would. */
    fl_history_add(h, (int64_t)json_integer_value(tu),
                   (int32_t)json_integer_value(pr), t, src, f, key, value, error);
    rc = 0;
out:
    json_decref(o);
    if (rc)
        fl_error_set(err, rc, "%s:%zu: expected %s", path, lineno, what);
    return rc;
}

/* Read one line (without its newline) into b. Returns 1 when a line was
 * read, 0 at end of file, FL_EIO or FL_ENOMEM (line over LOAD_MAX_LINE). */
static int read_line(FILE *fp, struct fl_buf *b)
{
    char chunk[8192];
    fl_buf_reset(b);
    int any = 0;
    while (fgets(chunk, sizeof chunk, fp)) {
        any = 1;
        size_t n = strlen(chunk);
        int eol = n > 0 && chunk[n - 1] == '\n';
        if (fl_buf_add(b, chunk, n - (size_t)eol))
            return FL_ENOMEM;
        if (eol)
            return 1;
    }
    if (ferror(fp))
        return FL_EIO;
    return any;
}

/* Contract: appends every op of the file to h in file order (the file's
 * "index" fields are not trusted: indexes are positions in h). Blank lines
 * are skipped. Stops at the first bad line: the ops before it stay in h. */
int fl_history_load_jsonl(struct fl_history *h, const char *path, struct fl_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return fl_error_set(err, FL_EIO, "%s: %s", path, strerror(errno));
    struct fl_buf line;
    fl_buf_init(&line, LOAD_MAX_LINE);
    int rc = 0;
    /* bounded by the file size: each iteration consumes one line */
    for (size_t lineno = 1;; lineno++) {
        int r = read_line(fp, &line);
        if (r == 0)
            break;
        if (r == FL_ENOMEM) {
            rc = fl_error_set(err, FL_EINVAL, "%s:%zu: line longer than %zu bytes",
                              path, lineno, (size_t)LOAD_MAX_LINE);
            break;
        }
        if (r < 0) {
            rc = fl_error_set(err, FL_EIO, "%s:%zu: read error", path, lineno);
            break;
        }
        const char *s = fl_buf_str(&line);
        size_t skip = strspn(s, " \t\r");
        if (s[skip] == '\0')
            continue;
        rc = load_line(h, path, lineno, s, line.len, err);
        if (rc)
            break;
    }
    fl_buf_free(&line);
    fclose(fp);
    return rc;
}
