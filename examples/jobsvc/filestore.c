/*
 * The file cache a replica falls back to after a Redis error.
 *
 * Records live in an array in acceptance order (so that the migration queues
 * them FIFO) and every change is appended as one line to
 * <cache-dir>/jobs.log:
 *
 *   <id> <status> <replica> <attempts> <created_ms>\n      ("-" status: removed)
 *
 * The log is created on the first write (a replica that never falls back
 * leaves nothing behind), replayed at start (the last line of an id wins),
 * and deleted once a migration has moved every record into Redis.
 *
 * One mutex guards the records, the log and the decision "on file or not":
 * the migration switches the replica back to Redis while holding it, so a
 * lookup or a status change sees either the record on file or the record in
 * Redis, never neither. Lookups are linear: at most JS_FILE_MAX_JOBS records.
 */
#include "jobsvc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_NAME "jobs.log"
#define LINE_MAX_LEN 512
#define REPLAY_MAX_LINES (JS_FILE_MAX_JOBS * 16) /* a longer log is not ours */
#define TOMBSTONE "-"

struct fs_rec {
  struct js_job job;
  long long created_ms;
};

struct js_filestore {
  pthread_mutex_t mu;
  char dir[512];
  char path[600];
  int fd;        /* -1 until the first write */
  bool made_dir; /* this process created dir: remove it when empty again */
  struct fs_rec *recs;
  int n;
};

/* Caller holds mu. Index of id, or -1. */
static int find(const struct js_filestore *f, const char *id) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->recs[i].job.id, id) == 0)
      return i;
  return -1;
}

/* Caller holds mu. Removes record i, keeping the order of the others. */
static void remove_at(struct js_filestore *f, int i) {
  memmove(&f->recs[i], &f->recs[i + 1], (size_t)(f->n - i - 1) * sizeof *f->recs);
  f->n--;
}

/* Caller holds mu. Opens (creating dir and log) on first use; 0 or -1. */
static int open_log(struct js_filestore *f) {
  if (f->fd >= 0)
    return 0;
  if (mkdir(f->dir, 0700) == 0) {
    f->made_dir = true;
  } else if (errno != EEXIST) {
    js_log("file cache: cannot create %s: %s", f->dir, strerror(errno));
    return -1;
  }
  f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (f->fd < 0) {
    js_log("file cache: cannot open %s: %s", f->path, strerror(errno));
    return -1;
  }
  return 0;
}

/* Caller holds mu. Appends rec's line (status "-" when tomb); 0 or -1. */
static int append(struct js_filestore *f, const struct fs_rec *rec, bool tomb) {
  if (open_log(f) != 0)
    return -1;
  char line[LINE_MAX_LEN];
  int len = snprintf(line, sizeof line, "%s %s %s %ld %lld\n", rec->job.id,
                     tomb ? TOMBSTONE : rec->job.status,
                     rec->job.replica[0] ? rec->job.replica : "?", rec->job.attempts,
                     rec->created_ms);
  if (len < 0 || (size_t)len >= sizeof line)
    return -1;
  /* One write on an O_APPEND descriptor: a line is never torn by another. */
  ssize_t w = write(f->fd, line, (size_t)len);
  if (w != len) {
    js_log("file cache: cannot write %s: %s", f->path, w < 0 ? strerror(errno) : "short write");
    return -1;
  }
  return 0;
}

/* Applies one replayed line; malformed lines are skipped (and counted). */
static bool replay_line(struct js_filestore *f, const char *line) {
  struct fs_rec rec;
  memset(&rec, 0, sizeof rec);
  if (sscanf(line, "%127s %15s %63s %ld %lld", rec.job.id, rec.job.status, rec.job.replica,
             &rec.job.attempts, &rec.created_ms) != 5 ||
      !js_valid_id(rec.job.id))
    return false;
  int i = find(f, rec.job.id);
  if (strcmp(rec.job.status, TOMBSTONE) == 0) {
    if (i >= 0)
      remove_at(f, i);
  } else if (i >= 0) {
    f->recs[i] = rec;
  } else if (f->n < JS_FILE_MAX_JOBS) {
    f->recs[f->n++] = rec;
  } else {
    return false;
  }
  return true;
}

/*
 * Replays an existing log. A job that was running when the last life ended
 * is pending again (it runs again: at least once), and every pending job is
 * queued on requeue. Returns 0, or -1 when the log exists but is unreadable.
 */
