/* test_proxy_http.c - the HTTP faults against a real server
 * (libmicrohttpd, tests/support/httpd.c) and a raw keep-alive client
 * that can pipeline. Counts are exact; timing only as lower bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/util.h"
#include "proxy_fx.h"
#include "support/httpd.h"

#include <stdlib.h>
#include <strings.h>

struct seen {
    int n, injected, status[64];
    int64_t retry_after[64];
};

static void observe(void *ud, const struct fl_http_exchange *x)
{
    struct fx *f = ud;
    struct seen *s = f->user;
    if (s->n < 64) {
        s->status[s->n] = x->status;
        s->retry_after[s->n] = x->retry_after_s;
    }
    s->n++;
    s->injected += x->injected;
}

static struct fx *http_fx(struct fl_test_httpd **d, struct seen *s)
{
    *d = fl_test_httpd_start();
    struct fx *f = fx_new(1, observe);
    f->up_port = fl_test_httpd_port(*d);
    f->user = s;
    return f;
}

/* Read one response: status, whether it carried the injected marker and
 * its Retry-After; 0 on EOF or error. head: the request was HEAD. */
struct resp {
    int status, injected;
    long retry_after;
    int policy;
    char body[256];
};

static int read_resp(int fd, struct resp *r, int head)
{
    char h[8192];
    size_t n = 0;
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    while (n < sizeof h - 1) {
        ssize_t k = recv(fd, h + n, 1, 0);
        if (k <= 0)
            return 0;
        n++;
        if (n >= 4 && memcmp(h + n - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    h[n] = '\0';
    long long st = 0;
    assert_int_equal(fl_parse_leading_int(h + 9, 100, 999, &st, NULL), 0);
    r->status = (int)st;
    r->injected = strcasestr(h, "x-faultline-injected: 1") != NULL;
    r->policy = strcasestr(h, "RateLimit-Policy:") != NULL;
    const char *ra = strcasestr(h, "Retry-After:");
    if (ra)
        r->retry_after = atol(ra + 12);
    const char *cl = strcasestr(h, "Content-Length:");
    size_t len = cl ? (size_t)atol(cl + 15) : 0;
    if (head)
        len = 0;
    if (len >= sizeof r->body)
        return 0;
    if (peer_read_n(fd, r->body, len) != len)
        return 0;
    return r->status;
}

static int get(int fd, const char *method, const char *path, struct resp *r)
{
    char req[512];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n\r\n", method, path);
    if (peer_write_all(fd, req, strlen(req)))
        return 0;
    return read_resp(fd, r, strcmp(method, "HEAD") == 0);
}

/* ---- http_status: first N, injected marker ---------------------------- */

static void w_five(struct fx *f)
{
    int c = peer_connect(f->port);
    struct resp r;
    for (int i = 0; i < 5; i++) {
        f->r[i] = get(c, "GET", "/x", &r);
        f->r[5 + i] = r.injected;
    }
    close(c);
}

static void test_status_first_n(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    fx_toxic(f, "st", FL_TX_HTTP_STATUS, FL_UPSTREAM, "status", "503", "first", "2");
    assert_true(fx_run(f, w_five));
    long want[5] = {503, 503, 200, 200, 200};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->r[i], want[i]);
        assert_int_equal(f->r[5 + i], i < 2);
    }
    assert_int_equal(fl_test_httpd_hits(d), 3);   /* injected ones never reached it */
    assert_int_equal(fl_test_httpd_connections(d), 1);   /* kept alive throughout */
    assert_int_equal(s.n, 5);
    assert_int_equal(s.injected, 2);
    fx_free(f);
    fl_test_httpd_stop(d);
}

/* ---- pipelining: answers stay in request order ------------------------ */

static void w_pipeline(struct fx *f)
{
    int c = peer_connect(f->port);
    const char *reqs = "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
                       "GET /inj HTTP/1.1\r\nHost: t\r\n\r\n"
                       "POST /status/201 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                       "HEAD /c HTTP/1.1\r\nHost: t\r\n\r\n"
                       "POST /inj HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nabc\r\n0\r\n\r\n"
                       "GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n";
    peer_write_all(c, reqs, strlen(reqs));
    int heads[6] = {0, 0, 0, 1, 0, 0};
    struct resp r;
    for (int i = 0; i < 6; i++) {
        f->r[i] = read_resp(c, &r, heads[i]);
        f->r[6 + i] = r.injected;
    }
    close(c);
}

static void test_pipelining(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    fx_toxic(f, "st", FL_TX_HTTP_STATUS, FL_UPSTREAM, "status", "418", "path", "/inj");
    assert_true(fx_run(f, w_pipeline));
    long want[6] = {200, 418, 201, 200, 418, 404};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(f->r[i], want[i]);
        assert_int_equal(f->r[6 + i], want[i] == 418);
    }
    assert_int_equal(fl_test_httpd_hits(d), 4);
    assert_int_equal(s.n, 6);
    fx_free(f);
    fl_test_httpd_stop(d);
}

/* ---- http_ratelimit: the bucket's count of 429s ----------------------- */

static void w_burst(struct fx *f)
{
    for (int conn = 0; conn < 2; conn++) {
        int c = peer_connect(f->port);
        struct resp r;
        for (int i = 0; i < 10; i++) {
            int st = get(c, "GET", "/x", &r);
            if (st == 200)
                f->r[0]++;
            else if (st == 429) {
                f->r[1]++;
                if (r.retry_after >= 1)
                    f->r[2]++;
                f->r[3] += r.policy;
            }
        }
        close(c);
    }
}

