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
 *   "runner"    "phase"     NULL       phase name            phase change;
 *                                                            "done" is the last
 *                                                            phase of every run
 *   "runner"    "harness"   NULL       NULL, error = why     info: the harness
 *                                                            could not finish
 *   workload    "write"     redis key  the element written   Redis write: ok =
 *                                                            acknowledged, fail =
 *                                                            refused, info = unknown
 *   workload    "read"      redis key  JSON array of the     final read of the
 *                                      elements read         written set
 *   probe       "probe"     instance   value                 per-replica probe
 *                                                            (key = "api.1")
 *   "operator"  "note"      NULL       the text typed        a note taken during
 *                                                            the run
 *   "operator"  "skip"      file:line  the injector's name   --step: the operator
 *                                                            skipped that fault
 *   "runner"    "stop"      condition  "met at 12.300s",     info: a stop condition
 *                                      error = probe key     (abort_if) was met
 *   retry.stale "retry.read" capture   the whole answer      the key read before
 *                                      (JSON body)           a resend
 *   retry.stale "retry"     capture    answer body, or       a resent request
 *                                      "http:409" (fail)     (one process a copy)
 *   retry.stale "retry.poll" capture   answer body           polls after a resend
 *   retry.stale "retry.follow" capture NULL                  info: gave up polling
 *   "proxy"     "http"      proxy      JSON {conn, method,   one HTTP exchange
 *                                      path, client (User-   through a fault
 *                                      Agent), status, start_us,
 *                                      latency_us, injected, proxy: ok when
 *                                      retry_after}          answered, info when
 *                                                            the connection closed
 *                                                            first (status 0)
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
#define FL_F_HARNESS "harness"
#define FL_F_NOTE "note"
#define FL_F_STOP "stop"
#define FL_F_SKIP "skip"
#define FL_SOURCE_RUNNER "runner"
#define FL_PHASE_DONE "done"
#define FL_VALUE_HTTP_PREFIX "http:"

/* process number ranges: workload chains count up from 0; probes and
 * faults get their own ranges so they never collide. */
#define FL_PROC_PROBE 1000000000
#define FL_PROC_FAULT 1100000000
#define FL_PROC_TARGET 1200000000
#define FL_PROC_RUNNER 1300000000
#define FL_PROC_PROXY 1400000000   /* + connection number % 1e8 */
#define FL_SOURCE_PROXY "proxy"
#define FL_F_HTTP "http"

/* The largest time an op may carry either side of 0 (about 31 years): a
 * loaded file is held to it, so checkers can add or subtract a duration
 * (clamped to it too) without overflow. */
#define FL_TIME_MAX_US ((int64_t)1000000000000000)

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
size_t fl_history_max_ops(const struct fl_history *h);

/* ---- recorded histories (history_jsonl.c) ----
 *
 * What the JSONL loader learned about a file's completeness. A live
 * history has path == NULL and every count 0. */
struct fl_history_origin {
    const char *path;        /* the file (interned); NULL: not loaded */
    size_t lines;            /* lines read, blank ones included */
    uint64_t ops;            /* op lines read (some may have been dropped) */
    uint64_t high;           /* highest op index seen */
    uint64_t missing;        /* op indexes absent from the file */
    size_t gap_line;         /* line of the first op after a gap, 0: none */
    uint64_t gap_from;       /* the first gap: indexes gap_from .. gap_to - 1 */
    uint64_t gap_to;
    uint64_t disordered;     /* lines whose index is not above every earlier
                              * one (a duplicated or reordered line) */
    size_t disorder_line;    /* the first of them, 0: none */
    uint64_t disorder_index; /* its index, and the highest seen before it */
    uint64_t disorder_after;
    size_t restart_line;     /* first line where the index starts again at 0:
                              * the file holds more than one run, 0: none */
    int cut_mid_line;        /* the file does not end with a newline */
};

/* Borrowed from h, valid for its lifetime. */
const struct fl_history_origin *fl_history_origin(const struct fl_history *h);
/* For the loader only: the record it fills. */
struct fl_history_origin *fl_history_origin_edit(struct fl_history *h);

/* Parse a history from JSON lines (the --events format, reports/jsonl.c),
 * for `faultline check` and tests.
 *
 * Contract: appends every op of the file to h in file order; the file's
 * "index" fields are checked (they must count up from 0 by one: a gap is
 * a lost line, recorded in fl_history_origin) but the ops get positions in
 * h as indexes. Blank lines are skipped. Every line must be one JSON object
 * with index, time_us, process, type, source, f as the writer puts them
 * (key, value, error: string, null or absent; other members are ignored);
 * the first line that is not is an error naming path:line:col, and the ops
 * before it stay in h. Lines are bounded (4 MiB), and so is h: past its
 * max_ops an op is dropped and counted (fl_history_dropped), reading goes
 * on without growing. Returns 0, FL_EINVAL (malformed) or FL_EIO
 * (unreadable), with err set. */
struct fl_error;
int fl_history_load_jsonl(struct fl_history *h, const char *path, struct fl_error *err);

/* ---- integrity (integrity.c) ----
 *
 * Checkers judge the ops they are given; a history that lost ops must not
 * be judged as if it were complete. */
struct fl_integrity {
    int complete;                 /* 1: no op is known to be missing */
    char why[768];                /* when !complete: every reason, "; " between */
    const struct fl_op *harness;  /* the run's recorded harness failure
                                   * (f "harness"), or NULL */
};

/* Look for every sign that ops are missing from h:
 *   - ops were dropped (the op limit or memory), live or while loading;
 *   - a loaded file has a gap in its op indexes, or duplicated/reordered
 *     lines, or stops before the run's final record (runner phase "done"):
 *     the recording was cut short.
 * A live history is not required to hold "done" (the runner calls the
 * checkers from inside the run). Pure; out is always filled. */
void fl_history_integrity(const struct fl_history *h, struct fl_integrity *out);

#endif
