/*
 * Which store the replica uses right now, and the way back.
 *
 * Any Redis error (connection refused/reset, timeout, READONLY) switches the
 * whole replica to its file cache (filestore.c): submissions are accepted
 * there, polls look there, workers run the jobs queued there. /healthz keeps
 * answering 200 "ok" with "store":"file", which is how the incident looked.
 *
 * --redis-fallback sticky (the bug): nothing ever switches back. After the
 * outage the replica keeps a private world on file while the others share
 * Redis: the coordination layer is split in half, every health check green.
 *
 * --redis-fallback recover (the fix): js_failover_loop probes Redis every
 * ~500ms (through the sentinels, so it finds a promoted replica) and, once it
 * answers, moves the jobs accepted on file into Redis and switches back.
 */
#include "jobsvc.h"

#define PROBE_PERIOD_MS 500
#define STOP_POLL_MS 50 /* how fast the loop notices shutdown */

static atomic_bool fallback_enabled;
static atomic_bool on_file;

void js_store_mode_init(const struct js_cfg *cfg) {
  atomic_store(&fallback_enabled, js_needs_redis(cfg));
  atomic_store(&on_file, false);
}

bool js_store_on_file(void) {
  return atomic_load(&on_file);
}

void js_store_fall_back(const char *why) {
  if (!atomic_load(&fallback_enabled))
    return;
  /* Exchange, so that only the thread that made the switch logs it. */
  if (!atomic_exchange(&on_file, true))
    js_log("store: redis error (%s): falling back to the file cache", why);
}

void js_store_back_to_redis(void) {
  atomic_store(&on_file, false);
}

const char *js_store_name(const struct js_cfg *cfg) {
  if (!js_needs_redis(cfg))
    return "memory";
  return js_store_on_file() ? "file" : "redis";
}

/*
 * One probe: a PING over r, which connects through the sentinels and checks
 * ROLE master on a fresh link. Then the migration, which switches back only
 * when every record on file has reached Redis.
 */
static void probe_and_migrate(struct js_app *app, struct js_redis *r) {
  const char *argv[] = {"PING"};
  redisReply *rep = js_redis_argv(r, 1, argv);
  if (rep == NULL)
    return;
  freeReplyObject(rep);
  bool was_on_file = js_store_on_file();
  int moved = js_filestore_migrate(app, r);
  if (moved < 0) {
    js_log("store: redis answers but the migration failed; staying on file, retrying");
    return;
  }
  if (was_on_file || moved > 0)
    js_log("store: redis is back at %s:%d: moved %d job(s) from the file cache, store=redis",
           r->host, r->port, moved);
}

void js_failover_loop(struct js_app *app, struct js_redis *r) {
  while (!atomic_load(&app->stopping)) {
    int64_t next = js_now_ms() + PROBE_PERIOD_MS;
    while (!atomic_load(&app->stopping) && js_now_ms() < next)
      js_sleep_ms(STOP_POLL_MS);
    if (atomic_load(&app->stopping))
      break;
    /* Records left by an earlier life of this replica are moved too. */
    if (js_store_on_file() || js_filestore_count(app->file) > 0)
      probe_and_migrate(app, r);
  }
}
