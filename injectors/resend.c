/* resend.c - see resend.h. */
#include "injectors/resend.h"
#include "base/jsonptr.h"
#include "history/history.h"
#include "proto/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (64 * 1024)
#define URL_MAX 1024

struct resend;
struct chain;

/* One copy's request: its answer is recorded on its own process, whatever
 * order the answers come back in and whichever copies failed to go out. */
struct copy {
    struct chain *c;
    int k;
};

struct chain {
    struct resend *rs;
    size_t i;
    const char *key;               /* interned in the history */
    int32_t proc;                  /* of the read and polls; copies use proc + 1 + c */
    int waiting;                   /* copies not answered yet */
    int accepted;                  /* copies answered 2xx */
    int done;
    int64_t deadline_us;
    uv_timer_t timer;
    struct copy copies[FL_RESEND_MAX_COPIES];
};

struct resend {
    struct fl_fault_run *fr;
    struct fl_resend_spec spec;
    struct fl_http *http;
    struct chain chains[FL_RESEND_MAX_KEYS];
    size_t n, left, accepted_keys, gave_up;
    int stopped;
};

/* The latest ok poll of each key, found by one backward pass: open
 * addressing on the interned key pointer, grown at half full. */
struct last_poll {
    const char *key;           /* interned; NULL: empty slot */
    const char *value;         /* the latest ok poll value, NULL: none */
    size_t at;                 /* its index in the history */
    int taken;                 /* already chosen */
};

struct poll_map {
    struct last_poll *slots;
    size_t cap, n;             /* cap: a power of two */
};

static struct last_poll *map_slot(struct poll_map *m, const char *key)
{
    size_t i = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

/* The key's entry, added when absent. NULL when out of memory. */
static struct last_poll *map_get(struct poll_map *m, const char *key)
{
    if (2 * (m->n + 1) > m->cap) {
        struct poll_map g = {.cap = m->cap ? m->cap * 2 : 256};
        g.slots = calloc(g.cap, sizeof *g.slots);
        if (!g.slots)
            return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key)
                *map_slot(&g, m->slots[i].key) = m->slots[i];
        g.n = m->n;
        free(m->slots);
        *m = g;
    }
    struct last_poll *e = map_slot(m, key);
    if (!e->key) {
        e->key = key;
        m->n++;
    }
    return e;
}

int fl_resend_candidates(const struct fl_history *h, const char *workload,
                         const char *const *state, size_t nstate, const char **out, size_t max,
                         size_t *nout)
{
    size_t n = 0, len = fl_history_len(h);
    struct poll_map m = {0};
    *nout = 0;
    for (size_t j = len; j-- > 0;) {
        const struct fl_op *p = fl_history_get(h, j);
        if (p->type != FL_OK || !p->value || !p->key || strcmp(p->f, FL_F_POLL) != 0 ||
            strcmp(p->source, workload) != 0)
            continue;
        struct last_poll *e = map_get(&m, p->key);
        if (!e) {
            free(m.slots);
            return FL_ENOMEM;
        }
        if (!e->value) {
            e->value = p->value;
            e->at = j;
        }
    }
    for (size_t i = 0; i < len && n < max; i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (op->type != FL_OK || !op->key || strcmp(op->f, FL_F_REQUEST) != 0 ||
            strcmp(op->source, workload) != 0)
            continue;
        struct last_poll *e = map_get(&m, op->key);
        if (!e) {
            free(m.slots);
            return FL_ENOMEM;
        }
        if (e->taken)
            continue;
        /* the key's latest ok poll, if it came after this request */
        const char *last = e->value && e->at > i ? e->value : NULL;
        int fits = nstate == 0;
        for (size_t s = 0; s < nstate && !fits && last; s++)
            fits = strcmp(state[s], last) == 0;
        if (fits) {
            e->taken = 1;
            out[n++] = op->key;
        }
    }
    free(m.slots);
    *nout = n;
    return 0;
}

/* "{key}" in tpl replaced by key, after "http://ADDR". 0 or -1 (too long). */
static int make_url(struct resend *rs, const char *tpl, const char *key, char *url,
                    struct fl_error *err)
{
    struct fl_buf b;
    fl_buf_init(&b, URL_MAX);
    int rc = fl_buf_adds(&b, "http://");
    if (!rc)
        rc = fl_run_resolve(rs->fr->run, rs->spec.service, strlen(rs->spec.service), &b, err);
    for (const char *p = tpl; !rc && *p;) {
        const char *at = strstr(p, "{key}");
        size_t n = at ? (size_t)(at - p) : strlen(p);
        rc = fl_buf_add(&b, p, n);
        if (!rc && at)
            rc = fl_buf_adds(&b, key);
        p += n + (at ? 5 : 0);
    }
    if (!rc)
        snprintf(url, URL_MAX, "%s", fl_buf_str(&b));
    else if (!err->msg[0])
        fl_error_set(err, FL_EINVAL, "URL for key %s is too long", key);
    fl_buf_free(&b);
    return rc ? -1 : 0;
}

