/* params.c - parameter tables: value parsing, messages, and the table-driven
 * parse of a fault's or an invariant's mapping (params_parse.h). */
#include "base/params.h"
#include "base/params_parse.h"
#include "base/diag.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

/* Pick counts above this are surely typos; instance arrays hold 256. */
#define PICK_MAX 100000

const char *fl_ptype_expect(enum fl_ptype t)
{
    switch (t) {
    case FL_PT_STRING: return "string";
    case FL_PT_STRINGS: return "string or a list of strings like [a, b]";
    case FL_PT_INT: return "integer like 3";
    case FL_PT_DURATION: return "duration like 250ms, 5s, 2m";
    case FL_PT_BOOL: return "boolean: true or false";
    case FL_PT_SIGNAL: return "signal like KILL, SIGTERM, 9";
    case FL_PT_PICK: return "pick: one, all, a count like 2, or a percentage like 50%";
    case FL_PT_SERVICE: return "service name";
    case FL_PT_WORKLOAD: return "workload name";
    case FL_PT_PROBE: return "probe name";
    }
    return "value";
}

const char *fl_ptype_name(enum fl_ptype t)
{
    switch (t) {
    case FL_PT_STRING: return "string";
    case FL_PT_STRINGS: return "strings";
    case FL_PT_INT: return "int";
    case FL_PT_DURATION: return "duration";
    case FL_PT_BOOL: return "bool";
    case FL_PT_SIGNAL: return "signal";
    case FL_PT_PICK: return "pick";
    case FL_PT_SERVICE: return "service";
    case FL_PT_WORKLOAD: return "workload";
    case FL_PT_PROBE: return "probe";
    }
    return "value";
}

int fl_parse_pick(const char *s, struct fl_pick *out)
{
    if (!s || !*s)
        return FL_EINVAL;
    if (strcmp(s, "one") == 0) {
        out->kind = FL_PICK_ONE;
        out->n = 1;
        return 0;
    }
    if (strcmp(s, "all") == 0) {
        out->kind = FL_PICK_ALL;
        out->n = 0;
        return 0;
    }
    size_t len = strlen(s);
    long long v;
    if (s[len - 1] == '%') {
        char num[16];
        if (len - 1 >= sizeof num || len == 1)
            return FL_EINVAL;
        memcpy(num, s, len - 1);
        num[len - 1] = '\0';
        /* fl_parse_int accepts a sign and leading blanks (strtoll): a
         * percentage is digits only. */
        for (size_t i = 0; i < len - 1; i++)
            if (num[i] < '0' || num[i] > '9')
                return FL_EINVAL;
        if (fl_parse_int(num, 1, 100, &v))
            return FL_EINVAL;
        out->kind = FL_PICK_PERCENT;
        out->n = (int)v;
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return FL_EINVAL;
    if (fl_parse_int(s, 1, PICK_MAX, &v))
        return FL_EINVAL;
    out->kind = FL_PICK_COUNT;
    out->n = (int)v;
    return 0;
}

int fl_param_index(const struct fl_param *params, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(params[i].name, name) == 0)
            return (int)i;
    return -1;
}

int fl_param_value(enum fl_ptype t, const char *s, struct fl_pval *v)
{
    if (!s)
        return FL_EINVAL;
    v->s = s;
    switch (t) {
    case FL_PT_STRING:
    case FL_PT_SERVICE:
    case FL_PT_WORKLOAD:
    case FL_PT_PROBE:
        return 0;
    case FL_PT_STRINGS:
        v->nlist = 1;
        return 0;
    case FL_PT_INT:
        return fl_parse_int(s, -9223372036854775807LL - 1, 9223372036854775807LL, &v->i);
    case FL_PT_DURATION:
        return fl_parse_duration(s, &v->ms);
    case FL_PT_BOOL:
        if (strcmp(s, "true") == 0)
            v->b = 1;
        else if (strcmp(s, "false") == 0)
            v->b = 0;
        else
            return FL_EINVAL;
        return 0;
    case FL_PT_SIGNAL:
        return fl_parse_signal(s, &v->sig);
    case FL_PT_PICK:
        return fl_parse_pick(s, &v->pick);
    }
    return FL_EINVAL;
}

