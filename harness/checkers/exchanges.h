/* exchanges.h - the HTTP exchanges a proxy recorded (source "proxy",
 * f "http", history.h), read back for the checkers that reason about what
 * the system did to its dependency (rate_limit). */
#ifndef FL_CHECKERS_EXCHANGES_H
#define FL_CHECKERS_EXCHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

struct fl_xchg {
    size_t op;              /* history index */
    int64_t start, end;     /* request start, answer end (us, run clock) */
    int status;             /* 0: no answer */
    int64_t retry_after;    /* seconds, -1 none */
    int injected;
    char method[16], path[256], client[128];
};

/* The exchanges of proxy (NULL: every proxy), sorted by start. *out is
 * malloc'ed (free it); *bad counts records whose value did not parse.
 * Returns 0 or FL_ENOMEM. */
int fl_xchg_load(const struct fl_history *h, const char *proxy, struct fl_xchg **out,
                 size_t *n, size_t *bad);

#endif
