/*
 * Worker threads and the reaper. A job "works" by sleeping job-ms +-30%;
 * what matters is how its state moves: pending -> running -> complete.
 * Each thread owns its Redis connection (hiredis contexts are not shared).
 */
#include "dep.h"
#include "jobsvc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 67        /* 64 workers + the reaper + the failover probe + orphans */
#define IDLE_POLL_MS 50       /* empty shared queue: poll again after this */
#define REDIS_BACKOFF_MS 200  /* Redis down: retry after this */
#define ABANDON_SET_TRIES 10  /* abandon mode: give up recording after this */

struct worker {
  struct js_app *app;
  int idx;
  unsigned long seq; /* takes so far: makes every lease owner unique */
  struct js_redis redis;
  pthread_t thread;
  bool started;
};

static struct worker workers[MAX_THREADS];
static int nworkers;

static int jittered_ms(int base) {
  /* +-30%: uniform in [0.7, 1.3] * base */
  long pct = 70 + (long)(js_random64() % 61);
  long v = (long)base * pct / 100;
  return v < 1 ? 1 : (int)v;
}

static bool stopping(const struct js_app *app) {
  return atomic_load(&app->stopping);
}

/* abandon mode: a status write with a few retries; false when it gave up. */
static bool set_with_retries(struct worker *w, const char *id, const char *status, long add) {
  for (int i = 0; i < ABANDON_SET_TRIES; i++) {
    if (js_store_set(w->app, &w->redis, id, status, add) == 0)
      return true;
    js_sleep_ms(REDIS_BACKOFF_MS);
  }
  js_log("job %s: could not record '%s' (redis unavailable), left as it was", id, status);
  return false;
}

/* The bug: jobs live in this process only; nobody else can finish them. */
static void abandon_loop(struct worker *w) {
  char id[JS_ID_MAX];
  while (!stopping(w->app)) {
    if (!js_localq_pop(w->app->localq, id, 200))
      continue;
    atomic_fetch_add(&w->app->inflight, 1);
    if (set_with_retries(w, id, "running", 1)) {
      js_log("job %s: running on worker %d", id, w->idx);
      js_sleep_ms(jittered_ms(w->app->cfg.job_ms));
      js_outputs_record(w->app, &w->redis, id, NULL);
      if (set_with_retries(w, id, "complete", 0))
        js_log("job %s: complete", id);
    }
    atomic_fetch_sub(&w->app->inflight, 1);
  }
}

/*
 * Executes id while renewing its lease every lease-ms/3. Returns false when
 * the lease was lost (someone else owns the job now: stop, keep no result).
 */
static bool run_leased(struct worker *w, const char *owner, const char *id) {
  int beat = w->app->cfg.lease_ms / 3;
  int64_t now = js_now_ms();
  int64_t deadline = now + jittered_ms(w->app->cfg.job_ms);
  int64_t next_beat = now + beat;
  while ((now = js_now_ms()) < deadline) {
    if (now >= next_beat) {
      int rc = js_rq_renew(w->app, &w->redis, owner, id);
      if (rc == 0) {
        js_log("job %s: lease lost by %s, abandoning this attempt", id, owner);
        return false;
      }
      /* rc < 0: Redis unreachable; keep working, the next beat retries. */
      next_beat = now + beat;
    }
    int64_t until = deadline < next_beat ? deadline : next_beat;
    js_sleep_ms(until - now);
  }
  return true;
}

/* Records the result of a leased job; bounded by one lease period of retries. */
static void finish_leased(struct worker *w, const char *owner, const char *id) {
  const char *result = js_dep_job(w->app);   /* "complete" without --dep */
  int64_t give_up = js_now_ms() + w->app->cfg.lease_ms;
  for (;;) {
    int rc = js_rq_finish(w->app, &w->redis, owner, id, result);
    if (rc == 1) {
      if (!js_state_redis(&w->app->cfg))
        js_memstore_update(w->app->mem, id, result, w->app->cfg.name, 0);
      js_log("job %s: %s", id, result);
      return;
    }
    if (rc == 0) {
      js_log("job %s: lease taken over by another owner, result of %s dropped", id, owner);
      return;
    }
    if (js_now_ms() >= give_up) {
      js_log("job %s: cannot record completion (redis unavailable); the reaper will requeue it",
             id);
      return;
    }
    js_sleep_ms(REDIS_BACKOFF_MS);
  }
}

/*
 * A job accepted on the file cache: no lease (nobody else can see it), the
 * status goes to the file, or to Redis when a migration moved it meanwhile.
 * A stale id (the migration queued it in Redis already) is skipped.
 */
