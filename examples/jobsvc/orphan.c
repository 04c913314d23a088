/*
 * The orphan reaper (--orphan-reaper on): a record left "pending" or
 * "running" by a replica that crashed is failed once it has been active for
 * more than JS_ORPHAN_AGE_MS (10 minutes) by this replica's wall clock
 * (CLOCK_REALTIME, the clock libfaketime fakes: a jump of 11 minutes makes
 * the reaper act within a second instead of after 10 minutes).
 *
 * Age is now - updated_ms (the last change of the record). A job is left
 * alone when it belongs to this process (its id starts "<name>-<pid>-": it
 * is in our own queue) or when a lease for it exists (drain mode: an owner
 * is alive). Each pass SCANs the job hashes, bounded in rounds.
 */
#include "jobsvc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASS_MS 1000
#define SCAN_COUNT "500"
#define SCAN_ROUNDS 200 /* x 500 keys a pass at most */
#define IDLE_STEP_MS 50

/* KEYS job lease; ARGV now max_age. Returns the age when failed, else 0. */
static const char ORPHAN_LUA[] =
    "local h = redis.call('HMGET', KEYS[1], 'status', 'updated_ms')\n"
    "if h[1] ~= 'pending' and h[1] ~= 'running' then return 0 end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end\n"
    "local age = tonumber(ARGV[1]) - (tonumber(h[2]) or tonumber(ARGV[1]))\n"
    "if age <= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'status', 'failed', 'updated_ms', ARGV[1],\n"
    "           'error', 'orphaned: active for ' .. math.floor(age / 1000) .. 's')\n"
    "return age\n";

static void reap_one(struct js_app *app, struct js_redis *r, const char *key) {
  const char *id = key + strlen(JS_KEY_JOB);
  char mine[JS_NAME_MAX + 32];
  snprintf(mine, sizeof mine, "%s-%ld-", app->cfg.name, (long)getpid());
  if (strncmp(id, mine, strlen(mine)) == 0)
    return;
  char lease[JS_ID_MAX + 32], now[24], age[24];
  snprintf(lease, sizeof lease, "%s%s", JS_KEY_LEASE, id);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(age, sizeof age, "%d", JS_ORPHAN_AGE_MS);
  const char *argv[] = {"EVAL", ORPHAN_LUA, "2", key, lease, now, age};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return;
  if (rep->type == REDIS_REPLY_INTEGER && rep->integer > 0)
    js_log("orphan reaper: job %s active for %lld s with no owner: failed", id,
           (long long)(rep->integer / 1000));
  freeReplyObject(rep);
}

static void reap_pass(struct js_app *app, struct js_redis *r) {
  char cursor[32] = "0";
  for (int round = 0; round < SCAN_ROUNDS; round++) {
    const char *argv[] = {"SCAN", cursor, "MATCH", JS_KEY_JOB "*", "COUNT", SCAN_COUNT};
    redisReply *rep = js_redis_argv(r, 6, argv);
    if (rep == NULL)
      return;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING) {
      freeReplyObject(rep);
      return;
    }
    snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
    const redisReply *keys = rep->element[1];
    for (size_t i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++)
      if (keys->element[i]->type == REDIS_REPLY_STRING)
        reap_one(app, r, keys->element[i]->str);
    freeReplyObject(rep);
    if (strcmp(cursor, "0") == 0)
      return;
  }
}

void js_orphan_loop(struct js_app *app, struct js_redis *r) {
  js_log("orphan reaper: jobs active for more than %d s without an owner are failed",
         JS_ORPHAN_AGE_MS / 1000);
  while (!atomic_load(&app->stopping)) {
    if (!js_store_on_file())
      reap_pass(app, r);
    for (int waited = 0; waited < PASS_MS && !atomic_load(&app->stopping); waited += IDLE_STEP_MS)
      js_sleep_ms(IDLE_STEP_MS);
  }
}
