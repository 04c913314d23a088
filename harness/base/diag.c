/* diag.c - see diag.h. */
#include "base/diag.h"
#include "base/error.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A broken file should not be able to make the loader grow without end. */
#define FL_DIAG_MAX 10000

/* ---- diagnostics ------------------------------------------------------ */

void fl_diag_free(struct fl_diag *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].msg);
    }
    free(d->items);
    d->items = NULL;
    d->n = d->cap = 0;
}

int fl_diag_add(struct fl_diag *d, const char *file, int line, int col, const char *fmt, ...)
{
    if (d->n >= FL_DIAG_MAX)
        return FL_ENOMEM;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct fl_diag_item *it = realloc(d->items, cap * sizeof *it);
        if (!it)
            return FL_ENOMEM;
        d->items = it;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return FL_ENOMEM;
    char *msg = malloc((size_t)len + 1);
    char *f = fl_strdup(file ? file : "");
    if (!msg || !f) {
        free(msg);
        free(f);
        return FL_ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    d->items[d->n++] = (struct fl_diag_item){f, line, col, msg};
    return 0;
}
