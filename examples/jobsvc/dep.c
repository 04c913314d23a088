/* dep.c - see dep.h. */
#include "dep.h"
#include "jobsvc.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define POOL_MAX 16
#define EXPORT_PAGES 8
#define ATTEMPTS_IGNORE 30   /* the storm: 30 tries, 20 ms apart */
#define ATTEMPTS_HONOUR 5
#define BACKOFF_BASE_MS 200
#define WAIT_MAX_MS 8000

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static int pool[POOL_MAX];
static int npool;

int js_dep_addr(const struct js_cfg *cfg, struct sockaddr_in *a) {
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)cfg->dep_port);
  const char *host = strcmp(cfg->dep_host, "localhost") ? cfg->dep_host : "127.0.0.1";
  if (inet_pton(AF_INET, host, &a->sin_addr) == 1)
    return 0;
  /* A name (a compose service: --dep upstream:8090). */
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
    return -1;
  a->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
  freeaddrinfo(res);
  return 0;
}

static int dial(const struct js_cfg *cfg) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  if (js_dep_addr(cfg, &a) != 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int take(void) {
  pthread_mutex_lock(&pool_mu);
  int fd = npool ? pool[--npool] : -1;
  pthread_mutex_unlock(&pool_mu);
  return fd;
}

static void give(int fd) {
  pthread_mutex_lock(&pool_mu);
  if (npool < POOL_MAX)
    pool[npool++] = fd;
  else
    close(fd);
  pthread_mutex_unlock(&pool_mu);
}

/*
 * One request on fd. Returns the status (> 0) and *retry_after (-1 none),
 * 0 when nothing came back; *keep says whether fd may be reused.
 */
static int exchange(int fd, const struct js_cfg *cfg, const char *method, const char *path,
                    long *retry_after, int *keep) {
  char req[512];
  int n = snprintf(req, sizeof req,
                   "%s %s HTTP/1.1\r\nHost: dep\r\nUser-Agent: jobsvc/%s\r\n"
                   "Content-Length: 0\r\n\r\n",
                   method, path, cfg->name);
  *keep = 0;
  *retry_after = -1;
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
    return 0;
  char h[8192];
  size_t got = 0;
  char *end = NULL;
  while (got < sizeof h - 1 && !end) {
    ssize_t k = recv(fd, h + got, sizeof h - 1 - got, 0);
    if (k <= 0)
      return 0;
    got += (size_t)k;
    h[got] = '\0';
    end = strstr(h, "\r\n\r\n");
  }
  if (!end || strncmp(h, "HTTP/1.", 7) != 0)
    return 0;
  /* "HTTP/1.x NNN": three digits. */
  if (!isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
      !isdigit((unsigned char)h[11]))
    return 0;
  int status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
  const char *cl = strcasestr(h, "\r\nContent-Length:");
  size_t len = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
  const char *ra = strcasestr(h, "\r\nRetry-After:");
  if (ra)
    *retry_after = strtol(ra + 14, NULL, 10);
  size_t have = got - (size_t)(end + 4 - h);
  char sink[4096];
  while (have < len) {
    size_t want = len - have < sizeof sink ? len - have : sizeof sink;
    ssize_t k = recv(fd, sink, want, 0);
    if (k <= 0)
      return 0;
    have += (size_t)k;
  }
  *keep = cl && !strcasestr(h, "\r\nConnection: close");
  return status;
}

/* One call through the pool, with the pool policy (dep-pool). */
static int call_once(struct js_app *app, const char *method, const char *path, long *ra) {
  const struct js_cfg *cfg = &app->cfg;
  for (int round = 0; round < 2; round++) {
    int fd = take();
    int reused = fd >= 0;
    if (fd < 0)
      fd = dial(cfg);
    if (fd < 0)
      return 0;
    int keep;
    int st = exchange(fd, cfg, method, path, ra, &keep);
    if (st > 0) {
      if (keep)
        give(fd);
      else
        close(fd);
      return st;
    }
    close(fd);
    /* The fix: a reused connection may have been closed by the server
     * while idle; try once more on a fresh one. The bug: give up. */
    if (!reused || !js_cfg_fixed(cfg, JS_BUG_DEP_POOL))
      return 0;
    js_log("dep: reused connection failed, retrying on a fresh one");
  }
  return 0;
}

int js_dep_call(struct js_app *app, const char *method, const char *path) {
  const struct js_cfg *cfg = &app->cfg;
  bool honour = js_cfg_fixed(cfg, JS_BUG_DEP_RETRY);
  int attempts = honour ? ATTEMPTS_HONOUR : ATTEMPTS_IGNORE;
  int st = 0;
  for (int i = 0; i < attempts; i++) {
    long ra;
    st = call_once(app, method, path, &ra);
    /* Only refusals are retried here: a call that got no answer is the
     * pool's business (dep-pool), so the two bugs stay apart. */
    if (st == 0 || (st != 429 && st < 500))
      return st;
    if (i + 1 == attempts)
      break;
    int64_t wait = 20;
    if (honour) {
      wait = (int64_t)BACKOFF_BASE_MS << i;
      if (ra > 0 && ra * 1000 > wait)
        wait = ra * 1000;
      wait += rand() % 100;   /* jitter: replicas do not retry in step */
      if (wait > WAIT_MAX_MS)
        wait = WAIT_MAX_MS;
    }
    js_sleep_ms(wait);
  }
  return st;
}

/* The heavy export: every page of it, one after the other. */
static void *boot_export(void *arg) {
  struct js_app *app = arg;
  js_log("startup export: %d pages of /export", EXPORT_PAGES);
  int ok = 0;
  for (int page = 1; page <= EXPORT_PAGES; page++) {
    char path[64];
    snprintf(path, sizeof path, "/export?page=%d", page);
    int st = js_dep_call(app, "GET", path);
    ok += st >= 200 && st < 300;
  }
  js_log("startup export: %d of %d pages", ok, EXPORT_PAGES);
  return NULL;
}

void js_dep_boot(struct js_app *app) {
  if (!app->cfg.dep_port || js_cfg_fixed(&app->cfg, JS_BUG_STARTUP_EXPORT))
    return;
  pthread_t t;
  if (pthread_create(&t, NULL, boot_export, app) == 0)
    pthread_detach(t);
}

const char *js_dep_job(struct js_app *app) {
  if (!app->cfg.dep_port)
    return "complete";
  int st = js_dep_call(app, "GET", "/items");
  return st >= 200 && st < 300 ? "complete" : "failed";
}
