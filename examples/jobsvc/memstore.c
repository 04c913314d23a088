/*
 * The per-replica job table of --state memory: a chained hash table plus an
 * insertion-order ring that bounds it (the oldest record is evicted when
 * the ring is full). One mutex; every operation is O(chain length).
 */
#include "jobsvc.h"

#include <stdlib.h>
#include <string.h>

#define MEM_BUCKETS 8192u
#define MEM_CAPACITY 32768u /* records kept; a ring slot per record */

struct mem_rec {
  struct js_job job;
  struct mem_rec *next; /* bucket chain */
  unsigned ring_slot;
};

struct js_memstore {
  pthread_mutex_t mu;
  struct mem_rec *buckets[MEM_BUCKETS];
  struct mem_rec *ring[MEM_CAPACITY]; /* NULL = free slot (deleted) */
  unsigned ring_next;                  /* next slot to fill (and evict) */
};

static unsigned hash_id(const char *id) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
    h ^= *p;
    h *= 16777619u;
  }
  return h % MEM_BUCKETS;
}

struct js_memstore *js_memstore_new(void) {
  struct js_memstore *m = calloc(1, sizeof *m);
  if (m != NULL)
    pthread_mutex_init(&m->mu, NULL);
  return m;
}

/* Caller holds mu. Returns the link that points at id's record (or at NULL). */
static struct mem_rec **find_link(struct js_memstore *m, const char *id) {
  struct mem_rec **link = &m->buckets[hash_id(id)];
  while (*link != NULL && strcmp((*link)->job.id, id) != 0)
    link = &(*link)->next;
  return link;
}

/* Caller holds mu. Unlinks and frees rec. */
static void remove_rec(struct js_memstore *m, struct mem_rec *rec) {
  struct mem_rec **link = find_link(m, rec->job.id);
  if (*link == rec)
    *link = rec->next;
  m->ring[rec->ring_slot] = NULL;
  free(rec);
}

/* Caller holds mu. Inserts a copy of job (id not present). NULL on ENOMEM. */
static struct mem_rec *insert_rec(struct js_memstore *m, const struct js_job *job) {
  struct mem_rec *old = m->ring[m->ring_next];
  if (old != NULL)
    remove_rec(m, old); /* bounded memory: the oldest record goes */
  struct mem_rec *rec = calloc(1, sizeof *rec);
  if (rec == NULL)
    return NULL;
  rec->job = *job;
  rec->ring_slot = m->ring_next;
  m->ring[m->ring_next] = rec;
  m->ring_next = (m->ring_next + 1) % MEM_CAPACITY;
  struct mem_rec **head = &m->buckets[hash_id(job->id)];
  rec->next = *head;
  *head = rec;
  return rec;
}

void js_memstore_put(struct js_memstore *m, const struct js_job *job) {
  pthread_mutex_lock(&m->mu);
  struct mem_rec **link = find_link(m, job->id);
  if (*link != NULL)
    (*link)->job = *job;
  else
    insert_rec(m, job);
  pthread_mutex_unlock(&m->mu);
}

bool js_memstore_get(struct js_memstore *m, const char *id, struct js_job *out) {
  pthread_mutex_lock(&m->mu);
  struct mem_rec *rec = *find_link(m, id);
  if (rec != NULL)
    *out = rec->job;
  pthread_mutex_unlock(&m->mu);
  return rec != NULL;
}

void js_memstore_del(struct js_memstore *m, const char *id) {
  pthread_mutex_lock(&m->mu);
  struct mem_rec *rec = *find_link(m, id);
  if (rec != NULL)
    remove_rec(m, rec);
  pthread_mutex_unlock(&m->mu);
}

void js_memstore_update(struct js_memstore *m, const char *id, const char *status,
                        const char *replica, long add_attempts) {
  pthread_mutex_lock(&m->mu);
  struct mem_rec *rec = *find_link(m, id);
  if (rec == NULL) {
    struct js_job job;
    memset(&job, 0, sizeof job);
    snprintf(job.id, sizeof job.id, "%s", id);
    rec = insert_rec(m, &job);
  }
  if (rec != NULL) {
    snprintf(rec->job.status, sizeof rec->job.status, "%s", status);
    snprintf(rec->job.replica, sizeof rec->job.replica, "%s", replica);
    rec->job.attempts += add_attempts;
  }
  pthread_mutex_unlock(&m->mu);
}
