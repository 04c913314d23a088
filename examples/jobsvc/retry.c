/*
 * Retries and the small read-only routes that go with them:
 *   POST /api/jobs/{id}/retry -> 202 {job}  404  409 (still active)  501 (state=memory)  503
 *   GET  /api/effects         -> 200 {"effects":[{job,request,attempt,output}...]}
 *   GET  /api/time            -> 200 {"wall_ms","mono_ms"}: this process's clocks, so a
 *                                test can see a faked clock (libfaketime) and its end
 *
 * --retry-reset full (the fix): one script checks that the job is terminal,
 * resets status, output and error, counts the retry and queues the job: it
 * runs again (attempts+1) and produces a new output.
 * --retry-reset status-only (the incident): the script resets the status
 * only; the engine then looks at the job, finds its old output and decides
 * the work is done: "complete" at once, nothing executed.
 */
#include "jobsvc.h"

#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#define JOBS_PREFIX "/api/jobs/"
#define RETRY_SUFFIX "/retry"
#define POOL_WAIT_MS 2000
#define EFFECTS_MAX "9999" /* LRANGE end: the list is trimmed to 10000 anyway */

/* KEYS job queue; ARGV id now ttl push(0|1) full(0|1)
 * Returns {0} not found, {2,status} still active, {1,status} retried. */
static const char RETRY_LUA[] =
    "local st = redis.call('HGET', KEYS[1], 'status')\n"
    "if not st then return {0, ''} end\n"
    "if st ~= 'complete' and st ~= 'failed' then return {2, st} end\n"
    "redis.call('HINCRBY', KEYS[1], 'retries', 1)\n"
    "redis.call('HSET', KEYS[1], 'status', 'pending', 'updated_ms', ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "if ARGV[5] == '1' then\n"
    "  redis.call('HDEL', KEYS[1], 'output', 'error')\n"
    "else\n"
    /* the engine: a step whose outputs exist is done; nothing is run */
    "  local out = redis.call('HGET', KEYS[1], 'output')\n"
    "  if out and out ~= '' then\n"
    "    redis.call('HSET', KEYS[1], 'status', 'complete')\n"
    "    return {1, 'complete'}\n"
    "  end\n"
    "end\n"
    "if ARGV[4] == '1' then redis.call('LPUSH', KEYS[2], ARGV[1]) end\n"
    "return {1, 'pending'}\n";

static struct js_redis *borrow(struct js_app *app) {
  return js_redis_pool_get(&app->pool, POOL_WAIT_MS);
}

static int reply_error(struct MHD_Connection *conn, unsigned status, const char *msg) {
  return js_http_reply(conn, status, json_pack("{s:s}", "error", msg));
}

/* Runs the retry script. 0 not found, 1 retried (*queued: needs the local
 * queue), 2 still active, -1 Redis error. status gets the job's status. */
static int retry_script(struct js_app *app, struct js_redis *r, const char *id, char *status,
                        size_t size) {
  char key[JS_ID_MAX + 32], now[24], ttl[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_JOB, id);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  bool full = js_cfg_fixed(&app->cfg, JS_BUG_RETRY_RESET);
  const char *argv[] = {"EVAL", RETRY_LUA, "2", key, JS_KEY_QUEUE, id, now, ttl,
                        js_drain(&app->cfg) ? "1" : "0", full ? "1" : "0"};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  int rc = -1;
  if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
      rep->element[0]->type == REDIS_REPLY_INTEGER) {
    rc = (int)rep->element[0]->integer;
    if (rep->element[1]->type == REDIS_REPLY_STRING)
      snprintf(status, size, "%s", rep->element[1]->str);
  }
  freeReplyObject(rep);
  return rc;
}

static int handle_retry(struct js_app *app, struct MHD_Connection *conn, const char *id) {
  if (!js_valid_id(id))
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
  if (!js_state_redis(&app->cfg))
    return reply_error(conn, MHD_HTTP_NOT_IMPLEMENTED, "retry needs --state redis");
  if (atomic_load(&app->draining))
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "draining");
  struct js_redis *r = borrow(app);
  if (r == NULL)
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
  char status[JS_STATUS_MAX] = "";
  int rc = retry_script(app, r, id, status, sizeof status);
  if (rc == 1 && strcmp(status, "pending") == 0 && !js_drain(&app->cfg) &&
      js_localq_push(app->localq, id) != 0)
    js_log("job %s: retry accepted but the local queue is full", id);
  struct js_job job;
  int got = rc == 1 ? js_store_get(app, r, id, &job) : 1;
  js_redis_pool_put(&app->pool, r);
  if (rc < 0)
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
  if (rc == 0)
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
  if (rc == 2)
    return js_http_reply(conn, MHD_HTTP_CONFLICT,
                         json_pack("{s:s,s:s}", "error", "job is still active", "status", status));
  js_log("job %s: retry accepted (%s): %s", id,
         js_cfg_fixed(&app->cfg, JS_BUG_RETRY_RESET) ? "full reset" : "status-only reset",
         status);
  if (got != 0)
    return js_http_reply(conn, MHD_HTTP_ACCEPTED,
                         json_pack("{s:s,s:s}", "job_id", id, "status", status));
  return js_http_reply(conn, MHD_HTTP_ACCEPTED,
                       json_pack("{s:s,s:s,s:s,s:I,s:s,s:I}", "job_id", id, "status", job.status,
                                 "replica", job.replica, "attempts", (json_int_t)job.attempts,
                                 "output", job.output, "retries", (json_int_t)job.retries));
}

static int handle_effects(struct js_app *app, struct MHD_Connection *conn) {
  json_t *list = json_array();
  if (js_state_redis(&app->cfg)) {
    struct js_redis *r = borrow(app);
    if (r == NULL) {
      json_decref(list);
      return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
    }
    const char *argv[] = {"LRANGE", JS_KEY_EFFECTS, "0", EFFECTS_MAX};
    redisReply *rep = js_redis_argv(r, 4, argv);
    js_redis_pool_put(&app->pool, r);
    if (rep == NULL) {
      json_decref(list);
      return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
    }
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
      if (rep->element[i]->type != REDIS_REPLY_STRING)
        continue;
      json_t *e = json_loads(rep->element[i]->str, 0, NULL);
      if (e != NULL)
        json_array_append_new(list, e);
    }
    freeReplyObject(rep);
  }
  return js_http_reply(conn, MHD_HTTP_OK, json_pack("{s:o}", "effects", list));
}

bool js_http_extra(struct js_app *app, struct MHD_Connection *conn, const char *url,
                   const char *method, int *result) {
  bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
  size_t n = strlen(url), pre = strlen(JOBS_PREFIX), suf = strlen(RETRY_SUFFIX);
  if (n > pre + suf && strncmp(url, JOBS_PREFIX, pre) == 0 &&
      strcmp(url + n - suf, RETRY_SUFFIX) == 0) {
    char id[JS_ID_MAX];
    size_t len = n - pre - suf;
    if (len >= sizeof id) {
      *result = reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
      return true;
    }
    memcpy(id, url + pre, len);
    id[len] = '\0';
    *result = post ? handle_retry(app, conn, id)
                   : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    return true;
  }
  if (strcmp(url, "/api/effects") == 0) {
    *result = get ? handle_effects(app, conn)
                  : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    return true;
  }
  if (strcmp(url, "/api/time") == 0) {
    *result = get ? js_http_reply(conn, MHD_HTTP_OK,
                                  json_pack("{s:I,s:I}", "wall_ms", (json_int_t)js_wall_ms(),
                                            "mono_ms", (json_int_t)js_now_ms()))
                  : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    return true;
  }
  return false;
}
