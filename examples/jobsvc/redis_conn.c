/*
 * Redis connections. hiredis contexts are not thread-safe, so every thread
 * owns its connection (workers, reaper) or borrows one from a small pool
 * guarded by a mutex (HTTP threads). Every connect and every command has a
 * timeout, so a paused or dead Redis turns into errors (503s), not hangs.
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

static void mark_down(struct js_redis *r, const char *why) {
  if (r->was_up)
    js_log("redis[%s]: unavailable (%s)", r->label, why);
  r->was_up = false;
  atomic_store(&redis_up, false);
  js_redis_close(r);
  r->next_try_ms = js_now_ms() + JS_REDIS_RETRY_MS;
}

/* Returns 0 with r->ctx usable, -1 otherwise (backing off between tries). */
static int ensure_connected(struct js_redis *r) {
  if (r->ctx != NULL)
    return 0;
  if (js_now_ms() < r->next_try_ms)
    return -1;
  struct timeval ctv = {.tv_sec = 0, .tv_usec = JS_REDIS_CONNECT_MS * 1000};
  redisContext *c = redisConnectWithTimeout(r->cfg->redis_host, r->cfg->redis_port, ctv);
  if (c == NULL) {
    mark_down(r, "out of memory");
    return -1;
  }
  if (c->err) {
    char why[512];
    snprintf(why, sizeof why, "connect %s:%d: %s", r->cfg->redis_host, r->cfg->redis_port,
             c->errstr);
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
  r->ctx = c;
  if (!r->was_up)
    js_log("redis[%s]: connected to %s:%d", r->label, r->cfg->redis_host, r->cfg->redis_port);
  r->was_up = true;
  atomic_store(&redis_up, true);
  return 0;
}

redisReply *js_redis_argv(struct js_redis *r, int argc, const char **argv) {
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
