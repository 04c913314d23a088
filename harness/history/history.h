/* history.h - one append-only log of everything that happened in a run.
 *
 * Jepsen-style: workload operations, probe samples, fault injections and
 * heals, target events (an instance exited, restarted) all land here. Each
 * operation that takes time is an `invoke` followed by its completion: `ok`,
 * `fail` (it certainly did not happen) or `info` (unknown: a timeout is
 * always info, never guessed). Instant events are a single ok/info record.
 *
 * Strings are interned: an op's string pointers stay valid until the
 * history is freed, and equal strings share one pointer (so checkers may
 * compare source/f/key pointers, but must use strcmp for values given by
 * the caller).
 *
 * Conventions used by the rest of faultline (checkers rely on them):
 *
 *   source      f           key        value                 meaning
 *   workload    "request"   capture    HTTP status "202"     main request
 *   workload    "poll"      capture    value at `record`     follow poll;
 *                                      or "http:404"         non-2xx answer
 *   workload    "follow"    capture    last value            info: gave up
 *   probe       "probe"     NULL       value or status       probe sample
 *   injector    "fault"     instance   description           injection
 *   injector    "heal"      instance   description           heal
 *   target      "instance"  instance   "exited"/"started"..  process event
 *   "runner"    "phase"     NULL       phase name            phase change
 *   workload    "write"     redis key  the element written   Redis write: ok =
 *                                                            acknowledged, fail =
 *                                                            refused, info = unknown
 *   workload    "read"      redis key  JSON array of the     final read of the
 *                                      elements read         written set
 *   probe       "probe"     instance   value                 per-replica probe
 *                                                            (key = "api.1")
 *   workload    "skipped"   NULL       count, e.g. "1234"    info without invoke:
 *                                                            that many operations
 *                                                            were due but never
 *                                                            issued (the loop fell
 *                                                            behind); not accepted
 *
 * `process` identifies the logical actor: each workload operation chain,
 * each probe, each fault has its own number (see FL_PROC_*).
 */
#ifndef FL_HISTORY_H
#define FL_HISTORY_H

#include <stddef.h>
#include <stdint.h>

enum fl_optype { FL_INVOKE, FL_OK, FL_FAIL, FL_INFO };

#define FL_F_REQUEST "request"
#define FL_F_POLL "poll"
#define FL_F_FOLLOW "follow"
#define FL_F_PROBE "probe"
#define FL_F_FAULT "fault"
#define FL_F_HEAL "heal"
#define FL_F_INSTANCE "instance"
#define FL_F_PHASE "phase"
#define FL_F_WRITE "write"
#define FL_F_READ "read"
#define FL_F_SKIPPED "skipped"
#define FL_SOURCE_RUNNER "runner"
#define FL_VALUE_HTTP_PREFIX "http:"

/* process number ranges: workload chains count up from 0; probes and
 * faults get their own ranges so they never collide. */
#define FL_PROC_PROBE 1000000000
#define FL_PROC_FAULT 1100000000
#define FL_PROC_TARGET 1200000000
#define FL_PROC_RUNNER 1300000000

struct fl_op {
    uint64_t index;        /* position in the history, from 0 */
    int64_t time_us;       /* monotonic, since the run started */
    int32_t process;
    enum fl_optype type;
    const char *source;    /* never NULL */
    const char *f;         /* never NULL */
    const char *key;       /* may be NULL */
    const char *value;     /* may be NULL */
    const char *error;     /* may be NULL: why fail / info */
};

struct fl_history;

/* Called for every appended op, after it is stored (used to stream JSON
 * lines). The op is valid for the history's lifetime. */
typedef void (*fl_history_sink)(void *ud, const struct fl_op *op);

/* A new empty history holding at most max_ops operations (0: 50,000,000). */
struct fl_history *fl_history_new(size_t max_ops);
void fl_history_free(struct fl_history *h);
void fl_history_set_sink(struct fl_history *h, fl_history_sink sink, void *ud);

/* Append one op; strings are copied (interned). Returns the stored op, or
 * NULL when out of memory or over max_ops (the op is dropped and counted). */
const struct fl_op *fl_history_add(struct fl_history *h, int64_t time_us,
                                   int32_t process, enum fl_optype type,
                                   const char *source, const char *f,
                                   const char *key, const char *value,
                                   const char *error);

size_t fl_history_len(const struct fl_history *h);
const struct fl_op *fl_history_get(const struct fl_history *h, size_t i);
/* Ops dropped because of the limit or memory. */
size_t fl_history_dropped(const struct fl_history *h);

/* Intern a string in the history's table (the returned pointer lives as long
 * as h). NULL in, NULL out. */
const char *fl_history_intern(struct fl_history *h, const char *s);

const char *fl_optype_name(enum fl_optype t);   /* "invoke", "ok", ... */
/* Parse a history back from JSON lines (the --events format), for tests
 * and `faultline check`. Returns 0 or FL_EINVAL/FL_EIO with err set. */
struct fl_error;
int fl_history_load_jsonl(struct fl_history *h, const char *path, struct fl_error *err);

#endif
