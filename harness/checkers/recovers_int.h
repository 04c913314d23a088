/* recovers_int.h - shared by recovers.c (judging) and recovers_report.c
 * (what it says). Not for other checkers. */
#ifndef FL_CHECKERS_RECOVERS_INT_H
#define FL_CHECKERS_RECOVERS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "checkers/checker.h"
#include "checkers/index.h"

/* Per fault: recovered in time; late; never; the run stopped sampling
 * before the deadline; a sampling gap across the deadline; recovered, but
 * unhealthy again when the run stopped before the deadline. */
enum fl_rec {
    FL_REC_OK, FL_REC_LATE, FL_REC_NEVER, FL_REC_UNSEEN, FL_REC_GAP, FL_REC_PENDING, FL_REC_N
};

/* Where the probe must be healthy after fault `fault`: [start, end). */
struct fl_rec_zone {
    int64_t start, end;
    size_t fault;
};

struct fl_rec_ctx {
    const struct fl_samples *s;
    struct fl_verdict *out;
    const char *probe;
    int64_t within_us;
    size_t tolerate;
    char tw[32];               /* within, formatted */
    /* scratch for the series being judged */
    size_t *next_healthy;      /* per sample: first healthy at or after it */
    int64_t *recovered;        /* per fault: time of its first healthy sample
                                * at or after its end, INT64_MAX: none */
    size_t *rec_sample;        /* per fault: that sample, SIZE_MAX: none */
    struct fl_rec_zone *zones;        /* per fault, sorted by start */
    size_t nzones;
    int64_t *starts;           /* every fault's injection, sorted (for all series) */
};

/* How one series did. */
struct fl_rec_result {
    size_t count[FL_REC_N];       /* faults by outcome */
    size_t relapses;           /* unhealthy runs once settled, not tolerated */
    size_t relapse_samples;
    int64_t first_relapse;
    size_t tolerated;          /* runs within `tolerate` */
    int ended_bad;             /* the run ended unhealthy where it had to be healthy */
};

/* Replicas sorted into bad ones and unknown ones. */
struct fl_rec_tally {
    const char **bad, **unseen;
    size_t nbad, nunseen;
    size_t late, relapsed;     /* bad ones that missed a deadline / relapsed */
    size_t tolerated;
};

/* Counterexample for fault fi of series r (outcome res, ending at end),
 * shown by samples [from, to). 0 or FL_ENOMEM. */
int fl_rec_fault_cex(struct fl_rec_ctx *c, const struct fl_series *r, size_t fi,
                     const struct fl_fault_win *f, int64_t end, enum fl_rec res, size_t from,
                     size_t to);
/* Counterexample for the unhealthy run [a, b) of r in the zone of fault fi
 * (SIZE_MAX: before any fault): a relapse, or the unhealthy end when
 * b == r->n. 0 or FL_ENOMEM. */
int fl_rec_run_cex(struct fl_rec_ctx *c, const struct fl_series *r, size_t a, size_t b,
                   size_t fi);
/* The verdict of a keyless probe (one series), and of a per-replica one. */
int fl_rec_series_summary(struct fl_rec_ctx *c, const struct fl_series *r,
                          const struct fl_rec_result *res);
int fl_rec_replica_summary(struct fl_rec_ctx *c, const struct fl_rec_tally *t);

#endif
