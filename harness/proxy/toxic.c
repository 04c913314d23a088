/* toxic.c - toxic kinds, defaults and attributes (Toxiproxy's names). */
#include "proxy/proxy.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[FL_TX_COUNT] = {
    [FL_TX_LATENCY] = "latency", [FL_TX_BANDWIDTH] = "bandwidth",
    [FL_TX_SLOW_CLOSE] = "slow_close", [FL_TX_TIMEOUT] = "timeout",
    [FL_TX_RESET_PEER] = "reset_peer", [FL_TX_SLICER] = "slicer",
    [FL_TX_LIMIT_DATA] = "limit_data", [FL_TX_HTTP_STATUS] = "http_status",
    [FL_TX_HTTP_RATELIMIT] = "http_ratelimit", [FL_TX_HTTP_DELAY] = "http_delay",
    [FL_TX_HTTP_CLOSE_IDLE] = "http_close_idle",
};

int fl_toxic_kind_find(const char *name)
{
    for (int i = 0; i < FL_TX_COUNT; i++)
        if (strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

const char *fl_toxic_kind_name(enum fl_toxic_kind k)
{
    return (unsigned)k < FL_TX_COUNT ? kind_names[k] : "?";
}

void fl_toxic_defaults(struct fl_toxic *t, enum fl_toxic_kind kind)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->stream = FL_DOWNSTREAM;
    t->toxicity = 1.0;
    t->percentage = 100;
    t->status = kind == FL_TX_HTTP_RATELIMIT ? 429 : 503;
    t->per_sec = 1;
    t->burst = 1;
    t->average_size = 64;
    t->size_variation = 32;
    t->delay = kind == FL_TX_SLICER ? 10 : 0;
    t->rate = 1024;
    t->idle = 5000;
    /* HTTP faults act on requests: their stream is the client's. */
    if (fl_toxic_is_http(kind))
        t->stream = FL_UPSTREAM;
}

/* Which attributes a kind has: name, field kind, offset. */
enum { A_INT, A_DBL, A_STR, A_BOOL };
struct attr {
    const char *name;
    int type;
    size_t off, size;
    unsigned kinds;   /* bit per fl_toxic_kind */
};

#define K(x) (1u << (x))
#define F(field) offsetof(struct fl_toxic, field), sizeof(((struct fl_toxic *)0)->field)
static const struct attr attrs[] = {
    {"latency", A_INT, F(latency), K(FL_TX_LATENCY) | K(FL_TX_HTTP_DELAY)},
    {"jitter", A_INT, F(jitter), K(FL_TX_LATENCY) | K(FL_TX_HTTP_DELAY)},
    {"rate", A_INT, F(rate), K(FL_TX_BANDWIDTH)},
    {"delay", A_INT, F(delay), K(FL_TX_SLOW_CLOSE) | K(FL_TX_SLICER)},
    {"timeout", A_INT, F(timeout), K(FL_TX_TIMEOUT) | K(FL_TX_RESET_PEER)},
    {"average_size", A_INT, F(average_size), K(FL_TX_SLICER)},
    {"size_variation", A_INT, F(size_variation), K(FL_TX_SLICER)},
    {"bytes", A_INT, F(bytes), K(FL_TX_LIMIT_DATA)},
    {"status", A_INT, F(status), K(FL_TX_HTTP_STATUS) | K(FL_TX_HTTP_RATELIMIT)},
    {"body", A_STR, F(body), K(FL_TX_HTTP_STATUS)},
    {"headers", A_STR, F(headers), K(FL_TX_HTTP_STATUS)},
    {"percentage", A_DBL, F(percentage), K(FL_TX_HTTP_STATUS)},
    {"first", A_INT, F(first), K(FL_TX_HTTP_STATUS)},
    {"method", A_STR, F(method), K(FL_TX_HTTP_STATUS) | K(FL_TX_HTTP_RATELIMIT) | K(FL_TX_HTTP_DELAY)},
    {"path", A_STR, F(path), K(FL_TX_HTTP_STATUS) | K(FL_TX_HTTP_RATELIMIT) | K(FL_TX_HTTP_DELAY)},
    {"header", A_STR, F(header), K(FL_TX_HTTP_STATUS) | K(FL_TX_HTTP_RATELIMIT) | K(FL_TX_HTTP_DELAY)},
    {"header_value", A_STR, F(header_value), K(FL_TX_HTTP_STATUS) | K(FL_TX_HTTP_RATELIMIT) | K(FL_TX_HTTP_DELAY)},
    {"per_sec", A_DBL, F(per_sec), K(FL_TX_HTTP_RATELIMIT)},
    {"burst", A_INT, F(burst), K(FL_TX_HTTP_RATELIMIT)},
    {"per_connection", A_BOOL, F(per_connection), K(FL_TX_HTTP_RATELIMIT)},
    {"policy_headers", A_BOOL, F(policy_headers), K(FL_TX_HTTP_RATELIMIT)},
    {"on_response", A_BOOL, F(on_response), K(FL_TX_HTTP_DELAY)},
    {"idle", A_INT, F(idle), K(FL_TX_HTTP_CLOSE_IDLE)},
};

int fl_toxic_set_attr(struct fl_toxic *t, const char *name, const char *v, struct fl_error *err)
{
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        const struct attr *a = &attrs[i];
        if (strcmp(a->name, name) != 0 || !(a->kinds & K(t->kind)))
            continue;
        char *f = (char *)t + a->off;
        char *end;
        switch (a->type) {
        case A_INT: {
            long long x = strtoll(v, &end, 10);
            if (end == v || *end || x < 0)
                return fl_error_set(err, FL_EINVAL, "%s: expected a number >= 0, got '%s'", name, v);
            if (a->size == sizeof(int))
                *(int *)f = (int)x;
            else
                *(int64_t *)f = x;
            return 0;
        }
        case A_DBL: {
            double x = strtod(v, &end);
            if (end == v || *end || x < 0)
                return fl_error_set(err, FL_EINVAL, "%s: expected a number >= 0, got '%s'", name, v);
            *(double *)f = x;
            return 0;
        }
        case A_BOOL:
            if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0"))
                return fl_error_set(err, FL_EINVAL, "%s: expected true or false, got '%s'", name, v);
            *(int *)f = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
            return 0;
        case A_STR:
            if (strlen(v) >= a->size)
                return fl_error_set(err, FL_EINVAL, "%s: at most %zu bytes", name, a->size - 1);
            memcpy(f, v, strlen(v) + 1);
            return 0;
        }
    }
    return FL_ENOTFOUND;
}

