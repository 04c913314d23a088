/* no_loss.c - no acknowledged write is lost (Jepsen's set checker).
 *
 * A workload adds unique elements to Redis keys ("write": ok =
 * acknowledged, fail = certainly not applied, info = unknown) and reads
 * each key once more at the end ("read" ok, value = JSON array of strings).
 * Against the last ok read of each key:
 *   lost          acknowledged, absent                      -> invalid
 *   unexpected    present, never attempted                  -> invalid
 *   recovered     unknown or failed, present                (fine; a failed
 *                 write that is present is reported: the store said no)
 *   indeterminate unknown, absent                           (fine)
 *   late          acknowledged after the read began, absent (not judged:
 *                 the read may have been served before the write)
 * A key written to without a final read, or whose final read cannot be
 * parsed, makes the verdict unknown unless something is lost anyway; so
 * does an acknowledged write whose records name no key or no element (it
 * cannot be looked for). A write invoked and never completed is unknown,
 * never acknowledged.
 *
 * Writes are paired invoke -> completion by process (each workload process
 * has one operation in flight), so the element may sit on either record.
 */
#include "checkers/checker.h"
#include "base/error.h"
#include "checkers/index.h"
#include "checkers/no_loss.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

enum { P_WORKLOAD, P_KEY };

static const struct fl_param params[] = {
    [P_WORKLOAD] = {"workload", FL_PT_WORKLOAD, 1, NULL, "workload whose writes and final reads are checked"},
    [P_KEY] = {"key", FL_PT_STRING, 0, NULL, "only check this Redis key (default: every key written or read)"},
};

/* One element as its writes left it. type: the best completion (ok beats
 * info beats fail); FL_INVOKE while the write is still in flight. */
struct wrec {
    const char *key;
    const char *elem;
    size_t inv, done;     /* history indexes, SIZE_MAX: none */
    int64_t done_us;
    enum fl_optype type;
};

/* The last ok read of one key. */
struct rrec {
    const char *key;
    size_t inv, ok;       /* inv: SIZE_MAX when the invoke is not known */
    int used;             /* some write group was judged against it */
};

struct ctx {
    const struct fl_history *h;
    struct fl_verdict *out;       /* NULL: count only */
    struct fl_no_loss_counts *n;
    struct wrec *w;
    size_t nw, cap_w;
    struct rrec *r;
    size_t nr, cap_r;
    struct fl_pmap wopen, ropen;  /* process + 1 -> wrec / read invoke */
    struct fl_pmap rkey;          /* key -> rrec */
    const char *first_unread;     /* for the summary */
    size_t first_unread_n;
    char bad_read[256];           /* first unusable read, for the summary */
};


static uintptr_t proc_key(int32_t process)
{
    return (uintptr_t)(uint32_t)process + 1;
}

/* ---- pass 1: pair writes, keep the last read per key ---------------------- */

static int on_write(struct ctx *c, const struct fl_op *op)
{
    int added;
    size_t *open = fl_pmap_put(&c->wopen, proc_key(op->process), SIZE_MAX, &added);
    if (!open)
        return FL_ENOMEM;
    if (op->type == FL_INVOKE || *open == SIZE_MAX) {
        /* a new write; an earlier invoke of this process that never
         * completed stays in flight (unknown) */
        if (fl_grow((void **)&c->w, &c->cap_w, c->nw + 1, sizeof *c->w))
            return FL_ENOMEM;
        c->w[c->nw] = (struct wrec){op->key, op->value, SIZE_MAX, SIZE_MAX, 0, FL_INVOKE};
        if (op->type == FL_INVOKE) {
            c->w[c->nw].inv = (size_t)op->index;
            *open = c->nw++;
            return 0;
        }
        *open = c->nw++;
    }
    struct wrec *w = &c->w[*open];
    *open = SIZE_MAX;
    w->done = (size_t)op->index;
    w->done_us = op->time_us;
    w->type = op->type;
    if (!w->key)
        w->key = op->key;
    if (!w->elem)    /* the invoke names what was written; else the completion */
        w->elem = op->value;
    return 0;
}

static int on_read(struct ctx *c, const struct fl_op *op, struct fl_strmatch *keym,
                   int filter)
{
    int added;
    size_t *open = fl_pmap_put(&c->ropen, proc_key(op->process), SIZE_MAX, &added);
    if (!open)
        return FL_ENOMEM;
    if (op->type == FL_INVOKE) {
        *open = (size_t)op->index;
        return 0;
    }
    size_t inv = *open;
    *open = SIZE_MAX;
    const char *key = op->key;
    if (!key && inv != SIZE_MAX)
        key = fl_history_get(c->h, inv)->key;
    if (op->type != FL_OK || !key || (filter && !fl_strmatch(keym, key)))
        return 0;
    size_t *slot = fl_pmap_put(&c->rkey, (uintptr_t)key, c->nr, &added);
    if (!slot)
        return FL_ENOMEM;
    if (added) {
        if (fl_grow((void **)&c->r, &c->cap_r, c->nr + 1, sizeof *c->r))
            return FL_ENOMEM;
        c->nr++;
    }
    c->r[*slot] = (struct rrec){key, inv, (size_t)op->index, 0};
    return 0;
}

