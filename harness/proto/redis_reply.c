/* redis_reply.c - pure helpers over hiredis replies and INFO text.
 *
 * No I/O here: injectors, probes and the workload use these on replies they
 * got from redis.c, and the unit tests feed them literal RESP and INFO text.
 */
#include "proto/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEXT_MAX_DEPTH = 8 };  /* nesting bound for arrays in text form */

static int reply_text(const redisReply *rep, struct fl_buf *out, int depth)
{
    switch (rep->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        return fl_buf_add(out, rep->str ? rep->str : "", rep->str ? (size_t)rep->len : 0);
    case REDIS_REPLY_INTEGER:
        return fl_buf_addf(out, "%lld", rep->integer);
    case REDIS_REPLY_NIL:
        return fl_buf_adds(out, "nil");
    case REDIS_REPLY_ARRAY:
        break;
    default:
        return fl_buf_adds(out, "?");
    }
    if (depth >= TEXT_MAX_DEPTH)
        return fl_buf_adds(out, "[...]");
    int rc = fl_buf_adds(out, "[");
    for (size_t i = 0; rc == 0 && i < rep->elements; i++) {
        if (i > 0)
            rc = fl_buf_adds(out, ", ");
        if (rc == 0)
            rc = rep->element[i] ? reply_text(rep->element[i], out, depth + 1)
                                 : fl_buf_adds(out, "nil");
    }
    return rc ? rc : fl_buf_adds(out, "]");
}

int fl_redis_reply_text(const redisReply *rep, struct fl_buf *out,
                        struct fl_error *err)
{
    if (!rep || !out)
        return fl_error_set(err, FL_EINVAL, "redis reply: missing argument");
    int rc = reply_text(rep, out, 0);
    if (rc < 0)
        return fl_error_set(err, rc, "redis reply: text form does not fit");
    return 0;
}

void fl_redis_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int fl_redis_reply_strv(const redisReply *rep, char ***out, size_t *n,
                        struct fl_error *err)
{
    if (!rep || !out || !n)
        return fl_error_set(err, FL_EINVAL, "redis reply: missing argument");
    if (rep->type != REDIS_REPLY_ARRAY)
        return fl_error_set(err, FL_EINVAL, "redis reply: expected an array");
    /* calloc(0) may return NULL: keep one slot so success is never NULL. */
    char **v = calloc(rep->elements ? rep->elements : 1, sizeof *v);
    if (!v)
        return fl_error_set(err, FL_ENOMEM, "redis reply: out of memory");
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *e = rep->element[i];
        char num[32];
        if (!e || e->type == REDIS_REPLY_NIL)
            continue; /* stays NULL */
        if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
            v[i] = fl_strndup(e->str ? e->str : "", e->str ? (size_t)e->len : 0);
        } else if (e->type == REDIS_REPLY_INTEGER) {
            snprintf(num, sizeof num, "%lld", e->integer);
            v[i] = fl_strdup(num);
        } else {
            fl_redis_strv_free(v, rep->elements);
            return fl_error_set(err, FL_EINVAL,
                                "redis reply: element %zu is not a string", i);
        }
        if (!v[i]) {
            fl_redis_strv_free(v, rep->elements);
            return fl_error_set(err, FL_ENOMEM, "redis reply: out of memory");
        }
    }
    *out = v;
    *n = rep->elements;
    return 0;
}

