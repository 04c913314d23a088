/* httpd.c - see httpd.h. Linked into the unit tests, which all link
 * libmicrohttpd. */
#include "httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"

struct fl_test_httpd {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    unsigned hits, conns;
};

static unsigned hit(struct fl_test_httpd *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = ++s->hits;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)c;
    (void)socket_context;
    struct fl_test_httpd *s = cls;
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&s->mu);
    s->conns++;
    pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)method;
    (void)version;
    (void)upload;
    struct fl_test_httpd *s = cls;
    static int first;
    /* Answer from the second call: answering in the first one makes
     * libmicrohttpd close the connection. */
    if (!*con_cls) {
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned n = hit(s);
    long long v;
    char body[64];
    if (strncmp(url, "/status/", 8) == 0 && fl_parse_int(url + 8, 100, 599, &v) == 0) {
        snprintf(body, sizeof body, "status %lld", v);
        return reply(c, (unsigned)v, body);
    }
    if (strncmp(url, "/flip/", 6) == 0 && fl_parse_int(url + 6, 0, 1000000, &v) == 0)
        return n <= (unsigned long long)v ? reply(c, 503, "not yet") : reply(c, 200, "ok");
    if (strcmp(url, "/close") == 0)
        return MHD_NO;   /* libmicrohttpd closes the connection */
    return reply(c, 200, "ok");
}

struct fl_test_httpd *fl_test_httpd_start(void)
{
    struct fl_test_httpd *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)10, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fl_test_httpd_stop(s);
        return NULL;
    }
    s->port = info->port;
    return s;
}

int fl_test_httpd_port(const struct fl_test_httpd *s)
{
    return s->port;
}

unsigned fl_test_httpd_hits(struct fl_test_httpd *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->hits;
    pthread_mutex_unlock(&s->mu);
    return n;
}

unsigned fl_test_httpd_connections(struct fl_test_httpd *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->conns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void fl_test_httpd_stop(struct fl_test_httpd *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int fl_test_listen_silent(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}
