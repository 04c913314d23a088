/* proxy.h - faultline's fault proxy: a TCP relay on the libuv loop with
 * Toxiproxy's toxics, and an HTTP/1.1 layer that can answer, delay, rate
 * limit and close idle connections.
 *
 * One struct fl_proxy listens on a loopback port and relays each accepted
 * connection to its upstream. Bytes of one direction ("stream") travel as
 * chunks through one FIFO queue; each chunk carries the time it may be
 * written, never earlier than the chunk before it. So adding or removing a
 * toxic on a live connection changes when bytes leave, never their order,
 * and never drops a byte (only timeout and limit_data drop, by definition).
 *
 * Toxics follow Toxiproxy (its toxics folder): name, type, stream (upstream =
 * client to server, downstream = server to client), toxicity (probability
 * that the toxic applies to a connection, drawn once per connection from
 * the owner's seeded generator) and per-type attributes. HTTP toxics apply
 * to proxies created with http = 1: requests and responses are framed
 * (Content-Length, chunked, bodiless answers), keep-alive and pipelining
 * keep their order, and every exchange is reported to `observe`.
 *
 * Ownership: the proxy copies every toxic it is given; fl_proxy_close
 * frees the proxy once its handles are closed (cb then). The proxy never
 * prints.
 */
#ifndef FL_PROXY_H
#define FL_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "base/util.h"

enum fl_toxic_kind {
    FL_TX_LATENCY, FL_TX_BANDWIDTH, FL_TX_SLOW_CLOSE, FL_TX_TIMEOUT, FL_TX_RESET_PEER,
    FL_TX_SLICER, FL_TX_LIMIT_DATA,
    FL_TX_HTTP_STATUS, FL_TX_HTTP_RATELIMIT, FL_TX_HTTP_DELAY, FL_TX_HTTP_CLOSE_IDLE,
    FL_TX_COUNT
};

enum fl_stream { FL_UPSTREAM, FL_DOWNSTREAM };

#define FL_PROXY_MAX_TOXICS 32
#define FL_TOXIC_NAME_MAX 64

struct fl_toxic {
    char name[FL_TOXIC_NAME_MAX];
    enum fl_toxic_kind kind;
    enum fl_stream stream;
    double toxicity;            /* 0..1 */
    /* TCP attributes, Toxiproxy's names and units. */
    int64_t latency, jitter;    /* latency: ms */
    int64_t rate;               /* bandwidth: KB/s */
    int64_t delay;              /* slow_close: ms; slicer: us between slices */
    int64_t timeout;            /* timeout, reset_peer: ms (timeout 0: forever) */
    int64_t average_size, size_variation;   /* slicer: bytes */
    int64_t bytes;              /* limit_data */
    /* HTTP attributes. */
    int status;                 /* http.status: the answer's status */
    char body[1024];            /* http.status: the answer's body */
    char headers[1024];         /* extra header lines, "Name: value\r\n"... */
    double percentage;          /* http.status: share of matching requests, 0..100 */
    int64_t first;              /* http.status: only the first N matches (0: all) */
    char method[16];            /* match: method ("" any) */
    char path[256];             /* match: path prefix, or exact when ending in '$' */
    char header[64], header_value[256];     /* match: header contains value */
    double per_sec;             /* http.ratelimit: tokens per second */
    int64_t burst;              /* http.ratelimit: bucket size */
    int per_connection;         /* http.ratelimit: one bucket per connection */
    int policy_headers;         /* http.ratelimit: RateLimit-Policy + RateLimit */
    int on_response;            /* http.delay: delay responses, not requests */
    int64_t idle;               /* http.close_idle: ms */
};

/* Defaults of a kind (Toxiproxy's), name empty. */
void fl_toxic_defaults(struct fl_toxic *t, enum fl_toxic_kind kind);
/* "latency" -> FL_TX_LATENCY; -1 when unknown. Names are Toxiproxy's for
 * TCP toxics ("limit_data") and "http_status", "http_ratelimit",
 * "http_delay", "http_close_idle" for the HTTP ones. */
