/*
 * jobsvc - the demo system under test: an "accept-then-poll" job service
 * that reproduces, flag by flag, the failure modes faultline was built to
 * catch. See README.md in this folder for the API, the flags and the Redis
 * protocol (the protocol is also written at the top of queue.c).
 *
 * This is the SUT, not faultline: it uses threads (an HTTP thread pool,
 * worker threads, a reaper) because the service it imitates does.
 */
#ifndef JOBSVC_H
#define JOBSVC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>

#include <hiredis/hiredis.h>

/* Exit code for a usage error (sysexits.h EX_USAGE). */
#define JS_EXIT_USAGE 64

#define JS_ID_MAX 128      /* job id, NUL included */
#define JS_NAME_MAX 64     /* replica name, NUL included */
#define JS_STATUS_MAX 16   /* "pending" ... "complete", NUL included */

/*
 * The bug table: one row per switchable bug. Each bug has exactly two
 * values: the buggy one (what the incident did) and the fixed one.
 * `--profile buggy|fixed` sets every row at once; `--<flag> VALUE` overrides
 * one row whatever the argument order. A later bug is one more row, e.g.
 *   X(REDIS_FALLBACK, "redis-fallback", "sticky", "recover", "...")
 * and then `js_cfg_fixed(cfg, JS_BUG_REDIS_FALLBACK)` where it matters.
 */
#define JS_BUG_MAP(X)                                                        \
  X(STATE, "state", "memory", "redis",                                       \
    "where job state lives: memory = this replica only (polls that land on " \
    "another replica get 404); redis = shared Redis hashes, any replica "    \
    "answers")                                                               \
  X(SHUTDOWN, "shutdown", "abandon", "drain",                                \
    "abandon = in-process queue, a killed replica leaves its jobs pending/"  \
    "running forever and SIGTERM exits at once; drain = shared Redis queue " \
    "+ leases + reaper (a killed replica's jobs are finished elsewhere), "   \
    "SIGTERM stops accepting, finishes in-flight jobs, exits 0")

enum js_bug {
#define JS_BUG_ENUM(id, flag, buggy, fixed, help) JS_BUG_##id,
  JS_BUG_MAP(JS_BUG_ENUM)
#undef JS_BUG_ENUM
  JS_BUG_COUNT
};

struct js_bug_row {
  const char *flag;  /* without the leading "--" */
  const char *buggy; /* value that reproduces the incident */
  const char *fixed; /* value that does the right thing */
  const char *help;
};

/* The table generated from JS_BUG_MAP, indexed by enum js_bug. */
extern const struct js_bug_row js_bug_table[JS_BUG_COUNT];

struct js_cfg {
  int port;
  char redis_host[256]; /* empty when --redis was not given */
  int redis_port;
  char name[JS_NAME_MAX];
  int workers;
  int job_ms;
  int lease_ms;
  bool fixed[JS_BUG_COUNT]; /* after profile + overrides */
};

/*
 * Parses argv into cfg. Returns 0 to run, 1 when --help was printed (exit
 * 0), or JS_EXIT_USAGE after printing the reason and the usage to stderr.
 */
int js_cfg_parse(struct js_cfg *cfg, int argc, char **argv);
void js_cfg_usage(FILE *out);
static inline bool js_cfg_fixed(const struct js_cfg *cfg, enum js_bug bug) {
  return cfg->fixed[bug];
}
static inline bool js_state_redis(const struct js_cfg *cfg) {
  return js_cfg_fixed(cfg, JS_BUG_STATE);
}
static inline bool js_drain(const struct js_cfg *cfg) {
  return js_cfg_fixed(cfg, JS_BUG_SHUTDOWN);
}
static inline bool js_needs_redis(const struct js_cfg *cfg) {
  return js_state_redis(cfg) || js_drain(cfg);
}

/* ---- util.c ---------------------------------------------------------- */

/* One line to stderr, prefixed with the time and the replica name. */
void js_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void js_log_set_name(const char *name);
int64_t js_now_ms(void); /* CLOCK_MONOTONIC */
int64_t js_wall_ms(void); /* CLOCK_REALTIME, for records only */
void js_sleep_ms(int64_t ms);
uint64_t js_random64(void); /* getrandom(), falls back to time ^ pid */
/* Writes a fresh job id into out (size >= JS_ID_MAX). Thread-safe. */
void js_new_job_id(char *out, size_t size, const char *replica);
/* True when id only has [A-Za-z0-9._-] and fits in JS_ID_MAX. */
bool js_valid_id(const char *id);

/* ---- redis_conn.c ---------------------------------------------------- */

/*
 * One hiredis connection owned by one thread at a time. It connects lazily,
 * drops the context on any I/O error and reconnects on the next call (at
 * most one attempt per JS_REDIS_RETRY_MS so that callers fail fast while
 * Redis is down).
 */
struct js_redis {
  redisContext *ctx;
  const struct js_cfg *cfg;
  int64_t next_try_ms;
  bool was_up; /* for logging transitions only, not every failure */
  char label[32];
};

