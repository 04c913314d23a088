/* upstream.c - a slow third-party export API, the dependency of the
 * rate-limiting demo (scenarios/rate-limited-dependency.yaml,
 * scenarios/stale-keepalive.yaml). libmicrohttpd, one thread per
 * connection, keep-alive.
 *
 *   POST /export   a heavy export (or one page of it: GET /export?page=N):
 *                  answers 200 {"rows":N} after --export-ms
 *   GET  /items    a cheap call: 200 {"items":[...]} after --items-ms
 *   GET  /healthz  200 ok
 *
 * A message API (--msg-every-ms N): every N ms a message is posted, either
 * opening a new thread or replying to an older one (seeded, so every run
 * is the same), for --msg-for-ms:
 *
 *   GET /threads?created_after=S   threads created after sequence S, in
 *                                  creation order (what the API really does)
 *   GET /threads?active_after=S    threads with a message after S
 *   GET /messages                  {"ids":[every message id]} (a final read)
 *
 * A thread is {"id","created","activity","messages":[ids]}; sequences
 * count messages. A poller that pages by created_after never sees a reply
 * to an old thread (the silent-message-loss incident).
 *
 * With --limit N/--window-ms W it also refuses more than N requests per
 * window with 429 and Retry-After (its own limit; the scenarios usually
 * let faultline's http.ratelimit play that part, so the limit can be
 * switched on and off on the timeline).
 *
 *   upstream --port N [--bind ADDR] [--export-ms 1500] [--items-ms 20] [--limit N --window-ms W]
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int export_ms = 1500, items_ms = 20, limit, window_ms = 1000;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long long win_start;
static int win_count;
static long exports;

/* The message API's state, under mu. */
#define MAX_MSGS 2000
#define MAX_THREADS 1000
static int msg_every_ms, msg_for_ms = 10000;
struct thread {
    int created, activity;
    int msgs[64];
    int nmsgs;
};
static struct thread threads[MAX_THREADS];
static int nthreads, nmsgs;

/* Post one message: a new thread one time in three, else a reply to a
 * thread picked by the seeded generator. */
static void post_message(unsigned *seed)
{
    pthread_mutex_lock(&mu);
    if (nmsgs < MAX_MSGS) {
        int seq = ++nmsgs;
        struct thread *t;
        if (nthreads == 0 || (rand_r(seed) % 3 == 0 && nthreads < MAX_THREADS)) {
            t = &threads[nthreads++];
            t->created = seq;
        } else {
            t = &threads[rand_r(seed) % (unsigned)nthreads];
        }
        t->activity = seq;
        if (t->nmsgs < 64)
            t->msgs[t->nmsgs++] = seq;
    }
    pthread_mutex_unlock(&mu);
}

static void *message_source(void *arg)
{
    (void)arg;
    unsigned seed = 42;
    long long end = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    end = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + msg_for_ms;
    while (1) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= end)
            return NULL;
        post_message(&seed);
        struct timespec d = {msg_every_ms / 1000, (long)(msg_every_ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
    }
}

/* Bounded JSON text: at most MAX_THREADS threads of 64 ids each. */
static char *threads_json(int after, int by_activity)
{
    size_t cap = 1 << 20, len = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    len += (size_t)snprintf(b + len, cap - len, "{\"threads\":[");
    pthread_mutex_lock(&mu);
    int first = 1;
    for (int i = 0; i < nthreads && len + 2048 < cap; i++) {
        struct thread *t = &threads[i];
        if ((by_activity ? t->activity : t->created) <= after)
            continue;
        len += (size_t)snprintf(b + len, cap - len, "%s{\"id\":\"t%d\",\"created\":%d,"
                                "\"activity\":%d,\"messages\":[", first ? "" : ",",
                                t->created, t->created, t->activity);
        for (int k = 0; k < t->nmsgs; k++)
            len += (size_t)snprintf(b + len, cap - len, "%s\"m%d\"", k ? "," : "", t->msgs[k]);
        len += (size_t)snprintf(b + len, cap - len, "]}");
        first = 0;
    }
    pthread_mutex_unlock(&mu);
    snprintf(b + len, cap - len, "]}");
    return b;
}

