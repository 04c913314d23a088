/* checker.c - verdict helpers shared by every checker. */
#include "checkers/checker.h"
#include "base/error.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replaces any previous summary. Returns 0, FL_EINVAL (bad format) or
 * FL_ENOMEM. */
int fl_verdict_summary(struct fl_verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FL_EINVAL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return FL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    free(v->summary);
    v->summary = s;
    return 0;
}

int fl_verdict_add_cex(struct fl_verdict *v, const char *key, const char *why,
                       const size_t *ops, size_t nops)
{
    if (v->ncex >= FL_MAX_CEX) {
        v->ncex_total++;
        return 0;
    }
    if (!v->cex) {
        /* the cap is small: allocate it once instead of growing */
        v->cex = calloc(FL_MAX_CEX, sizeof *v->cex);
        if (!v->cex)
            return FL_ENOMEM;
    }
    struct fl_cex *c = &v->cex[v->ncex];
    c->key = fl_strdup(key ? key : "");
    c->why = fl_strdup(why ? why : "");
    c->ops = nops ? malloc(nops * sizeof *c->ops) : NULL;
    if (!c->key || !c->why || (nops && !c->ops)) {
        free(c->key);
        free(c->why);
        free(c->ops);
        memset(c, 0, sizeof *c);
        return FL_ENOMEM;
    }
    if (nops)
        memcpy(c->ops, ops, nops * sizeof *c->ops);
    c->nops = nops;
    v->ncex++;
    v->ncex_total++;
    return 0;
}

/* Frees everything v owns and leaves it zeroed (safe to free twice). */
void fl_verdict_free(struct fl_verdict *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->ncex; i++) {
        free(v->cex[i].key);
        free(v->cex[i].why);
        free(v->cex[i].ops);
    }
    free(v->cex);
    free(v->summary);
    memset(v, 0, sizeof *v);
}

const char *fl_validity_name(enum fl_validity v)
{
    switch (v) {
    case FL_VALID: return "valid";
    case FL_UNKNOWN: return "unknown";
    case FL_INVALID: return "invalid";
    }
    return "unknown";
}

/* The enum is ordered by severity, so combining is a max. */
enum fl_validity fl_validity_combine(enum fl_validity a, enum fl_validity b)
{
    return a > b ? a : b;
}
