/* test_proxy_tcp.c - the proxy's relay and TCP toxics against real
 * sockets over loopback. Timing is only asserted as lower bounds (a toxic
 * that delays makes things take at least so long); counts and bytes are
 * exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proxy_fx.h"

/* Connect a client through the proxy and accept its upstream side. */
static int pair(struct fx *f, int *srv)
{
    int c = peer_connect(f->port);
    *srv = c >= 0 ? peer_accept(f->lfd, 5000) : -1;
    return c;
}

/* ---- no byte lost or reordered while toxics come and go ------------- */

#define STREAM_BYTES (6u << 20)

static uint8_t stream_byte(uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ULL;
    return (uint8_t)(x >> 56);
}

struct sums {
    int cfd, sfd;
    uint64_t server_bad, server_n, client_bad, client_n;
};

static void *client_writer(void *arg)
{
    struct sums *s = arg;
    static uint8_t buf[8192];
    for (uint64_t off = 0; off < STREAM_BYTES; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = stream_byte(off + i);
        if (peer_write_all(s->cfd, buf, sizeof buf))
            break;
    }
    shutdown(s->cfd, SHUT_WR);
    return NULL;
}

static void *server_echo(void *arg)
{
    struct sums *s = arg;
    static uint8_t buf[16384];
    for (;;) {
        ssize_t k = recv(s->sfd, buf, sizeof buf, 0);
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] != stream_byte(s->server_n + (uint64_t)i))
                s->server_bad++;
        s->server_n += (uint64_t)k;
        if (peer_write_all(s->sfd, buf, (size_t)k))
            break;
    }
    shutdown(s->sfd, SHUT_WR);
    return NULL;
}

static void w_stream(struct fx *f)
{
    struct sums *s = f->user;
    s->cfd = pair(f, &s->sfd);
    peer_timeouts(s->cfd, 20000);
    peer_timeouts(s->sfd, 20000);
    pthread_t a, b;
    pthread_create(&a, NULL, client_writer, s);
    pthread_create(&b, NULL, server_echo, s);
    static uint8_t buf[16384];
    for (;;) {
        ssize_t k = recv(s->cfd, buf, sizeof buf, 0);
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] != stream_byte(s->client_n + (uint64_t)i))
                s->client_bad++;
        s->client_n += (uint64_t)k;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    close(s->cfd);
    close(s->sfd);
}

/* Every few ms one toxic is added or removed, on both streams. */
static void on_churn(uv_timer_t *t)
{
    struct fx *f = t->data;
    static const enum fl_toxic_kind kinds[] = {FL_TX_LATENCY, FL_TX_SLICER, FL_TX_BANDWIDTH};
    long n = f->r[0]++;
    char name[32];
    snprintf(name, sizeof name, "churn%ld", n % 6);
    if (fl_proxy_remove_toxic(f->p, name) == 0)
        return;
    struct fl_toxic tx;
    fl_toxic_defaults(&tx, kinds[n % 3]);
    snprintf(tx.name, sizeof tx.name, "%s", name);
    tx.stream = (n / 3) % 2 ? FL_UPSTREAM : FL_DOWNSTREAM;
    tx.latency = 3;
    tx.jitter = 2;
    tx.rate = 200000;             /* 200 MB/s: paces without crawling */
    tx.average_size = 3000;
    tx.size_variation = 2000;
    tx.delay = 200;
    struct fl_error err = {0};
    fl_proxy_add_toxic(f->p, &tx, &err);
    f->r[1]++;
}

static void test_stream_while_toxics_change(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    assert_non_null(f);
    struct sums s = {0};
    f->user = &s;
    uv_timer_t churn;
    uv_timer_init(&f->loop, &churn);
    churn.data = f;
    uv_timer_start(&churn, on_churn, 2, 2);
    assert_true(fx_run(f, w_stream));
    uv_close((uv_handle_t *)&churn, NULL);
    assert_int_equal(s.server_n, STREAM_BYTES);
    assert_int_equal(s.client_n, STREAM_BYTES);
    assert_int_equal(s.server_bad, 0);
    assert_int_equal(s.client_bad, 0);
    assert_true(f->r[1] >= 3);    /* toxics really changed during the stream */
    fx_free(f);
}

/* ---- latency --------------------------------------------------------- */

static void w_ping(struct fx *f)
{
    int s, c = pair(f, &s);
    long min = 1000000;
    for (int i = 0; i < 5; i++) {
        int64_t t0 = peer_ms();
        peer_write_all(c, "ping", 4);
        char b[4];
        if (peer_read_n(s, b, 4) != 4 || peer_write_all(s, b, 4) || peer_read_n(c, b, 4) != 4) {
            min = -1;
            break;
        }
        long rtt = (long)(peer_ms() - t0);
        if (rtt < min)
            min = rtt;
    }
    f->r[0] = min;
    close(c);
    close(s);
}