int fl_toxic_kind_find(const char *name);
const char *fl_toxic_kind_name(enum fl_toxic_kind k);
static inline int fl_toxic_is_http(enum fl_toxic_kind k) { return k >= FL_TX_HTTP_STATUS; }
/* Set attribute `attr` from text (numbers, true/false, strings). Returns 0,
 * FL_ENOTFOUND for an attribute the kind does not have, FL_EINVAL with err
 * set for a bad value. */
int fl_toxic_set_attr(struct fl_toxic *t, const char *attr, const char *value,
                      struct fl_error *err);
/* The attributes of t's kind as a JSON object's members
 * ("\"latency\":100,\"jitter\":0"), into out. */
int fl_toxic_attrs_json(const struct fl_toxic *t, struct fl_buf *out);
/* The same without empty strings and zero numbers (for messages). */
int fl_toxic_attrs_terse(const struct fl_toxic *t, struct fl_buf *out);

/* One HTTP exchange seen by an HTTP proxy. Strings valid during the call. */
struct fl_http_exchange {
    const char *proxy;
    uint64_t conn;              /* connection number, from 1 */
    const char *method, *path;
    const char *client;         /* the request's User-Agent, "" when none */
    int status;                 /* 0: no answer (connection closed first) */
    int64_t start_us, end_us;   /* fl_now_us() at request start, answer end */
    int injected;               /* faultline answered it */
    int64_t retry_after_s;      /* Retry-After of the answer, -1 none */
};

struct fl_proxy_opts {
    const char *name;
    const char *listen;         /* "127.0.0.1:0" (0: an ephemeral port) */
    int http;                   /* frame HTTP/1.1, allow HTTP toxics */
    /* Where to connect, asked for each new connection: write "host:port"
     * into buf. 0, or a negative code (the client is closed). */
    int (*upstream)(void *ud, char *buf, size_t len);
    void *ud;
    void (*observe)(void *ud, const struct fl_http_exchange *x);   /* may be NULL */
    struct fl_rng *rng;         /* toxicity and jitter draws; owned by the caller */
};

struct fl_proxy;

/* Bind and listen. Returns 0 or FL_E* with err set. */
int fl_proxy_new(uv_loop_t *loop, const struct fl_proxy_opts *o, struct fl_proxy **out,
                 struct fl_error *err);
const char *fl_proxy_name(const struct fl_proxy *p);
/* "127.0.0.1:PORT" actually bound. */
const char *fl_proxy_listen_addr(const struct fl_proxy *p);
int fl_proxy_port(const struct fl_proxy *p);
int fl_proxy_is_http(const struct fl_proxy *p);
/* Add a copy of t (its name must be unique in the proxy). 0, FL_EINVAL
 * (duplicate, too many, an HTTP toxic on a TCP proxy) with err set. */
int fl_proxy_add_toxic(struct fl_proxy *p, const struct fl_toxic *t, struct fl_error *err);
/* Replace the attributes of the toxic named t->name. FL_ENOTFOUND. */
int fl_proxy_update_toxic(struct fl_proxy *p, const struct fl_toxic *t, struct fl_error *err);
/* Remove a toxic; chunks already queued keep their times. FL_ENOTFOUND. */
int fl_proxy_remove_toxic(struct fl_proxy *p, const char *name);
void fl_proxy_remove_all(struct fl_proxy *p);
/* The toxics, in order; NULL past the end. Valid until the next change. */
const struct fl_toxic *fl_proxy_toxic_at(const struct fl_proxy *p, size_t i);
/* enabled 0 ("down"): close every connection and stop listening, so
 * connections are refused; 1 listens again on the same port. */
int fl_proxy_set_enabled(struct fl_proxy *p, int enabled, struct fl_error *err);
int fl_proxy_enabled(const struct fl_proxy *p);
/* Change the upstream of later connections (Toxiproxy's PATCH). */
void fl_proxy_set_upstream_ud(struct fl_proxy *p, void *ud);

struct fl_proxy_stats {
    uint64_t accepted, open, bytes_up, bytes_down, injected, exchanges;
};
void fl_proxy_stats(const struct fl_proxy *p, struct fl_proxy_stats *st);

/* Close every connection and the listener; cb(ud) once the memory is
 * freed (from the loop). Safe once; p is invalid afterwards. */
void fl_proxy_close(struct fl_proxy *p, void (*cb)(void *ud), void *ud);

#endif
