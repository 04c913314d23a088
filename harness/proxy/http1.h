/* http1.h - an incremental HTTP/1.1 message framer for the proxy.
 *
 * It finds where each request or response starts and ends in a byte
 * stream (RFC 9112 section 6: Content-Length, chunked, bodiless answers
 * to HEAD and 1xx/204/304, bodies delimited by the close), so the proxy
 * can keep keep-alive and pipelined messages in order. It does not
 * validate beyond framing: bytes are forwarded as they came.
 *
 * Use: call fl_h1_feed repeatedly on the unconsumed bytes; each call
 * consumes *used bytes and returns an event:
 *   FL_H1_MORE  the bytes went into the head buffer, nothing to do yet
 *   FL_H1_HEAD  the head is complete: h->head[0..hlen) holds it, the
 *               parsed fields are set (method, path, status, ...)
 *   FL_H1_BODY  the *used bytes are body (chunk framing included)
 *   FL_H1_END   the message is complete (*used may be 0)
 * A head over FL_H1_HEAD_MAX or that cannot be framed turns the parser
 * into a tunnel: every later byte is FL_H1_BODY (tunnel = 1). So does a
 * 101 answer (after its head).
 */
#ifndef FL_HTTP1_H
#define FL_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define FL_H1_HEAD_MAX 16384

enum fl_h1_event { FL_H1_MORE, FL_H1_HEAD, FL_H1_BODY, FL_H1_END };

struct fl_h1 {
    int response;               /* 1: parse responses */
    int req_was_head;           /* responses: the request was HEAD (set before its head) */
    int state;                  /* internal */
    int tunnel;                 /* framing given up: everything is body */
    char head[FL_H1_HEAD_MAX];
    size_t hlen;
    uint64_t remaining;         /* body bytes left (Content-Length, chunk) */
    char line[80];              /* chunk size line */
    size_t llen;
    /* From the last head. */
    char method[16];
    char path[512];
    int status;
    int64_t content_length;     /* -1: none */
    int chunked;
    int close;                  /* Connection: close */
    int64_t retry_after;        /* seconds, -1: none */
};

void fl_h1_init(struct fl_h1 *h, int response);
enum fl_h1_event fl_h1_feed(struct fl_h1 *h, const char *p, size_t n, size_t *used);
/* 1 when the next fl_h1_feed returns FL_H1_END without needing bytes. */
int fl_h1_at_end(const struct fl_h1 *h);
/* The EOF ends a close-delimited body: 1 when that completes a message. */
int fl_h1_eof_ends(const struct fl_h1 *h);
/* Value of header name in h->head (case-insensitive), trimmed, into
 * out; 0 when found, -1 otherwise. */
int fl_h1_header(const struct fl_h1 *h, const char *name, char *out, size_t len);

#endif
