/*
 * The HTTP API on 127.0.0.1, served by a libmicrohttpd thread pool.
 *   POST /api/overview  -> 202 {"job_id"}            503 when draining / Redis down
 *   GET  /api/jobs/{id} -> 200 {job_id,status,replica,attempts}  404  503
 *   GET  /healthz       -> 200 {status,replica,state,redis,store} 503 when draining
 *   GET  /api/store     -> 200 {store,primary}
 * /healthz stays 200 "ok" on the file cache too: that is the incident.
 */
#include "dep.h"
#include "intake.h"
#include "jobsvc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#define HTTP_THREADS 4
#define POOL_WAIT_MS 2000
#define JOBS_PREFIX "/api/jobs/"

/* Answers with a JSON body; takes ownership of body (a jansson reference). */
static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned status, json_t *body) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  const char *fallback = "{\"error\":\"internal\"}";
  if (text == NULL)
    status = MHD_HTTP_INTERNAL_SERVER_ERROR;
  const char *out = text ? text : fallback;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(out), (void *)out, MHD_RESPMEM_MUST_COPY);
  free(text);
  if (resp == NULL)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result rc = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

int js_http_reply(struct MHD_Connection *conn, unsigned status, void *json_body) {
  return reply_json(conn, status, json_body);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg) {
  return reply_json(conn, status, json_pack("{s:s}", "error", msg));
}

/*
 * peer-health=report: /healthz stays 200 (nothing should restart the
 * survivors) but says "degraded" while fewer than --min-peers replicas are
 * alive, or while this replica cannot count them (peers.c).
 */
static enum MHD_Result health_peers(struct js_app *app, struct MHD_Connection *conn) {
  int live = js_peers_live();
  bool ok = live >= app->cfg.min_peers;
  return reply_json(conn, MHD_HTTP_OK,
                    json_pack("{s:s,s:s,s:i,s:i,s:s}", "status", ok ? "ok" : "degraded",
                              "replica", app->cfg.name, "peers", live, "min_peers",
                              app->cfg.min_peers, "store", js_store_name(&app->cfg)));
}

/* Borrows a pooled Redis connection when the mode needs one; NULL otherwise. */
static struct js_redis *borrow(struct js_app *app, bool *failed) {
  *failed = false;
  if (!js_needs_redis(&app->cfg))
    return NULL;
  struct js_redis *r = js_redis_pool_get(&app->pool, POOL_WAIT_MS);
  *failed = r == NULL;
  return r;
}

static void give_back(struct js_app *app, struct js_redis *r) {
  if (r != NULL)
    js_redis_pool_put(&app->pool, r);
}

static enum MHD_Result handle_submit(struct js_app *app, struct MHD_Connection *conn) {
  if (atomic_load(&app->draining))
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "draining");
  char id[JS_ID_MAX];
  js_new_job_id(id, sizeof id, app->cfg.name);
  bool failed;
  struct js_redis *r = borrow(app, &failed);
  int rc = failed ? -1 : js_store_submit(app, r, id);
  give_back(app, r);
  if (rc != 0)
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
  js_log("job %s: accepted", id);
  return reply_json(conn, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "job_id", id));
}

static enum MHD_Result handle_poll(struct js_app *app, struct MHD_Connection *conn,
                                   const char *id) {
  if (!js_valid_id(id))
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
  bool failed = false;
  struct js_redis *r = js_state_redis(&app->cfg) ? borrow(app, &failed) : NULL;
  struct js_job job;
  int rc = failed ? -1 : js_store_get(app, r, id, &job);
  give_back(app, r);
  if (rc < 0)
    return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
  if (rc > 0)
    return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
  return reply_json(conn, MHD_HTTP_OK,
                    json_pack("{s:s,s:s,s:s,s:I,s:s,s:I}", "job_id", job.id, "status",
                              job.status, "replica", job.replica, "attempts",
                              (json_int_t)job.attempts, "output", job.output, "retries",
                              (json_int_t)job.retries));
}

/* GET /api/items: the dependency's GET /items through the pool (dep.c). */
static enum MHD_Result handle_items(struct js_app *app, struct MHD_Connection *conn) {
  int st = js_dep_call(app, "GET", "/items");
  if (st >= 200 && st < 300)
    return reply_json(conn, MHD_HTTP_OK, json_pack("{s:i}", "dep_status", st));
  return reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "dependency failed");
}

static enum MHD_Result handle_health(struct js_app *app, struct MHD_Connection *conn) {
  bool draining = atomic_load(&app->draining);
  if (!draining && js_peers_enabled(&app->cfg))
    return health_peers(app, conn);
  const char *redis = !js_needs_redis(&app->cfg) ? "unused"
                      : js_redis_seen_up()       ? "up"
                                                 : "down";
  return reply_json(conn, draining ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                    json_pack("{s:s,s:s,s:s,s:s,s:s}", "status", draining ? "draining" : "ok",
                              "replica", app->cfg.name, "state",
                              js_state_redis(&app->cfg) ? "redis" : "memory", "redis", redis,
                              "store", js_store_name(&app->cfg)));
}

/* For probes: the store in use and the primary as last known (no round trip). */
static enum MHD_Result handle_store(struct js_app *app, struct MHD_Connection *conn) {
  char primary[JS_HOST_MAX + 8] = "";
  if (js_needs_redis(&app->cfg))
    js_primary_describe(&app->cfg, primary, sizeof primary);
  return reply_json(conn, MHD_HTTP_OK,
                    json_pack("{s:s,s:s}", "store", js_store_name(&app->cfg), "primary", primary));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  (void)upload_data;
  static int first_call_marker;
  struct js_app *app = cls;
  if (*con_cls == NULL) {
    /* First call: headers only. Answer once the body (if any) is read. */
    *con_cls = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    *upload_data_size = 0; /* the body is accepted and ignored: nothing to buffer */
    return MHD_YES;
  }
  bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
  int extra;
  if (js_http_extra(app, conn, url, method, &extra))
    return (enum MHD_Result)extra;
  if (strcmp(url, "/api/overview") == 0)
    return post ? handle_submit(app, conn)
                : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  if (strncmp(url, JOBS_PREFIX, strlen(JOBS_PREFIX)) == 0)
    return get ? handle_poll(app, conn, url + strlen(JOBS_PREFIX))
               : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  if (strcmp(url, "/healthz") == 0)
    return get ? handle_health(app, conn)
               : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  if (strcmp(url, "/api/ingested") == 0 && app->cfg.intake_every_ms > 0)
    return get ? js_intake_reply(app, conn)
               : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  if (strcmp(url, "/api/items") == 0 && app->cfg.dep_port)
    return get ? handle_items(app, conn)
               : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  if (strcmp(url, "/api/store") == 0)
    return get ? handle_store(app, conn)
               : reply_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  return reply_error(conn, MHD_HTTP_NOT_FOUND, "not found");
}

/*
 * Starts the server on 127.0.0.1:cfg.port. Returns the daemon (stop it with
 * MHD_stop_daemon) or NULL when the port cannot be bound.
 */
struct MHD_Daemon *js_http_start(struct js_app *app) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)app->cfg.port);
  if (inet_pton(AF_INET, app->cfg.bind, &addr.sin_addr) != 1)
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (js_needs_redis(&app->cfg) && js_redis_pool_init(&app->pool, &app->cfg, HTTP_THREADS) != 0)
    return NULL;
  return MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                          on_request, app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                          MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
}
