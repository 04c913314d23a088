/* resend.h - re-send requests a workload already made, later: the machinery
 * of retry.stale.
 *
 * A resend picks keys a workload captured (job ids), optionally only those
 * whose latest recorded poll shows one of some values (the state changed
 * since the capture: the job completed or failed), and for each key:
 *
 *   1. reads the key's current state (GET poll path)      f "retry.read"
 *   2. sends `copies` identical requests at once          f "retry"
 *   3. polls the key until its status is one of `until`   f "retry.poll"
 *      or the timeout passes (f "retry.follow", info)
 *
 * Every answer body is recorded whole as the op's value (compact JSON as
 * the service sent it), so checkers can read any field with a JSON Pointer.
 * ok = a 2xx answer; fail = another status (value "http:NNN", the body as
 * error); info = no answer (timeout, transport error: unknown).
 *
 * All on the run's loop through one fl_http client. Bounded: at most
 * FL_RESEND_MAX_KEYS keys, FL_RESEND_MAX_COPIES copies, bodies of 64 KiB.
 */
#ifndef FL_RESEND_H
#define FL_RESEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/injector.h"

#define FL_RESEND_MAX_KEYS 64
#define FL_RESEND_MAX_COPIES 32

#define FL_F_RETRY "retry"
#define FL_F_RETRY_READ "retry.read"
#define FL_F_RETRY_POLL "retry.poll"
#define FL_F_RETRY_FOLLOW "retry.follow"

struct fl_resend_spec {
    const char *workload;          /* whose captured keys */
    const char *const *state;      /* latest poll value must be one of these; NULL: any */
    size_t nstate;
    size_t count;                  /* keys to resend for */
    size_t copies;                 /* identical requests sent at once per key */
    const char *service;           /* where: its round-robin address */
    const char *method;
    const char *path;              /* "{key}" is replaced by the key */
    const char *poll_path;         /* "{key}" too; NULL: no read, no follow */
    const char *status_ptr;        /* JSON Pointer of the status in a poll answer */
    const char *const *until;      /* status values that end the follow */
    size_t nuntil;
    uint64_t every_ms, timeout_ms;
};

/* Choose the keys from the run's history (earliest accepted first) and
 * start the chains. Returns FL_PENDING (fl_fault_done comes once every
 * chain has ended; fr->desc and fr->key say what was resent), or FL_E*
 * with err set (nothing started). fr->state is owned by the resend and
 * freed by the runner; fl_resend_stop must run before (cancel, teardown). */
int fl_resend_start(struct fl_fault_run *fr, const struct fl_resend_spec *spec,
                    struct fl_error *err);

/* Stop every timer and request; no fl_fault_done afterwards. Idempotent. */
void fl_resend_stop(struct fl_fault_run *fr);

/* Keys eligible for a resend in history h (pure: unit-tested): the keys
 * workload accepted (request ok with a key), earliest first, whose latest
 * ok poll value after that request is in state (any key when nstate ==
 * 0). Writes at most max interned key pointers and their count to *n.
 * One pass each way over h. Returns 0, or FL_ENOMEM (*n is 0). */
int fl_resend_candidates(const struct fl_history *h, const char *workload,
                         const char *const *state, size_t nstate, const char **out, size_t max,
                         size_t *n);

#endif
