/*
 * Peer heartbeats for an honest /healthz (--peer-health report with
 * --min-peers N, state=redis): failure mode 5, capacity draining away while
 * everything "looks alive". Every replica beats into one sorted set,
 *
 *   jobsvc:peers   ZSET  member "<name>@<start-ms>", score = last beat (wall ms)
 *
 * every PEER_BEAT_MS, and counts the peers whose last beat is younger than
 * PEER_TTL_MS and that have been beating for at least PEER_WARMUP_MS (a
 * peer that just started is not counted yet: it may die again at once, and
 * the count should not flap; and a readiness check, a load balancer, sees a
 * restarted replica serving well before two seconds, so "ok" never comes
 * back before the capacity has). /healthz then says "degraded" (still 200, so
 * nothing restarts the survivors) while fewer than --min-peers replicas
 * are alive, itself included. With --peer-health ignore (the bug) nothing
 * beats and /healthz says "ok" however many replicas are gone.
 */
#include "jobsvc.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define PEER_BEAT_MS 250
#define PEER_TTL_MS 1000
#define PEER_WARMUP_MS 2000
#define PEER_GC_MS 10000
#define JS_KEY_PEERS "jobsvc:peers"

static atomic_int live_peers = -1;      /* -1: not counted yet */
static _Atomic int64_t counted_at_ms;   /* js_now_ms of the last count */

bool js_peers_enabled(const struct js_cfg *cfg) {
  return cfg->min_peers > 0 && js_cfg_fixed(cfg, JS_BUG_PEER_HEALTH) && js_state_redis(cfg);
}

int js_peers_live(void) {
  /* a count older than two TTLs says nothing about now */
  if (js_now_ms() - atomic_load(&counted_at_ms) > 2 * PEER_TTL_MS)
    return -1;
  return atomic_load(&live_peers);
}

/* One beat and one count. Returns the count, or -1 on a Redis error. */
static int beat(struct js_redis *r, const char *member) {
  char now[32], gone[32], fresh[32];
  int64_t wall = js_wall_ms();
  snprintf(now, sizeof now, "%lld", (long long)wall);
  snprintf(gone, sizeof gone, "%lld", (long long)(wall - PEER_GC_MS));
  snprintf(fresh, sizeof fresh, "(%lld", (long long)(wall - PEER_TTL_MS));
  const char *zadd[] = {"ZADD", JS_KEY_PEERS, now, member};
  redisReply *rep = js_redis_argv(r, 4, zadd);
  if (rep == NULL)
    return -1;
  freeReplyObject(rep);
  const char *gc[] = {"ZREMRANGEBYSCORE", JS_KEY_PEERS, "-inf", gone};
  rep = js_redis_argv(r, 4, gc);
  if (rep != NULL)
    freeReplyObject(rep);
  const char *live[] = {"ZRANGEBYSCORE", JS_KEY_PEERS, fresh, "+inf"};
  rep = js_redis_argv(r, 4, live);
  if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
    if (rep != NULL)
      freeReplyObject(rep);
    return -1;
  }
  int n = 0;
  for (size_t i = 0; i < rep->elements && i < 4096; i++) {
    const redisReply *e = rep->element[i];
    const char *at = e->type == REDIS_REPLY_STRING ? strrchr(e->str, '@') : NULL;
    if (at != NULL && wall - strtoll(at + 1, NULL, 10) >= PEER_WARMUP_MS)
      n++;
  }
  freeReplyObject(rep);
  return n;
}

void js_peers_loop(struct js_app *app, struct js_redis *r) {
  char member[JS_NAME_MAX + 32];
  snprintf(member, sizeof member, "%s@%lld", app->cfg.name, (long long)js_wall_ms());
  int last = -2;
  while (!atomic_load(&app->stopping)) {
    int n = beat(r, member);
    if (n >= 0) {
      atomic_store(&live_peers, n);
      atomic_store(&counted_at_ms, js_now_ms());
    }
    if (n != last && n >= 0)
      js_log("peers alive: %d (min %d)%s", n, app->cfg.min_peers,
             n < app->cfg.min_peers ? ": degraded" : "");
    last = n;
    js_sleep_ms(PEER_BEAT_MS);
  }
  /* leaving on purpose: say so at once rather than after the TTL */
  const char *zrem[] = {"ZREM", JS_KEY_PEERS, member};
  redisReply *rep = js_redis_argv(r, 3, zrem);
  if (rep != NULL)
    freeReplyObject(rep);
}

static struct js_app *peers_app;
static struct js_redis peers_redis;

static void *peers_main(void *arg) {
  (void)arg;
  js_peers_loop(peers_app, &peers_redis);
  js_redis_close(&peers_redis);
  return NULL;
}

int js_peers_start(struct js_app *app) {
  if (!js_peers_enabled(&app->cfg))
    return 0;
  peers_app = app;
  js_redis_init(&peers_redis, &app->cfg, "peers");
  pthread_t t;
  int rc = pthread_create(&t, NULL, peers_main, NULL);
  if (rc != 0) {
    js_log("cannot start the peers thread: %s", strerror(rc));
    return -1;
  }
  /* not joined: it ends by itself once app->stopping is set */
  pthread_detach(t);
  return 0;
}
