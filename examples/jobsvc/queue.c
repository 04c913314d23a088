/*
 * Job queues.
 *
 * --shutdown abandon (the bug): an accepted job goes into this replica's
 * in-process queue (js_localq). Nothing else knows about it: if the replica
 * is SIGKILLed, or exits on SIGTERM, its queued and running jobs stay
 * "pending"/"running" in Redis forever.
 *
 * --shutdown drain (the fix): a shared Redis protocol. Every step that moves
 * a job between states is one Lua script, so it is atomic: a job is always
 * in exactly one of { jobsvc:queue, jobsvc:taken } until it is finished.
 *
 *   keys   jobsvc:job:<id>    HASH  status replica attempts created_ms updated_ms
 *          jobsvc:queue       LIST  ids waiting (LPUSH in, RPOPLPUSH out: FIFO)
 *          jobsvc:taken       LIST  ids being executed
 *          jobsvc:lease:<id>  STRING owner, PX lease-ms; exists while an owner is alive
 *
 *   submit  HSET job (pending) + LPUSH queue                  (store.c)
 *   take    RPOPLPUSH queue -> taken, SET lease owner PX, and in redis
 *           state HSET status=running, HINCRBY attempts 1     (TAKE_LUA)
 *   renew   every lease-ms/3 by the owner: PEXPIRE if the lease is still
 *           its own; a lapsed lease is re-acquired only if the job is still
 *           in taken (nobody requeued it)                     (RENEW_LUA)
 *   finish  by the owner: only if the lease is still its own (or lapsed but
 *           not yet requeued): LREM taken, DEL lease, HSET status=complete.
 *           Otherwise the result is dropped: the job belongs to someone else
 *           now (a fencing check, e.g. after SIGSTOP)          (FINISH_LUA)
 *   reap    every ~lease-ms/2 in every replica: ids in taken whose lease key
 *           expired are moved back to the head of the queue; status stays
 *           "running" (it never moves backwards) and attempts goes +1 when a
 *           worker starts it again                             (REAP_LUA)
 *
 * A job is therefore executed at least once; a killed replica's jobs are
 * finished by another replica within about lease-ms + lease-ms/2 + job-ms.
 */
#include "jobsvc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- in-process queue (abandon mode) --------------------------------- */

struct js_localq {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char (*ids)[JS_ID_MAX];
  int cap, head, len;
};

struct js_localq *js_localq_new(int capacity) {
  struct js_localq *q = calloc(1, sizeof *q);
  if (q == NULL)
    return NULL;
  q->ids = calloc((size_t)capacity, sizeof *q->ids);
  if (q->ids == NULL) {
    free(q);
    return NULL;
  }
  q->cap = capacity;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  return q;
}

int js_localq_push(struct js_localq *q, const char *id) {
  int rc = -1;
  pthread_mutex_lock(&q->mu);
  if (q->len < q->cap) {
    snprintf(q->ids[(q->head + q->len) % q->cap], JS_ID_MAX, "%s", id);
    q->len++;
    rc = 0;
    pthread_cond_signal(&q->cv);
  }
  pthread_mutex_unlock(&q->mu);
  return rc;
}

bool js_localq_pop(struct js_localq *q, char *id, int timeout_ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += (long)timeout_ms * 1000000L;
  deadline.tv_sec += deadline.tv_nsec / 1000000000L;
  deadline.tv_nsec %= 1000000000L;
  bool got = false;
  pthread_mutex_lock(&q->mu);
  while (q->len == 0) {
    if (pthread_cond_timedwait(&q->cv, &q->mu, &deadline) == ETIMEDOUT)
      break;
  }
  if (q->len > 0) {
    memcpy(id, q->ids[q->head], JS_ID_MAX);
    q->head = (q->head + 1) % q->cap;
    q->len--;
    got = true;
  }
  pthread_mutex_unlock(&q->mu);
  return got;
}

int js_localq_len(struct js_localq *q) {
  pthread_mutex_lock(&q->mu);
  int n = q->len;
  pthread_mutex_unlock(&q->mu);
  return n;
}

/* ---- shared Redis queue (drain mode) --------------------------------- */

/* KEYS queue taken; ARGV owner lease_ms lease_prefix job_prefix replica now ttl */
static const char TAKE_LUA[] =
    "local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])\n"
    "if not id then return false end\n"
    "redis.call('SET', ARGV[3] .. id, ARGV[1], 'PX', ARGV[2])\n"
    "if ARGV[4] ~= '' then\n"
    "  local k = ARGV[4] .. id\n"
    "  redis.call('HSET', k, 'status', 'running', 'replica', ARGV[5], 'updated_ms', ARGV[6])\n"
    "  redis.call('HINCRBY', k, 'attempts', 1)\n"
    "  redis.call('EXPIRE', k, ARGV[7])\n"
    "end\n"
    "return id\n";