static int scan(struct ctx *c, const char *workload, const char *key)
{
    struct fl_strmatch src, fwrite, fread, keym;
    fl_strmatch_init(&src, workload);
    fl_strmatch_init(&fwrite, FL_F_WRITE);
    fl_strmatch_init(&fread, FL_F_READ);
    fl_strmatch_init(&keym, key);
    size_t len = fl_history_len(c->h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(c->h, i);
        if (!fl_strmatch(&src, op->source))
            continue;
        int rc = 0;
        if (fl_strmatch(&fwrite, op->f))
            rc = on_write(c, op);
        else if (fl_strmatch(&fread, op->f))
            rc = on_read(c, op, &keym, key != NULL);
        if (rc)
            return rc;
    }
    /* keep the writes that can be judged: a key, an element, the filter */
    size_t m = 0;
    for (size_t i = 0; i < c->nw; i++) {
        struct wrec *w = &c->w[i];
        if ((!w->key || !w->elem) && w->type == FL_OK &&
            (!key || !w->key || fl_strmatch(&keym, w->key)))
            c->n->unidentified++;
        if (!w->key || !w->elem || (key && !fl_strmatch(&keym, w->key)))
            continue;
        if (w->type == FL_INVOKE)
            w->type = FL_INFO;    /* never completed: unknown */
        c->w[m++] = *w;
    }
    c->nw = m;
    return 0;
}

/* ---- pass 2: per key, merge sorted writes with the sorted read ------------ */

