/* test_http1.c - the HTTP/1.1 framer on messages fed whole and one byte
 * at a time: Content-Length, chunked with trailers, bodiless answers
 * (HEAD, 1xx, 204, 304), close-delimited bodies, 101, oversized heads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxy/http1.h"

struct tally {
    int heads, ends;
    size_t body;
    int status[16];
    char method[16][16];
};

/* Feed s in pieces of step bytes (0: whole). */
static void feed(struct fl_h1 *h, const char *s, size_t step, struct tally *t, const char *heads)
{
    size_t n = strlen(s), off = 0;
    int guard = 0;
    while ((off < n || fl_h1_at_end(h)) && guard++ < 100000) {
        size_t len = step && n - off > step ? step : n - off;
        size_t used;
        if (h->response && !h->hlen && heads && t->ends < 16)
            h->req_was_head = heads[t->ends] == 'H';
        enum fl_h1_event ev = fl_h1_feed(h, s + off, len, &used);
        if (ev == FL_H1_HEAD && t->heads < 16) {
            t->status[t->heads] = h->status;
            snprintf(t->method[t->heads], sizeof t->method[t->heads], "%s", h->method);
            t->heads++;
        } else if (ev == FL_H1_BODY) {
            t->body += used;
        } else if (ev == FL_H1_END) {
            t->ends++;
        }
        off += used;
    }
}

static void test_requests(void **state)
{
    (void)state;
    const char *reqs = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /b HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello"
                       "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
                       "\r\nDELETE /d HTTP/1.1\r\n\r\n";
    for (size_t step = 0; step < 3; step++) {
        struct fl_h1 h;
        fl_h1_init(&h, 0);
        struct tally t = {0};
        feed(&h, reqs, step, &t, NULL);
        assert_int_equal(t.heads, 4);
        assert_int_equal(t.ends, 4);
        assert_string_equal(t.method[3], "DELETE");
        /* 5 + the chunked framing of "abc" with its trailer */
        assert_int_equal(t.body, 5 + strlen("3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"));
        assert_int_equal(h.tunnel, 0);
    }
}

static void test_responses(void **state)
{
    (void)state;
    const char *resps = "HTTP/1.1 100 Continue\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"   /* to HEAD */
                        "HTTP/1.1 204 No Content\r\n\r\n"
                        "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
                        "HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\nno\r\n0\r\n\r\n"
                        "HTTP/1.1 200 OK\r\n\r\nuntil the close";
    /* Which response answers a HEAD: the 3rd (after the 100 and the first). */
    const char *heads = "GGHGGGG";
    for (size_t step = 0; step < 2; step++) {
        struct fl_h1 h;
        fl_h1_init(&h, 1);
        struct tally t = {0};
        feed(&h, resps, step, &t, heads);
        assert_int_equal(t.heads, 7);
        assert_int_equal(t.ends, 6);          /* the last one ends with the close */
        assert_int_equal(t.status[5], 429);
        assert_int_equal(fl_h1_eof_ends(&h), 1);
        assert_int_equal(t.body, 2 + strlen("2\r\nno\r\n0\r\n\r\n") + strlen("until the close"));
    }
    struct fl_h1 h;
    fl_h1_init(&h, 1);
    struct tally t = {0};
    feed(&h, "HTTP/1.1 429 x\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", 0, &t, NULL);
    assert_int_equal(h.retry_after, 7);
}

static void test_tunnels(void **state)
{
    (void)state;
    struct fl_h1 h;
    fl_h1_init(&h, 1);
    struct tally t = {0};
    feed(&h, "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\nraw bytes", 0, &t, NULL);
    assert_int_equal(h.tunnel, 1);
    assert_int_equal(t.body, strlen("raw bytes"));
    /* A head past the limit: framing is given up, nothing is lost. */
    static char big[FL_H1_HEAD_MAX + 100];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    fl_h1_init(&h, 0);
    size_t used;
    enum fl_h1_event ev = fl_h1_feed(&h, big, strlen(big), &used);
    assert_int_equal(ev, FL_H1_MORE);
    assert_int_equal(h.tunnel, 1);
    assert_int_equal(used + 0, FL_H1_HEAD_MAX);
    assert_int_equal(h.hlen, FL_H1_HEAD_MAX);
    /* A bad Content-Length cannot be framed either. */
    fl_h1_init(&h, 0);
    const char *bad = "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n";
    ev = fl_h1_feed(&h, bad, strlen(bad), &used);
    assert_int_equal(ev, FL_H1_HEAD);
    assert_int_equal(h.tunnel, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_tunnels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
