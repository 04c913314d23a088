/* workload.h - HTTP workload clients and probes on the run's libuv loop.
 *
 * libcurl's multi_socket API driven by libuv (one loop, no threads). A
 * workload issues its request open-loop at `rate`, capped at `concurrency`
 * in flight; each accepted response's captures (JSON Pointer) become
 * variables, and with `follow` the captured key is polled `every` interval
 * until one of `until` or `timeout`. Probes sample a URL every interval.
 * Everything is recorded in the run's history (conventions in history.h).
 */
#ifndef FL_WORKLOAD_H
#define FL_WORKLOAD_H

#include "core/run_context.h"

struct fl_http;      /* the shared curl multi handle bound to the loop */
struct fl_workers;   /* all workloads and probes of a run */

/* Create the workload and probe drivers for run->sc. Nothing starts yet. */
int fl_workers_create(struct fl_workers **out, struct fl_run *run, struct fl_error *err);
/* Start the probes (sampling begins now). */
int fl_workers_start_probes(struct fl_workers *w);
/* Start the workloads: each begins at its start offset (relative to now)
 * and stops issuing new operations at its stop offset. */
int fl_workers_start_workloads(struct fl_workers *w);
/* Stop issuing new main requests (follows go on). */
void fl_workers_stop_workloads(struct fl_workers *w);
/* Number of operations still in flight or follows still polling. */
size_t fl_workers_pending(const struct fl_workers *w);
/* Call cb once nothing is pending (immediately if nothing is), or when
 * timeout_ms passes; then follows still running are ended with a `follow`
 * info record. */
int fl_workers_drain(struct fl_workers *w, uint64_t timeout_ms,
                     void (*cb)(void *ud), void *ud);
void fl_workers_stop_probes(struct fl_workers *w);
/* Abort every transfer (records info for each in flight), close every
 * handle; cb when all libuv handles are closed. */
void fl_workers_close(struct fl_workers *w, void (*cb)(void *ud), void *ud);
/* Counters for the console: issued, ok, fail, info. */
void fl_workers_counts(const struct fl_workers *w, size_t *issued, size_t *ok,
                       size_t *fail, size_t *info);

#endif
