/* params.c - parameter tables: type names, values, picks, choices, typo
 * suggestions, arguments built by hand. The table-driven parse of a
 * mapping is in params_parse.c. */
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
