/* scenario_workload.c - the workload: and probes: sections.
 *
 * A workload item is HTTP (`request:`) or Redis (`redis:`, a write per
 * operation with ${value} = its unique element, then one final read); a
 * probe is HTTP (`http:`) or Redis (`redis:` command), and `each: SVC`
 * makes it sample every replica of SVC (${each}, ${each.port}). Which
 * names a template may use is checked in scenario_refs.c. */
#include "scenario/scenario_internal.h"
#include "base/params_parse.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>


enum { Q_METHOD, Q_URL, Q_BODY, Q_HEADERS, Q_TIMEOUT, Q_COUNT };

static const char *const request_keys[Q_COUNT] = {
    [Q_METHOD] = "method", [Q_URL] = "url", [Q_BODY] = "body",
    [Q_HEADERS] = "headers", [Q_TIMEOUT] = "timeout",
};

enum { W_NAME, W_RATE, W_START, W_STOP, W_CONCURRENCY, W_REQUEST, W_REDIS, W_OK_STATUS,
       W_CAPTURE, W_FOLLOW, W_COUNT };

static const char *const workload_keys[W_COUNT] = {
    [W_NAME] = "name", [W_RATE] = "rate", [W_START] = "start", [W_STOP] = "stop",
    [W_CONCURRENCY] = "concurrency", [W_REQUEST] = "request", [W_REDIS] = "redis",
    [W_OK_STATUS] = "ok_status", [W_CAPTURE] = "capture", [W_FOLLOW] = "follow",
};

enum { R_SENTINELS, R_ADDR, R_MASTER, R_COMMAND, R_KEY, R_READ, R_WAIT, R_TIMEOUT, R_COUNT };

static const char *const redis_work_keys[R_COUNT] = {
    [R_SENTINELS] = "sentinels", [R_ADDR] = "addr", [R_MASTER] = "master",
    [R_COMMAND] = "command", [R_KEY] = "key", [R_READ] = "read", [R_WAIT] = "wait",
    [R_TIMEOUT] = "timeout",
};

enum { WT_REPLICAS, WT_TIMEOUT, WT_COUNT };

static const char *const wait_keys[WT_COUNT] = {
    [WT_REPLICAS] = "replicas", [WT_TIMEOUT] = "timeout",
};

enum { F_REQUEST, F_EVERY, F_RECORD, F_UNTIL, F_TIMEOUT, F_COUNT };

static const char *const follow_keys[F_COUNT] = {
    [F_REQUEST] = "request", [F_EVERY] = "every", [F_RECORD] = "record",
    [F_UNTIL] = "until", [F_TIMEOUT] = "timeout",
};

enum { P_HTTP, P_REDIS, P_FIELD, P_ADDR, P_SENTINELS, P_MASTER, P_EACH, P_RECORD,
       P_OK_STATUS, P_EVERY, P_TIMEOUT, P_METRIC, P_DISK, P_COUNT };

static const char *const probe_keys[P_COUNT] = {
    [P_HTTP] = "http", [P_REDIS] = "redis", [P_FIELD] = "field", [P_ADDR] = "addr",
    [P_SENTINELS] = "sentinels", [P_MASTER] = "master", [P_EACH] = "each",
    [P_RECORD] = "record", [P_OK_STATUS] = "ok_status", [P_EVERY] = "every",
    [P_TIMEOUT] = "timeout", [P_METRIC] = "metric", [P_DISK] = "disk",
};

static const char cmd_expect[] = "a Redis command as a list like [SADD, acked, \"${value}\"]";
static const char addr_expect[] = "an address like \"127.0.0.1:${redis.port}\"";

static const char url_expect[] = "a URL like http://${api}/healthz";

static int url_ok(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
           strncmp(s, "${", 2) == 0;
}

static void check_url(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                      const char *s)
{
    if (s && !url_ok(s))
        fl_sc_diag(ld, fl_sc_pos(ld, f->val, f->key_pos), "%s: expected %s; got '%s'", key,
                   url_expect, s);
}


static int method_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < 'A' || *s > 'Z')
            return 0;
    return 1;
}

