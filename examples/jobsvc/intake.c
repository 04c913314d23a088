/* intake.c - see intake.h. */
#include "intake.h"
#include "dep.h"
#include "jobsvc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_IDS 4096
#define BODY_MAX (1 << 20)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *ids[MAX_IDS];
static int nids;

static void ingest(const char *id) {
  pthread_mutex_lock(&mu);
  int seen = 0;
  for (int i = 0; i < nids && !seen; i++)
    seen = strcmp(ids[i], id) == 0;
  if (!seen && nids < MAX_IDS) {
    ids[nids] = strdup(id);
    if (ids[nids])
      nids++;
  }
  pthread_mutex_unlock(&mu);
}

/* GET path from the dependency (Connection: close); the body, malloc'ed,
 * or NULL. */
static char *get(const struct js_cfg *cfg, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return NULL;
  struct sockaddr_in a;
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (js_dep_addr(cfg, &a) != 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return NULL;
  }
  char req[512];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: dep\r\nUser-Agent: jobsvc-intake/%s\r\n"
                   "Connection: close\r\n\r\n", path, cfg->name);
  char *buf = malloc(BODY_MAX);
  size_t got = 0;
  if (buf && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
    ssize_t k;
    while (got < BODY_MAX - 1 && (k = recv(fd, buf + got, BODY_MAX - 1 - got, 0)) > 0)
      got += (size_t)k;
  }
  close(fd);
  if (!buf)
    return NULL;
  buf[got] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  if (got < 12 || strncmp(buf + 9, "200", 3) != 0 || !body) {
    free(buf);
    return NULL;
  }
  memmove(buf, body + 4, strlen(body + 4) + 1);
  return buf;
}

static void *poll_loop(void *arg) {
  struct js_app *app = arg;
  bool by_activity = js_cfg_fixed(&app->cfg, JS_BUG_CURSOR);
  long cursor = 0;
  while (!atomic_load(&app->stopping)) {
    char path[128];
    snprintf(path, sizeof path, "/threads?%s=%ld", by_activity ? "active_after" : "created_after",
             cursor);
    char *body = get(&app->cfg, path);
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "threads"), i, t) {
      long mark = (long)json_integer_value(json_object_get(t, by_activity ? "activity" : "created"));
      if (mark > cursor)
        cursor = mark;
      size_t k;
      json_t *m;
      json_array_foreach(json_object_get(t, "messages"), k, m) {
        if (json_is_string(m))
          ingest(json_string_value(m));
      }
    }
    json_decref(doc);
    js_sleep_ms(app->cfg.intake_every_ms);
  }
  return NULL;
}

void js_intake_start(struct js_app *app) {
  if (!app->cfg.dep_port || app->cfg.intake_every_ms <= 0)
    return;
  js_log("intake: polling the dependency every %d ms by %s", app->cfg.intake_every_ms,
         js_cfg_fixed(&app->cfg, JS_BUG_CURSOR) ? "activity" : "creation");
  pthread_t t;
  if (pthread_create(&t, NULL, poll_loop, app) == 0)
    pthread_detach(t);
}

enum MHD_Result js_intake_reply(struct js_app *app, struct MHD_Connection *conn) {
  (void)app;
  json_t *list = json_array();
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nids; i++)
    json_array_append_new(list, json_string(ids[i]));
  pthread_mutex_unlock(&mu);
  json_t *doc = json_pack("{s:o}", "ids", list);
  char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  if (!text)
    return MHD_NO;
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "application/json");
  enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ok;
}