static int attrs_json(const struct fl_toxic *t, struct fl_buf *out, int terse);

int fl_toxic_attrs_json(const struct fl_toxic *t, struct fl_buf *out)
{
    return attrs_json(t, out, 0);
}

int fl_toxic_attrs_terse(const struct fl_toxic *t, struct fl_buf *out)
{
    return attrs_json(t, out, 1);
}

static int attrs_json(const struct fl_toxic *t, struct fl_buf *out, int terse)
{
    const char *sep = "";
    int rc = 0;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && !rc; i++) {
        const struct attr *a = &attrs[i];
        if (!(a->kinds & K(t->kind)))
            continue;
        const char *f = (const char *)t + a->off;
        if (terse && ((a->type == A_STR && !*f) ||
                      (a->type == A_INT && (a->size == sizeof(int) ? *(const int *)f == 0
                                                                   : *(const int64_t *)f == 0))))
            continue;
        switch (a->type) {
        case A_INT:
            rc = fl_buf_addf(out, "%s\"%s\":%lld", sep, a->name,
                             a->size == sizeof(int) ? (long long)*(const int *)f
                                                    : (long long)*(const int64_t *)f);
            break;
        case A_DBL:
            rc = fl_buf_addf(out, "%s\"%s\":%g", sep, a->name, *(const double *)f);
            break;
        case A_BOOL:
            rc = fl_buf_addf(out, "%s\"%s\":%s", sep, a->name, *(const int *)f ? "true" : "false");
            break;
        case A_STR:
            rc = fl_buf_addf(out, "%s\"%s\":\"", sep, a->name);
            for (const char *s = f; *s && !rc; s++) {
                if (*s == '"' || *s == '\\')
                    rc = fl_buf_addf(out, "\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                    rc = fl_buf_addf(out, "\\u%04x", (unsigned char)*s);
                else
                    rc = fl_buf_add(out, s, 1);
            }
            if (!rc)
                rc = fl_buf_adds(out, "\"");
            break;
        }
        sep = ",";
    }
    return rc ? FL_ENOMEM : 0;
}
