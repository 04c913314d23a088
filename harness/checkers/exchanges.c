/* exchanges.c - see exchanges.h. */
#include "checkers/exchanges.h"
#include "base/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_start(const void *a, const void *b)
{
    const struct fl_xchg *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

static void copy(char *dst, size_t len, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, len, "%s", s ? s : "");
}

int fl_xchg_load(const struct fl_history *h, const char *proxy, struct fl_xchg **out,
                 size_t *n, size_t *bad)
{
    *out = NULL;
    *n = *bad = 0;
    size_t cap = 0;
    size_t len = fl_history_len(h);
    for (size_t i = 0; i < len; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->source, FL_SOURCE_PROXY) || strcmp(op->f, FL_F_HTTP))
            continue;
        if (op->type != FL_OK && op->type != FL_INFO)
            continue;
        if (proxy && (!op->key || strcmp(op->key, proxy)))
            continue;
        json_t *o = op->value ? json_loads(op->value, 0, NULL) : NULL;
        json_t *st = json_object_get(o, "start_us"), *lat = json_object_get(o, "latency_us");
        if (!json_is_object(o) || !json_is_integer(st) || !json_is_integer(lat)) {
            (*bad)++;
            json_decref(o);
            continue;
        }
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            struct fl_xchg *p = realloc(*out, nc * sizeof *p);
            if (!p) {
                json_decref(o);
                free(*out);
                *out = NULL;
                return FL_ENOMEM;
            }
            *out = p;
            cap = nc;
        }
        struct fl_xchg *x = &(*out)[(*n)++];
        memset(x, 0, sizeof *x);
        x->op = op->index;
        x->start = json_integer_value(st);
        x->end = x->start + json_integer_value(lat);
        x->status = (int)json_integer_value(json_object_get(o, "status"));
        json_t *ra = json_object_get(o, "retry_after");
        x->retry_after = json_is_integer(ra) ? json_integer_value(ra) : -1;
        x->injected = json_is_true(json_object_get(o, "injected"));
        copy(x->method, sizeof x->method, o, "method");
        copy(x->path, sizeof x->path, o, "path");
        copy(x->client, sizeof x->client, o, "client");
        json_decref(o);
    }
    if (*n)
        qsort(*out, *n, sizeof **out, by_start);
    return 0;
}
