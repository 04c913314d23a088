/*
 * jobsvc entry point: parse flags, start workers and HTTP, then wait for
 * SIGTERM/SIGINT and shut down the way --shutdown says.
 */
#include "dep.h"
#include "intake.h"
#include "jobsvc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define LOCALQ_CAPACITY 10000
#define SIGNAL_POLL_MS 1000

static void log_config(const struct js_cfg *cfg) {
  char bugs[256] = "";
  size_t used = 0;
  for (int i = 0; i < JS_BUG_COUNT && used < sizeof bugs; i++) {
    const struct js_bug_row *b = &js_bug_table[i];
    int n = snprintf(bugs + used, sizeof bugs - used, " %s=%s(%s)", b->flag,
                     cfg->fixed[i] ? b->fixed : b->buggy, cfg->fixed[i] ? "fixed" : "buggy");
    if (n < 0)
      break;
    used += (size_t)n;
  }
  char redis[600] = "-";
  if (cfg->redis_host[0] != '\0') {
    snprintf(redis, sizeof redis, "%s:%d", cfg->redis_host, cfg->redis_port);
  } else if (cfg->nsentinels > 0) {
    size_t at = 0;
    for (int i = 0; i < cfg->nsentinels && at < sizeof redis; i++) {
      int n = snprintf(redis + at, sizeof redis - at, "%s%s:%d", i ? "," : "sentinels:",
                       cfg->sentinels[i].host, cfg->sentinels[i].port);
      if (n < 0)
        break;
      at += (size_t)n;
    }
  }
  js_log("starting pid %ld on %s:%d workers=%d job-ms=%d lease-ms=%d redis=%s%s",
         (long)getpid(), cfg->bind, cfg->port, cfg->workers, cfg->job_ms, cfg->lease_ms, redis, bugs);
  if (cfg->nsentinels > 0)
    js_log("primary '%s' is found through the sentinels", cfg->master_name);
  if (js_needs_redis(cfg))
    js_log("file cache after a Redis error: %s/jobs.log", cfg->cache_dir);
}

/* One PING so the log says early whether Redis is reachable; never fatal. */
static void probe_redis(struct js_app *app) {
  struct js_redis r;
  js_redis_init(&r, &app->cfg, "main");
  const char *argv[] = {"PING"};
  redisReply *rep = js_redis_argv(&r, 1, argv);
  if (rep != NULL) {
    js_log("redis %s:%d reachable", r.host, r.port);
    freeReplyObject(rep);
  }
  js_redis_close(&r);
}

/* Blocks until SIGTERM or SIGINT; returns the signal number. */
static int wait_signal(const sigset_t *set) {
  for (;;) {
    struct timespec ts = {.tv_sec = SIGNAL_POLL_MS / 1000, .tv_nsec = 0};
    int sig = sigtimedwait(set, NULL, &ts);
    if (sig > 0)
      return sig;
  }
}

/*
 * drain: stop accepting, let in-flight jobs finish (bounded), exit 0.
 * A second signal while draining exits at once with status 1.
 */
static int drain_and_exit(struct js_app *app, struct MHD_Daemon *http, const sigset_t *set) {
  atomic_store(&app->draining, true);
  atomic_store(&app->stopping, true);
  js_log("draining: new submissions get 503, finishing %d in-flight job(s)",
         atomic_load(&app->inflight));
  int64_t limit = (int64_t)app->cfg.job_ms * 2 + app->cfg.lease_ms * 2 + 5000;
  int64_t deadline = js_now_ms() + limit;
  int left = 1;
  while (left > 0 && js_now_ms() < deadline) {
    left = js_workers_join(app, 200);
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(set, NULL, &zero);
    if (sig > 0) {
      js_log("second signal %d while draining: exiting now", sig);
      _exit(1);
    }
  }
  MHD_stop_daemon(http);
  if (left > 0) {
    js_log("drain timed out after %lld ms with %d thread(s) still busy", (long long)limit, left);
    return 1;
  }
  js_log("drained, exiting");
  return 0;
}

#define FILEQ_CAPACITY (JS_FILE_MAX_JOBS * 2) /* room for ids a migration made stale */

static int init_app(struct js_app *app) {
  js_store_mode_init(&app->cfg);
  if (!js_state_redis(&app->cfg)) {
    app->mem = js_memstore_new();
    if (app->mem == NULL)
      return -1;
  }
  if (!js_drain(&app->cfg)) {
    app->localq = js_localq_new(LOCALQ_CAPACITY);
    if (app->localq == NULL)
      return -1;
  }
  if (js_needs_redis(&app->cfg)) {
    app->fileq = js_drain(&app->cfg) ? js_localq_new(FILEQ_CAPACITY) : app->localq;
    if (app->fileq == NULL)
      return -1;
    app->file = js_filestore_open(&app->cfg, app->fileq);
    if (app->file == NULL)
      return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stderr, NULL, _IOLBF, 0);
  static struct js_app app;
  int rc = js_cfg_parse(&app.cfg, argc, argv);
  if (rc == 1)
    return 0;
  if (rc != 0)
    return rc;
  js_log_set_name(app.cfg.name);

  /* Signals are taken synchronously by the main thread only: block them
   * before any thread starts so every thread inherits the mask. */
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);

  log_config(&app.cfg);
  if (init_app(&app) != 0) {
    js_log("cannot initialize (out of memory or unreadable file cache)");
    return 1;
  }
  if (js_needs_redis(&app.cfg))
    probe_redis(&app);
  /* HTTP first: a port conflict must end the process before threads exist. */
  struct MHD_Daemon *http = js_http_start(&app);
  if (http == NULL) {
    js_log("cannot listen on %s:%d", app.cfg.bind, app.cfg.port);
    return 1;
  }
  if (js_workers_start(&app) != 0 || js_peers_start(&app) != 0) {
    js_log("cannot start workers");
    _exit(1);
  }
  js_log("ready on http://%s:%d", app.cfg.bind, app.cfg.port);
  js_dep_boot(&app);
  js_intake_start(&app);

  int sig = wait_signal(&set);
  if (js_drain(&app.cfg)) {
    js_log("got signal %d (shutdown=drain)", sig);
    return drain_and_exit(&app, http, &set);
  }
  /* The bug: leave at once; queued and running jobs are never finished. */
  int queued = js_localq_len(app.localq);
  js_log("got signal %d (shutdown=abandon): exiting now, abandoning %d queued and %d running "
         "job(s)",
         sig, queued, atomic_load(&app.inflight));
  _exit(0);
}