static void test_ratelimit_shared(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    /* One token per 100 s: nothing refills during the test. */
    fx_toxic(f, "rl", FL_TX_HTTP_RATELIMIT, FL_UPSTREAM, "per_sec", "0.01", "burst", "3");
    assert_true(fx_run(f, w_burst));
    assert_int_equal(f->r[0], 3);
    assert_int_equal(f->r[1], 17);
    assert_int_equal(f->r[2], 17);    /* every 429 says when to come back */
    assert_int_equal(f->r[3], 0);
    assert_int_equal(fl_test_httpd_hits(d), 3);
    fx_free(f);
    fl_test_httpd_stop(d);
}

static void test_ratelimit_per_connection(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    struct fl_toxic t;
    fl_toxic_defaults(&t, FL_TX_HTTP_RATELIMIT);
    snprintf(t.name, sizeof t.name, "rl");
    t.per_sec = 0.01;
    t.burst = 4;
    t.per_connection = 1;
    t.policy_headers = 1;
    struct fl_error err = {0};
    assert_int_equal(fl_proxy_add_toxic(f->p, &t, &err), 0);
    assert_true(fx_run(f, w_burst));
    assert_int_equal(f->r[0], 8);     /* 4 per connection */
    assert_int_equal(f->r[1], 12);
    assert_int_equal(f->r[3], 12);    /* with RateLimit-Policy */
    fx_free(f);
    fl_test_httpd_stop(d);
}

/* ---- http_delay ------------------------------------------------------- */

static void w_timed(struct fx *f)
{
    int c = peer_connect(f->port);
    struct resp r;
    long min = 100000;
    for (int i = 0; i < 3; i++) {
        int64_t t0 = peer_ms();
        f->r[1] += get(c, "GET", "/slow", &r) == 200;
        long dt = (long)(peer_ms() - t0);
        if (dt < min)
            min = dt;
        get(c, "GET", "/fast", &r);
    }
    f->r[0] = min;
    close(c);
}

static void test_delay(void **state)
{
    (void)state;
    for (int on_response = 0; on_response < 2; on_response++) {
        struct fl_test_httpd *d;
        struct seen s = {0};
        struct fx *f = http_fx(&d, &s);
        fx_toxic(f, "dl", FL_TX_HTTP_DELAY, FL_UPSTREAM, "latency", "150", "path", "/slow");
        if (on_response) {
            struct fl_toxic t = *fl_proxy_toxic_at(f->p, 0);
            t.on_response = 1;
            struct fl_error err = {0};
            fl_proxy_update_toxic(f->p, &t, &err);
        }
        assert_true(fx_run(f, w_timed));
        assert_int_equal(f->r[1], 3);
        assert_true(f->r[0] >= 149);
        assert_int_equal(s.n, 6);
        fx_free(f);
        fl_test_httpd_stop(d);
    }
}

/* ---- http_close_idle -------------------------------------------------- */

static void w_idle(struct fx *f)
{
    int c = peer_connect(f->port);
    struct resp r;
    f->r[0] = get(c, "GET", "/x", &r);
    usleep(80 * 1000);
    f->r[1] = get(c, "GET", "/x", &r);       /* within idle: same connection */
    usleep(500 * 1000);
    f->r[2] = get(c, "GET", "/x", &r);       /* after: the proxy closed it */
    close(c);
}

static void test_close_idle(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    fx_toxic(f, "ci", FL_TX_HTTP_CLOSE_IDLE, FL_UPSTREAM, "idle", "250", NULL, NULL);
    assert_true(fx_run(f, w_idle));
    assert_int_equal(f->r[0], 200);
    assert_int_equal(f->r[2], 0);            /* reused blindly: no answer */
    struct fl_proxy_stats st;
    fl_proxy_stats(f->p, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.open, 0);
    fx_free(f);
    fl_test_httpd_stop(d);
}

/* ---- percentage, match on header and method -------------------------- */

static void w_mixed(struct fx *f)
{
    int c = peer_connect(f->port);
    struct resp r;
    for (int i = 0; i < 40; i++) {
        const char *req = i % 2 ? "GET /m HTTP/1.1\r\nHost: t\r\nX-Tenant: blue-1\r\n\r\n"
                                : "GET /m HTTP/1.1\r\nHost: t\r\nX-Tenant: red\r\n\r\n";
        peer_write_all(c, req, strlen(req));
        int st = read_resp(c, &r, 0);
        if (st == 500)
            f->r[i % 2]++;
    }
    close(c);
}

static void test_match_percentage(void **state)
{
    (void)state;
    struct fl_test_httpd *d;
    struct seen s = {0};
    struct fx *f = http_fx(&d, &s);
    struct fl_toxic t;
    fl_toxic_defaults(&t, FL_TX_HTTP_STATUS);
    snprintf(t.name, sizeof t.name, "p");
    t.status = 500;
    t.percentage = 50;
    snprintf(t.header, sizeof t.header, "X-Tenant");
    snprintf(t.header_value, sizeof t.header_value, "blue");
    snprintf(t.method, sizeof t.method, "GET");
    struct fl_error err = {0};
    assert_int_equal(fl_proxy_add_toxic(f->p, &t, &err), 0);
    assert_true(fx_run(f, w_mixed));
    assert_int_equal(f->r[0], 0);                  /* red never matches */
    assert_true(f->r[1] >= 3 && f->r[1] <= 17);    /* about half of 20 blue */
    fx_free(f);
    fl_test_httpd_stop(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_first_n),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_ratelimit_shared),
        cmocka_unit_test(test_ratelimit_per_connection),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_close_idle),
        cmocka_unit_test(test_match_percentage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