static int replay(struct js_filestore *f, struct js_localq *requeue) {
  FILE *in = fopen(f->path, "re");
  if (in == NULL)
    return errno == ENOENT ? 0 : -1;
  char line[LINE_MAX_LEN];
  int lines = 0, bad = 0;
  while (lines < REPLAY_MAX_LINES && fgets(line, sizeof line, in) != NULL) {
    lines++;
    if (!replay_line(f, line))
      bad++;
  }
  fclose(in);
  int queued = 0;
  for (int i = 0; i < f->n; i++) {
    struct js_job *j = &f->recs[i].job;
    if (strcmp(j->status, "running") == 0)
      snprintf(j->status, sizeof j->status, "pending");
    if (strcmp(j->status, "pending") == 0 && requeue != NULL && js_localq_push(requeue, j->id) == 0)
      queued++;
  }
  if (f->n > 0 || bad > 0)
    js_log("file cache: %s holds %d job(s) from an earlier run (%d queued again, %d bad line(s))",
           f->path, f->n, queued, bad);
  return 0;
}

struct js_filestore *js_filestore_open(const struct js_cfg *cfg, struct js_localq *requeue) {
  struct js_filestore *f = calloc(1, sizeof *f);
  if (f == NULL)
    return NULL;
  f->recs = calloc(JS_FILE_MAX_JOBS, sizeof *f->recs);
  if (f->recs == NULL) {
    free(f);
    return NULL;
  }
  f->fd = -1;
  snprintf(f->dir, sizeof f->dir, "%s", cfg->cache_dir);
  snprintf(f->path, sizeof f->path, "%s/%s", cfg->cache_dir, LOG_NAME);
  pthread_mutex_init(&f->mu, NULL);
  if (replay(f, requeue) != 0) {
    js_log("file cache: cannot read %s: %s", f->path, strerror(errno));
    free(f->recs);
    free(f);
    return NULL;
  }
  return f;
}

int js_filestore_submit(struct js_filestore *f, const char *id, const char *replica) {
  int rc = 0;
  pthread_mutex_lock(&f->mu);
  if (!js_store_on_file()) {
    rc = 1; /* switched back while the caller decided: Redis takes it */
  } else if (f->n >= JS_FILE_MAX_JOBS) {
    js_log("file cache: full (%d jobs), refusing job %s", JS_FILE_MAX_JOBS, id);
    rc = -1;
  } else {
    struct fs_rec *rec = &f->recs[f->n];
    memset(rec, 0, sizeof *rec);
    snprintf(rec->job.id, sizeof rec->job.id, "%s", id);
    snprintf(rec->job.status, sizeof rec->job.status, "pending");
    snprintf(rec->job.replica, sizeof rec->job.replica, "%s", replica);
    rec->created_ms = js_wall_ms();
    if (append(f, rec, false) == 0)
      f->n++;
    else
      rc = -1;
  }
  pthread_mutex_unlock(&f->mu);
  return rc;
}

void js_filestore_forget(struct js_filestore *f, const char *id) {
  pthread_mutex_lock(&f->mu);
  int i = find(f, id);
  if (i >= 0) {
    append(f, &f->recs[i], true);
    remove_at(f, i);
  }
  pthread_mutex_unlock(&f->mu);
}

int js_filestore_get(struct js_filestore *f, const char *id, struct js_job *out, bool *on_file) {
  pthread_mutex_lock(&f->mu);
  int i = find(f, id);
  if (i >= 0)
    *out = f->recs[i].job;
  *on_file = js_store_on_file();
  pthread_mutex_unlock(&f->mu);
  return i >= 0 ? 0 : 1;
}

int js_filestore_set(struct js_filestore *f, const char *id, const char *status,
                     const char *replica, long add_attempts) {
  int rc = 0;
  pthread_mutex_lock(&f->mu);
  int i = find(f, id);
  if (i < 0 && !js_store_on_file()) {
    rc = 1;
  } else if (i < 0 && f->n >= JS_FILE_MAX_JOBS) {
    rc = -1;
  } else {
    struct fs_rec saved;
    if (i < 0) {
      /* A job accepted on Redis, changed while on file: the file has it now. */
      i = f->n++;
      memset(&f->recs[i], 0, sizeof f->recs[i]);
      snprintf(f->recs[i].job.id, sizeof f->recs[i].job.id, "%s", id);
      f->recs[i].created_ms = js_wall_ms();
      saved = f->recs[i];
    } else {
      saved = f->recs[i];
    }
    struct js_job *j = &f->recs[i].job;
    snprintf(j->status, sizeof j->status, "%s", status);
    snprintf(j->replica, sizeof j->replica, "%s", replica);
    j->attempts += add_attempts;
    if (append(f, &f->recs[i], false) != 0) {
      f->recs[i] = saved; /* unchanged in memory as on disk */
      rc = -1;
    }
  }
  pthread_mutex_unlock(&f->mu);
  return rc;
}