static int wrec_cmp(const void *a, const void *b)
{
    const struct wrec *x = a, *y = b;
    if (x->key != y->key)
        return (uintptr_t)x->key < (uintptr_t)y->key ? -1 : 1;
    return strcmp(x->elem, y->elem);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int rank(enum fl_optype t)
{
    return t == FL_OK ? 2 : t == FL_INFO ? 1 : 0;
}

/* Sort by (key, element) and fold repeated elements into one record. */
static void fold(struct ctx *c)
{
    if (c->nw)
        qsort(c->w, c->nw, sizeof *c->w, wrec_cmp);
    size_t m = 0;
    for (size_t i = 0; i < c->nw; i++) {
        if (m && wrec_cmp(&c->w[m - 1], &c->w[i]) == 0) {
            if (rank(c->w[i].type) > rank(c->w[m - 1].type))
                c->w[m - 1] = c->w[i];
            continue;
        }
        c->w[m++] = c->w[i];
    }
    c->nw = m;
}

static int size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static int cex_lost(struct ctx *c, const struct wrec *w, const struct rrec *r,
                    const char *of)
{
    char ta[32], tr[32], why[256];
    fl_fmt_time(ta, sizeof ta, w->done_us);
    fl_fmt_time(tr, sizeof tr, fl_history_get(c->h, r->ok)->time_us);
    snprintf(why, sizeof why, "acknowledged at %s, absent from the final read%s at %s",
             ta, of, tr);
    size_t ops[3], n = 0;
    if (w->inv != SIZE_MAX)
        ops[n++] = w->inv;
    ops[n++] = w->done;
    ops[n++] = r->ok;
    qsort(ops, n, sizeof *ops, size_cmp);
    return fl_verdict_add_cex(c->out, w->elem, why, ops, n);
}

static int cex_unexpected(struct ctx *c, const char *elem, const struct rrec *r,
                          const char *of)
{
    char tr[32], why[256];
    fl_fmt_time(tr, sizeof tr, fl_history_get(c->h, r->ok)->time_us);
    snprintf(why, sizeof why, "present in the final read%s at %s, never written", of, tr);
    return fl_verdict_add_cex(c->out, elem, why, &r->ok, 1);
}

/* Judge one element present (1) or absent (0) from the read r. */
static int judge_one(struct ctx *c, const struct wrec *w, const struct rrec *r,
                     int present, int64_t read_start, const char *of)
{
    struct fl_no_loss_counts *n = c->n;
    if (present) {
        if (w->type != FL_OK) {
            n->recovered++;
            n->recovered_failed += w->type == FL_FAIL;
        }
        return 0;
    }
    if (w->type == FL_INFO) {
        n->indeterminate++;
    } else if (w->type == FL_OK && w->done_us > read_start) {
        n->late++;
    } else if (w->type == FL_OK) {
        n->lost++;
        if (c->out)
            return cex_lost(c, w, r, of);
    }
    return 0;
}

/* Parse a read's value into sorted distinct strings (pointers into *json).
 * Returns 1 when usable, 0 when not (reason in c->bad_read if it is the
 * first), FL_ENOMEM. */
static int parse_read(struct ctx *c, const struct rrec *r, json_t **json,
                      const char ***strs, size_t *ns)
{
    const struct fl_op *op = fl_history_get(c->h, r->ok);
    char why[160] = "";
    json_error_t je;
    *json = json_loads(op->value ? op->value : "", JSON_DECODE_ANY, &je);
    if (!*json)
        snprintf(why, sizeof why, "unparsable JSON (%.100s)", je.text);
    else if (!json_is_array(*json))
        snprintf(why, sizeof why, "not a JSON array");
    size_t m = *json && !why[0] ? json_array_size(*json) : 0;
    *strs = malloc((m ? m : 1) * sizeof **strs);
    if (!*strs)
        return FL_ENOMEM;
    for (size_t i = 0; i < m && !why[0]; i++) {
        const char *s = json_string_value(json_array_get(*json, i));
        if (!s)
            snprintf(why, sizeof why, "element %zu is not a string", i);
        (*strs)[i] = s;
    }
    if (why[0]) {
        char t[32];
        fl_fmt_time(t, sizeof t, op->time_us);
        if (!c->n->bad_reads++)
            snprintf(c->bad_read, sizeof c->bad_read, "the final read of %.60s at %s is "
                     "not a JSON array of strings: %.80s", r->key, t, why);
        return 0;
    }
    qsort(*strs, m, sizeof **strs, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!k || strcmp((*strs)[k - 1], (*strs)[i]) != 0)
            (*strs)[k++] = (*strs)[i];
    *ns = k;
    return 1;
}

/* Merge the elements w[0..nw) of one key with its final read. */
static int judge_key(struct ctx *c, const struct wrec *w, size_t nw, struct rrec *r,
                     const char *of)
{
    json_t *json = NULL;
    const char **s = NULL;
    size_t ns = 0;
    r->used = 1;
    int rc = parse_read(c, r, &json, &s, &ns);
    if (rc <= 0) {
        if (rc == 0)
            c->n->unchecked += nw;
        goto out;
    }
    c->n->keys_read++;
    c->n->read_elements += ns;
    const struct fl_op *rop = fl_history_get(c->h, r->inv != SIZE_MAX ? r->inv : r->ok);
    size_t i = 0, j = 0;
    rc = 0;
    while (!rc && (i < nw || j < ns)) {
        int cmp = i == nw ? 1 : j == ns ? -1 : strcmp(w[i].elem, s[j]);
        if (cmp > 0) {
            c->n->unexpected++;
            if (c->out)
                rc = cex_unexpected(c, s[j], r, of);
            j++;
            continue;
        }
        rc = judge_one(c, &w[i], r, cmp == 0, rop->time_us, of);
        i++;
        j += cmp == 0;
    }
out:
    free(s);
    json_decref(json);
    return rc < 0 ? rc : 0;
}

static int judge(struct ctx *c)
{
    struct fl_no_loss_counts *n = c->n;
    char of[96] = "";
    for (size_t a = 0, b; a < c->nw; a = b) {
        for (b = a; b < c->nw && c->w[b].key == c->w[a].key; b++) {
            n->writes++;
            n->acknowledged += c->w[b].type == FL_OK;
            n->failed += c->w[b].type == FL_FAIL;
            n->unknown += c->w[b].type == FL_INFO;
        }
        size_t *slot = fl_pmap_get(&c->rkey, (uintptr_t)c->w[a].key);
        if (!slot) {
            if (!n->keys_unread++) {
                c->first_unread = c->w[a].key;
                c->first_unread_n = b - a;
            }
            n->unchecked += b - a;
            continue;
        }
        if (c->nr > 1)
            snprintf(of, sizeof of, " of %.60s", c->w[a].key);
        if (judge_key(c, c->w + a, b - a, &c->r[*slot], of))
            return FL_ENOMEM;
    }
    /* keys read but never written: everything in them is unexpected */
    for (size_t k = 0; k < c->nr; k++) {
        if (c->r[k].used)
            continue;
        if (c->nr > 1)
            snprintf(of, sizeof of, " of %.60s", c->r[k].key);
        if (judge_key(c, NULL, 0, &c->r[k], of))
            return FL_ENOMEM;
    }
    return 0;
}

static int analyze(struct ctx *c, const char *workload, const char *key)
{
    memset(c->n, 0, sizeof *c->n);
    int rc = FL_ENOMEM;
    if (fl_pmap_init(&c->wopen, 64) || fl_pmap_init(&c->ropen, 16) ||
        fl_pmap_init(&c->rkey, 16))
        goto out;
    if ((rc = scan(c, workload, key)))
        goto out;
    fold(c);
    rc = judge(c);
out:
    fl_pmap_free(&c->wopen);
    fl_pmap_free(&c->ropen);
    fl_pmap_free(&c->rkey);
    free(c->w);
    free(c->r);
    c->w = NULL;
    c->r = NULL;
    return rc;
}

int fl_no_loss_count(const struct fl_history *h, const char *workload,
                     const char *key, struct fl_no_loss_counts *out)
{
    struct ctx c = {.h = h, .n = out};
    return analyze(&c, workload, key);
}

/* ---- verdict -------------------------------------------------------------- */

/* "(1480 ok, 20 unknown: 12 recovered, 8 absent, 3 failed: 1 present anyway)" */
static void breakdown(const struct fl_no_loss_counts *n, struct fl_buf *b)
{
    fl_buf_addf(b, " (%zu ok", n->acknowledged);
    if (n->unknown)
        fl_buf_addf(b, ", %zu unknown: %zu recovered, %zu absent", n->unknown,
                    n->recovered - n->recovered_failed, n->indeterminate);
    if (n->failed) {
        fl_buf_addf(b, ", %zu failed", n->failed);
        if (n->recovered_failed)
            fl_buf_addf(b, ": %zu present anyway", n->recovered_failed);
    }
    fl_buf_adds(b, ")");
    if (n->late)
        fl_buf_addf(b, "; %zu acknowledged after the final read began, not judged", n->late);
}

/* Why the rest could not be checked, appended as "; ..." parts. */
static void unchecked_parts(const struct ctx *c, struct fl_buf *b)
{
    const struct fl_no_loss_counts *n = c->n;
    if (n->keys_unread == 1)
        fl_buf_addf(b, "; no final read of %.60s (%zu unchecked)",
                    c->first_unread, c->first_unread_n);
    else if (n->keys_unread)
        fl_buf_addf(b, "; %zu keys written to were never read, e.g. %.60s",
                    n->keys_unread, c->first_unread);
    if (n->bad_reads)
        fl_buf_addf(b, "; %s", c->bad_read);
    if (n->unidentified)
        fl_buf_addf(b, "; %zu acknowledged %s no key or element and cannot be checked",
                    n->unidentified, n->unidentified == 1 ? "write names" : "writes name");
}

static int summarize(struct ctx *c, const char *workload)
{
    const struct fl_no_loss_counts *n = c->n;
    struct fl_verdict *v = c->out;
    struct fl_buf b;
    fl_buf_init(&b, 2048);
    if (n->lost || n->unexpected) {
        v->validity = FL_INVALID;
        if (n->lost)
            fl_buf_addf(&b, "%zu of %zu acknowledged writes lost", n->lost, n->acknowledged);
        if (n->unexpected)
            fl_buf_addf(&b, "%s%zu %s in the final read never written", n->lost ? "; " : "",
                        n->unexpected, n->unexpected == 1 ? "element" : "elements");
        breakdown(n, &b);
        unchecked_parts(c, &b);
    } else if (n->keys_read == 0 && n->bad_reads == 0) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "no final read by %.60s (%zu %s unchecked)", workload, n->writes,
                    n->writes == 1 ? "write" : "writes");
    } else if (n->keys_unread || n->bad_reads || n->unidentified) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "%zu of %zu writes unchecked", n->unchecked + n->unidentified,
                    n->writes + n->unidentified);
        unchecked_parts(c, &b);
    } else if (n->acknowledged == 0) {
        v->validity = FL_UNKNOWN;
        fl_buf_addf(&b, "no acknowledged write by %.60s to check (%zu attempted)",
                    workload, n->writes);
    } else {
        v->validity = FL_VALID;
        fl_buf_addf(&b, "all %zu acknowledged writes are in the final read", n->acknowledged);
        breakdown(n, &b);
    }
    int rc = fl_verdict_summary(v, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return rc;
}

static int check(const struct fl_history *h, const struct fl_args *args, struct fl_verdict *out)
{
    struct fl_no_loss_counts counts;
    struct ctx c = {.h = h, .out = out, .n = &counts};
    const char *workload = args->v[P_WORKLOAD].s;
    const char *key = args->v[P_KEY].set ? args->v[P_KEY].s : NULL;
    int rc = analyze(&c, workload, key);
    if (rc)
        return rc;
    return summarize(&c, workload);
}

const struct fl_checker_type fl_checker_no_loss = {
    .name = "no_loss",
    .help = "every acknowledged write is in the final read, and nothing else is (Jepsen's set)",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .check = check,
};