void js_redis_init(struct js_redis *r, const struct js_cfg *cfg, const char *label);
void js_redis_close(struct js_redis *r);
/*
 * Runs one command. Returns a reply the caller frees with freeReplyObject,
 * or NULL when Redis is unreachable, timed out or answered an error (the
 * error is logged). Never returns a REDIS_REPLY_ERROR reply.
 */
redisReply *js_redis_argv(struct js_redis *r, int argc, const char **argv);
/* Last known reachability, for /healthz (no round trip). */
bool js_redis_seen_up(void);

/* A fixed pool of connections for the HTTP threads. */
struct js_redis_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct js_redis *conns;
  bool *busy;
  int size;
};

int js_redis_pool_init(struct js_redis_pool *p, const struct js_cfg *cfg, int size);
/* Borrow within timeout_ms; NULL on timeout. Give it back with put. */
struct js_redis *js_redis_pool_get(struct js_redis_pool *p, int timeout_ms);
void js_redis_pool_put(struct js_redis_pool *p, struct js_redis *r);

/* ---- store.c / memstore.c -------------------------------------------- */

struct js_job {
  char id[JS_ID_MAX];
  char status[JS_STATUS_MAX];
  char replica[JS_NAME_MAX];
  long attempts;
};

struct js_memstore; /* opaque, memstore.c */

struct js_memstore *js_memstore_new(void);
/* Insert or overwrite; the oldest record is evicted when full. */
void js_memstore_put(struct js_memstore *m, const struct js_job *job);
/* Returns true and fills out when found. */
bool js_memstore_get(struct js_memstore *m, const char *id, struct js_job *out);
void js_memstore_del(struct js_memstore *m, const char *id);
/*
 * Sets status/replica of id, creating the record when missing (a foreign
 * job executed here in memory mode), and adds add_attempts.
 */
void js_memstore_update(struct js_memstore *m, const char *id, const char *status,
                        const char *replica, long add_attempts);

/* ---- the application ------------------------------------------------- */

struct js_localq; /* queue.c, in-process queue for shutdown=abandon */

struct js_app {
  struct js_cfg cfg;
  struct js_memstore *mem;     /* state=memory */
  struct js_redis_pool pool;   /* HTTP threads; only when Redis is used */
  struct js_localq *localq;    /* shutdown=abandon */
  atomic_bool draining;        /* SIGTERM in drain mode: POST -> 503 */
  atomic_bool stopping;        /* workers must stop taking jobs */
  atomic_int inflight;         /* jobs being executed right now */
};

/*
 * Store operations, dispatched on --state. Return 0 on success, 1 for "not
 * found" (get only), -1 when Redis is unavailable (the caller answers 503).
 */
int js_store_get(struct js_app *app, struct js_redis *r, const char *id, struct js_job *out);
/*
 * Accepts a new job: records it as pending and queues it (local queue or the
 * shared Redis list, atomically with the record in redis state).
 */
int js_store_submit(struct js_app *app, struct js_redis *r, const char *id);
/* Status change outside the lease protocol (abandon mode workers). */
int js_store_set(struct js_app *app, struct js_redis *r, const char *id, const char *status,
                 long add_attempts);

/* ---- queue.c ---------------------------------------------------------- */

struct js_localq *js_localq_new(int capacity);
/* Returns 0, or -1 when full. Copies id. */
int js_localq_push(struct js_localq *q, const char *id);
/* Waits up to timeout_ms; returns true and fills id (JS_ID_MAX) when a job came. */
bool js_localq_pop(struct js_localq *q, char *id, int timeout_ms);
int js_localq_len(struct js_localq *q);

/* The shared-queue protocol (drain mode). Return 1/0 as documented, -1 on Redis errors. */
int js_rq_push(struct js_app *app, struct js_redis *r, const char *id);
int js_rq_take(struct js_app *app, struct js_redis *r, const char *owner, char *id_out);
int js_rq_renew(struct js_app *app, struct js_redis *r, const char *owner, const char *id);
int js_rq_finish(struct js_app *app, struct js_redis *r, const char *owner, const char *id,
                 const char *status);
int js_rq_reap(struct js_app *app, struct js_redis *r, int *requeued);

/* Redis key names, shared by store.c and queue.c. */
#define JS_KEY_JOB "jobsvc:job:"     /* + id: HASH status replica attempts ... */
#define JS_KEY_QUEUE "jobsvc:queue"  /* LIST of ids, LPUSH in, RPOPLPUSH out */
#define JS_KEY_TAKEN "jobsvc:taken"  /* LIST of ids being executed */
#define JS_KEY_LEASE "jobsvc:lease:" /* + id: STRING owner, PX lease-ms */
#define JS_JOB_TTL_S 3600            /* job hashes expire, Redis stays bounded */

/* ---- worker.c / http.c ----------------------------------------------- */

int js_workers_start(struct js_app *app);
/* Joins workers and the reaper within timeout_ms; returns threads still running. */
int js_workers_join(struct js_app *app, int timeout_ms);

struct MHD_Daemon;
struct MHD_Daemon *js_http_start(struct js_app *app);

#endif
