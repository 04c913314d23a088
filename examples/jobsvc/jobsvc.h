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
 * one row whatever the argument order. A later bug is one more row (as
 * REDIS_FALLBACK was) and then `js_cfg_fixed(cfg, JS_BUG_<ID>)` where it
 * matters.
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
    "SIGTERM stops accepting, finishes in-flight jobs, exits 0")             \
  X(PEER_HEALTH, "peer-health", "ignore", "report",                          \
    "with --min-peers N (state=redis): report = replicas heartbeat in Redis "\
    "and /healthz says status \"degraded\" (still 200) while fewer than N "  \
    "are alive; ignore = /healthz says \"ok\" however many replicas are "    \
    "gone, so lost capacity is hidden")                                      \
  X(REDIS_FALLBACK, "redis-fallback", "sticky", "recover",                   \
    "on a Redis error the replica falls back to a file cache in --cache-dir "\
    "(/healthz stays 200 ok either way); sticky = it never goes back, so "   \
    "its jobs are invisible to the others and theirs to it; recover = every"\
    " 500ms it probes Redis (through the sentinels) and, once it answers, "  \
    "moves the jobs it accepted on file into Redis and switches back")       \
  X(RETRY_RESET, "retry-reset", "status-only", "full",                       \
    "POST /api/jobs/{id}/retry (state=redis): full = status, output and "    \
    "error are reset and the job runs again (attempts+1, a new output); "    \
    "status-only = only the status is reset, the old output stays, the "    \
    "engine sees it and marks the job complete at once without running it")  \
  X(ORPHAN_REAPER, "orphan-reaper", "off", "on",                             \
    "on = every second each replica fails jobs (state=redis) that have "     \
    "been pending/running for more than 10 minutes of its wall clock "       \
    "(CLOCK_REALTIME) with no live lease and another owner; off = records "  \
    "left active by a crashed replica stay active forever")                 \
  X(EFFECTS, "effects", "unfenced", "fenced",                                \
    "drain mode: fenced = an execution's output and side effect are "       \
    "recorded only while the worker still holds the job's lease, in one "   \
    "script; unfenced = a worker resumed after its lease expired (SIGSTOP, "\
    "a long GC pause) records them anyway, so the job another replica "     \
    "re-ran meanwhile has its side effect twice")  \
  X(STARTUP_EXPORT, "startup-export", "on", "off",                           \
    "with --dep: on = every boot starts a heavy POST /export against the "   \
    "dependency (three pods and their restarts exceed its limit)")           \
  X(DEP_RETRY, "dep-retry", "ignore", "honour",                              \
    "calls to --dep answered 429 or 5xx: ignore = retried at once, "        \
    "30 times, Retry-After ignored; honour = wait Retry-After, exponential " \
    "backoff with jitter, 5 tries")                                          \
  X(DEP_POOL, "dep-pool", "blind", "fresh",                                  \
    "keep-alive connections to --dep: blind = reused whatever happened, a "  \
    "connection the server closed while idle fails the call (503); fresh = " \
    "such a call is retried once on a new connection")                       \
  X(CURSOR, "cursor", "created", "activity",                                 \
    "intake (--intake-every-ms): created = page the message API by thread "  \
    "creation, replies to old threads are never ingested; activity = page "  \
    "by last activity")

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

#define JS_SENTINELS_MAX 8
#define JS_HOST_MAX 256

struct js_addr {
  char host[JS_HOST_MAX];
  int port;
};

