/* diag.h - diagnostics: every problem found in an input file, each with
 * file:line:col, collected rather than stopping at the first.
 */
#ifndef FL_DIAG_H
#define FL_DIAG_H

#include <stddef.h>

struct fl_diag_item {
    char *file;
    int line, col;      /* 1-based; 0 when unknown */
    char *msg;          /* "unknown key 'replics' in service 'api'; expected one of: ..." */
};

struct fl_diag {
    struct fl_diag_item *items;
    size_t n, cap;
};

void fl_diag_free(struct fl_diag *d);
/* Append a diagnostic (copies strings). Returns 0 or FL_ENOMEM. */
int fl_diag_add(struct fl_diag *d, const char *file, int line, int col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
