/* no_loss.h - the counts behind the no_loss checker, for end-to-end tests.
 *
 * An end-to-end test reads the Redis set itself after a run and compares
 * its own count with the checker's; this exposes the checker's arithmetic
 * without going through a verdict's summary text.
 */
#ifndef FL_CHECKERS_NO_LOSS_H
#define FL_CHECKERS_NO_LOSS_H

#include <stddef.h>

#include "history/history.h"

/* Counts are per distinct (redis key, element): elements are unique by
 * contract, and an element written twice counts once with its best outcome
 * (ok beats info beats fail). */
struct fl_no_loss_counts {
    size_t writes;           /* elements attempted */
    size_t acknowledged;     /* write ok */
    size_t failed;           /* write fail */
    size_t unknown;          /* write info, or invoked and never completed */
    size_t lost;             /* acknowledged, absent from the final read */
    size_t unexpected;       /* in a final read, never attempted */
    size_t recovered;        /* unknown or failed, present in the final read */
    size_t recovered_failed; /* of recovered: the write had failed */
    size_t indeterminate;    /* unknown, absent */
    size_t late;             /* acknowledged after the final read began, absent:
                              * not judged */
    size_t unchecked;        /* elements of keys without a usable final read */
    size_t keys_read;        /* keys with a usable final read */
    size_t keys_unread;      /* keys written to but never read (ok) */
    size_t bad_reads;        /* final reads that are not JSON arrays of strings */
    size_t read_elements;    /* distinct elements in the usable final reads */
    size_t unidentified;     /* acknowledged writes whose record names no key
                              * or no element: they cannot be checked */
};

/* Count what the no_loss checker sees for workload (the ops' source) and,
 * when key is not NULL, only that redis key. Pure; h is only read.
 * Returns 0 or FL_ENOMEM (out is zeroed first in both cases). */
int fl_no_loss_count(const struct fl_history *h, const char *workload,
                     const char *key, struct fl_no_loss_counts *out);

#endif