static void record(struct chain *c, int32_t proc, enum fl_optype type, const char *f,
                   const char *value, const char *error)
{
    fl_run_record(c->rs->fr->run, proc, type, c->rs->fr->fault->type->name, f, c->key, value,
                  error);
}

/* An HTTP answer as an op: ok 2xx (body), fail other status, info none. */
static enum fl_optype record_answer(struct chain *c, int32_t proc, const char *f,
                                    const struct fl_http_result *res)
{
    if (res->outcome == FL_HTTP_DONE && res->status >= 200 && res->status < 300) {
        record(c, proc, FL_OK, f, res->body, NULL);
        return FL_OK;
    }
    if (res->outcome == FL_HTTP_DONE) {
        char v[32];
        snprintf(v, sizeof v, "%s%d", FL_VALUE_HTTP_PREFIX, res->status);
        record(c, proc, FL_FAIL, f, v, res->body);
        return FL_FAIL;
    }
    int never_sent = res->outcome == FL_HTTP_ERROR && !res->sent_maybe;
    record(c, proc, never_sent ? FL_FAIL : FL_INFO, f, NULL,
           res->error ? res->error : "no answer");
    return never_sent ? FL_FAIL : FL_INFO;
}

static void chain_done(struct chain *c)
{
    struct resend *rs = c->rs;
    if (c->done)
        return;
    c->done = 1;
    uv_timer_stop(&c->timer);
    rs->accepted_keys += c->accepted > 0;
    if (--rs->left > 0)
        return;
    struct fl_fault_run *fr = rs->fr;
    size_t len = strlen(fr->desc);
    snprintf(fr->desc + len, sizeof fr->desc - len, ": %zu of %zu accepted%s", rs->accepted_keys,
             rs->n, rs->gave_up ? ", some never ended" : "");
    fl_fault_done(fr, 0, NULL);
}

/* Start a GET of the poll URL; cb gets the chain. 0 or -1 (recorded). */
static int get_poll(struct chain *c, const char *f, fl_http_cb cb)
{
    char url[URL_MAX];
    struct fl_error err = {0};
    record(c, c->proc, FL_INVOKE, f, NULL, NULL);
    if (make_url(c->rs, c->rs->spec.poll_path, c->key, url, &err) == 0) {
        struct fl_http_request rq = {.method = "GET", .url = url, .max_body = BODY_MAX};
        if (fl_http_submit(c->rs->http, &rq, cb, c, NULL, &err) == 0)
            return 0;
    }
    record(c, c->proc, FL_FAIL, f, NULL, err.msg);
    return -1;
}

static void on_poll(void *ud, const struct fl_http_result *res);

/* Past the chain's deadline: record that the follow gave up (info) and end
 * the chain. Returns 1 when it did. */
static int follow_expired(struct chain *c)
{
    struct resend *rs = c->rs;
    if (fl_run_now(rs->fr->run) < c->deadline_us)
        return 0;
    char why[96];
    snprintf(why, sizeof why, "no status in until after %llu ms",
             (unsigned long long)rs->spec.timeout_ms);
    record(c, c->proc, FL_INFO, FL_F_RETRY_FOLLOW, NULL, why);
    rs->gave_up++;
    chain_done(c);
    return 1;
}

static void on_poll_timer(uv_timer_t *t)
{
    struct chain *c = t->data;
    if (c->rs->stopped)
        return;
    /* a poll that cannot even be sent is retried, but only until the
     * deadline, as a poll without the wanted status is */
    if (get_poll(c, FL_F_RETRY_POLL, on_poll) && !follow_expired(c))
        uv_timer_start(&c->timer, on_poll_timer, c->rs->spec.every_ms, 0);
}

static int status_ends(struct resend *rs, const char *body, size_t len)
{
    struct fl_buf v;
    struct fl_error err = {0};
    fl_buf_init(&v, 256);
    int ends = 0;
    if (fl_jsonptr_lookup(body, len, rs->spec.status_ptr, &v, &err) == 0)
        for (size_t i = 0; i < rs->spec.nuntil && !ends; i++)
            ends = strcmp(rs->spec.until[i], fl_buf_str(&v)) == 0;
    fl_buf_free(&v);
    return ends;
}

static void on_poll(void *ud, const struct fl_http_result *res)
{
    struct chain *c = ud;
    struct resend *rs = c->rs;
    if (rs->stopped || res->outcome == FL_HTTP_ABORTED)
        return;
    enum fl_optype t = record_answer(c, c->proc, FL_F_RETRY_POLL, res);
    if (t == FL_OK && status_ends(rs, res->body, res->body_len)) {
        chain_done(c);
        return;
    }
    if (follow_expired(c))
        return;
    uv_timer_start(&c->timer, on_poll_timer, rs->spec.every_ms, 0);
}

static void on_copy(void *ud, const struct fl_http_result *res);

/* One copy's process number: copies are concurrent, each its own chain. */
static int32_t copy_proc(const struct chain *c, int copy)
{
    return c->proc + 1 + copy;
}

