/* http1.c - the HTTP/1.1 framer (see http1.h). */
#include "base/util.h"
#include "proxy/http1.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { S_HEAD, S_BODY_LEN, S_BODY_EOF, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_TRAILER,
       S_END, S_TUNNEL };

void fl_h1_init(struct fl_h1 *h, int response)
{
    memset(h, 0, sizeof *h);
    h->response = response;
    h->state = S_HEAD;
    h->content_length = -1;
    h->retry_after = -1;
}

int fl_h1_header(const struct fl_h1 *h, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    const char *p = memchr(h->head, '\n', h->hlen);
    const char *end = h->head + h->hlen;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v);
            if (n >= len)
                n = len - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        p = eol;
    }
    return -1;
}

/* Parse the complete head; 0, or -1 when it cannot be framed. */
static int parse_head(struct fl_h1 *h)
{
    const char *eol = memchr(h->head, '\n', h->hlen);
    if (!eol)
        return -1;
    char first[600];
    size_t fl = (size_t)(eol - h->head);
    if (fl >= sizeof first)
        fl = sizeof first - 1;
    memcpy(first, h->head, fl);
    first[fl] = '\0';
    h->content_length = -1;
    h->chunked = h->close = 0;
    h->retry_after = -1;
    h->status = 0;
    if (h->response) {
        if (strncmp(first, "HTTP/1.", 7) != 0 || fl < 12)
            return -1;
        /* "HTTP/1.x NNN": exactly three digits, then a space or the end. */
        long long st;
        const char *rest;
        if (fl_parse_leading_int(first + 9, 100, 999, &st, &rest) || rest != first + 12 ||
            (*rest && *rest != ' '))
            return -1;
        h->status = (int)st;
    } else {
        if (sscanf(first, "%15s %511s", h->method, h->path) != 2)
            return -1;
    }
    char v[256];
    if (fl_h1_header(h, "Transfer-Encoding", v, sizeof v) == 0) {
        size_t n = strlen(v);
        h->chunked = n >= 7 && strcasecmp(v + n - 7, "chunked") == 0;
    }
    if (!h->chunked && fl_h1_header(h, "Content-Length", v, sizeof v) == 0) {
        char *end;
        long long cl = strtoll(v, &end, 10);
        if (end == v || *end || cl < 0)
            return -1;
        h->content_length = cl;
    }
    if (fl_h1_header(h, "Connection", v, sizeof v) == 0 && strcasestr(v, "close"))
        h->close = 1;
    if (h->response && fl_h1_header(h, "Retry-After", v, sizeof v) == 0) {
        char *end;
        long long ra = strtoll(v, &end, 10);
        if (end != v && !*end && ra >= 0)
            h->retry_after = ra;
    }
    return 0;
}

/* State after a complete head. */
static int body_state(struct fl_h1 *h)
{
    if (h->response) {
        if (h->status == 101)
            return S_TUNNEL;
        if (h->status < 200 || h->status == 204 || h->status == 304 || h->req_was_head)
            return S_END;
    }
    if (h->chunked)
        return S_CHUNK_SIZE;
    if (h->content_length >= 0) {
        h->remaining = (uint64_t)h->content_length;
        return h->remaining ? S_BODY_LEN : S_END;
    }
    return h->response ? S_BODY_EOF : S_END;
}

int fl_h1_at_end(const struct fl_h1 *h)
{
    return h->state == S_END;
}

int fl_h1_eof_ends(const struct fl_h1 *h)
{
    return h->state == S_BODY_EOF;
}

/* Consume a line into h->line; returns bytes used, *done when complete. */
static size_t take_line(struct fl_h1 *h, const char *p, size_t n, int *done)
{
    const char *nl = memchr(p, '\n', n);
    size_t k = nl ? (size_t)(nl - p) + 1 : n;
    for (size_t i = 0; i < k; i++)
        if (h->llen < sizeof h->line - 1)
            h->line[h->llen++] = p[i];
    h->line[h->llen] = '\0';
    *done = nl != NULL;
    return k;
}

enum fl_h1_event fl_h1_feed(struct fl_h1 *h, const char *p, size_t n, size_t *used)
{
    *used = 0;
    int done;
    switch (h->state) {
    case S_TUNNEL:
        *used = n;
        return FL_H1_BODY;
    case S_END:
        h->state = S_HEAD;
        h->hlen = 0;
        return FL_H1_END;
    case S_HEAD: {
        size_t i = 0;
        /* Tolerate empty lines before a message (RFC 9112 2.2). */
        while (h->hlen == 0 && i < n && (p[i] == '\r' || p[i] == '\n'))
            i++;
        for (; i < n; i++) {
            if (h->hlen >= FL_H1_HEAD_MAX) {
                h->state = S_TUNNEL;
                h->tunnel = 1;
                *used = i;
                return FL_H1_MORE;
            }
            h->head[h->hlen++] = p[i];
            if (h->hlen >= 4 && memcmp(h->head + h->hlen - 4, "\r\n\r\n", 4) == 0)
                break;
            if (h->hlen >= 2 && memcmp(h->head + h->hlen - 2, "\n\n", 2) == 0)
                break;
        }
        if (i == n) {
            *used = n;
            return FL_H1_MORE;
        }
        *used = i + 1;
        if (parse_head(h)) {
            h->state = S_TUNNEL;
            h->tunnel = 1;
        } else {
            h->state = body_state(h);
            if (h->state == S_TUNNEL)
                h->tunnel = 1;
        }
        return FL_H1_HEAD;
    }
    case S_BODY_LEN: {
        size_t k = n < h->remaining ? n : (size_t)h->remaining;
        h->remaining -= k;
        *used = k;
        if (h->remaining == 0)
            h->state = S_END;
        return FL_H1_BODY;
    }
    case S_BODY_EOF:
        *used = n;
        return FL_H1_BODY;
    case S_CHUNK_SIZE:
    case S_TRAILER: {
        size_t k = take_line(h, p, n, &done);
        *used = k;
        if (done) {
            if (h->state == S_TRAILER) {
                int empty = h->line[0] == '\n' || (h->line[0] == '\r' && h->line[1] == '\n');
                if (empty)
                    h->state = S_END;
            } else {
                char *end;
                unsigned long long sz = strtoull(h->line, &end, 16);
                if (end == h->line) {
                    h->state = S_TUNNEL;
                    h->tunnel = 1;
                } else if (sz == 0) {
                    h->state = S_TRAILER;
                } else {
                    h->remaining = sz;
                    h->state = S_CHUNK_DATA;
                }
            }
            h->llen = 0;
        }
        return FL_H1_BODY;
    }
    case S_CHUNK_DATA: {
        size_t k = n < h->remaining ? n : (size_t)h->remaining;
        h->remaining -= k;
        *used = k;
        if (h->remaining == 0) {
            h->state = S_CHUNK_CRLF;
            h->llen = 0;
        }
        return FL_H1_BODY;
    }
    case S_CHUNK_CRLF: {
        size_t k = take_line(h, p, n, &done);
        *used = k;
        if (done) {
            h->llen = 0;
            h->state = S_CHUNK_SIZE;
        }
        return FL_H1_BODY;
    }
    }
    *used = n;
    return FL_H1_BODY;
}
