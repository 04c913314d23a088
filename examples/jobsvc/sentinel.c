/*
 * Where the Redis primary is. With --redis it is that address, full stop.
 * With --sentinels the replica asks them (SENTINEL get-master-addr-by-name)
 * and caches the answer for every connection of the process; a connection
 * that fails forgets it, so the next connection asks again and follows a
 * failover. One mutex serializes the asking: the threads that need the
 * answer at the same moment want the same answer, and the sentinels should
 * not see one query per thread.
 */
#include "jobsvc.h"

#include <stdlib.h>
#include <string.h>

#define SENTINEL_TIMEOUT_MS 300 /* connect, then command: <= 600ms per sentinel */
#define ASK_MIN_GAP_MS 100      /* at most ~10 rounds of questions a second */

static pthread_mutex_t prim_mu = PTHREAD_MUTEX_INITIALIZER;
static struct js_addr prim;  /* last answer; prim.host[0] == 0 until one came */
static bool prim_valid;      /* false after a forget: ask before using it */
static int64_t prim_asked_ms = -ASK_MIN_GAP_MS;

/*
 * Asks one sentinel. Returns 0 and fills out, or -1 (unreachable, does not
 * know the name, or a malformed answer). Never blocks beyond the timeouts.
 */
static int ask_one(const struct js_cfg *cfg, const struct js_addr *s, struct js_addr *out) {
  struct timeval tv = {.tv_sec = 0, .tv_usec = SENTINEL_TIMEOUT_MS * 1000};
  redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
  if (c == NULL || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
    if (c != NULL)
      redisFree(c);
    return -1;
  }
  const char *argv[] = {"SENTINEL", "get-master-addr-by-name", cfg->master_name};
  redisReply *rep = redisCommandArgv(c, 3, argv, NULL);
  int rc = -1;
  if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
      rep->element[0]->type == REDIS_REPLY_STRING && rep->element[1]->type == REDIS_REPLY_STRING &&
      rep->element[0]->len > 0 && rep->element[0]->len < sizeof out->host) {
    char *end = NULL;
    long port = strtol(rep->element[1]->str, &end, 10);
    if (end != rep->element[1]->str && *end == '\0' && port > 0 && port <= 65535) {
      memcpy(out->host, rep->element[0]->str, rep->element[0]->len + 1);
      out->port = (int)port;
      rc = 0;
    }
  }
  if (rep != NULL)
    freeReplyObject(rep);
  redisFree(c);
  return rc;
}

/* Caller holds prim_mu. Asks the sentinels in order; the first answer wins. */
static void ask_sentinels(const struct js_cfg *cfg) {
  prim_asked_ms = js_now_ms();
  for (int i = 0; i < cfg->nsentinels; i++) {
    struct js_addr got;
    if (ask_one(cfg, &cfg->sentinels[i], &got) != 0)
      continue;
    if (strcmp(got.host, prim.host) != 0 || got.port != prim.port)
      js_log("sentinel %s:%d: primary of %s is %s:%d", cfg->sentinels[i].host,
             cfg->sentinels[i].port, cfg->master_name, got.host, got.port);
    prim = got;
    prim_valid = true;
    return;
  }
}

int js_primary_addr(const struct js_cfg *cfg, char *host, size_t size, int *port) {
  if (cfg->nsentinels == 0) {
    snprintf(host, size, "%s", cfg->redis_host);
    *port = cfg->redis_port;
    return 0;
  }
  pthread_mutex_lock(&prim_mu);
  if (!prim_valid && js_now_ms() - prim_asked_ms >= ASK_MIN_GAP_MS)
    ask_sentinels(cfg);
  int rc = -1;
  if (prim_valid) {
    snprintf(host, size, "%s", prim.host);
    *port = prim.port;
    rc = 0;
  }
  pthread_mutex_unlock(&prim_mu);
  return rc;
}

void js_primary_forget(const struct js_cfg *cfg, const char *host, int port) {
  if (cfg->nsentinels == 0)
    return;
  pthread_mutex_lock(&prim_mu);
  /* Only the address that failed: a fresher answer stays. */
  if (prim_valid && prim.port == port && strcmp(prim.host, host) == 0)
    prim_valid = false;
  pthread_mutex_unlock(&prim_mu);
}

bool js_primary_moved(const struct js_cfg *cfg, const char *host, int port) {
  if (cfg->nsentinels == 0)
    return false;
  pthread_mutex_lock(&prim_mu);
  bool moved = prim_valid && (prim.port != port || strcmp(prim.host, host) != 0);
  pthread_mutex_unlock(&prim_mu);
  return moved;
}

void js_primary_describe(const struct js_cfg *cfg, char *out, size_t size) {
  if (cfg->nsentinels == 0) {
    snprintf(out, size, "%s:%d", cfg->redis_host, cfg->redis_port);
    return;
  }
  pthread_mutex_lock(&prim_mu);
  if (prim.host[0] != '\0')
    snprintf(out, size, "%s:%d", prim.host, prim.port);
  else
    snprintf(out, size, "%s", "");
  pthread_mutex_unlock(&prim_mu);
}