static void run_file_job(struct worker *w, const char *id) {
  if (!js_filestore_claim(w->app->file, id, w->app->cfg.name))
    return;
  atomic_fetch_add(&w->app->inflight, 1);
  js_log("job %s: running on worker %d (file cache)", id, w->idx);
  js_sleep_ms(jittered_ms(w->app->cfg.job_ms));
  if (set_with_retries(w, id, "complete", 0))
    js_log("job %s: complete", id);
  atomic_fetch_sub(&w->app->inflight, 1);
}

/* The fix: shared queue, leases, fencing on completion. */
static void drain_loop(struct worker *w) {
  char id[JS_ID_MAX];
  char owner[JS_NAME_MAX + 64];
  while (!stopping(w->app)) {
    /* On file, the shared queue is out of reach: run what was accepted here. */
    if (js_store_on_file() || js_localq_len(w->app->fileq) > 0) {
      if (js_localq_pop(w->app->fileq, id, IDLE_POLL_MS * 4))
        run_file_job(w, id);
      continue;
    }
    snprintf(owner, sizeof owner, "%s:%ld:w%d:%lu", w->app->cfg.name, (long)getpid(), w->idx,
             ++w->seq);
    int rc = js_rq_take(w->app, &w->redis, owner, id);
    if (rc <= 0) {
      js_sleep_ms(rc < 0 ? REDIS_BACKOFF_MS : IDLE_POLL_MS);
      continue;
    }
    atomic_fetch_add(&w->app->inflight, 1);
    if (!js_state_redis(&w->app->cfg))
      js_memstore_update(w->app->mem, id, "running", w->app->cfg.name, 1);
    js_log("job %s: running on worker %d (lease owner %s)", id, w->idx, owner);
    if (run_leased(w, owner, id)) {
      /* fenced: the side effect only while the lease is still ours (a renew
       * first takes back a lease that lapsed while nobody requeued the job) */
      bool fenced = js_cfg_fixed(&w->app->cfg, JS_BUG_EFFECTS);
      if (fenced)
        js_rq_renew(w->app, &w->redis, owner, id);
      if (js_outputs_record(w->app, &w->redis, id, fenced ? owner : NULL))
        finish_leased(w, owner, id);
    }
    atomic_fetch_sub(&w->app->inflight, 1);
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  if (js_drain(&w->app->cfg))
    drain_loop(w);
  else
    abandon_loop(w);
  js_redis_close(&w->redis);
  return NULL;
}

/* Every ~lease-ms/2: requeue jobs whose owner stopped renewing its lease. */
static void *reaper_main(void *arg) {
  struct worker *w = arg;
  int period = w->app->cfg.lease_ms / 2;
  while (!stopping(w->app)) {
    int requeued = 0;
    if (!js_store_on_file())
      js_rq_reap(w->app, &w->redis, &requeued);
    int64_t next = js_now_ms() + period;
    while (!stopping(w->app) && js_now_ms() < next)
      js_sleep_ms(IDLE_POLL_MS);
  }
  js_redis_close(&w->redis);
  return NULL;
}

static void *failover_main(void *arg) {
  struct worker *w = arg;
  js_failover_loop(w->app, &w->redis);
  js_redis_close(&w->redis);
  return NULL;
}

static void *orphan_main(void *arg) {
  struct worker *w = arg;
  js_orphan_loop(w->app, &w->redis);
  js_redis_close(&w->redis);
  return NULL;
}

static int spawn(struct js_app *app, int idx, const char *label, void *(*fn)(void *)) {
  struct worker *w = &workers[nworkers];
  memset(w, 0, sizeof *w);
  w->app = app;
  w->idx = idx;
  js_redis_init(&w->redis, &app->cfg, label);
  int rc = pthread_create(&w->thread, NULL, fn, w);
  if (rc != 0) {
    js_log("cannot start %s thread: %s", label, strerror(rc));
    return -1;
  }
  w->started = true;
  nworkers++;
  return 0;
}

int js_workers_start(struct js_app *app) {
  for (int i = 0; i < app->cfg.workers; i++) {
    char label[24];
    snprintf(label, sizeof label, "worker%d", i);
    if (spawn(app, i, label, worker_main) != 0)
      return -1;
  }
  if (js_drain(&app->cfg) && spawn(app, -1, "reaper", reaper_main) != 0)
    return -1;
  if (js_needs_redis(&app->cfg) && js_fallback_recovers(&app->cfg) &&
      spawn(app, -1, "failover", failover_main) != 0)
    return -1;
  if (js_state_redis(&app->cfg) && js_cfg_fixed(&app->cfg, JS_BUG_ORPHAN_REAPER) &&
      spawn(app, -1, "orphans", orphan_main) != 0)
    return -1;
  return 0;
}

int js_workers_join(struct js_app *app, int timeout_ms) {
  (void)app;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  int left = 0;
  for (int i = 0; i < nworkers; i++) {
    if (!workers[i].started)
      continue;
    if (pthread_timedjoin_np(workers[i].thread, NULL, &deadline) == 0)
      workers[i].started = false;
    else
      left++;
  }
  return left;
}