bool js_filestore_claim(struct js_filestore *f, const char *id, const char *replica) {
  bool ok = false;
  pthread_mutex_lock(&f->mu);
  int i = find(f, id);
  if (i >= 0 && strcmp(f->recs[i].job.status, "pending") == 0) {
    struct fs_rec saved = f->recs[i];
    struct js_job *j = &f->recs[i].job;
    snprintf(j->status, sizeof j->status, "running");
    snprintf(j->replica, sizeof j->replica, "%s", replica);
    j->attempts++;
    ok = append(f, &f->recs[i], false) == 0;
    if (!ok)
      f->recs[i] = saved;
  }
  pthread_mutex_unlock(&f->mu);
  return ok;
}

int js_filestore_count(struct js_filestore *f) {
  pthread_mutex_lock(&f->mu);
  int n = f->n;
  pthread_mutex_unlock(&f->mu);
  return n;
}

/*
 * KEYS job queue; ARGV id status replica attempts created now ttl push(0|1)
 * attempts never goes down and created_ms is kept when Redis already has the
 * job (a job accepted on Redis and finished on file).
 */
static const char MIGRATE_LUA[] =
    "local k = KEYS[1]\n"
    "redis.call('HSET', k, 'status', ARGV[2], 'replica', ARGV[3], 'updated_ms', ARGV[6])\n"
    "redis.call('HSETNX', k, 'created_ms', ARGV[5])\n"
    "local a = tonumber(redis.call('HGET', k, 'attempts') or '0') or 0\n"
    "local b = tonumber(ARGV[4]) or 0\n"
    "redis.call('HSET', k, 'attempts', math.max(a, b))\n"
    "redis.call('EXPIRE', k, ARGV[7])\n"
    "if ARGV[8] == '1' then redis.call('LPUSH', KEYS[2], ARGV[1]) end\n"
    "return 1\n";

/*
 * Moves one record where its job belongs now; 0 or -1. A pending job goes
 * to the shared queue in drain mode (in abandon mode it is in the local
 * queue already); a running one stays with the local worker that runs it,
 * whose completion then lands in Redis.
 */
static int migrate_one(struct js_app *app, struct js_redis *r, const struct fs_rec *rec) {
  const struct js_job *j = &rec->job;
  bool push = js_drain(&app->cfg) && strcmp(j->status, "pending") == 0;
  if (!js_state_redis(&app->cfg)) {
    if (push && js_rq_push(app, r, j->id) != 0)
      return -1;
    js_memstore_put(app->mem, j);
    return 0;
  }
  char key[JS_ID_MAX + 32], attempts[24], created[24], now[24], ttl[16];
  snprintf(key, sizeof key, "%s%s", JS_KEY_JOB, j->id);
  snprintf(attempts, sizeof attempts, "%ld", j->attempts);
  snprintf(created, sizeof created, "%lld", rec->created_ms);
  snprintf(now, sizeof now, "%lld", (long long)js_wall_ms());
  snprintf(ttl, sizeof ttl, "%d", JS_JOB_TTL_S);
  const char *argv[] = {"EVAL",   MIGRATE_LUA, "2",     key, JS_KEY_QUEUE, j->id,
                        j->status, j->replica,  attempts, created, now,     ttl,
                        push ? "1" : "0"};
  redisReply *rep = js_redis_argv(r, (int)(sizeof argv / sizeof argv[0]), argv);
  if (rep == NULL)
    return -1;
  freeReplyObject(rep);
  return 0;
}

int js_filestore_migrate(struct js_app *app, struct js_redis *r) {
  struct js_filestore *f = app->file;
  pthread_mutex_lock(&f->mu);
  int moved = 0;
  while (moved < f->n && migrate_one(app, r, &f->recs[moved]) == 0)
    moved++;
  bool all = moved == f->n;
  if (!all) {
    /* Tombstones, so that a restart does not move them a second time. */
    for (int i = 0; i < moved; i++)
      append(f, &f->recs[i], true);
  }
  memmove(f->recs, f->recs + moved, (size_t)(f->n - moved) * sizeof *f->recs);
  f->n -= moved;
  if (all) {
    if (f->fd >= 0)
      close(f->fd);
    f->fd = -1;
    if (unlink(f->path) != 0 && errno != ENOENT)
      js_log("file cache: cannot remove %s: %s", f->path, strerror(errno));
    if (f->made_dir && rmdir(f->dir) == 0) /* only when empty: other files stay */
      f->made_dir = false;
    js_store_back_to_redis();
  }
  pthread_mutex_unlock(&f->mu);
  return all ? moved : -1;
}