/* A request mapping (workload or follow); ctx names the owner. */
static void request_map(struct fl_sc_loader *ld, struct fl_request *rq, const struct fl_sc_field *rf,
                        const char *ctx, enum fl_sc_scope scope, size_t owner)
{
    rq->method = "GET";
    rq->timeout_ms = 5000;
    struct fl_sc_field f[Q_COUNT];
    if (fl_sc_fields(ld, rf->val, request_keys, Q_COUNT, ctx, rf->key_pos, f))
        return;
    const char *m = fl_sc_str(ld, &f[Q_METHOD], "method", "an HTTP method like GET or POST");
    if (m && !method_ok(m))
        fl_sc_diag(ld, fl_sc_pos(ld, f[Q_METHOD].val, f[Q_METHOD].key_pos),
                   "method: expected an HTTP method in capitals like GET or POST; got '%s'", m);
    else if (m)
        rq->method = m;
    if (!f[Q_URL].present)
        fl_sc_diag(ld, fl_sc_pos(ld, rf->val, rf->key_pos), "missing required key 'url' in %s; "
                   "expected %s", ctx, url_expect);
    rq->url = fl_sc_tpl(ld, &f[Q_URL], "url", url_expect, scope, owner);
    check_url(ld, &f[Q_URL], "url", rq->url);
    rq->body = fl_sc_tpl(ld, &f[Q_BODY], "body", "a request body as a string", scope, owner);
    if (f[Q_HEADERS].present)
        fl_sc_kv_map(ld, &f[Q_HEADERS], "headers",
                     "Name: value, like { Content-Type: application/json }", NULL, NULL, scope,
                     owner, &rq->headers, &rq->nheaders);
    /* libcurl reads a timeout of 0 as "none": a request could hang. */
    fl_sc_duration_min(ld, &f[Q_TIMEOUT], "timeout", 1, &rq->timeout_ms);
}

static void capture_map(struct fl_sc_loader *ld, struct fl_workload *w, const struct fl_sc_field *f)
{
    struct fy_node *n = f->val;
    if (!n || !fy_node_is_mapping(n) || fy_node_mapping_item_count(n) <= 0) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, f->key_pos), "capture: expected a mapping of name: "
                   "JSON Pointer, like { job: /job_id }; got %s",
                   n && fy_node_is_mapping(n) ? "an empty mapping" : fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    struct fl_capture *c = fl_sc_alloc(ld, (size_t)cnt * sizeof *c);
    if (!c)
        return;
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && k < (size_t)cnt) {
        struct fl_capture cap;
        cap.name = fl_sc_key(ld, p, &cap.pos, f->key_pos);
        if (!cap.name)
            continue;
        if (!fl_sc_valid_name(cap.name, 0)) {
            fl_sc_diag(ld, cap.pos, "capture '%s': expected a name made of letters, digits, "
                       "'_', '-'", cap.name);
            continue;
        }
        if (!fl_sc_name_fits(ld, cap.pos, "capture", cap.name))
            continue;
        struct fl_sc_field v = {1, fl_sc_val(fy_node_pair_value(p)), cap.pos};
        cap.pointer = fl_sc_pointer(ld, &v, cap.name);
        if (cap.pointer)
            c[k++] = cap;
    }
    w->capture = c;
    w->ncapture = k;
}

