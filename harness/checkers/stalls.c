/* stalls.c - see stalls.h. */
#include "checkers/stalls.h"
#include "base/error.h"
#include "checkers/index.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int number(const char *s, double *v)
{
    if (!s || !s[0])
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return errno == 0 && *end == '\0' && isfinite(*v);
}

struct acc {
    struct fl_stall *v;
    size_t n, cap;
    int64_t min_us;
};

static int add(struct acc *a, const struct fl_stall *s)
{
    if (s->end - s->start <= a->min_us)
        return 0;
    if (fl_grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v))
        return FL_ENOMEM;
    a->v[a->n++] = *s;
    return 0;
}

int fl_counter_stalls(const struct fl_history *h, const char *probe, int64_t min_us,
                      struct fl_stall **out, size_t *n, size_t *nsamples)
{
    *out = NULL;
    *n = 0;
    *nsamples = 0;
    size_t *idx, ns;
    if (fl_probe_samples(h, probe, &idx, &ns))
        return FL_ENOMEM;
    struct acc a = {NULL, 0, 0, min_us};
    struct fl_stall cur = {0};
    int have = 0;              /* an interval is open */
    int base = 0;              /* a number was seen */
    double last = 0;
    int64_t seen_t = 0;        /* last determinate sample */
    size_t seen_op = 0;
    int rc = 0;
    for (size_t j = 0; j < ns && !rc; j++) {
        const struct fl_op *op = fl_history_get(h, idx[j]);
        double v;
        int ok = op->type == FL_OK && number(op->value, &v);
        int determinate = ok || op->type == FL_FAIL;
        if (!determinate)
            continue;   /* a gap: judged by the distance between determinate ones */
        if (have && op->time_us - seen_t > min_us)
            cur.proven = 0;
        seen_t = op->time_us;
        seen_op = (size_t)op->index;
        if (!have) {   /* the first determinate sample opens the first interval */
            have = 1;
            cur = (struct fl_stall){op->time_us, op->time_us, seen_op, seen_op, 0, 1};
        }
        if (!ok)
            continue;   /* unreadable: no advance */
        (*nsamples)++;
        if (!base) {   /* the first number is the baseline, not an advance */
            base = 1;
        } else if (v > last) {
            cur.end = op->time_us;
            cur.end_op = seen_op;
            cur.ended = 1;
            rc = add(&a, &cur);
            cur = (struct fl_stall){op->time_us, op->time_us, seen_op, seen_op, 0, 1};
        }
        last = v;   /* equal: no advance; lower: a reset, the new baseline */
    }
    if (!rc && have) {
        cur.end = seen_t;
        cur.end_op = seen_op;
        cur.ended = 0;
        rc = add(&a, &cur);
    }
    free(idx);
    if (rc) {
        free(a.v);
        return rc;
    }
    *out = a.v;
    *n = a.n;
    return 0;
}