int fl_redis_info_field(const char *text, size_t len, const char *key,
                        char *out, size_t outlen)
{
    if (!text || !key || !out || outlen == 0)
        return FL_EINVAL;
    size_t klen = strlen(key);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *vend = eol;
        if (vend > p && vend[-1] == '\r')
            vend--;
        if ((size_t)(vend - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == ':') {
            const char *v = p + klen + 1;
            size_t vlen = (size_t)(vend - v);
            if (vlen >= outlen)
                return FL_ENOMEM;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = nl ? nl + 1 : end;
    }
    return FL_ENOTFOUND;
}

/* An integer INFO field; *val keeps its default when the field is absent. */
static int info_int(const char *text, size_t len, const char *key,
                    long long lo, long long hi, long long *val,
                    struct fl_error *err)
{
    char buf[32];
    int rc = fl_redis_info_field(text, len, key, buf, sizeof buf);
    if (rc == FL_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = fl_parse_int(buf, lo, hi, val);
    if (rc < 0)
        return fl_error_set(err, FL_EINVAL, "INFO replication: bad %s", key);
    return 0;
}

int fl_redis_parse_repl(const char *text, size_t len,
                        struct fl_redis_repl *out, struct fl_error *err)
{
    if (!text || !out)
        return fl_error_set(err, FL_EINVAL, "INFO replication: missing argument");
    memset(out, 0, sizeof *out);
    out->master_port = -1;
    out->connected_slaves = -1;
    out->repl_offset = -1;
    if (fl_redis_info_field(text, len, "role", out->role, sizeof out->role) < 0)
        return fl_error_set(err, FL_EINVAL, "INFO replication: no role field");
    if (strcmp(out->role, "master") == 0)
        out->is_master = 1;
    else if (strcmp(out->role, "slave") != 0)
        return fl_error_set(err, FL_EINVAL, "INFO replication: unknown role \"%s\"",
                            out->role);
    long long v = -1;
    int rc = info_int(text, len, "connected_slaves", 0, 1000000, &v, err);
    if (rc < 0)
        return rc;
    out->connected_slaves = (int)v;
    v = -1;
    rc = info_int(text, len, "master_repl_offset", 0, INT64_MAX, &v, err);
    if (rc < 0)
        return rc;
    out->repl_offset = v;
    if (out->is_master)
        return 0;

    if (fl_redis_info_field(text, len, "master_host", out->master_host,
                            sizeof out->master_host) < 0 || !out->master_host[0])
        return fl_error_set(err, FL_EINVAL, "INFO replication: replica without master_host");
    v = -1;
    rc = info_int(text, len, "master_port", 1, 65535, &v, err);
    if (rc < 0)
        return rc;
    if (v < 0)
        return fl_error_set(err, FL_EINVAL, "INFO replication: replica without master_port");
    out->master_port = (int)v;
    char link[16];
    if (fl_redis_info_field(text, len, "master_link_status", link, sizeof link) == 0)
        out->master_link_up = strcmp(link, "up") == 0;
    return 0;
}

int fl_redis_parse_master_addr(const redisReply *rep, char *host,
                               size_t hostlen, int *port,
                               struct fl_error *err)
{
    if (!rep || !host || hostlen == 0 || !port)
        return fl_error_set(err, FL_EINVAL, "sentinel reply: missing argument");
    if (rep->type == REDIS_REPLY_NIL)
        return fl_error_set(err, FL_ENOTFOUND, "sentinel: unknown master name");
    if (rep->type == REDIS_REPLY_ERROR)
        return fl_error_set(err, FL_EIO, "sentinel: %.*s",
                            (int)(rep->len < 400 ? rep->len : 400), rep->str ? rep->str : "");
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        !rep->element[0] || rep->element[0]->type != REDIS_REPLY_STRING ||
        !rep->element[1] || rep->element[1]->type != REDIS_REPLY_STRING)
        return fl_error_set(err, FL_EINVAL, "sentinel reply: expected [host, port]");
    const redisReply *h = rep->element[0], *p = rep->element[1];
    if (h->len == 0 || memchr(h->str, '\0', h->len))
        return fl_error_set(err, FL_EINVAL, "sentinel reply: bad host");
    if ((size_t)h->len >= hostlen)
        return fl_error_set(err, FL_ENOMEM, "sentinel reply: host too long");
    char pbuf[16];
    long long pv;
    if (p->len == 0 || (size_t)p->len >= sizeof pbuf)
        return fl_error_set(err, FL_EINVAL, "sentinel reply: bad port");
    memcpy(pbuf, p->str, p->len);
    pbuf[p->len] = '\0';
    if (fl_parse_int(pbuf, 1, 65535, &pv) < 0)
        return fl_error_set(err, FL_EINVAL, "sentinel reply: bad port \"%s\"", pbuf);
    memcpy(host, h->str, h->len);
    host[h->len] = '\0';
    *port = (int)pv;
    return 0;
}