static void follow_map(struct fl_sc_loader *ld, struct fl_workload *w, const struct fl_sc_field *ff,
                       const char *wctx, size_t owner)
{
    struct fl_follow *fo = &w->follow;
    w->has_follow = 1;
    fo->every_ms = 250;
    fo->timeout_ms = 30000;
    fo->request.method = "GET";
    fo->request.timeout_ms = 5000;
    char ctx[200];
    snprintf(ctx, sizeof ctx, "follow of %s", wctx);
    struct fl_sc_field f[F_COUNT];
    if (fl_sc_fields(ld, ff->val, follow_keys, F_COUNT, ctx, ff->key_pos, f))
        return;
    struct fl_pos at = fl_sc_pos(ld, ff->val, ff->key_pos);
    static const char *const required[] = {"request", "record", "until"};
    static const char *const forms[] = {"a mapping like { url: \"http://${api}/jobs/${job}\" }",
                                        "a JSON Pointer like /status",
                                        "a value or a list like [complete, failed]"};
    static const int idx[] = {F_REQUEST, F_RECORD, F_UNTIL};
    for (size_t i = 0; i < 3; i++)
        if (!f[idx[i]].present)
            fl_sc_diag(ld, at, "missing required key '%s' in %s; expected %s", required[i], ctx,
                       forms[i]);
    if (w->ncapture == 0)
        fl_sc_diag(ld, ff->key_pos, "%s: follow needs a capture to follow, like "
                   "capture: { job: /job_id }", wctx);
    char rctx[220];
    snprintf(rctx, sizeof rctx, "request of %s", ctx);
    if (f[F_REQUEST].present)
        request_map(ld, &fo->request, &f[F_REQUEST], rctx, FL_SC_FOLLOW, owner);
    fl_sc_duration_min(ld, &f[F_EVERY], "every", 1, &fo->every_ms);   /* 0: a busy poll */
    fo->record = fl_sc_pointer(ld, &f[F_RECORD], "record");
    fo->until = fl_sc_strlist(ld, &f[F_UNTIL], "until", forms[2], 1, 0, FL_SC_REQUEST, 0,
                              &fo->nuntil);
    fl_sc_duration_min(ld, &f[F_TIMEOUT], "timeout", 1, &fo->timeout_ms);
}

/* A key naming a service (sentinels:, each:): the name (NULL when not a
 * scalar). A name no service has gets a diagnostic with a did-you-mean
 * and is still returned, so that ${each} is not reported a second time. */
static const char *service_ref(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                               const char *key, const char *expect)
{
    const char *s = fl_sc_str(ld, f, key, expect);
    if (!s)
        return NULL;
    const char *cands[128];
    size_t n = 0;
    for (size_t i = 0; i < ld->nservices; i++) {
        if (strcmp(ld->services[i].name, s) == 0)
            return s;
        if (n < 128)
            cands[n++] = ld->services[i].name;
    }
    struct fl_buf b;
    fl_buf_init(&b, 4096);
    fl_join_names(&b, cands, n);
    const char *sug = fl_suggest(s, cands, n);
    fl_sc_diag(ld, fl_sc_pos(ld, f->val, f->key_pos), "%s: no service named '%s'; services: "
               "%s%s%s%s", key, s, n ? fl_buf_str(&b) : "none", sug ? "; did you mean '" : "",
               sug ? sug : "", sug ? "'?" : "");
    fl_buf_free(&b);
    return s;
}

/* Where a Redis client connects: addr (a template) or sentinels (a
 * service) plus master; with allow_none (a per-replica probe) neither is
 * needed: the client connects to ${each}. */
static void redis_at(struct fl_sc_loader *ld, struct fl_redis_at *at, const struct fl_sc_field *fa,
                     const struct fl_sc_field *fs, const struct fl_sc_field *fm, struct fl_pos pos,
                     const char *ctx, int allow_none)
{
    at->master = "mymaster";
    if (fa->present && fs->present)
        fl_sc_diag(ld, fs->key_pos, "%s: addr and sentinels are exclusive; give the address "
                   "of the server or the service whose replicas are sentinels", ctx);
    else if (!fa->present && !fs->present && !allow_none)
        fl_sc_diag(ld, pos, "missing required key 'addr' or 'sentinels' in %s; expected addr: "
                   "\"127.0.0.1:${redis.port}\" or sentinels: SERVICE", ctx);
    at->addr = fl_sc_tpl(ld, fa, "addr", addr_expect, FL_SC_REQUEST, 0);
    if (fs->present)
        at->sentinels = service_ref(ld, fs, "sentinels", "the name of the sentinel service");
    const char *m = fl_sc_str(ld, fm, "master", "a sentinel master name like mymaster");
    if (m && !fl_sc_valid_name(m, 0))
        fl_sc_diag(ld, fl_sc_pos(ld, fm->val, fm->key_pos), "master: expected a sentinel "
                   "master name made of letters, digits, '_', '-'; got '%s'", m);
    else if (m)
        at->master = m;
    if (fm->present && !fs->present)
        fl_sc_diag(ld, fm->key_pos, "%s: master is only used with sentinels", ctx);
}