size_t fl_edit_distance(const char *a, const char *b)
{
    /* Two rows of the classic table; names longer than the row are cut,
     * which only matters for strings no one would call a typo anyway. */
    enum { MAXL = 64 };
    size_t la = strnlen(a, MAXL), lb = strnlen(b, MAXL);
    size_t prev[MAXL + 1], cur[MAXL + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t m = del < ins ? del : ins;
            cur[j] = m < sub ? m : sub;
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb] > 255 ? 255 : prev[lb];
}

const char *fl_suggest(const char *s, const char *const *cands, size_t n)
{
    size_t len = strlen(s);
    size_t max = len <= 5 ? 1 : len <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t bestd = max + 1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t d = fl_edit_distance(s, cands[i]);
        if (d < bestd && d < len) {
            best = cands[i];
            bestd = d;
        }
    }
    return best;
}

int fl_join_names(struct fl_buf *b, const char *const *cands, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fl_buf_addf(b, "%s%s", i ? ", " : "", cands[i]))
            return FL_ENOMEM;
    return 0;
}

/* "a" or "an" before a type's human form, for readable messages. */
static const char *article(const char *s)
{
    return s[0] && strchr("aeiou", s[0]) ? "an" : "a";
}

struct pctx {
    const struct fl_param *params;
    size_t n;
    const char *what;
    const struct fl_params_names *names;
    struct fl_diag *diag;
    int bad;      /* diagnostics added */
    int nomem;
};

static void diag_at(struct pctx *c, struct fl_pos p, const char *msg)
{
    if (fl_diag_add(c->diag, p.file, p.line, p.col, "%s", msg))
        c->nomem = 1;
    c->bad = 1;
}

static void unknown_key(struct pctx *c, const struct fl_rawparam *r)
{
    const char *cands[FL_MAX_PARAMS];
    for (size_t i = 0; i < c->n; i++)
        cands[i] = c->params[i].name;
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    fl_buf_addf(&b, "unknown key '%s' in %s; expected one of: ", r->key, c->what);
    fl_join_names(&b, cands, c->n);
    const char *sug = fl_suggest(r->key, cands, c->n);
    if (sug)
        fl_buf_addf(&b, "; did you mean '%s'?", sug);
    diag_at(c, r->key_pos, fl_buf_str(&b));
    fl_buf_free(&b);
}

/* The scenario's names of the kind t, or 0 when unknown (no check). */
static int names_of(const struct pctx *c, enum fl_ptype t, const char *const **arr, size_t *n,
                    const char **kind)
{
    if (!c->names)
        return 0;
    switch (t) {
    case FL_PT_SERVICE:
        *arr = c->names->services, *n = c->names->nservices, *kind = "service";
        break;
    case FL_PT_WORKLOAD:
        *arr = c->names->workloads, *n = c->names->nworkloads, *kind = "workload";
        break;
    case FL_PT_PROBE:
        *arr = c->names->probes, *n = c->names->nprobes, *kind = "probe";
        break;
    default:
        return 0;
    }
    return *arr != NULL;
}

static void check_name(struct pctx *c, const struct fl_param *p, const char *s, struct fl_pos pos)
{
    const char *const *arr;
    size_t n;
    const char *kind;
    if (!names_of(c, p->type, &arr, &n, &kind))
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i], s) == 0)
            return;
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    fl_buf_addf(&b, "%s: no %s named '%s' in this scenario; ", p->name, kind, s);
    if (n == 0) {
        fl_buf_addf(&b, "it declares no %ss", kind);
    } else {
        fl_buf_addf(&b, "expected one of: ");
        fl_join_names(&b, arr, n);
        const char *sug = fl_suggest(s, arr, n);
        if (sug)
            fl_buf_addf(&b, "; did you mean '%s'?", sug);
    }
    diag_at(c, pos, fl_buf_str(&b));
    fl_buf_free(&b);
}

