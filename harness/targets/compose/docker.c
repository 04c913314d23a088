/* docker.c - see docker.h. */
#include "targets/compose/docker.h"
#include "proto/http.h"
#include "base/proc.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_LINE_MAX (64 * 1024)    /* one event is far smaller */
#define EVENT_QUEUE_MAX 4096          /* events parsed, not yet delivered */
#define NEGOTIATE_TIMEOUT_MS 5000

/* ---- versions ---------------------------------------------------------- */

static int parse_version(const char *s, long *major, long *minor)
{
    if (!s)
        return -1;
    char *end;
    *major = strtol(s, &end, 10);
    if (end == s || *end != '.')
        return -1;
    const char *m = end + 1;
    *minor = strtol(m, &end, 10);
    if (end == m || *end || *major < 0 || *minor < 0)
        return -1;
    return 0;
}

int fl_docker_version_cmp(const char *a, const char *b)
{
    long am, an, bm, bn;
    int ba = parse_version(a, &am, &an), bb = parse_version(b, &bm, &bn);
    if (ba || bb)
        return ba && bb ? 0 : ba ? -1 : 1;
    if (am != bm)
        return am < bm ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

int fl_docker_pick_version(const char *server_api, const char *server_min, char *out,
                           size_t len, struct fl_error *err)
{
    long m, n;
    if (parse_version(server_api, &m, &n))
        return fl_error_set(err, FL_EINVAL, "the Docker engine gave no usable API version "
                            "(ApiVersion \"%s\")", server_api ? server_api : "");
    const char *pick = server_api;
    if (fl_docker_version_cmp(server_api, FL_DOCKER_API_NEWEST) > 0) {
        /* A newer engine: speak our newest, if it still accepts that. */
        if (server_min && parse_version(server_min, &m, &n) == 0 &&
            fl_docker_version_cmp(server_min, FL_DOCKER_API_NEWEST) > 0)
            return fl_error_set(err, FL_EINVAL, "the Docker engine accepts API %s..%s; "
                                "faultline speaks %s..%s", server_min, server_api,
                                FL_DOCKER_API_OLDEST, FL_DOCKER_API_NEWEST);
        pick = FL_DOCKER_API_NEWEST;
    } else if (fl_docker_version_cmp(server_api, FL_DOCKER_API_OLDEST) < 0) {
        return fl_error_set(err, FL_EINVAL, "the Docker engine speaks API %s at most; "
                            "faultline needs %s or newer", server_api, FL_DOCKER_API_OLDEST);
    }
    snprintf(out, len, "%s", pick);
    return 0;
}

int fl_docker_socket(char *buf, size_t len, struct fl_error *err)
{
    const char *h = getenv("DOCKER_HOST");
    if (!h || !h[0]) {
        snprintf(buf, len, "%s", FL_DOCKER_DEFAULT_SOCKET);
        return 0;
    }
    if (strncmp(h, "unix://", 7) != 0 || !h[7])
        return fl_error_set(err, FL_EINVAL, "DOCKER_HOST=%s: faultline talks to a local engine "
                            "through its unix socket only (unix:///PATH)", h);
    if ((size_t)snprintf(buf, len, "%s", h + 7) >= len)
        return fl_error_set(err, FL_EINVAL, "DOCKER_HOST=%s: path too long", h);
    return 0;
}

/* ---- asynchronous client ----------------------------------------------- */

struct call {
    struct fl_docker *d;
    fl_docker_cb cb;
    void *ud;
    int negotiate;
};

struct fl_docker {
    struct fl_http *http;
    char socket[4096];
    char api[16];
    char engine[64];
    /* the events stream */
    struct fl_http_req *ev_req;
    fl_docker_event_cb on_event;
    fl_docker_end_cb on_end;
    void *ev_ud;
    struct fl_buf line;
    /* Events are delivered from a timer, never from inside libcurl's
     * write callback: a handler that starts another call would re-enter
     * the multi handle, which libcurl refuses (CURLM_RECURSIVE_API_CALL). */
    json_t *queue;
    size_t dropped;
    uv_timer_t ev_timer;
    int closes_pending;
    int closing;
    void (*close_cb)(void *);
    void *close_ud;
};

int fl_docker_new(struct fl_docker **out, uv_loop_t *loop, const char *socket,
                  struct fl_error *err)
{
    struct fl_docker *d = calloc(1, sizeof *d);
    if (!d)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    snprintf(d->socket, sizeof d->socket, "%s", socket);
    fl_buf_init(&d->line, EVENT_LINE_MAX);
    d->queue = json_array();
    if (!d->queue) {
        free(d);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    int rc = fl_http_new(&d->http, loop, err);
    if (rc) {
        json_decref(d->queue);
        free(d);
        return rc;
    }
    uv_timer_init(loop, &d->ev_timer);
    d->ev_timer.data = d;
    *out = d;
    return 0;
}

const char *fl_docker_api(const struct fl_docker *d)
{
    return d->api;
}

const char *fl_docker_engine(const struct fl_docker *d)
{
    return d->engine;
}

const char *fl_docker_socket_path(const struct fl_docker *d)
{
    return d->socket;
}

static void deliver(struct call *c, const struct fl_http_result *res)
{
    struct fl_docker_reply r = {.status = res->status, .body = res->body, .message = ""};
    json_t *j = NULL;
    char err[1024] = "";
    if (res->outcome != FL_HTTP_DONE) {
        r.status = 0;
        if (res->outcome == FL_HTTP_ERROR && !res->sent_maybe)
            snprintf(err, sizeof err, "no Docker engine answers on %.300s (is dockerd running? "
                     "DOCKER_HOST=unix:///PATH names another socket): %.400s", c->d->socket,
                     res->error ? res->error : "no answer");
        else
            snprintf(err, sizeof err, "Docker engine at %.300s: %.500s", c->d->socket,
                     res->error ? res->error : "no answer");
        r.error = err;
    } else {
        j = res->body_len ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
        r.json = j;
        const char *m = j && json_is_object(j) ? json_string_value(json_object_get(j, "message"))
                                               : NULL;
        if (m && res->status >= 400)
            r.message = m;
    }
    if (c->negotiate && r.status == 200) {
        const char *api = json_string_value(json_object_get(j, "ApiVersion"));
        const char *min = json_string_value(json_object_get(j, "MinAPIVersion"));
        const char *ver = json_string_value(json_object_get(j, "Version"));
        struct fl_error e = {0};
        if (fl_docker_pick_version(api, min, c->d->api, sizeof c->d->api, &e)) {
            r.status = 0;
            snprintf(err, sizeof err, "%.600s", e.msg);
            r.error = err;
        }
        snprintf(c->d->engine, sizeof c->d->engine, "%s", ver ? ver : "?");
    } else if (c->negotiate && r.status) {
        snprintf(err, sizeof err, "GET /version answered %d %s", r.status, r.message);
        r.status = 0;
        r.error = err;
    }
    c->cb(c->ud, &r);
    json_decref(j);
}

static void on_http(void *ud, const struct fl_http_result *res)
{
    struct call *c = ud;
    deliver(c, res);
    free(c);
}

static int submit(struct fl_docker *d, const char *method, const char *url, const char *body,
                  uint64_t timeout_ms, fl_docker_cb cb, void *ud, int negotiate,
                  struct fl_error *err)
{
    if (d->closing)
        return fl_error_set(err, FL_EABORT, "the Docker client is closing");
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    c->d = d;
    c->cb = cb;
    c->ud = ud;
    c->negotiate = negotiate;
    const char *hdr[] = {"Content-Type: application/json"};
    struct fl_http_request rq = {
        .method = method, .url = url, .body = body, .body_len = body ? strlen(body) : 0,
        .headers = body ? hdr : NULL, .nheaders = body ? 1 : 0, .timeout_ms = timeout_ms,
        .unix_socket = d->socket,
    };
    int rc = fl_http_submit(d->http, &rq, on_http, c, NULL, err);
    if (rc)
        free(c);
    return rc;
}

int fl_docker_negotiate(struct fl_docker *d, fl_docker_cb cb, void *ud, struct fl_error *err)
{
    return submit(d, "GET", "http://docker/version", NULL, NEGOTIATE_TIMEOUT_MS, cb, ud, 1, err);
}

int fl_docker_call(struct fl_docker *d, const char *method, const char *path,
                   const char *body, uint64_t timeout_ms, fl_docker_cb cb, void *ud,
                   struct fl_error *err)
{
    if (!d->api[0])
        return fl_error_set(err, FL_EINVAL, "Docker API version not negotiated yet");
    char url[2048];
    if ((size_t)snprintf(url, sizeof url, "http://docker/v%s%s", d->api, path) >= sizeof url)
        return fl_error_set(err, FL_EINVAL, "Docker API path too long: %s", path);
    return submit(d, method, url, body, timeout_ms, cb, ud, 0, err);
}

static void deliver_events(uv_timer_t *t)
{
    struct fl_docker *d = t->data;
    json_t *q = d->queue;
    d->queue = json_array();
    size_t i;
    json_t *ev;
    json_array_foreach(q, i, ev) {
        if (d->closing || !d->on_event)
            break;
        d->on_event(d->ev_ud, ev);
    }
    json_decref(q);
}

/* Events arrive as JSON objects, one per line; a line may be split across
 * reads. */
static int on_event_data(void *ud, const char *p, size_t n)
{
    struct fl_docker *d = ud;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            if (fl_buf_add(&d->line, p + i, 1))
                return 1;   /* an event line larger than any real one: give up */
            continue;
        }
        if (d->line.len) {
            json_t *ev = json_loadb(d->line.p, d->line.len, 0, NULL);
            if (ev && d->queue && json_array_size(d->queue) < EVENT_QUEUE_MAX) {
                json_array_append_new(d->queue, ev);
                if (!uv_is_active((uv_handle_t *)&d->ev_timer))
                    uv_timer_start(&d->ev_timer, deliver_events, 0, 0);
            } else {
                json_decref(ev);
                d->dropped++;
            }
        }
        fl_buf_reset(&d->line);
    }
    return 0;
}

