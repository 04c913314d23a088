/* static_server.c - a minimal static HTTP server for the benchmarks: every
 * request gets the same small 200 response. libmicrohttpd with its epoll
 * internal thread, on 127.0.0.1 only.
 *
 * usage: static_server PORT [seconds=60]
 * Runs until SIGINT/SIGTERM or until `seconds` passed (a forgotten server
 * never outlives the benchmark by much).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

static const char BODY[] = "{\"ok\":true}\n";
static struct MHD_Response *response;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)url; (void)method; (void)version; (void)upload;
    /* Answering in the first call (headers only) makes libmicrohttpd close
     * the connection ("Connection: close"), which would benchmark connect()
     * instead of keep-alive requests: answer from the second call. */
    static int seen;
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {   /* swallow request bodies */
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, response);
}

int main(int argc, char **argv)
{
    long long port, secs = 60;
    if (argc < 2 || fl_parse_int(argv[1], 1, 65535, &port) ||
        (argc > 2 && fl_parse_int(argv[2], 1, 3600, &secs))) {
        fprintf(stderr, "usage: static_server PORT [seconds=60]\n");
        return 2;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    response = MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY,
                                               MHD_RESPMEM_PERSISTENT);
    if (!response)
        return 1;
    MHD_add_response_header(response, "Content-Type", "application/json");
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "static_server: cannot listen on 127.0.0.1:%lld\n", port);
        MHD_destroy_response(response);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "static_server: listening on 127.0.0.1:%lld\n", port);
    for (long long i = 0; i < secs * 10 && !stop; i++)
        usleep(100000);
    MHD_stop_daemon(d);
    MHD_destroy_response(response);
    return 0;
}
