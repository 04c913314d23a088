/* proxy_int.h - the proxy's internals, shared by proxy.c (listener,
 * connections, relaying), pipe.c (the per-direction queues and the TCP
 * toxics) and http_layer.c (HTTP framing and faults). Not a contract. */
#ifndef FL_PROXY_INT_H
#define FL_PROXY_INT_H

#include "proxy/proxy.h"
#include "proxy/http1.h"

/* A read buffer shared by the chunks that point into it. */
#define FL_PX_READ_SIZE 65536

struct rbuf {
    int refs;
    size_t len, cap;
    char data[];
};

enum { M_DATA, M_FIN, M_CLOSE, M_RESET };

struct chunk {
    struct chunk *next;
    struct rbuf *rb;
    char *base;
    size_t len;
    int64_t release_us;
    int mark;
    uv_write_t wr;
    struct pipe *pp;
};

/* One direction of a connection. */
struct pipe {
    struct conn *c;
    enum fl_stream dir;      /* FL_UPSTREAM: client -> server */
    uv_tcp_t *src, *dst;
    struct chunk *head, *tail;
    size_t queued, inflight;
    int64_t last_release, bw_next;
    uint64_t total;          /* bytes accepted into the queue */
    uv_timer_t timer;
    int stopped;             /* reading paused by backpressure */
    int src_eof, fin_done, limited;
};

struct ptoxic {
    struct fl_toxic t;
    uint64_t uid;
    int64_t added_us;
    int64_t matched;         /* http_status: matching requests so far */
    double tokens;           /* http_ratelimit, shared bucket */
    int64_t tokens_at;
};

struct ctox {
    uint64_t uid;
    int on;
    double tokens;           /* http_ratelimit per connection */
    int64_t tokens_at;
};

struct hreq {
    struct hreq *next;
    char method[16];
    char path[512];
    char client[128];
    int64_t start_us;
    int injected;
    int status;
    int64_t retry_after;
    struct rbuf *answer;     /* injected: the answer */
};

struct conn {
    struct fl_proxy *p;
    struct conn *prev, *next;
    uint64_t id;
    int64_t start_us;
    uv_tcp_t client, server;
    uv_connect_t connect;
    struct pipe up, down;
    uv_timer_t doom, idle;
    int doom_reset;
    int open_handles;
    int closing, connected;
    struct ctox tox[FL_PROXY_MAX_TOXICS * 2];
    size_t ntox;
    /* HTTP */
    int http;
    struct fl_h1 req, resp;
    int req_forward;         /* the current request goes upstream */
    int head_sent_tunnel;
    struct hreq *rq_head, *rq_tail;
    size_t nrq;
    int64_t resp_extra_us;
};

struct fl_proxy {
    uv_loop_t *loop;
    char name[64];
    char listen[128];
    struct sockaddr_storage addr;
    int port;
    int http;
    int enabled;
    int closing;
    uv_tcp_t listener;
    int listener_open;
    int (*upstream)(void *ud, char *buf, size_t len);
    void *ud;
    void (*observe)(void *ud, const struct fl_http_exchange *x);
    struct fl_rng *rng;
    struct ptoxic tox[FL_PROXY_MAX_TOXICS];
    size_t ntox;
    uint64_t next_uid;
    struct conn *conns;
    size_t live;             /* connections not yet freed */
    uint64_t next_conn;
    struct fl_proxy_stats st;
    void (*close_cb)(void *ud);
    void *close_ud;
};

/* pipe.c */
struct rbuf *fl_px_rbuf_new(size_t len);
void fl_px_rbuf_unref(struct rbuf *rb);
void fl_px_pipe_init(struct conn *c, struct pipe *pp, enum fl_stream dir);
/* Queue n bytes of rb at base through the stream's TCP toxics, extra_us
 * later than they would otherwise leave (HTTP delays). rb may be NULL
 * for bytes to copy. */
void fl_px_pipe_feed(struct pipe *pp, struct rbuf *rb, const char *base, size_t n,
                     int64_t extra_us);
void fl_px_pipe_mark(struct pipe *pp, int mark, int64_t extra_us);
void fl_px_pipe_pump(struct pipe *pp);
void fl_px_pipe_free(struct pipe *pp);

/* proxy.c */
int fl_px_toxic_on(struct conn *c, struct ptoxic *pt);
struct ctox *fl_px_ctox(struct conn *c, struct ptoxic *pt);
void fl_px_conn_close(struct conn *c, int reset);
void fl_px_conn_readable(struct conn *c, struct pipe *pp);

/* http_layer.c */
void fl_px_http_up(struct conn *c, struct rbuf *rb, const char *base, size_t n);
void fl_px_http_down(struct conn *c, struct rbuf *rb, const char *base, size_t n);
void fl_px_http_down_eof(struct conn *c);
void fl_px_http_closed(struct conn *c);
void fl_px_http_idle_check(struct conn *c);

#endif