static void on_events_end(void *ud, const struct fl_http_result *res)
{
    struct fl_docker *d = ud;
    d->ev_req = NULL;
    char why[256];
    if (res->outcome == FL_HTTP_ABORTED)
        snprintf(why, sizeof why, "aborted");
    else if (res->outcome == FL_HTTP_DONE)
        snprintf(why, sizeof why, "the engine ended the event stream (status %d)", res->status);
    else
        snprintf(why, sizeof why, "event stream: %s", res->error ? res->error : "broken");
    if (d->on_end)
        d->on_end(d->ev_ud, why);
}

/* Percent-encode s for a query string. */
static int url_encode(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-_.~", *p);
        if (k + 4 >= len)
            return -1;
        if (plain) {
            out[k++] = (char)*p;
        } else {
            out[k++] = '%';
            out[k++] = hex[*p >> 4];
            out[k++] = hex[*p & 15];
        }
    }
    out[k] = '\0';
    return 0;
}

int fl_docker_events(struct fl_docker *d, const char *filters, fl_docker_event_cb on_event,
                     fl_docker_end_cb on_end, void *ud, struct fl_error *err)
{
    if (d->ev_req)
        return fl_error_set(err, FL_EINVAL, "one event stream per Docker client");
    if (!d->api[0])
        return fl_error_set(err, FL_EINVAL, "Docker API version not negotiated yet");
    char enc[1024], url[1400];
    if (url_encode(filters, enc, sizeof enc))
        return fl_error_set(err, FL_EINVAL, "event filters too long");
    snprintf(url, sizeof url, "http://docker/v%s/events?filters=%s", d->api, enc);
    d->on_event = on_event;
    d->on_end = on_end;
    d->ev_ud = ud;
    fl_buf_reset(&d->line);
    struct fl_http_request rq = {
        .url = url, .timeout_ms = NEGOTIATE_TIMEOUT_MS, .unix_socket = d->socket,
        .on_data = on_event_data, .endless = 1,
    };
    return fl_http_submit(d->http, &rq, on_events_end, d, &d->ev_req, err);
}