struct js_cfg {
  int port;
  char bind[64];                /* --bind, IPv4 address; default 127.0.0.1 */
  char redis_host[JS_HOST_MAX]; /* empty when --redis was not given */
  int redis_port;
  struct js_addr sentinels[JS_SENTINELS_MAX]; /* --sentinels, in the order given */
  int nsentinels;                             /* 0: single instance (--redis) */
  char master_name[128];                      /* --master-name, default mymaster */
  char cache_dir[512];                        /* --cache-dir, default /tmp/jobsvc-<name> */
  char name[JS_NAME_MAX];
  int workers;
  int job_ms;
  int lease_ms;
  int min_peers;            /* --min-peers: replicas /healthz wants alive, 0 = no check */
  bool fixed[JS_BUG_COUNT]; /* after profile + overrides */
  char dep_host[JS_HOST_MAX]; /* --dep: the third-party API (dep.h); empty: none */
  int dep_port;
  int intake_every_ms;        /* --intake-every-ms: poll the message API (intake.h); 0: off */
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
static inline bool js_fallback_recovers(const struct js_cfg *cfg) {
  return js_cfg_fixed(cfg, JS_BUG_REDIS_FALLBACK);
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
  char host[JS_HOST_MAX]; /* where ctx is connected (the primary at that time) */
  int port;
  int64_t next_try_ms;
  bool was_up; /* for logging transitions only, not every failure */
  char label[32];
};

void js_redis_init(struct js_redis *r, const struct js_cfg *cfg, const char *label);
void js_redis_close(struct js_redis *r);
/*
 * Runs one command. Returns a reply the caller frees with freeReplyObject,
 * or NULL when Redis is unreachable, timed out or answered an error (the
 * error is logged). Never returns a REDIS_REPLY_ERROR reply. Connection
 * errors, timeouts and READONLY/MASTERDOWN replies also make the replica
 * forget the primary (asked again from the sentinels) and fall back to the
 * file cache (js_store_fall_back).
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

/* ---- sentinel.c: where the primary is ---------------------------------- */

/*
 * Fills host (size bytes) and port with the Redis primary: --redis as given,
 * or the answer of the first sentinel that knows --master-name (cached until
 * js_primary_forget). Returns 0, or -1 when no sentinel answered. May block
 * for about 600ms per sentinel; thread-safe.
 */
int js_primary_addr(const struct js_cfg *cfg, char *host, size_t size, int *port);
/* A connection to host:port failed: ask the sentinels again next time. */
void js_primary_forget(const struct js_cfg *cfg, const char *host, int port);
/*
 * True when the sentinels named another primary than host:port since that
 * connection was made (so it must be dropped before use). No round trip.
 */
bool js_primary_moved(const struct js_cfg *cfg, const char *host, int port);
/* "host:port" of the last known primary into out; "" when never known. */
void js_primary_describe(const struct js_cfg *cfg, char *out, size_t size);

/* ---- failover.c: which store this replica uses right now --------------- */

/* Enables the fallback when the configuration uses Redis at all. */
void js_store_mode_init(const struct js_cfg *cfg);
/* True while the replica is on its file cache. */
bool js_store_on_file(void);
/* A Redis error: switch to the file cache (logged once per switch). */
void js_store_fall_back(const char *why);
/* Back on Redis; only the migration calls it, holding the file store lock. */
void js_store_back_to_redis(void);
/* "redis", "file", or "memory" when Redis is not used at all. */
const char *js_store_name(const struct js_cfg *cfg);

/* ---- store.c / memstore.c -------------------------------------------- */

#define JS_OUTPUT_MAX 64

struct js_job {
  char id[JS_ID_MAX];
  char status[JS_STATUS_MAX];
  char replica[JS_NAME_MAX];
  long attempts;
  char output[JS_OUTPUT_MAX]; /* "" until an execution produced one (redis state) */
  long retries;               /* retries accepted (redis state) */
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

struct js_localq;    /* queue.c, in-process queue for shutdown=abandon */
struct js_filestore; /* filestore.c, the file cache used after a Redis error */

struct js_app {
  struct js_cfg cfg;
  struct js_memstore *mem;     /* state=memory */
  struct js_redis_pool pool;   /* HTTP threads; only when Redis is used */
  struct js_localq *localq;    /* shutdown=abandon */
  struct js_filestore *file;   /* only when Redis is used */
  struct js_localq *fileq;     /* jobs accepted on file; == localq in abandon mode */
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

/* ---- filestore.c ------------------------------------------------------- */

/*
 * The file cache: records of jobs this replica accepted (or changed) while
 * on file, in memory and appended to <cache-dir>/jobs.log, which is created
 * on the first write and replayed at start. Bounded to JS_FILE_MAX_JOBS.
 * Returns NULL on ENOMEM or an unreadable log.
 */
#define JS_FILE_MAX_JOBS 4096
struct js_filestore *js_filestore_open(const struct js_cfg *cfg, struct js_localq *requeue);
/*
 * Records a new pending job. Returns 0, -1 when the cache is full or the
 * log cannot be written, 1 when the replica is back on Redis (use Redis).
 */
int js_filestore_submit(struct js_filestore *f, const char *id, const char *replica);
/* Removes id's record (its queueing failed). */
void js_filestore_forget(struct js_filestore *f, const char *id);
/*
 * Looks id up. Returns 0 and fills out when it is on file; otherwise 1 and
 * sets *on_file to the store mode read under the same lock as the lookup.
 */
int js_filestore_get(struct js_filestore *f, const char *id, struct js_job *out, bool *on_file);
/*
 * Status change: applied on file when id has a record there, or when the
 * replica is on file (a record is created). Returns 0 when applied, 1 when
 * the change belongs to Redis/memory, -1 when the log cannot be written.
 */
int js_filestore_set(struct js_filestore *f, const char *id, const char *status,
                     const char *replica, long add_attempts);
/* pending -> running (attempts+1) on file; false when id is not pending there. */
bool js_filestore_claim(struct js_filestore *f, const char *id, const char *replica);
int js_filestore_count(struct js_filestore *f);
/*
 * Moves every record into Redis (or memory, state=memory), queueing the
 * pending ones in drain mode, then switches the replica back to Redis.
 * Returns the number of jobs moved, or -1 on a Redis error (nothing switched;
 * records already moved are gone from the file, the rest stay).
 */
int js_filestore_migrate(struct js_app *app, struct js_redis *r);

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

/* ---- peers.c: replicas alive, for /healthz (peer-health=report) ---- */

/* True when this replica beats and counts peers (report, --min-peers > 0, redis state). */
bool js_peers_enabled(const struct js_cfg *cfg);
/* Beat and count until app->stopping; then leave the set. */
void js_peers_loop(struct js_app *app, struct js_redis *r);
/* Start the (detached) thread that runs js_peers_loop when enabled. 0 or -1. */
int js_peers_start(struct js_app *app);
/* Replicas alive at the last count (itself included), -1 when unknown. */
int js_peers_live(void);

/* Redis key names, shared by store.c and queue.c. */
#define JS_KEY_JOB "jobsvc:job:"     /* + id: HASH status replica attempts ... */
#define JS_KEY_QUEUE "jobsvc:queue"  /* LIST of ids, LPUSH in, RPOPLPUSH out */
#define JS_KEY_TAKEN "jobsvc:taken"  /* LIST of ids being executed */
#define JS_KEY_LEASE "jobsvc:lease:" /* + id: STRING owner, PX lease-ms */
#define JS_JOB_TTL_S 3600            /* job hashes expire, Redis stays bounded */

/* ---- worker.c / http.c ----------------------------------------------- */

int js_workers_start(struct js_app *app);
/* recover mode: every ~500ms, probe Redis and migrate back (failover.c). */
void js_failover_loop(struct js_app *app, struct js_redis *r);
/* Joins workers and the reaper within timeout_ms; returns threads still running. */
int js_workers_join(struct js_app *app, int timeout_ms);

struct MHD_Daemon;
struct MHD_Daemon *js_http_start(struct js_app *app);

/* ---- retry.c, outputs.c, orphan.c: retries, outputs, the orphan reaper -- */

struct MHD_Connection;
/* Answers with a JSON body (http.c); takes ownership of body (jansson). */
int js_http_reply(struct MHD_Connection *conn, unsigned status, void *json_body);
/*
 * The routes of retry.c: POST /api/jobs/{id}/retry, GET /api/effects,
 * GET /api/time. Returns true and sets *result when url is one of them.
 */
bool js_http_extra(struct js_app *app, struct MHD_Connection *conn, const char *url,
                   const char *method, int *result);
/*
 * A worker finished executing id (before it records "complete"): writes
 * the job's output ("out-<hex>-a<attempts>") and appends one side effect
 * to the sink (jobsvc:effects). With owner (not NULL) both happen only
 * while owner holds the job's lease (fencing). redis state only; best
 * effort. Returns false when the fence refused it.
 */
bool js_outputs_record(struct js_app *app, struct js_redis *r, const char *id,
                       const char *owner);
/* orphan-reaper=on: every second, fail other owners' jobs active > 10 min. */
void js_orphan_loop(struct js_app *app, struct js_redis *r);
#define JS_ORPHAN_AGE_MS (10 * 60 * 1000)
#define JS_KEY_EFFECTS "jobsvc:effects" /* LIST of JSON effects, the last 10000 */

#endif