static void wait_map(struct fl_sc_loader *ld, struct fl_redis_work *r, const struct fl_sc_field *wf,
                     const char *ctx)
{
    char wctx[220];
    snprintf(wctx, sizeof wctx, "wait of %s", ctx);
    struct fl_sc_field f[WT_COUNT];
    if (fl_sc_fields(ld, wf->val, wait_keys, WT_COUNT, wctx, wf->key_pos, f))
        return;
    if (!f[WT_REPLICAS].present)
        fl_sc_diag(ld, fl_sc_pos(ld, wf->val, wf->key_pos), "missing required key 'replicas' in "
                   "%s; expected the number of replicas to wait for, like { replicas: 1 }", wctx);
    long long n = 0;
    if (fl_sc_int(ld, &f[WT_REPLICAS], "replicas", 1, 100, &n) == 0)
        r->wait_replicas = (int)n;
    /* WAIT with a timeout of 0 blocks for ever. */
    fl_sc_duration_min(ld, &f[WT_TIMEOUT], "timeout", 1, &r->wait_timeout_ms);
}

static void redis_work_map(struct fl_sc_loader *ld, struct fl_workload *w,
                           const struct fl_sc_field *rf, const char *wctx)
{
    struct fl_redis_work *r = &w->redis;
    w->kind = FL_WORKLOAD_REDIS;
    r->at.master = "mymaster";
    r->wait_timeout_ms = 100;
    r->timeout_ms = 1000;
    char ctx[200];
    snprintf(ctx, sizeof ctx, "redis of %s", wctx);
    struct fl_sc_field f[R_COUNT];
    if (fl_sc_fields(ld, rf->val, redis_work_keys, R_COUNT, ctx, rf->key_pos, f))
        return;
    struct fl_pos at = fl_sc_pos(ld, rf->val, rf->key_pos);
    redis_at(ld, &r->at, &f[R_ADDR], &f[R_SENTINELS], &f[R_MASTER], at, ctx, 0);
    if (!f[R_COMMAND].present)
        fl_sc_diag(ld, at, "missing required key 'command' in %s; expected %s", ctx, cmd_expect);
    r->command = fl_sc_strlist(ld, &f[R_COMMAND], "command", cmd_expect, 0, 1, FL_SC_REQUEST, 0,
                               &r->ncommand);
    if (!f[R_KEY].present)
        fl_sc_diag(ld, at, "missing required key 'key' in %s; expected the Redis key written "
                   "to, like acked", ctx);
    r->key = fl_sc_str(ld, &f[R_KEY], "key", "a Redis key like acked");
    if (r->key && !r->key[0]) {
        fl_sc_diag(ld, f[R_KEY].key_pos, "key: expected a Redis key like acked; got nothing");
        r->key = NULL;
    }
    r->read = fl_sc_strlist(ld, &f[R_READ], "read", "a Redis command as a list like "
                            "[SMEMBERS, acked]", 0, 1, FL_SC_REQUEST, 0, &r->nread);
    if (f[R_WAIT].present)
        wait_map(ld, r, &f[R_WAIT], ctx);
    fl_sc_duration_min(ld, &f[R_TIMEOUT], "timeout", 1, &r->timeout_ms);
}

/* Keys that only make sense for the other kind of workload or probe. */
static void not_for(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                    const char *ctx, const char *only)
{
    if (f->present)
        fl_sc_diag(ld, f->key_pos, "%s: '%s' is only for %s", ctx, key, only);
}

/* rate: a positive rate within FL_SC_RATE_MIN..FL_SC_RATE_MAX (vars
 * substituted). Returns 0, or -1 after a diagnostic (w->rate is then 0). */