static void closed_one(struct fl_docker *d)
{
    if (--d->closes_pending)
        return;
    void (*cb)(void *) = d->close_cb;
    void *cud = d->close_ud;
    fl_buf_free(&d->line);
    json_decref(d->queue);
    free(d);
    if (cb)
        cb(cud);
}

static void on_http_closed(void *ud)
{
    closed_one(ud);
}

static void on_timer_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

void fl_docker_close(struct fl_docker *d, void (*cb)(void *ud), void *ud)
{
    if (d->closing)
        return;
    d->closing = 1;
    d->close_cb = cb;
    d->close_ud = ud;
    d->closes_pending = 2;
    uv_close((uv_handle_t *)&d->ev_timer, on_timer_closed);
    fl_http_close(d->http, on_http_closed, d);
}

/* ---- processes --------------------------------------------------------- */

int fl_docker_pid_is(int pid, const char *id)
{
    if (pid <= 0 || !id || strlen(id) < 12)
        return 0;
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    ssize_t n = fl_read_small(path, buf, sizeof buf);
    return n > 0 && strstr(buf, id) != NULL;
}

int fl_docker_pidns_members(int init, int *pids, int max)
{
    char path[64], ns[64], other[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", init);
    ssize_t n = readlink(path, ns, sizeof ns - 1);
    if (n <= 0)
        return -errno;
    ns[n] = '\0';
    DIR *d = opendir("/proc");
    if (!d)
        return -errno;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < max) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
        ssize_t m = readlink(path, other, sizeof other - 1);
        if (m <= 0)
            continue;
        other[m] = '\0';
        if (strcmp(ns, other) == 0)
            pids[count++] = (int)pid;
    }
    closedir(d);
    return count;
}

