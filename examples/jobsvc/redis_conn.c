/*
 * Redis connections. hiredis contexts are not thread-safe, so every thread
 * owns its connection (workers, reaper) or borrows one from a small pool
 * guarded by a mutex (HTTP threads). Every connect and every command has a
 * timeout, so a paused or dead Redis turns into errors, not hangs. Every
 * such error also switches the replica to its file cache (failover.c) and,
 * with --sentinels, makes the next connection ask where the primary is now.
 */
#include "jobsvc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JS_REDIS_CONNECT_MS 500
#define JS_REDIS_COMMAND_MS 1000
#define JS_REDIS_RETRY_MS 200

static atomic_bool redis_up;

bool js_redis_seen_up(void) {
  return atomic_load(&redis_up);
}

void js_redis_init(struct js_redis *r, const struct js_cfg *cfg, const char *label) {
  memset(r, 0, sizeof *r);
  r->cfg = cfg;
  r->was_up = true; /* so that a first failure is logged */
  snprintf(r->label, sizeof r->label, "%s", label);
}

void js_redis_close(struct js_redis *r) {
  if (r->ctx != NULL)
    redisFree(r->ctx);
  r->ctx = NULL;
}

/* The store is unusable through r: drop the link, re-ask, fall back to file. */
static void mark_down(struct js_redis *r, const char *why) {
  if (r->was_up)
    js_log("redis[%s]: unavailable (%s)", r->label, why);
  r->was_up = false;
  atomic_store(&redis_up, false);
  if (r->host[0] != '\0')
    js_primary_forget(r->cfg, r->host, r->port);
  js_redis_close(r);
  r->next_try_ms = js_now_ms() + JS_REDIS_RETRY_MS;
  js_store_fall_back(why);
}

/*
 * With sentinels, a fresh connection must reach a primary: right after a
 * failover a sentinel may still name the demoted one. Returns 0 when c is
 * a primary, -1 and fills why otherwise.
 */
static int check_role(redisContext *c, char *why, size_t size) {
  const char *argv[] = {"ROLE"};
  redisReply *rep = redisCommandArgv(c, 1, argv, NULL);
  if (rep == NULL) {
    snprintf(why, size, "ROLE: %s", c->errstr[0] ? c->errstr : "no reply");
    return -1;
  }
  bool primary = rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                 rep->element[0]->type == REDIS_REPLY_STRING &&
                 strcmp(rep->element[0]->str, "master") == 0;
  if (!primary)
    snprintf(why, size, "not a primary (ROLE %s)",
             rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                     rep->element[0]->type == REDIS_REPLY_STRING
                 ? rep->element[0]->str
                 : "?");
  freeReplyObject(rep);
  return primary ? 0 : -1;
}

/* Returns 0 with r->ctx usable, -1 otherwise (backing off between tries). */
static int ensure_connected(struct js_redis *r) {
  if (r->ctx != NULL)
    return 0;
  if (js_now_ms() < r->next_try_ms)
    return -1;
  r->host[0] = '\0';
  if (js_primary_addr(r->cfg, r->host, sizeof r->host, &r->port) != 0) {
    char why[160];
    snprintf(why, sizeof why, "no sentinel knows primary '%s'", r->cfg->master_name);
    mark_down(r, why);
    return -1;
  }
  struct timeval ctv = {.tv_sec = 0, .tv_usec = JS_REDIS_CONNECT_MS * 1000};
  redisContext *c = redisConnectWithTimeout(r->host, r->port, ctv);
  if (c == NULL) {
    mark_down(r, "out of memory");
    return -1;
  }
  char why[512];
  if (c->err) {
    snprintf(why, sizeof why, "connect %s:%d: %s", r->host, r->port, c->errstr);
    redisFree(c);
    mark_down(r, why);
    return -1;
  }
  struct timeval ttv = {.tv_sec = JS_REDIS_COMMAND_MS / 1000,
                        .tv_usec = (JS_REDIS_COMMAND_MS % 1000) * 1000};
  if (redisSetTimeout(c, ttv) != REDIS_OK) {
    redisFree(c);
    mark_down(r, "cannot set timeout");
    return -1;
  }
  char role_why[160];
  if (r->cfg->nsentinels > 0 && check_role(c, role_why, sizeof role_why) != 0) {
    snprintf(why, sizeof why, "%s:%d: %s", r->host, r->port, role_why);
    redisFree(c);
    mark_down(r, why);
    return -1;
  }
  r->ctx = c;
  if (!r->was_up)
    js_log("redis[%s]: connected to %s:%d", r->label, r->host, r->port);
  r->was_up = true;
  atomic_store(&redis_up, true);
  return 0;
}

