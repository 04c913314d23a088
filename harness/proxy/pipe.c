/* pipe.c - one direction of a proxied connection: a FIFO of chunks, each
 * with the time it may leave, and the TCP toxics that set those times.
 *
 * Order is kept by construction: a chunk's release time is never earlier
 * than the one queued before it, so removing a latency toxic makes later
 * bytes wait for earlier ones instead of overtaking them. Backpressure:
 * when the queue plus the socket's write queue hold more than HIGH bytes,
 * reading from the source stops until they drain below LOW. */
#include "proxy/proxy_int.h"

#include <stdlib.h>
#include <string.h>

#define HIGH (1u << 20)
#define LOW (256u << 10)
/* Chunks a queue may hold: each costs a struct and a write request; a
 * slicer of 1-byte slices would otherwise queue millions. */
#define MAX_CHUNKS 65536

/* Full-size read buffers are reused: a bulk transfer would otherwise
 * malloc and free one per read. One loop, no threads: a plain stack. */
#define CACHE_MAX 64
static struct rbuf *cache[CACHE_MAX];
static size_t ncache;

struct rbuf *fl_px_rbuf_new(size_t len)
{
    if (len == FL_PX_READ_SIZE && ncache) {
        struct rbuf *rb = cache[--ncache];
        rb->refs = 1;
        rb->len = len;
        return rb;
    }
    struct rbuf *rb = malloc(sizeof *rb + (len ? len : 1));
    if (rb) {
        rb->refs = 1;
        rb->len = rb->cap = len;
    }
    return rb;
}

void fl_px_rbuf_unref(struct rbuf *rb)
{
    if (rb && --rb->refs == 0) {
        if (rb->cap == FL_PX_READ_SIZE && ncache < CACHE_MAX)
            cache[ncache++] = rb;
        else
            free(rb);
    }
}

void fl_px_pipe_init(struct conn *c, struct pipe *pp, enum fl_stream dir)
{
    memset(pp, 0, sizeof *pp);
    pp->c = c;
    pp->dir = dir;
    pp->src = dir == FL_UPSTREAM ? &c->client : &c->server;
    pp->dst = dir == FL_UPSTREAM ? &c->server : &c->client;
    uv_timer_init(c->p->loop, &pp->timer);
    pp->timer.data = pp;
}

static size_t nchunks(const struct pipe *pp)
{
    size_t n = 0;
    for (const struct chunk *ch = pp->head; ch && n < MAX_CHUNKS; ch = ch->next)
        n++;
    return n;
}

static void enqueue(struct pipe *pp, struct rbuf *rb, const char *base, size_t n, int64_t at,
                    int mark)
{
    struct chunk *ch = calloc(1, sizeof *ch);
    if (!ch) {
        fl_px_conn_close(pp->c, 1);
        return;
    }
    if (at < pp->last_release)
        at = pp->last_release;
    pp->last_release = at;
    ch->rb = rb;
    if (rb)
        rb->refs++;
    ch->base = (char *)base;
    ch->len = n;
    ch->release_us = at;
    ch->mark = mark;
    ch->pp = pp;
    if (pp->tail)
        pp->tail->next = ch;
    else
        pp->head = ch;
    pp->tail = ch;
    pp->queued += n;
}

static void backpressure(struct pipe *pp)
{
    struct conn *c = pp->c;
    if (c->closing)
        return;
    size_t held = pp->queued + pp->inflight;
    if (!pp->stopped && held > HIGH) {
        uv_read_stop((uv_stream_t *)pp->src);
        pp->stopped = 1;
    } else if (pp->stopped && held < LOW) {
        pp->stopped = 0;
        if (!pp->src_eof)
            fl_px_conn_readable(c, pp);
    }
}

/* Random in [-j, +j]. */
static int64_t jitter(struct fl_proxy *p, int64_t j)
{
    if (j <= 0)
        return 0;
    return (int64_t)fl_rng_below(p->rng, (uint64_t)(2 * j + 1)) - j;
}

