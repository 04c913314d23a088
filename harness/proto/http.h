/* http.h - an asynchronous HTTP client on a libuv loop.
 *
 * libcurl's multi_socket API bound to one uv_loop_t: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION -> uv_poll) and when to wake
 * it (CURLMOPT_TIMERFUNCTION -> uv_timer). No threads. Connections are
 * kept alive and reused across requests (the multi handle owns the
 * connection cache), easy handles are pooled.
 *
 * Only http and https, never a proxy, no signals (CURLOPT_NOSIGNAL).
 */
#ifndef FL_HTTP_H
#define FL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"

#define FL_HTTP_MAX_BODY (1024 * 1024)   /* default response body ceiling */
#define FL_HTTP_DEFAULT_TIMEOUT_MS 5000

struct fl_http;
struct fl_http_req;

struct fl_http_request {
    const char *method;        /* NULL: GET */
    const char *url;           /* copied */
    const char *body;          /* NULL: none; copied */
    size_t body_len;
    const char *const *headers;/* "Name: value" lines, copied */
    size_t nheaders;
    uint64_t timeout_ms;       /* whole transfer; 0: FL_HTTP_DEFAULT_TIMEOUT_MS */
    size_t max_body;           /* 0: FL_HTTP_MAX_BODY; the rest is discarded */
    /* Connect to this unix socket instead of the URL's host (the Docker
     * Engine API); the URL still names the path ("http://docker/v1.41/...").
     * NULL: TCP as the URL says. Copied. */
    const char *unix_socket;
    /* Streaming: when set, every piece of the body goes to on_data as it
     * arrives (not buffered; the result's body is then ""). Returning
     * nonzero ends the transfer (outcome FL_HTTP_ERROR). The pointer is
     * valid during the call only; on_data must not cancel the request or
     * close the client (do that from a timer). */
    int (*on_data)(void *ud, const char *p, size_t n);
    /* With on_data: no overall timeout (timeout_ms then only bounds the
     * connection setup), for a stream that lasts as long as the run. */
    int endless;
};

enum fl_http_outcome {
    FL_HTTP_DONE,       /* a response arrived (any status) */
    FL_HTTP_TIMEOUT,    /* the timeout passed: outcome unknown */
    FL_HTTP_ERROR,      /* transport error (see sent_maybe) */
    FL_HTTP_ABORTED     /* cancelled by fl_http_cancel / fl_http_close */
};

/* What the callback gets. Every pointer is valid only during the callback. */
struct fl_http_result {
    enum fl_http_outcome outcome;
    int status;              /* HTTP status, 0 when no response */
    const char *body;        /* NUL-terminated, never NULL ("" when empty) */
    size_t body_len;
    int truncated;           /* the body was longer than max_body */
    int curl_code;           /* CURLcode */
    const char *error;       /* curl's message, NULL when outcome is DONE */
    /* For FL_HTTP_ERROR: 0 when the request certainly never reached the
     * server (no connection, bad URL), 1 when it may have (the connection
     * broke after sending started). */
    int sent_maybe;
    /* For FL_HTTP_ERROR: the errno of the socket call that failed
     * (CURLINFO_OS_ERRNO: ECONNREFUSED, ECONNRESET...), 0 when none did. */
    int os_errno;
    double total_s;          /* transfer time */
};

/* Called exactly once per accepted request. The request handle is gone
 * once the callback returns. The callback may submit new requests, cancel
 * others, and close the client. */
typedef void (*fl_http_cb)(void *ud, const struct fl_http_result *res);

/* Create a client on loop. Returns 0 or FL_ENOMEM / FL_EIO with err set. */
int fl_http_new(struct fl_http **out, uv_loop_t *loop, struct fl_error *err);

/* Start a request. On success returns 0, cb will be called exactly once,
 * and *handle (if not NULL) identifies the request until then. On failure
 * returns FL_EINVAL (bad method/URL), FL_ENOMEM or FL_EIO, err set, and cb
 * is never called. Not allowed after fl_http_close. */
int fl_http_submit(struct fl_http *h, const struct fl_http_request *rq,
                   fl_http_cb cb, void *ud, struct fl_http_req **handle,
                   struct fl_error *err);

/* Cancel a request still in flight: its callback runs now, before this
 * returns, with outcome FL_HTTP_ABORTED. Must not be called from inside a
 * libcurl callback (fl_http callbacks are not: they run after curl
 * returned). */
void fl_http_cancel(struct fl_http_req *r);

size_t fl_http_inflight(const struct fl_http *h);

/* Cancel everything in flight (each callback gets FL_HTTP_ABORTED), close
 * the connections and every libuv handle; cb(ud) once all are closed,
 * after which h is freed. */
void fl_http_close(struct fl_http *h, void (*cb)(void *ud), void *ud);

#endif