static void test_latency(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "lat", FL_TX_LATENCY, FL_DOWNSTREAM, "latency", "60", "jitter", "10");
    fx_toxic(f, "lat_up", FL_TX_LATENCY, FL_UPSTREAM, "latency", "20", NULL, NULL);
    assert_true(fx_run(f, w_ping));
    assert_true(f->r[0] >= 50 + 20 - 1);   /* latency - jitter, both ways */
    fx_free(f);
}

/* ---- bandwidth ------------------------------------------------------- */

static void w_bulk_down(struct fx *f)
{
    int s, c = pair(f, &s);
    static char big[100000];
    memset(big, 'b', sizeof big);
    int64_t t0 = peer_ms();
    peer_write_all(s, big, sizeof big);
    f->r[1] = (long)peer_read_n(c, f->buf, sizeof big);
    f->r[0] = (long)(peer_ms() - t0);
    close(c);
    close(s);
}

static void test_bandwidth(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "bw", FL_TX_BANDWIDTH, FL_DOWNSTREAM, "rate", "200", NULL, NULL);
    assert_true(fx_run(f, w_bulk_down));
    assert_int_equal(f->r[1], 100000);
    /* 100 KB at 200 KB/s; the first 20 KB (100 ms worth) leave at once. */
    assert_true(f->r[0] >= 390);
    fx_free(f);
}

/* ---- slow_close ------------------------------------------------------ */

static void w_close_down(struct fx *f)
{
    int s, c = pair(f, &s);
    peer_write_all(s, "x", 1);
    char b[8];
    f->r[2] = (long)peer_read_n(c, b, 1);
    int64_t t0 = peer_ms();
    close(s);
    f->r[1] = (long)recv(c, b, sizeof b, 0);   /* 0: EOF */
    f->r[0] = (long)(peer_ms() - t0);
    close(c);
}

static void test_slow_close(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "sc", FL_TX_SLOW_CLOSE, FL_DOWNSTREAM, "delay", "300", NULL, NULL);
    assert_true(fx_run(f, w_close_down));
    assert_int_equal(f->r[2], 1);
    assert_int_equal(f->r[1], 0);
    assert_true(f->r[0] >= 290);
    fx_free(f);
}

/* ---- timeout: 0 holds the bytes away until healed, T closes ---------- */

static void h_remove(struct fx *f, int step)
{
    (void)step;
    fl_proxy_remove_toxic(f->p, "to");
}

static void w_blackhole(struct fx *f)
{
    int s, c = pair(f, &s);
    peer_timeouts(s, 400);
    peer_write_all(c, "abc", 3);
    char b[16];
    f->r[0] = (long)recv(s, b, sizeof b, 0);    /* nothing arrives: -1 */
    fx_step(f, 1);                              /* heal */
    peer_timeouts(s, 5000);
    peer_write_all(c, "def", 3);
    f->r[1] = (long)peer_read_n(s, b, 3);
    f->r[2] = memcmp(b, "def", 3) == 0;
    close(c);
    close(s);
}

static void test_timeout_blackhole(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    f->hook = h_remove;
    fx_toxic(f, "to", FL_TX_TIMEOUT, FL_UPSTREAM, "timeout", "0", NULL, NULL);
    assert_true(fx_run(f, w_blackhole));
    assert_int_equal(f->r[0], -1);
    assert_int_equal(f->r[1], 3);
    assert_int_equal(f->r[2], 1);
    fx_free(f);
}

static void w_wait_eof(struct fx *f)
{
    int s, c = pair(f, &s);
    int64_t t0 = peer_ms();
    char b[8];
    errno = 0;
    f->r[1] = (long)recv(c, b, sizeof b, 0);
    f->r[2] = errno;
    f->r[0] = (long)(peer_ms() - t0);
    close(c);
    close(s);
}

static void test_timeout_closes(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "to", FL_TX_TIMEOUT, FL_DOWNSTREAM, "timeout", "200", NULL, NULL);
    assert_true(fx_run(f, w_wait_eof));
    assert_int_equal(f->r[1], 0);          /* closed, not reset */
    assert_true(f->r[0] >= 150);           /* counted from the connection's start */
    fx_free(f);
}

static void test_reset_peer(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "rp", FL_TX_RESET_PEER, FL_DOWNSTREAM, "timeout", "100", NULL, NULL);
    assert_true(fx_run(f, w_wait_eof));
    assert_int_equal(f->r[1], -1);
    assert_int_equal(f->r[2], ECONNRESET);
    fx_free(f);
}

