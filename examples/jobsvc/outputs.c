/*
 * What an execution leaves behind (redis state): the job's output, written
 * before the worker records "complete", and one side effect appended to the
 * sink jobsvc:effects, as a real job would send a mail or write a file.
 * Each effect names its logical request: "<id>/<retries>" (the submission
 * is retry 0), so a duplicated execution of one request shows up twice in
 * the sink (at-least-once execution does that after a lease expiry).
 */
#include "jobsvc.h"

#include <string.h>

/* KEYS job effects; ARGV id output_prefix ttl */
static const char OUTPUT_LUA[] =
    "local a = redis.call('HGET', KEYS[1], 'attempts') or '0'\n"
    "local g = redis.call('HGET', KEYS[1], 'retries') or '0'\n"
    "local out = ARGV[2] .. '-a' .. a\n"
    "redis.call('HSET', KEYS[1], 'output', out)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('RPUSH', KEYS[2], cjson.encode({job = ARGV[1], request = ARGV[1] .. '/' .. g,\n"
    "                                          attempt = tonumber(a), output = out}))\n"
    "redis.call('LTRIM', KEYS[2], -10000, -1)\n"
    "return 1\n";

void js_outputs_record(struct js_app *app, struct js_redis *r, const char *id) {
  if (!js_state_redis(&app->cfg) || js_store_on_file())
    return;
  char key[JS_ID_MAX + 32], prefix[32], ttl[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_JOB, id);
  snprintf(prefix, sizeof prefix, "out-%08x", (unsigned)js_random64());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL", OUTPUT_LUA, "2", key, JS_KEY_EFFECTS, id, prefix, ttl};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep != NULL)
    freeReplyObject(rep);
}