static char *messages_json(void)
{
    size_t cap = 32 + (size_t)MAX_MSGS * 10, len = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    len += (size_t)snprintf(b + len, cap - len, "{\"ids\":[");
    pthread_mutex_lock(&mu);
    for (int i = 1; i <= nmsgs; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s\"m%d\"", i > 1 ? "," : "", i);
    pthread_mutex_unlock(&mu);
    snprintf(b + len, cap - len, "]}");
    return b;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
                             int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* 1 when this request is over the upstream's own limit. */
static int over_limit(void)
{
    if (limit <= 0)
        return 0;
    pthread_mutex_lock(&mu);
    long long now = now_ms();
    if (now - win_start >= window_ms) {
        win_start = now;
        win_count = 0;
    }
    int over = ++win_count > limit;
    pthread_mutex_unlock(&mu);
    return over;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ctx)
{
    (void)cls;
    (void)version;
    (void)method;
    (void)data;
    if (*ctx == NULL) {          /* headers: wait for the body */
        *ctx = c;
        return MHD_YES;
    }
    if (*size) {                 /* body bytes are ignored */
        *size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/healthz") == 0)
        return reply(c, 200, "{\"status\":\"ok\"}", 0);
    if (strcmp(url, "/threads") == 0 || strcmp(url, "/messages") == 0) {
        const char *ca = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "created_after");
        const char *aa = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "active_after");
        const char *since = aa ? aa : ca ? ca : "0";
        char *endp;
        long v = strtol(since, &endp, 10);
        if (*since == '\0' || *endp != '\0' || v < 0 || v > 1000000000L)
            return reply(c, 400, "{\"error\":\"created_after / active_after: a number\"}", 0);
        char *b = url[1] == 'm' ? messages_json() : threads_json((int)v, aa != NULL);
        if (!b)
            return MHD_NO;
        enum MHD_Result ok = reply(c, 200, b, 0);
        free(b);
        return ok;
    }
    if (over_limit())
        return reply(c, 429, "{\"error\":\"rate limited\"}", (window_ms + 999) / 1000);
    char body[128];
    if (strcmp(url, "/export") == 0) {   /* POST, or GET /export?page=N */
        sleep_ms(export_ms);
        pthread_mutex_lock(&mu);
        long n = ++exports;
        pthread_mutex_unlock(&mu);
        snprintf(body, sizeof body, "{\"rows\":%d,\"export\":%ld}", 100000, n);
        return reply(c, 200, body, 0);
    }
    if (strcmp(url, "/items") == 0) {
        sleep_ms(items_ms);
        return reply(c, 200, "{\"items\":[1,2,3]}", 0);
    }
    return reply(c, 404, "{\"error\":\"not found\"}", 0);
}

static int arg_int(const char *v, int lo, int hi)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        fprintf(stderr, "upstream: bad number '%s'\n", v);
        exit(64);
    }
    return (int)x;
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *bind = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = arg_int(argv[i + 1], 1, 65535);
        else if (!strcmp(argv[i], "--bind"))
            bind = argv[i + 1];   /* 0.0.0.0 in a container (ci/docker-compose.yml) */
        else if (!strcmp(argv[i], "--export-ms"))
            export_ms = arg_int(argv[i + 1], 0, 600000);
        else if (!strcmp(argv[i], "--items-ms"))
            items_ms = arg_int(argv[i + 1], 0, 600000);
        else if (!strcmp(argv[i], "--limit"))
            limit = arg_int(argv[i + 1], 0, 1000000);
        else if (!strcmp(argv[i], "--window-ms"))
            window_ms = arg_int(argv[i + 1], 1, 3600000);
        else if (!strcmp(argv[i], "--msg-every-ms"))
            msg_every_ms = arg_int(argv[i + 1], 1, 3600000);
        else if (!strcmp(argv[i], "--msg-for-ms"))
            msg_for_ms = arg_int(argv[i + 1], 0, 3600000);
        else {
            fprintf(stderr, "usage: upstream --port N [--bind ADDR] [--export-ms MS] [--items-ms MS] "
                            "[--limit N --window-ms MS] [--msg-every-ms MS --msg-for-ms MS]\n");
            return 64;
        }
    }
    if (!port) {
        fprintf(stderr, "upstream: --port is required\n");
        return 64;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
        fprintf(stderr, "upstream: --bind expects an IPv4 address, got '%s'\n", bind);
        return 64;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "upstream: cannot listen on %s:%d\n", bind, port);
        return 1;
    }
    fprintf(stderr, "upstream: ready on %s:%d (export %d ms, items %d ms)\n", bind, port,
            export_ms, items_ms);
    if (msg_every_ms) {
        pthread_t t;
        pthread_create(&t, NULL, message_source, NULL);
        pthread_detach(t);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