/* ---- slicer ---------------------------------------------------------- */

static void w_sliced(struct fx *f)
{
    int s, c = pair(f, &s);
    char msg[600];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    peer_write_all(s, msg, sizeof msg);
    size_t got = 0;
    long reads = 0;
    while (got < sizeof msg) {
        ssize_t k = recv(c, f->buf + got, sizeof msg - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        reads++;
    }
    f->r[0] = reads;
    f->r[1] = (long)got;
    f->r[2] = memcmp(f->buf, msg, sizeof msg) == 0;
    close(c);
    close(s);
}

static void test_slicer(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "sl", FL_TX_SLICER, FL_DOWNSTREAM, "average_size", "20", "delay", "5000");
    assert_true(fx_run(f, w_sliced));
    assert_int_equal(f->r[1], 600);
    assert_int_equal(f->r[2], 1);
    assert_true(f->r[0] >= 4);   /* about 30 slices 5 ms apart */
    fx_free(f);
}

/* ---- limit_data, toxicity -------------------------------------------- */

static void w_limited(struct fx *f)
{
    for (int i = 0; i < (int)f->r[15]; i++) {
        int s, c = pair(f, &s);
        static char big[5000];
        peer_write_all(s, big, sizeof big);
        size_t got = peer_read_n(c, f->buf, sizeof big);
        if (got < sizeof big)
            f->r[0]++;       /* truncated connections */
        f->r[1] = (long)got;
        close(c);
        close(s);
    }
}

static void test_limit_data(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    fx_toxic(f, "ld", FL_TX_LIMIT_DATA, FL_DOWNSTREAM, "bytes", "1000", NULL, NULL);
    f->r[15] = 1;
    assert_true(fx_run(f, w_limited));
    assert_int_equal(f->r[0], 1);
    assert_int_equal(f->r[1], 1000);
    fx_free(f);
}

static void test_toxicity(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    struct fl_toxic t;
    fl_toxic_defaults(&t, FL_TX_LIMIT_DATA);
    snprintf(t.name, sizeof t.name, "half");
    t.bytes = 10;
    t.toxicity = 0.5;
    struct fl_error err = {0};
    assert_int_equal(fl_proxy_add_toxic(f->p, &t, &err), 0);
    f->r[15] = 40;
    assert_true(fx_run(f, w_limited));
    /* Seeded: about half the connections are limited, never all or none. */
    assert_true(f->r[0] >= 8 && f->r[0] <= 32);
    fx_free(f);
    f = fx_new(0, NULL);
    t.toxicity = 0;
    assert_int_equal(fl_proxy_add_toxic(f->p, &t, &err), 0);
    f->r[15] = 10;
    assert_true(fx_run(f, w_limited));
    assert_int_equal(f->r[0], 0);
    fx_free(f);
}

/* ---- down ------------------------------------------------------------ */

static void h_down(struct fx *f, int step)
{
    struct fl_error err = {0};
    fl_proxy_set_enabled(f->p, step == 1 ? 0 : 1, &err);
}

static void w_down(struct fx *f)
{
    int s, c = pair(f, &s);
    fx_step(f, 1);
    char b[4];
    f->r[3] = (long)recv(c, b, sizeof b, 0);    /* the live connection was closed */
    close(c);
    close(s);
    c = peer_connect(f->port);
    f->r[0] = c < 0 ? errno : 0;
    if (c >= 0)
        close(c);
    fx_step(f, 2);
    c = pair(f, &s);
    f->r[1] = c >= 0 && s >= 0;
    peer_write_all(c, "up", 2);
    f->r[2] = (long)peer_read_n(s, b, 2);
    close(c);
    close(s);
}

static void test_down(void **state)
{
    (void)state;
    struct fx *f = fx_new(0, NULL);
    f->hook = h_down;
    assert_true(fx_run(f, w_down));
    assert_int_equal(f->r[3], 0);
    assert_int_equal(f->r[0], ECONNREFUSED);
    assert_int_equal(f->r[1], 1);
    assert_int_equal(f->r[2], 2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_while_toxics_change),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_bandwidth),
        cmocka_unit_test(test_slow_close),
        cmocka_unit_test(test_timeout_blackhole),
        cmocka_unit_test(test_timeout_closes),
        cmocka_unit_test(test_reset_peer),
        cmocka_unit_test(test_slicer),
        cmocka_unit_test(test_limit_data),
        cmocka_unit_test(test_toxicity),
        cmocka_unit_test(test_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
