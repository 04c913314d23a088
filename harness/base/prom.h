/* prom.h - read one sample from a Prometheus text exposition (format
 * 0.0.4): the value of `name` or `name{label="v",...}`. */
#ifndef FL_PROM_H
#define FL_PROM_H

#include <stddef.h>

#include "base/error.h"
#include "base/util.h"

/* Find the first sample line whose series matches want (a metric name, or
 * a name with labels written as on the page, like
 * rows_read_total{job="load"}; label order must match) and append its
 * value as written ("42", "1.5e3", "NaN") to out. Comment (#) lines are
 * skipped. Returns 0, FL_ENOTFOUND (err set) or FL_ENOMEM. Bounded by
 * len. */
int fl_prom_lookup(const char *text, size_t len, const char *want, struct fl_buf *out,
                   struct fl_error *err);

#endif