static int rate_key(struct fl_sc_loader *ld, struct fl_workload *w, const struct fl_sc_field *f,
                    const char *ctx)
{
    static const char rate_expect[] = "a rate like 10/s, 600/m";
    if (!f->present) {
        fl_sc_diag(ld, w->pos, "missing required key 'rate' in %s; expected %s", ctx,
                   rate_expect);
        return -1;
    }
    const char *written;
    const char *rate = fl_sc_typed(ld, f, "rate", rate_expect, &written);
    if (!rate)
        return -1;
    struct fl_pos pos = fl_sc_pos(ld, f->val, f->key_pos);
    double r;
    if (fl_parse_rate(rate, &r)) {
        fl_sc_bad_value(ld, pos, "rate", written, rate, "%s", rate_expect);
        return -1;
    }
    if (!(r >= FL_SC_RATE_MIN * (1 - 1e-9)) || !(r <= FL_SC_RATE_MAX)) {
        fl_sc_bad_value(ld, pos, "rate", written, rate, "a rate from 1/h to %.0f/s",
                        FL_SC_RATE_MAX);
        return -1;
    }
    w->rate = r;
    return 0;
}

/* rate x (stop - start) operations at most FL_SC_MAX_OPS. */
static void ops_fit(struct fl_sc_loader *ld, const struct fl_workload *w,
                    const struct fl_sc_field *rate, const char *ctx)
{
    double ops = w->rate * (double)(w->stop_ms - w->start_ms) / 1000.0;
    if (ops <= FL_SC_MAX_OPS)
        return;
    char win[32];
    fl_format_duration(w->stop_ms - w->start_ms, win, sizeof win);
    fl_sc_diag(ld, fl_sc_pos(ld, rate->val, rate->key_pos), "rate: %s would schedule %.0f "
               "operations in its %s window; at most %.0f (each is recorded in the history): "
               "lower the rate or shorten start..stop", ctx, ops, win, FL_SC_MAX_OPS);
}

static void one_workload(struct fl_sc_loader *ld, struct fl_workload *w, struct fy_node *n,
                         size_t index, struct fl_pos key_pos)
{
    w->stop_ms = ld->sc->duration_ms;
    w->concurrency = 64;
    w->request.method = "GET";
    w->request.timeout_ms = 5000;
    w->pos = fl_sc_pos(ld, n, key_pos);
    char ctx[160];
    snprintf(ctx, sizeof ctx, "workload #%zu", index + 1);
    struct fl_sc_field f[W_COUNT];
    if (fl_sc_fields(ld, n, workload_keys, W_COUNT, ctx, w->pos, f))
        return;
    w->name = fl_sc_str(ld, &f[W_NAME], "name", "a workload name like submit");
    if (!f[W_NAME].present) {
        fl_sc_diag(ld, w->pos, "missing required key 'name' in %s; expected a workload name "
                   "like submit", ctx);
    } else if (w->name && !fl_sc_valid_name(w->name, 0)) {
        fl_sc_diag(ld, fl_sc_pos(ld, f[W_NAME].val, f[W_NAME].key_pos), "name: expected a "
                   "workload name made of letters, digits, '_', '-'; got '%s'", w->name);
    } else if (w->name && !fl_sc_name_fits(ld, fl_sc_pos(ld, f[W_NAME].val, f[W_NAME].key_pos),
                                           "workload", w->name)) {
        w->name = NULL;
    } else if (w->name) {
        for (size_t i = 0; i < index; i++)
            if (ld->workloads[i].name && strcmp(ld->workloads[i].name, w->name) == 0)
                fl_sc_diag(ld, fl_sc_pos(ld, f[W_NAME].val, f[W_NAME].key_pos),
                           "duplicate workload name '%s' (first at line %d); names must be "
                           "unique", w->name, ld->workloads[i].pos.line);
        snprintf(ctx, sizeof ctx, "workload '%s'", w->name);
    }
    int bad = rate_key(ld, w, &f[W_RATE], ctx);
    int bad_window = fl_sc_duration(ld, &f[W_START], "start", &w->start_ms);
    bad_window |= fl_sc_duration(ld, &f[W_STOP], "stop", &w->stop_ms);
    if (!bad_window && w->start_ms >= w->stop_ms)
        fl_sc_diag(ld, f[W_START].present ? f[W_START].key_pos : f[W_STOP].key_pos,
                   "%s: start must come before stop (the scenario's duration by default)", ctx);
    else if (!bad_window && !bad)
        ops_fit(ld, w, &f[W_RATE], ctx);
    long long conc = 64;
    fl_sc_int(ld, &f[W_CONCURRENCY], "concurrency", 1, FL_SC_MAX_CONCURRENCY, &conc);
    w->concurrency = (int)conc;
    char rctx[200];
    snprintf(rctx, sizeof rctx, "request of %s", ctx);
    if (f[W_REQUEST].present && f[W_REDIS].present) {
        fl_sc_diag(ld, f[W_REDIS].key_pos, "%s: request and redis are exclusive; a workload "
                   "sends HTTP requests or Redis commands", ctx);
    } else if (f[W_REDIS].present) {
        redis_work_map(ld, w, &f[W_REDIS], ctx);
        not_for(ld, &f[W_OK_STATUS], "ok_status", ctx, "HTTP workloads (request:)");
        not_for(ld, &f[W_CAPTURE], "capture", ctx, "HTTP workloads (request:)");
        not_for(ld, &f[W_FOLLOW], "follow", ctx, "HTTP workloads (request:)");
        return;
    } else if (!f[W_REQUEST].present) {
        fl_sc_diag(ld, w->pos, "missing required key 'request' (or 'redis') in %s; expected a "
                   "mapping like { method: POST, url: \"http://${api}/jobs\" }", ctx);
    } else {
        request_map(ld, &w->request, &f[W_REQUEST], rctx, FL_SC_REQUEST, index);
    }
    fl_sc_status_list(ld, &f[W_OK_STATUS], &w->ok_status, &w->nok_status);
    if (f[W_CAPTURE].present)
        capture_map(ld, w, &f[W_CAPTURE]);
    if (f[W_FOLLOW].present)
        follow_map(ld, w, &f[W_FOLLOW], ctx, index);
}