void fl_px_pipe_feed(struct pipe *pp, struct rbuf *rb, const char *base, size_t n,
                     int64_t extra_us)
{
    struct conn *c = pp->c;
    struct fl_proxy *p = c->p;
    if (c->closing || pp->limited || n == 0)
        return;
    int own = 0;
    if (!rb) {
        rb = fl_px_rbuf_new(n);
        if (!rb) {
            fl_px_conn_close(c, 1);
            return;
        }
        memcpy(rb->data, base, n);
        base = rb->data;
        own = 1;
    }
    int64_t now = fl_now_us();
    int64_t delay = extra_us;
    int64_t rate = 0, limit = -1;
    const struct fl_toxic *slicer = NULL;
    for (size_t i = 0; i < p->ntox; i++) {
        struct ptoxic *pt = &p->tox[i];
        if (pt->t.stream != pp->dir || fl_toxic_is_http(pt->t.kind) || !fl_px_toxic_on(c, pt))
            continue;
        switch (pt->t.kind) {
        case FL_TX_LATENCY: {
            int64_t ms = pt->t.latency + jitter(p, pt->t.jitter);
            delay += (ms > 0 ? ms : 0) * 1000;
            break;
        }
        case FL_TX_BANDWIDTH:
            if (pt->t.rate > 0 && (rate == 0 || pt->t.rate < rate))
                rate = pt->t.rate;
            break;
        case FL_TX_TIMEOUT:
            /* Blackhole: the bytes are dropped (Toxiproxy's timeout). */
            if (own)
                fl_px_rbuf_unref(rb);
            return;
        case FL_TX_SLICER:
            slicer = &pt->t;
            break;
        case FL_TX_LIMIT_DATA:
            if (limit < 0 || pt->t.bytes < limit)
                limit = pt->t.bytes;
            break;
        default:
            break;
        }
    }
    int close_after = 0;
    if (limit >= 0) {
        uint64_t allowed = (uint64_t)limit > pp->total ? (uint64_t)limit - pp->total : 0;
        if (n >= allowed) {
            n = (size_t)allowed;
            close_after = 1;
        }
    }
    pp->total += n;
    int64_t at = now + delay;
    size_t off = 0;
    size_t guard = nchunks(pp);
    while (off < n) {
        size_t piece = n - off;
        int64_t gap = 0;
        if (slicer) {
            int64_t sz = slicer->average_size + jitter(p, slicer->size_variation);
            if (sz < 1)
                sz = 1;
            if ((size_t)sz < piece)
                piece = (size_t)sz;
            gap = slicer->delay;
        }
        if (rate > 0) {
            size_t max = (size_t)(rate * 100);   /* 100 ms worth, as Toxiproxy */
            if (max < 1)
                max = 1;
            if (piece > max)
                piece = max;
            if (at < pp->bw_next)
                at = pp->bw_next;
            pp->bw_next = at + (int64_t)piece * 1000000 / (rate * 1000);
        }
        if (guard++ >= MAX_CHUNKS) {
            /* Too many slices: the rest goes as one. */
            piece = n - off;
        }
        enqueue(pp, rb, base + off, piece, at, M_DATA);
        off += piece;
        at += gap;
    }
    if (own)
        fl_px_rbuf_unref(rb);
    if (close_after) {
        pp->limited = 1;
        enqueue(pp, NULL, NULL, 0, now + delay, M_CLOSE);
    }
    backpressure(pp);
    fl_px_pipe_pump(pp);
}

void fl_px_pipe_mark(struct pipe *pp, int mark, int64_t extra_us)
{
    if (pp->c->closing)
        return;
    enqueue(pp, NULL, NULL, 0, fl_now_us() + extra_us, mark);
    fl_px_pipe_pump(pp);
}

static void on_timer(uv_timer_t *t)
{
    fl_px_pipe_pump(t->data);
}

static void on_write(uv_write_t *req, int status)
{
    struct chunk *ch = req->data;
    struct pipe *pp = ch->pp;
    pp->inflight -= ch->len;
    fl_px_rbuf_unref(ch->rb);
    free(ch);
    if (pp->c->closing)
        return;
    if (status < 0) {
        fl_px_conn_close(pp->c, 1);
        return;
    }
    backpressure(pp);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct pipe *pp = req->data;
    free(req);
    (void)status;
    pp->fin_done = 1;
    struct conn *c = pp->c;
    if (c->closing)
        return;
    if (c->up.fin_done && c->down.fin_done)
        fl_px_conn_close(c, 0);
}

static void on_shutdown_close(uv_shutdown_t *req, int status)
{
    struct pipe *pp = req->data;
    free(req);
    (void)status;
    if (!pp->c->closing)
        fl_px_conn_close(pp->c, 0);
}

void fl_px_pipe_pump(struct pipe *pp)
{
    struct conn *c = pp->c;
    if (c->closing || !c->connected)
        return;
    int64_t now = fl_now_us();
    while (pp->head) {
        struct chunk *ch = pp->head;
        if (ch->release_us > now) {
            uint64_t ms = (uint64_t)((ch->release_us - now + 999) / 1000);
            uv_timer_start(&pp->timer, on_timer, ms, 0);
            return;
        }
        pp->head = ch->next;
        if (!pp->head)
            pp->tail = NULL;
        pp->queued -= ch->len;
        if (ch->mark == M_DATA) {
            ch->wr.data = ch;
            uv_buf_t b = uv_buf_init(ch->base, (unsigned)ch->len);
            pp->inflight += ch->len;
            if (pp->dir == FL_UPSTREAM)
                c->p->st.bytes_up += ch->len;
            else
                c->p->st.bytes_down += ch->len;
            int rc = uv_write(&ch->wr, (uv_stream_t *)pp->dst, &b, 1, on_write);
            if (rc < 0) {
                pp->inflight -= ch->len;
                fl_px_rbuf_unref(ch->rb);
                free(ch);
                fl_px_conn_close(c, 1);
                return;
            }
            continue;
        }
        int mark = ch->mark;
        free(ch);
        if (mark == M_RESET) {
            fl_px_conn_close(c, 1);
            return;
        }
        uv_shutdown_t *sd = malloc(sizeof *sd);
        if (!sd || uv_shutdown(sd, (uv_stream_t *)pp->dst,
                               mark == M_FIN ? on_shutdown : on_shutdown_close) < 0) {
            free(sd);
            fl_px_conn_close(c, mark != M_FIN);
            return;
        }
        sd->data = pp;
        if (mark == M_CLOSE)
            return;
    }
    backpressure(pp);
}

void fl_px_pipe_free(struct pipe *pp)
{
    struct chunk *ch = pp->head;
    while (ch) {
        struct chunk *next = ch->next;
        fl_px_rbuf_unref(ch->rb);
        free(ch);
        ch = next;
    }
    pp->head = pp->tail = NULL;
    pp->queued = 0;
}
