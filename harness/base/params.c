/* params.c - parameter tables: value parsing, messages, and the table-driven
 * parse of a fault's or an invariant's mapping (params_parse.h). */
#include "base/params.h"
#include "base/params_parse.h"
#include "base/diag.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

/* A pick count can never exceed the instances a service has: services
 * have at most 256 replicas (the target's and the injectors' instance
 * arrays hold 256). */
#define PICK_MAX 256

const char *fl_ptype_expect(enum fl_ptype t)
{
    switch (t) {
    case FL_PT_STRING: return "string";
    case FL_PT_STRINGS: return "string or a list of strings like [a, b]";
    case FL_PT_INT: return "integer like 3";
    case FL_PT_DURATION: return "duration like 250ms, 5s, 2m";
    case FL_PT_BOOL: return "boolean: true or false";
    case FL_PT_SIGNAL: return "signal like KILL, SIGTERM, 9";
    case FL_PT_PICK: return "pick: one, all, a count from 1 to 256 like 2, or a percentage like 50%";
    case FL_PT_SERVICE: return "service name";
    case FL_PT_WORKLOAD: return "workload name";
    case FL_PT_PROBE: return "probe name";
    case FL_PT_ENUM: return "value from a fixed set";
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
    case FL_PT_ENUM: return "enum";
    }
    return "value";
}

size_t fl_choice_count(const char *const *choices)
{
    size_t n = 0;
    while (choices && n < FL_MAX_CHOICES && choices[n])
        n++;
    return n;
}

int fl_choice_index(const char *const *choices, const char *s)
{
    size_t n = fl_choice_count(choices);
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(choices[i], s) == 0)
            return (int)i;
    return -1;
}

void fl_param_type_doc(const struct fl_param *p, char *buf, size_t len)
{
    if (!len)
        return;
    if (p->type == FL_PT_DURATION && p->lo == 1 && !p->hi) {
        snprintf(buf, len, "duration > 0");
        return;
    }
    if ((p->type == FL_PT_STRING || p->type == FL_PT_STRINGS) && p->hi) {
        snprintf(buf, len, "%s (at most %lld bytes)", fl_ptype_name(p->type), p->hi);
        return;
    }
    if (p->type != FL_PT_ENUM) {
        snprintf(buf, len, "%s", fl_ptype_name(p->type));
        return;
    }
    size_t n = fl_choice_count(p->choices), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s`%s`",
                         i == 0 ? "" : i + 1 == n ? " or " : ", ", p->choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
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
    case FL_PT_ENUM:
        return FL_EINVAL;   /* needs the table's choices: fl_param_parse_value */
    }
    return FL_EINVAL;
}

/* The range p accepts: the table's, or its type's default. */
static void param_bounds(const struct fl_param *p, long long *lo, long long *hi)
{
    *lo = p->lo;
    *hi = p->hi;
    if (p->hi)
        return;
    switch (p->type) {
    case FL_PT_INT:
        *hi = FL_PARAM_INT_MAX;
        break;
    case FL_PT_DURATION:
        *hi = (long long)FL_PARAM_DURATION_MAX_MS;
        break;
    default:
        *hi = FL_PARAM_STRING_MAX;
        break;
    }
}

enum { V_OK, V_FORM, V_RANGE };

/* Parse s as p's value: V_OK, V_FORM (not of the type's form, or not one
 * of the choices) or V_RANGE (outside the bounds). */
static int value_of(const struct fl_param *p, const char *s, struct fl_pval *v)
{
    if (!s)
        return V_FORM;
    if (p->type == FL_PT_ENUM) {
        v->s = s;
        int i = fl_choice_index(p->choices, s);
        if (i < 0)
            return V_FORM;
        v->e = i;
        return V_OK;
    }
    if (fl_param_value(p->type, s, v))
        return V_FORM;
    long long lo, hi;
    param_bounds(p, &lo, &hi);
    switch (p->type) {
    case FL_PT_INT:
        return v->i < lo || v->i > hi ? V_RANGE : V_OK;
    case FL_PT_DURATION:
        return v->ms < (uint64_t)lo || v->ms > (uint64_t)hi ? V_RANGE : V_OK;
    case FL_PT_STRING:
    case FL_PT_STRINGS: {
        size_t len = strlen(s);
        return len < (size_t)lo || len > (size_t)hi ? V_RANGE : V_OK;
    }
    default:
        return V_OK;
    }
}

int fl_param_parse_value(const struct fl_param *p, const char *s, struct fl_pval *v)
{
    return value_of(p, s, v) == V_OK ? 0 : FL_EINVAL;
}

/* What p's range accepts, for messages ("a duration above 0 and at most
 * 24h"). */
