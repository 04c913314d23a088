/* bench_proxy.c - the fault proxy's cost on loopback, against a direct
 * connection and haproxy in TCP mode, in the same run:
 *
 *   latency     one connection, 64-byte request, 64-byte echo, N round
 *               trips: p50 and p99 in microseconds
 *   throughput  one connection, the server streams BULK bytes: MB/s
 *
 * Paths: direct; `faultline proxy` with no toxic; with a latency toxic of
 * 0 ms; with 10 toxics configured that never apply (toxicity 0); haproxy
 * (mode tcp) when installed. Prints each path and its ratio to direct.
 * Every process it starts is stopped by PID; every loop is bounded.
 *
 *   bench_proxy [FAULTLINE_BINARY]   (default: faultline next to this binary)
 */
#include <fcntl.h>
#include "base/util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 20000
#define BULK (512ull << 20)
#define MSG 64

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64))
        return -1;
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static int free_port(void)
{
    int p, fd = listen_any(&p);
    close(fd);
    return p;
}

static int dial(int port, int tries)
{
    for (int i = 0; i < tries; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            struct timeval tv = {10, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            return fd;
        }
        close(fd);
        usleep(20000);
    }
    return -1;
}

/* The server: first byte 'E' = echo 64-byte messages, 'B' = stream BULK. */
static void *serve_one(void *arg)
{
    int fd = (int)(intptr_t)arg;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char mode;
    if (recv(fd, &mode, 1, MSG_WAITALL) == 1 && mode == 'E') {
        char m[MSG];
        while (recv(fd, m, MSG, MSG_WAITALL) == MSG)
            if (send(fd, m, MSG, MSG_NOSIGNAL) != MSG)
                break;
    } else if (mode == 'B') {
        static char chunk[65536];
        for (uint64_t sent = 0; sent < BULK;) {
            ssize_t k = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
        }
    }
    close(fd);
    return NULL;
}

static void *server(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t t;
        pthread_create(&t, NULL, serve_one, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

struct result {
    const char *name;
    double p50, p99, mbs;
    int ok;
};

static void measure(int port, struct result *r)
{
    static int64_t rtt[ROUNDS];
    r->ok = 0;
    int fd = dial(port, 100);
    if (fd < 0)
        return;
    char m[MSG] = "E";
    send(fd, m, 1, MSG_NOSIGNAL);
    int n = 0;
    for (; n < ROUNDS; n++) {
        int64_t t0 = now_us();
        if (send(fd, m, MSG, MSG_NOSIGNAL) != MSG || recv(fd, m, MSG, MSG_WAITALL) != MSG)
            break;
        rtt[n] = now_us() - t0;
    }
    close(fd);
    if (n < ROUNDS)
        return;
    qsort(rtt, ROUNDS, sizeof rtt[0], cmp64);
    r->p50 = (double)rtt[ROUNDS / 2];
    r->p99 = (double)rtt[ROUNDS * 99 / 100];
    fd = dial(port, 10);
    if (fd < 0)
        return;
    send(fd, "B", 1, MSG_NOSIGNAL);
    static char buf[1 << 17];
    uint64_t got = 0;
    int64_t t0 = now_us();
    while (got < BULK) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0)
            break;
        got += (uint64_t)k;
    }
    double s = (double)(now_us() - t0) / 1e6;
    close(fd);
    if (got < BULK)
        return;
    r->mbs = (double)BULK / 1e6 / s;
    r->ok = 1;
}