static void send_copies(struct chain *c)
{
    struct resend *rs = c->rs;
    c->waiting = (int)rs->spec.copies;
    char url[URL_MAX];
    struct fl_error err = {0};
    int url_ok = make_url(rs, rs->spec.path, c->key, url, &err) == 0;
    for (size_t k = 0; k < rs->spec.copies; k++) {
        int32_t proc = copy_proc(c, (int)k);
        record(c, proc, FL_INVOKE, FL_F_RETRY, NULL, NULL);
        struct fl_http_request rq = {.method = rs->spec.method, .url = url, .max_body = BODY_MAX};
        c->copies[k] = (struct copy){c, (int)k};
        if (url_ok && fl_http_submit(rs->http, &rq, on_copy, &c->copies[k], NULL, &err) == 0)
            continue;
        record(c, proc, FL_FAIL, FL_F_RETRY, NULL, err.msg[0] ? err.msg : "not sent");
        c->waiting--;
    }
    if (c->waiting == 0)
        chain_done(c);
}

static void on_copy(void *ud, const struct fl_http_result *res)
{
    struct copy *cp = ud;
    struct chain *c = cp->c;
    struct resend *rs = c->rs;
    if (rs->stopped || res->outcome == FL_HTTP_ABORTED)
        return;
    if (record_answer(c, copy_proc(c, cp->k), FL_F_RETRY, res) == FL_OK)
        c->accepted++;
    if (--c->waiting > 0)
        return;
    if (c->accepted && rs->spec.poll_path) {
        c->deadline_us = fl_run_now(rs->fr->run) + (int64_t)rs->spec.timeout_ms * 1000;
        uv_timer_start(&c->timer, on_poll_timer, rs->spec.every_ms, 0);
    } else {
        chain_done(c);
    }
}

static void on_read(void *ud, const struct fl_http_result *res)
{
    struct chain *c = ud;
    if (c->rs->stopped || res->outcome == FL_HTTP_ABORTED)
        return;
    record_answer(c, c->proc, FL_F_RETRY_READ, res);
    send_copies(c);
}

int fl_resend_start(struct fl_fault_run *fr, const struct fl_resend_spec *spec,
                    struct fl_error *err)
{
    const char *keys[FL_RESEND_MAX_KEYS];
    size_t max = spec->count < FL_RESEND_MAX_KEYS ? spec->count : FL_RESEND_MAX_KEYS;
    size_t n = 0;
    if (fl_resend_candidates(fr->run->history, spec->workload, spec->state, spec->nstate, keys,
                             max, &n))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (n == 0)
        return fl_error_set(err, FL_EINJECT, "no key captured by workload '%s'%s yet: nothing "
                            "to resend (inject later, or widen `state`)", spec->workload,
                            spec->nstate ? " in the wanted state" : "");
    struct resend *rs = calloc(1, sizeof *rs);
    if (!rs)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = fl_http_new(&rs->http, fr->run->loop, err);
    if (rc) {
        free(rs);
        return rc;
    }
    fr->state = rs;
    rs->fr = fr;
    rs->spec = *spec;
    if (rs->spec.copies > FL_RESEND_MAX_COPIES)
        rs->spec.copies = FL_RESEND_MAX_COPIES;
    if (rs->spec.copies == 0)
        rs->spec.copies = 1;
    rs->n = rs->left = n;
    size_t len = strlen(fr->desc);
    snprintf(fr->desc + len, sizeof fr->desc - len, "%s %s x%zu for %zu key%s of %s",
             spec->method, spec->path, rs->spec.copies, n, n == 1 ? "" : "s", spec->workload);
    for (size_t i = 0; i < n; i++) {
        struct chain *c = &rs->chains[i];
        c->rs = rs;
        c->i = i;
        c->key = keys[i];
        c->proc = FL_PROC_FAULT + 100000 + fr->index * 4096 +
                  (int32_t)(i * (FL_RESEND_MAX_COPIES + 1));
        uv_timer_init(fr->run->loop, &c->timer);
        c->timer.data = c;
        size_t kl = strlen(fr->key);
        if (kl + strlen(keys[i]) + 2 < sizeof fr->key)
            snprintf(fr->key + kl, sizeof fr->key - kl, "%s%s", kl ? "," : "", keys[i]);
    }
    /* started after every chain exists: an answer cannot end the fault early */
    for (size_t i = 0; i < n; i++) {
        struct chain *c = &rs->chains[i];
        if (!spec->poll_path || get_poll(c, FL_F_RETRY_READ, on_read))
            send_copies(c);
    }
    return FL_PENDING;
}

static void on_http_closed(void *ud)
{
    (void)ud;
}

void fl_resend_stop(struct fl_fault_run *fr)
{
    struct resend *rs = fr->state;
    if (!rs || rs->stopped)
        return;
    rs->stopped = 1;
    for (size_t i = 0; i < rs->n; i++)
        uv_timer_stop(&rs->chains[i].timer);
    fl_http_close(rs->http, on_http_closed, NULL);
    rs->http = NULL;
}