/* READONLY: the primary was demoted; MASTERDOWN: a replica lost its primary. */
static bool wrong_server(const char *err) {
  return strncmp(err, "READONLY", 8) == 0 || strncmp(err, "MASTERDOWN", 10) == 0;
}

redisReply *js_redis_argv(struct js_redis *r, int argc, const char **argv) {
  if (r->ctx != NULL && js_primary_moved(r->cfg, r->host, r->port)) {
    /* Idle through a failover: the link still points at the old primary. */
    js_log("redis[%s]: primary moved away from %s:%d, reconnecting", r->label, r->host, r->port);
    js_redis_close(r);
  }
  if (ensure_connected(r) != 0)
    return NULL;
  redisReply *reply = redisCommandArgv(r->ctx, argc, argv, NULL);
  if (reply == NULL) {
    /* I/O error or timeout: the connection state is unknown, drop it. */
    int saved = errno;
    char why[512];
    /* hiredis reports a command timeout as EAGAIN's strerror: say what it means. */
    bool timeout = r->ctx->err == REDIS_ERR_IO && (saved == EAGAIN || saved == EWOULDBLOCK);
    snprintf(why, sizeof why, "%s: %s", argv[0],
             timeout ? "timed out" : r->ctx->errstr[0] ? r->ctx->errstr : "no reply");
    mark_down(r, why);
    return NULL;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    if (wrong_server(reply->str)) {
      char why[512];
      snprintf(why, sizeof why, "%s on %s:%d: %s", argv[0], r->host, r->port, reply->str);
      freeReplyObject(reply);
      mark_down(r, why);
      return NULL;
    }
    js_log("redis[%s]: %s failed: %s", r->label, argv[0], reply->str);
    /* LOADING / BUSY mean the server is not usable yet; keep the link. */
    freeReplyObject(reply);
    return NULL;
  }
  return reply;
}

int js_redis_pool_init(struct js_redis_pool *p, const struct js_cfg *cfg, int size) {
  memset(p, 0, sizeof *p);
  p->conns = calloc((size_t)size, sizeof *p->conns);
  p->busy = calloc((size_t)size, sizeof *p->busy);
  if (p->conns == NULL || p->busy == NULL) {
    free(p->conns);
    free(p->busy);
    return -1;
  }
  p->size = size;
  for (int i = 0; i < size; i++) {
    char label[32];
    snprintf(label, sizeof label, "http%d", i);
    js_redis_init(&p->conns[i], cfg, label);
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return 0;
}

struct js_redis *js_redis_pool_get(struct js_redis_pool *p, int timeout_ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  struct js_redis *got = NULL;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    for (int i = 0; i < p->size && got == NULL; i++) {
      if (!p->busy[i]) {
        p->busy[i] = true;
        got = &p->conns[i];
      }
    }
    if (got != NULL)
      break;
    if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
      break;
  }
  pthread_mutex_unlock(&p->mu);
  return got;
}

void js_redis_pool_put(struct js_redis_pool *p, struct js_redis *r) {
  pthread_mutex_lock(&p->mu);
  p->busy[r - p->conns] = false;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}