/* One HTTP request to the control API; returns the status. */
static int api(int port, const char *method, const char *path, const char *body)
{
    int fd = dial(port, 100);
    if (fd < 0)
        return -1;
    char req[2048];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", method, path, strlen(body), body);
    send(fd, req, (size_t)n, MSG_NOSIGNAL);
    char resp[4096];
    ssize_t k = recv(fd, resp, sizeof resp - 1, 0);
    close(fd);
    if (k < 12)
        return -1;
    resp[k] = '\0';
    long long st;
    return fl_parse_leading_int(resp + 9, 100, 999, &st, NULL) ? -1 : (int)st;
}

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGINT);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(20000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void print(const struct result *r, const struct result *base)
{
    if (!r->ok) {
        printf("%-28s  failed\n", r->name);
        return;
    }
    printf("%-28s  p50 %7.1f us  p99 %7.1f us  %8.0f MB/s", r->name, r->p50, r->p99, r->mbs);
    if (base && base != r)
        printf("   added p50 %+6.1f us, p99 %+6.1f us, throughput x%.2f", r->p50 - base->p50,
               r->p99 - base->p99, r->mbs / base->mbs);
    printf("\n");
}

int main(int argc, char **argv)
{
    char fl[4096];
    if (argc > 1) {
        snprintf(fl, sizeof fl, "%s", argv[1]);
    } else {
        ssize_t n = readlink("/proc/self/exe", fl, sizeof fl - 20);
        fl[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(fl, '/');
        snprintf(slash ? slash + 1 : fl, 20, "faultline");
    }
    signal(SIGPIPE, SIG_IGN);
    int sport, lfd = listen_any(&sport);
    pthread_t st;
    pthread_create(&st, NULL, server, (void *)(intptr_t)lfd);

    struct result res[6] = {{.name = "direct"}, {.name = "faultline, no toxic"},
                            {.name = "faultline, latency 0"},
                            {.name = "faultline, 10 idle toxics"}, {.name = "haproxy (mode tcp)"}};
    measure(sport, &res[0]);

    int api_port = free_port(), px_port = free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", api_port);
    char *fargv[] = {fl, "proxy", "--listen", listen, "--seed", "1", NULL};
    pid_t flp = spawn(fargv);
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"b\",\"listen\":\"127.0.0.1:%d\",\"upstream\":"
             "\"127.0.0.1:%d\"}", px_port, sport);
    if (api(api_port, "POST", "/proxies", body) != 201) {
        fprintf(stderr, "bench_proxy: cannot create a proxy through %s\n", fl);
    } else {
        measure(px_port, &res[1]);
        api(api_port, "POST", "/proxies/b/toxics",
            "{\"name\":\"l0\",\"type\":\"latency\",\"attributes\":{\"latency\":0}}");
        measure(px_port, &res[2]);
        api(api_port, "DELETE", "/proxies/b/toxics/l0", "");
        for (int i = 0; i < 10; i++) {
            snprintf(body, sizeof body, "{\"name\":\"idle%d\",\"type\":\"%s\",\"stream\":\"%s\","
                     "\"toxicity\":0,\"attributes\":{\"latency\":100,\"rate\":1}}", i,
                     i % 2 ? "latency" : "bandwidth", i % 3 ? "downstream" : "upstream");
            api(api_port, "POST", "/proxies/b/toxics", body);
        }
        measure(px_port, &res[3]);
    }
    stop(flp);

    int hport = free_port();
    char cfg[] = "/tmp/bench_proxy_haproxy_XXXXXX";
    int cfd = mkstemp(cfg);
    pid_t hp = -1;
    if (cfd >= 0 && access("/usr/sbin/haproxy", X_OK) == 0) {
        char text[1024];
        int n = snprintf(text, sizeof text,
                         "global\n  maxconn 1000\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                         "  timeout client 60s\n  timeout server 60s\n"
                         "listen b\n  bind 127.0.0.1:%d\n  server s 127.0.0.1:%d\n", hport, sport);
        if (write(cfd, text, (size_t)n) == n) {
            char *hargv[] = {"/usr/sbin/haproxy", "-db", "-f", cfg, NULL};
            hp = spawn(hargv);
            measure(hport, &res[4]);
        }
        stop(hp);
    } else {
        res[4].name = "haproxy (not installed)";
    }
    if (cfd >= 0) {
        close(cfd);
        unlink(cfg);
    }

    printf("bench_proxy: %d round trips of %d bytes, %llu MB streamed, one connection each\n",
           ROUNDS, MSG, (unsigned long long)(BULK >> 20));
    for (int i = 0; i < 5; i++)
        print(&res[i], &res[0]);
    if (res[1].ok && res[4].ok)
        printf("faultline/haproxy: p50 x%.2f, p99 x%.2f, throughput x%.2f\n",
               res[1].p50 / res[4].p50, res[1].p99 / res[4].p99, res[1].mbs / res[4].mbs);
    close(lfd);
    return 0;
}
