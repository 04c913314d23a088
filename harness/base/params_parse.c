/* params_parse.c - the table-driven parse of a fault's or an invariant's
 * mapping (params_parse.h): each value checked against its parameter's
 * type, choices and bounds, every problem a diagnostic at its position. */
#include "base/params.h"
#include "base/params_parse.h"
#include "base/diag.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

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