static void wrong_type(struct pctx *c, const struct fl_param *p, const char *got, struct fl_pos pos)
{
    const char *e = fl_ptype_expect(p->type);
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    if (got)
        fl_buf_addf(&b, "%s: expected %s %s; got '%s'", p->name, article(e), e, got);
    else
        fl_buf_addf(&b, "%s: expected %s %s; got a list", p->name, article(e), e);
    diag_at(c, pos, fl_buf_str(&b));
    fl_buf_free(&b);
}

/* Parse one given value into v; diagnostics on failure. */
static void parse_given(struct pctx *c, const struct fl_param *p, const struct fl_rawparam *r,
                        struct fl_pval *v)
{
    v->pos = r->val_pos;
    if (r->is_list) {
        if (p->type != FL_PT_STRINGS) {
            wrong_type(c, p, NULL, r->val_pos);
            return;
        }
        if (r->nlist == 0) {
            struct fl_pos pos = r->val_pos;
            char msg[256];
            snprintf(msg, sizeof msg, "%s: expected at least one value, like [a, b]", p->name);
            diag_at(c, pos, msg);
            return;
        }
        v->list = r->list;
        v->nlist = r->nlist;
        v->s = r->list[0];
        v->set = 1;
        return;
    }
    if (fl_param_value(p->type, r->scalar, v)) {
        wrong_type(c, p, r->scalar ? r->scalar : "", r->val_pos);
        return;
    }
    if (p->type == FL_PT_STRINGS)
        v->list = &r->scalar;
    check_name(c, p, r->scalar, r->val_pos);
    v->set = 1;
}

static void apply_default(struct pctx *c, size_t k, struct fl_pos where, struct fl_pval *v)
{
    const struct fl_param *p = &c->params[k];
    v->pos = where;
    if (!p->def) {
        if (p->required) {
            const char *e = fl_ptype_expect(p->type);
            char msg[512];
            snprintf(msg, sizeof msg, "missing required '%s' in %s; expected %s %s",
                     p->name, c->what, article(e), e);
            diag_at(c, where, msg);
        }
        return;
    }
    /* A table default that does not parse is a bug in the table, but it
     * must not crash a run: report it like a scenario error. */
    if (fl_param_value(p->type, p->def, v)) {
        wrong_type(c, p, p->def, where);
        return;
    }
    if (p->type == FL_PT_STRINGS)
        v->list = &c->params[k].def;
    v->set = 1;
}

int fl_params_parse(const struct fl_param *params, size_t n,
                    const struct fl_rawparam *raw, size_t nraw,
                    const char *what, struct fl_pos where,
                    const struct fl_params_names *names,
                    struct fl_args *out, struct fl_diag *diag)
{
    if (n > FL_MAX_PARAMS)
        return FL_EINVAL;
    memset(out, 0, sizeof *out);
    out->params = params;
    out->n = n;
    struct pctx c = {params, n, what, names, diag, 0, 0};
    int given[FL_MAX_PARAMS] = {0};
    for (size_t j = 0; j < nraw; j++) {
        const struct fl_rawparam *r = &raw[j];
        int k = fl_param_index(params, n, r->key);
        if (k < 0) {
            unknown_key(&c, r);
            continue;
        }
        if (given[k]) {
            char msg[256];
            snprintf(msg, sizeof msg, "duplicate key '%s' in %s", r->key, what);
            diag_at(&c, r->key_pos, msg);
            continue;
        }
        given[k] = 1;
        parse_given(&c, &params[k], r, &out->v[k]);
    }
    for (size_t k = 0; k < n; k++)
        if (!given[k])
            apply_default(&c, k, where, &out->v[k]);
    if (c.nomem)
        return FL_ENOMEM;
    return c.bad ? FL_ESCENARIO : 0;
}

void fl_args_init(struct fl_args *a, const struct fl_param *params, size_t n)
{
    memset(a, 0, sizeof *a);
    a->params = params;
    a->n = n;
}

struct fl_pval *fl_args_set(struct fl_args *a, const char *name)
{
    int i = fl_param_index(a->params, a->n, name);
    if (i < 0)
        return NULL;
    a->v[i].set = 1;
    return &a->v[i];
}
