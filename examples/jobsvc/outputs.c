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

/* KEYS job effects lease; ARGV id output_prefix ttl owner ('' = no fence) */
static const char OUTPUT_LUA[] =
    "if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[4] then return 0 end\n"
    "local a = redis.call('HGET', KEYS[1], 'attempts') or '0'\n"
    "local g = redis.call('HGET', KEYS[1], 'retries') or '0'\n"
    "local out = ARGV[2] .. '-a' .. a\n"
    "redis.call('HSET', KEYS[1], 'output', out)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('RPUSH', KEYS[2], cjson.encode({job = ARGV[1], request = ARGV[1] .. '/' .. g,\n"
    "                                          attempt = tonumber(a), output = out}))\n"
    "redis.call('LTRIM', KEYS[2], -10000, -1)\n"
    "return 1\n";

bool js_outputs_record(struct js_app *app, struct js_redis *r, const char *id,
                       const char *owner) {
  if (!js_state_redis(&app->cfg) || js_store_on_file())
    return true;
  char key[JS_ID_MAX + 32], lease[JS_ID_MAX + 32], prefix[32], ttl[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_JOB, id);
  snprintf(lease, sizeof lease, "%s%s", JS_KEY_LEASE, id);
  snprintf(prefix, sizeof prefix, "out-%08x", (unsigned)js_random64());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL", OUTPUT_LUA, "3",    key,          JS_KEY_EFFECTS,
                        lease,  id,         prefix, ttl, owner ? owner : ""};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  bool done = rep == NULL || rep->type != REDIS_REPLY_INTEGER || rep->integer != 0;
  if (rep != NULL)
    freeReplyObject(rep);
  if (!done)
    js_log("job %s: lease lost before its side effect, %s records nothing", id, owner);
  return done;
}