void fl_sc_workloads(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n || !fy_node_is_sequence(n) || fy_node_sequence_item_count(n) <= 0) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "workload: expected a list of workloads "
                   "like - { name: submit, rate: 10/s, request: {...} }; got %s",
                   n && fy_node_is_sequence(n) ? "an empty list" : fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_sequence_item_count(n);
    fl_sc_count_fits(ld, key_pos, "workload", cnt, FL_SC_MAX_WORKLOADS);
    ld->workloads = fl_sc_alloc(ld, (size_t)cnt * sizeof *ld->workloads);
    if (!ld->workloads)
        return;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) && ld->nworkloads < (size_t)cnt) {
        size_t i = ld->nworkloads++;
        one_workload(ld, &ld->workloads[i], fl_sc_val(item), i, key_pos);
    }
}

static void one_probe(struct fl_sc_loader *ld, struct fl_probe *pr, struct fy_node *n)
{
    pr->kind = FL_PROBE_HTTP;
    pr->every_ms = 500;
    pr->timeout_ms = 2000;
    char ctx[160];
    snprintf(ctx, sizeof ctx, "probe '%s'", pr->name);
    struct fl_sc_field f[P_COUNT];
    if (fl_sc_fields(ld, n, probe_keys, P_COUNT, ctx, pr->pos, f))
        return;
    if (f[P_EACH].present)
        pr->each = service_ref(ld, &f[P_EACH], "each", "the name of a service");
    if (f[P_HTTP].present + f[P_REDIS].present + f[P_DISK].present > 1) {
        fl_sc_diag(ld, f[P_REDIS].present ? f[P_REDIS].key_pos : f[P_DISK].key_pos, "%s: http, "
                   "redis and disk are exclusive; a probe sends an HTTP request or a Redis "
                   "command, or measures a disk", ctx);
    } else if (f[P_DISK].present) {
        pr->kind = FL_PROBE_DISK;
        pr->disk = fl_sc_tpl(ld, &f[P_DISK], "disk", "a path like \"${svc.0.volume.spool}\"",
                             FL_SC_REQUEST, 0);
        static const int dkeys[] = {P_FIELD, P_ADDR, P_SENTINELS, P_MASTER, P_RECORD,
                                    P_OK_STATUS, P_METRIC, P_EACH};
        for (size_t i = 0; i < sizeof dkeys / sizeof dkeys[0]; i++)
            not_for(ld, &f[dkeys[i]], probe_keys[dkeys[i]], ctx, "HTTP or Redis probes");
    } else if (f[P_REDIS].present) {
        pr->kind = FL_PROBE_REDIS;
        pr->command = fl_sc_strlist(ld, &f[P_REDIS], "redis", "a Redis command as a list like "
                                    "[INFO, replication]", 0, 1, FL_SC_REQUEST, 0, &pr->ncommand);
        pr->field = fl_sc_str(ld, &f[P_FIELD], "field", "an INFO field name like role");
        redis_at(ld, &pr->at, &f[P_ADDR], &f[P_SENTINELS], &f[P_MASTER], pr->pos, ctx,
                 f[P_EACH].present);
        not_for(ld, &f[P_RECORD], "record", ctx, "HTTP probes (use field)");
        not_for(ld, &f[P_OK_STATUS], "ok_status", ctx, "HTTP probes");
        not_for(ld, &f[P_METRIC], "metric", ctx, "HTTP probes");
    } else {
        if (!f[P_HTTP].present)
            fl_sc_diag(ld, pr->pos, "missing required key 'http' (or 'redis') in %s; expected %s",
                       ctx, url_expect);
        pr->url = fl_sc_tpl(ld, &f[P_HTTP], "http", url_expect, FL_SC_REQUEST, 0);
        check_url(ld, &f[P_HTTP], "http", pr->url);
        if (f[P_RECORD].present)
            pr->record = fl_sc_pointer(ld, &f[P_RECORD], "record");
        if (f[P_METRIC].present && f[P_RECORD].present)
            fl_sc_diag(ld, f[P_METRIC].key_pos, "%s: record (a JSON Pointer) and metric (a "
                       "Prometheus series) are exclusive", ctx);
        if (f[P_METRIC].present)
            pr->metric = fl_sc_str(ld, &f[P_METRIC], "metric", "a Prometheus series like "
                                   "rows_read_total or rows_read_total{job=\"load\"}");
        fl_sc_status_list(ld, &f[P_OK_STATUS], &pr->ok_status, &pr->nok_status);
        static const int rkeys[] = {P_FIELD, P_ADDR, P_SENTINELS, P_MASTER};
        for (size_t i = 0; i < sizeof rkeys / sizeof rkeys[0]; i++)
            not_for(ld, &f[rkeys[i]], probe_keys[rkeys[i]], ctx, "Redis probes (redis:)");
    }
    fl_sc_duration_min(ld, &f[P_EVERY], "every", 1, &pr->every_ms);
    fl_sc_duration_min(ld, &f[P_TIMEOUT], "timeout", 1, &pr->timeout_ms);
}

void fl_sc_probes(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos key_pos)
{
    if (!n)
        return;
    if (!fy_node_is_mapping(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, key_pos), "probes: expected a mapping of name: "
                   "{ http: URL }; got %s", fl_sc_got(ld, n));
        return;
    }
    int cnt = fy_node_mapping_item_count(n);
    fl_sc_count_fits(ld, key_pos, "probes", cnt, FL_SC_MAX_PROBES);
    ld->probes = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *ld->probes);
    if (!ld->probes)
        return;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && ld->nprobes < (size_t)cnt) {
        struct fl_probe *pr = &ld->probes[ld->nprobes];
        pr->name = fl_sc_key(ld, p, &pr->pos, key_pos);
        if (!pr->name)
            continue;
        if (!fl_sc_valid_name(pr->name, 0)) {
            fl_sc_diag(ld, pr->pos, "probe '%s': expected a name made of letters, digits, "
                       "'_', '-'", pr->name);
            continue;
        }
        if (!fl_sc_name_fits(ld, pr->pos, "probe", pr->name))
            continue;
        one_probe(ld, pr, fl_sc_val(fy_node_pair_value(p)));
        ld->nprobes++;
    }
}