/* KEYS lease taken; ARGV owner lease_ms id */
static const char RENEW_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "if not cur and redis.call('LPOS', KEYS[2], ARGV[3]) then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/* KEYS lease taken; ARGV owner id job_prefix status replica now ttl */
static const char FINISH_LUA[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur and cur ~= ARGV[1] then return 0 end\n"
    "local n = redis.call('LREM', KEYS[2], 1, ARGV[2])\n"
    "if cur ~= ARGV[1] and n == 0 then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "if ARGV[3] ~= '' then\n"
    "  local k = ARGV[3] .. ARGV[2]\n"
    "  redis.call('HSET', k, 'status', ARGV[4], 'replica', ARGV[5], 'updated_ms', ARGV[6])\n"
    "  redis.call('EXPIRE', k, ARGV[7])\n"
    "end\n"
    "return 1\n";

/* KEYS taken queue; ARGV lease_prefix max */
static const char REAP_LUA[] =
    "local ids = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)\n"
    "local out = {}\n"
    "for _, id in ipairs(ids) do\n"
    "  if redis.call('EXISTS', ARGV[1] .. id) == 0 then\n"
    "    if redis.call('LREM', KEYS[1], 1, id) > 0 then\n"
    "      redis.call('RPUSH', KEYS[2], id)\n"
    "      out[#out + 1] = id\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return out\n";

#define REAP_MAX "1000" /* ids examined per pass: bounded work per script */

static const char *job_prefix(const struct js_app *app) {
  return js_state_redis(&app->cfg) ? JS_KEY_JOB : "";
}

int js_rq_push(struct js_app *app, struct js_redis *r, const char *id) {
  (void)app;
  const char *argv[] = {"LPUSH", JS_KEY_QUEUE, id};
  redisReply *rep = js_redis_argv(r, 3, argv);
  if (rep == NULL)
    return -1;
  freeReplyObject(rep);
  return 0;
}

/*
 * Moves one job from the queue to taken under a lease owned by owner.
 * Returns 1 and fills id_out (JS_ID_MAX) when a job was taken, 0 when the
 * queue is empty, -1 on Redis errors.
 */
int js_rq_take(struct js_app *app, struct js_redis *r, const char *owner, char *id_out) {
  char lease[16], now[24], ttl[16];
  snprintf(lease, sizeof lease, "%d", app->cfg.lease_ms);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL", TAKE_LUA, "2",          JS_KEY_QUEUE,  JS_KEY_TAKEN, owner,
                        lease,  JS_KEY_LEASE, job_prefix(app), app->cfg.name, now,     ttl};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  int rc = 0;
  if (rep->type == REDIS_REPLY_STRING) {
    snprintf(id_out, JS_ID_MAX, "%s", rep->str);
    rc = 1;
  }
  freeReplyObject(rep);
  return rc;
}

/* Returns 1 while owner holds id's lease, 0 when it was lost, -1 on errors. */
int js_rq_renew(struct js_app *app, struct js_redis *r, const char *owner, const char *id) {
  char key[JS_ID_MAX + 32], lease[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_LEASE, id);
  snprintf(lease, sizeof lease, "%d", app->cfg.lease_ms);
  const char *argv[] = {"EVAL", RENEW_LUA, "2", key, JS_KEY_TAKEN, owner, lease, id};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  int rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
  freeReplyObject(rep);
  return rc;
}

/*
 * Records the outcome if owner still owns id. Returns 1 when recorded, 0
 * when the job belongs to someone else now (result dropped), -1 on errors.
 */
int js_rq_finish(struct js_app *app, struct js_redis *r, const char *owner, const char *id,
                 const char *status) {
  char key[JS_ID_MAX + 32], now[24], ttl[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_LEASE, id);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL", FINISH_LUA,      "2",    key,           JS_KEY_TAKEN, owner,
                        id,     job_prefix(app), status, app->cfg.name, now,          ttl};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  int rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
  freeReplyObject(rep);
  return rc;
}

/*
 * One reaper pass. Returns 0 and sets *requeued, or -1 on errors. Each
 * requeued id is logged here, because that is the event worth a line.
 */
int js_rq_reap(struct js_app *app, struct js_redis *r, int *requeued) {
  (void)app;
  const char *argv[] = {"EVAL", REAP_LUA, "2", JS_KEY_TAKEN, JS_KEY_QUEUE, JS_KEY_LEASE, REAP_MAX};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  *requeued = 0;
  if (rep->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < rep->elements; i++) {
      const redisReply *e = rep->element[i];
      if (e->type == REDIS_REPLY_STRING)
        js_log("reaper: lease of job %s expired, owner gone: requeued", e->str);
    }
    *requeued = (int)rep->elements;
  }
  freeReplyObject(rep);
  return 0;
}