static void range_text(const struct fl_param *p, char *buf, size_t len)
{
    long long lo, hi;
    param_bounds(p, &lo, &hi);
    char a[32], b[32];
    switch (p->type) {
    case FL_PT_INT:
        snprintf(buf, len, "an integer from %lld to %lld", lo, hi);
        break;
    case FL_PT_DURATION:
        fl_format_duration((uint64_t)lo, a, sizeof a);
        fl_format_duration((uint64_t)hi, b, sizeof b);
        if (lo == 0)
            snprintf(buf, len, "a duration of at most %s", b);
        else if (lo == 1)
            snprintf(buf, len, "a duration above 0 and at most %s", b);
        else
            snprintf(buf, len, "a duration from %s to %s", a, b);
        break;
    default:
        if (lo > 0)
            snprintf(buf, len, "from %lld to %lld characters", lo, hi);
        else
            snprintf(buf, len, "at most %lld characters", hi);
        break;
    }
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

/* A value for a message: quoted, cut at 60 characters. */
static void shown(char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n > 60)
        snprintf(buf, len, "'%.60s...' (%zu characters)", s, n);
    else
        snprintf(buf, len, "'%s'", s);
}

/* Start a message about a given value: "name: ", or "name: '${x}' =
 * 'value': " when the loader substituted vars (r->written). */
static void lead(struct fl_buf *b, const struct fl_param *p, const struct fl_rawparam *r,
                 const char *value)
{
    fl_buf_addf(b, "%s: ", p->name);
    if (r && r->written) {
        char w[128], v[128];
        shown(w, sizeof w, r->written);
        shown(v, sizeof v, value);
        fl_buf_addf(b, "%s = %s: ", w, v);
    }
}

/* End a message with "; got 'value'" unless lead() already showed it. */
static void got(struct fl_buf *b, const struct fl_rawparam *r, const char *value)
{
    if (r && r->written)
        return;
    char v[128];
    shown(v, sizeof v, value);
    fl_buf_addf(b, "; got %s", v);
}

static void check_name(struct pctx *c, const struct fl_param *p, const struct fl_rawparam *r,
                       const char *s, struct fl_pos pos)
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
    lead(&b, p, r, s);
    fl_buf_addf(&b, "no %s named '%s' in this scenario; ", kind, s);
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

/* A value that did not parse (form V_FORM) or is out of range (V_RANGE);
 * value NULL means "a list". */
static void bad_value(struct pctx *c, const struct fl_param *p, const struct fl_rawparam *r,
                      const char *value, int why, struct fl_pos pos)
{
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    lead(&b, p, value ? r : NULL, value ? value : "");
    if (why == V_RANGE) {
        char range[128];
        range_text(p, range, sizeof range);
        fl_buf_addf(&b, "expected %s", range);
        got(&b, r, value);
    } else if (p->type == FL_PT_ENUM) {
        size_t n = fl_choice_count(p->choices);
        fl_buf_adds(&b, "expected one of: ");
        fl_join_names(&b, p->choices, n);
        if (value) {
            got(&b, r, value);
            const char *sug = fl_suggest(value, p->choices, n);
            if (sug)
                fl_buf_addf(&b, "; did you mean '%s'?", sug);
        } else {
            fl_buf_adds(&b, "; got a list");
        }
    } else {
        const char *e = fl_ptype_expect(p->type);
        fl_buf_addf(&b, "expected %s %s", article(e), e);
        if (value)
            got(&b, r, value);
        else
            fl_buf_adds(&b, "; got a list");
    }
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
            bad_value(c, p, r, NULL, V_FORM, r->val_pos);
            return;
        }
        if (r->nlist == 0) {
            struct fl_pos pos = r->val_pos;
            char msg[256];
            snprintf(msg, sizeof msg, "%s: expected at least one value, like [a, b]", p->name);
            diag_at(c, pos, msg);
            return;
        }
        for (size_t i = 0; i < r->nlist; i++) {
            int why = value_of(p, r->list[i], v);
            if (why != V_OK) {
                bad_value(c, p, NULL, r->list[i] ? r->list[i] : "", why, r->val_pos);
                return;
            }
        }
        v->list = r->list;
        v->nlist = r->nlist;
        v->s = r->list[0];
        v->set = 1;
        return;
    }
    int why = value_of(p, r->scalar, v);
    if (why != V_OK) {
        bad_value(c, p, r, r->scalar ? r->scalar : "", why, r->val_pos);
        return;
    }
    if (p->type == FL_PT_STRINGS)
        v->list = &r->scalar;
    check_name(c, p, r, r->scalar, r->val_pos);
    v->set = 1;
}

static void apply_default(struct pctx *c, size_t k, struct fl_pos where, struct fl_pval *v)
{
    const struct fl_param *p = &c->params[k];
    v->pos = where;
    if (!p->def) {
        if (p->required) {
            char e[512];
            if (p->type == FL_PT_ENUM) {
                struct fl_buf b;
                fl_buf_init(&b, sizeof e);
                fl_buf_adds(&b, "one of: ");
                fl_join_names(&b, p->choices, fl_choice_count(p->choices));
                snprintf(e, sizeof e, "%s", fl_buf_str(&b));
                fl_buf_free(&b);
            } else {
                snprintf(e, sizeof e, "%s %s", article(fl_ptype_expect(p->type)),
                         fl_ptype_expect(p->type));
            }
            char msg[768];
            snprintf(msg, sizeof msg, "missing required '%s' in %s; expected %s", p->name,
                     c->what, e);
            diag_at(c, where, msg);
        }
        return;
    }
    /* A table default that does not parse is a bug in the table, but it
     * must not crash a run: report it like a scenario error. */
    int why = value_of(p, p->def, v);
    if (why != V_OK) {
        bad_value(c, p, NULL, p->def, why, where);
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
