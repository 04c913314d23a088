/*
 * Job state, dispatched on --state: this replica's memory (the bug) or a
 * Redis hash per job shared by every replica (the fix). The lease protocol
 * of drain mode updates the hash itself (queue.c); this file covers submit,
 * polls and the plain status updates of abandon mode.
 *
 * When Redis is used, a Redis error puts the replica on its file cache
 * (failover.c): then submissions, polls and status changes go to the file
 * first (filestore.c), and a submission that failed on Redis is retried
 * there, so the client still gets its 202.
 */
#include "jobsvc.h"

#include <stdlib.h>
#include <string.h>

/* KEYS job queue; ARGV id replica now ttl push(0|1) */
static const char SUBMIT_LUA[] =
    "redis.call('HSET', KEYS[1], 'status', 'pending', 'replica', ARGV[2], 'attempts', 0,\n"
    "           'created_ms', ARGV[3], 'updated_ms', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "if ARGV[5] == '1' then redis.call('LPUSH', KEYS[2], ARGV[1]) end\n"
    "return 1\n";

/* KEYS job; ARGV status replica now ttl add_attempts */
static const char SET_LUA[] =
    "redis.call('HSET', KEYS[1], 'status', ARGV[1], 'replica', ARGV[2], 'updated_ms', ARGV[3])\n"
    "redis.call('HINCRBY', KEYS[1], 'attempts', ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "return 1\n";

static void job_key(char *out, size_t size, const char *id) {
  snprintf(out, size, "%s%s", JS_KEY_JOB, id);
}

static int redis_get(struct js_redis *r, const char *id, struct js_job *out) {
  char key[JS_ID_MAX + 32];
  job_key(key, sizeof key, id);
  const char *argv[] = {"HMGET", key, "status", "replica", "attempts", "output", "retries"};
  redisReply *rep = js_redis_argv(r, 7, argv);
  if (rep == NULL)
    return -1;
  int rc = 1;
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 5 &&
      rep->element[0]->type == REDIS_REPLY_STRING) {
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", id);
    snprintf(out->status, sizeof out->status, "%s", rep->element[0]->str);
    if (rep->element[1]->type == REDIS_REPLY_STRING)
      snprintf(out->replica, sizeof out->replica, "%s", rep->element[1]->str);
    if (rep->element[2]->type == REDIS_REPLY_STRING)
      out->attempts = strtol(rep->element[2]->str, NULL, 10);
    if (rep->element[3]->type == REDIS_REPLY_STRING)
      snprintf(out->output, sizeof out->output, "%s", rep->element[3]->str);
    if (rep->element[4]->type == REDIS_REPLY_STRING)
      out->retries = strtol(rep->element[4]->str, NULL, 10);
    rc = 0;
  }
  freeReplyObject(rep);
  return rc;
}

int js_store_get(struct js_app *app, struct js_redis *r, const char *id, struct js_job *out) {
  bool on_file = false;
  if (js_needs_redis(&app->cfg) && js_filestore_get(app->file, id, out, &on_file) == 0)
    return 0;
  if (!js_state_redis(&app->cfg))
    return js_memstore_get(app->mem, id, out) ? 0 : 1;
  if (on_file) {
    /* sticky believes its file is the whole truth: 404. recover knows it
     * cannot tell while Redis is away: 503, not a false "not found". */
    return js_fallback_recovers(&app->cfg) ? -1 : 1;
  }
  return redis_get(r, id, out);
}

static int redis_submit(struct js_app *app, struct js_redis *r, const char *id, bool push) {
  char key[JS_ID_MAX + 32], now[24], ttl[16];
  job_key(key, sizeof key, id);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL", SUBMIT_LUA,    "2", key, JS_KEY_QUEUE, id,
                        app->cfg.name, now, ttl, push ? "1" : "0"};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  freeReplyObject(rep);
  return 0;
}

/* Undo of a record whose queueing failed, so no unqueued "pending" remains. */
static void forget(struct js_app *app, struct js_redis *r, const char *id) {
  if (!js_state_redis(&app->cfg)) {
    js_memstore_del(app->mem, id);
    return;
  }
  char key[JS_ID_MAX + 32];
  job_key(key, sizeof key, id);
  const char *argv[] = {"DEL", key};
  redisReply *rep = js_redis_argv(r, 2, argv);
  if (rep != NULL)
    freeReplyObject(rep);
}

/* Accepts id on the file cache. 0, -1, or 1 when the replica is back on Redis. */
static int file_submit(struct js_app *app, const char *id) {
  int rc = js_filestore_submit(app->file, id, app->cfg.name);
  if (rc != 0)
    return rc;
  if (js_localq_push(app->fileq, id) != 0) {
    js_filestore_forget(app->file, id);
    return -1;
  }
  js_log("job %s: recorded in the file cache", id);
  return 0;
}

static int submit_redis_or_memory(struct js_app *app, struct js_redis *r, const char *id);

int js_store_submit(struct js_app *app, struct js_redis *r, const char *id) {
  bool fallback = js_needs_redis(&app->cfg);
  if (fallback && js_store_on_file()) {
    int rc = file_submit(app, id);
    if (rc <= 0)
      return rc;
  }
  int rc = submit_redis_or_memory(app, r, id);
  if (rc != 0 && fallback && js_store_on_file()) /* this very error made the switch */
    rc = file_submit(app, id) == 0 ? 0 : -1;
  return rc;
}

static int submit_redis_or_memory(struct js_app *app, struct js_redis *r, const char *id) {
  bool drain = js_drain(&app->cfg);
  if (js_state_redis(&app->cfg)) {
    /* In drain mode record and queue are one script: never one without the other. */
    if (redis_submit(app, r, id, drain) != 0)
      return -1;
    if (drain)
      return 0;
  } else {
    struct js_job job;
    memset(&job, 0, sizeof job);
    snprintf(job.id, sizeof job.id, "%s", id);
    snprintf(job.status, sizeof job.status, "pending");
    snprintf(job.replica, sizeof job.replica, "%s", app->cfg.name);
    js_memstore_put(app->mem, &job);
  }
  int rc = drain ? js_rq_push(app, r, id) : js_localq_push(app->localq, id);
  if (rc != 0) {
    forget(app, r, id);
    return -1;
  }
  return 0;
}

static int set_redis_or_memory(struct js_app *app, struct js_redis *r, const char *id,
                               const char *status, long add_attempts);

int js_store_set(struct js_app *app, struct js_redis *r, const char *id, const char *status,
                 long add_attempts) {
  if (!js_needs_redis(&app->cfg))
    return set_redis_or_memory(app, r, id, status, add_attempts);
  int rc = js_filestore_set(app->file, id, status, app->cfg.name, add_attempts);
  if (rc <= 0)
    return rc;
  rc = set_redis_or_memory(app, r, id, status, add_attempts);
  if (rc != 0 && js_store_on_file())
    rc = js_filestore_set(app->file, id, status, app->cfg.name, add_attempts) == 0 ? 0 : -1;
  return rc;
}

static int set_redis_or_memory(struct js_app *app, struct js_redis *r, const char *id,
                               const char *status, long add_attempts) {
  if (!js_state_redis(&app->cfg)) {
    js_memstore_update(app->mem, id, status, app->cfg.name, add_attempts);
    return 0;
  }
  char key[JS_ID_MAX + 32], now[24], ttl[16], add[24];
  job_key(key, sizeof key, id);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  snprintf(add, sizeof add, "%ld", add_attempts);
  const char *argv[] = {"EVAL", SET_LUA, "1", key, status, app->cfg.name, now, ttl, add};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  freeReplyObject(rep);
  return 0;
}