/* ---- blocking client --------------------------------------------------- */

static size_t sync_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fl_buf *b = ud;
    size_t n = size * nmemb;
    if (b && fl_buf_add(b, p, n))
        return 0;
    return n;
}

static int sync_once(const char *socket, const char *method, const char *url, const char *body,
                     long timeout_ms, int *status, struct fl_buf *out, char *why, size_t len)
{
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(why, len, "curl_easy_init failed");
        return FL_EIO;
    }
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, socket);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sync_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)out);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        h = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    CURLcode rc = curl_easy_perform(e);
    long st = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        snprintf(why, len, "Docker engine at %s: %s", socket,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return FL_EIO;
    }
    *status = (int)st;
    return 0;
}

int fl_docker_sync(const char *socket, const char *method, const char *path,
                   const char *body, long timeout_ms, int *status, struct fl_buf *out,
                   char *why, size_t len)
{
    struct fl_buf vb;
    fl_buf_init(&vb, 64 * 1024);
    int st = 0;
    int rc = sync_once(socket, "GET", "http://docker/version", NULL, timeout_ms, &st, &vb, why,
                       len);
    char api[16] = "";
    if (rc == 0) {
        json_t *j = json_loadb(vb.p ? vb.p : "", vb.len, 0, NULL);
        struct fl_error e = {0};
        if (st != 200 ||
            fl_docker_pick_version(json_string_value(json_object_get(j, "ApiVersion")),
                                   json_string_value(json_object_get(j, "MinAPIVersion")), api,
                                   sizeof api, &e)) {
            snprintf(why, len, "%s", st != 200 ? "GET /version failed" : e.msg);
            rc = FL_EIO;
        }
        json_decref(j);
    }
    fl_buf_free(&vb);
    if (rc)
        return rc;
    char url[2048];
    if ((size_t)snprintf(url, sizeof url, "http://docker/v%s%s", api, path) >= sizeof url) {
        snprintf(why, len, "path too long");
        return FL_EIO;
    }
    return sync_once(socket, method, url, body, timeout_ms, status, out, why, len);
}
