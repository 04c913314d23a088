#include "injectors/redis_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/redis.h"
#include "proto/sentinel.h"

#define SENTINEL_TIMEOUT_MS 1000   /* connect, then the answer, per sentinel */

/* ---- one-shot command ------------------------------------------------- */

struct rq {
    struct fl_run *run;
    struct fl_redis *r;
    uint64_t timeout_ms;
    int argc;
    char **argv;
    fl_rq_cb cb;
    void *ud;
    struct fl_rq_result res;
    int answered;
};

static void rq_free(void *p)
{
    struct rq *q = p;
    for (int i = 0; i < q->argc; i++)
        free(q->argv[i]);
    free(q->argv);
    free(q);
}

static void rq_finish(struct rq *q)
{
    if (q->answered)
        return;
    q->answered = 1;
    q->cb(&q->res, q->ud);
    fl_redis_close(q->r, rq_free, q);
}

static void rq_reply(struct fl_redis *r, const redisReply *rep, int status, const char *errmsg,
                     void *ud)
{
    (void)r;
    struct rq *q = ud;
    q->res.status = status;
    if (!rep) {
        snprintf(q->res.text, sizeof q->res.text, "%s", errmsg ? errmsg : fl_strerror(status));
    } else {
        struct fl_buf b;
        fl_buf_init(&b, sizeof q->res.text);
        fl_redis_reply_text(rep, &b, NULL);
        snprintf(q->res.text, sizeof q->res.text, "%s", fl_buf_str(&b));
        fl_buf_free(&b);
        q->res.is_error = rep->type == REDIS_REPLY_ERROR;
        if (rep->type == REDIS_REPLY_ARRAY) {
            for (size_t i = 0; i < rep->elements && q->res.nelem < 4; i++) {
                const redisReply *e = rep->element[i];
                if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
                    snprintf(q->res.elem[q->res.nelem], sizeof q->res.elem[0], "%.*s",
                             (int)e->len, e->str);
                else if (e->type == REDIS_REPLY_INTEGER)
                    snprintf(q->res.elem[q->res.nelem], sizeof q->res.elem[0], "%lld",
                             e->integer);
                q->res.nelem++;
            }
            if (rep->elements > 2 && rep->element[2]->type == REDIS_REPLY_ARRAY)
                q->res.nested = rep->element[2]->elements;
        }
    }
    rq_finish(q);
}

static void rq_connected(struct fl_redis *r, int status, const char *errmsg, void *ud)
{
    struct rq *q = ud;
    if (status) {
        q->res.status = status;
        snprintf(q->res.text, sizeof q->res.text, "%s", errmsg ? errmsg : fl_strerror(status));
        rq_finish(q);
        return;
    }
    struct fl_error err = {0};
    if (fl_redis_command_argv(r, q->timeout_ms, rq_reply, q, &err, q->argc,
                              (const char *const *)q->argv, NULL)) {
        q->res.status = err.code ? err.code : FL_EIO;
        snprintf(q->res.text, sizeof q->res.text, "%s", err.msg);
        rq_finish(q);
    }
}

int fl_rq(struct fl_run *run, int port, uint64_t timeout_ms, int argc,
          const char *const *argv, fl_rq_cb cb, void *ud, struct fl_error *err)
{
    struct rq *q = calloc(1, sizeof *q);
    if (!q || !(q->argv = calloc((size_t)argc, sizeof *q->argv))) {
        free(q);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    q->run = run;
    q->timeout_ms = timeout_ms;
    q->cb = cb;
    q->ud = ud;
    for (int i = 0; i < argc; i++) {
        q->argv[i] = strdup(argv[i]);
        q->argc = i + 1;
        if (!q->argv[i]) {
            rq_free(q);
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        }
    }
    int rc = fl_redis_connect(run->loop, "127.0.0.1", port, timeout_ms, rq_connected, q, &q->r,
                              err);
    if (rc) {
        rq_free(q);
        return rc;
    }
    return 0;
}

int fl_parse_role(const char *s, enum fl_redis_role *out)
{
    if (strcmp(s, "primary") == 0)
        *out = FL_ROLE_PRIMARY;
    else if (strcmp(s, "replica") == 0)
        *out = FL_ROLE_REPLICA;
    else if (strcmp(s, "any") == 0)
        *out = FL_ROLE_ANY;
    else
        return FL_EINVAL;
    return 0;
}

struct fl_instance *fl_instance_by_port(struct fl_run *run, const char *service, int port)
{
    struct fl_instance *all[FL_MAX_PICK];
    size_t n = fl_target_instances(run->target, service, all, FL_MAX_PICK);
    for (size_t i = 0; i < n && i < FL_MAX_PICK; i++)
        if (all[i]->port == port)
            return all[i];
    return NULL;
}

/* ---- role discovery and pick ------------------------------------------ */

struct rpick {
    struct fl_fault_run *fr;
    enum fl_redis_role role;
    struct fl_pick pick;
    fl_rpick_cb cb;
    struct fl_instance *inst[FL_MAX_PICK];
    int is_master[FL_MAX_PICK];
    size_t replicas[FL_MAX_PICK];
    size_t n, waiting;
    char err[256];
};

struct rpick_one {
    struct rpick *p;
    size_t i;
};

static void rpick_done(struct rpick *p)
{
    if (p->fr->cancelled) {   /* the fault was abandoned: nobody waits */
        free(p);
        return;
    }
    struct fl_instance *cand[FL_MAX_PICK];
    size_t m = 0, best = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->is_master[i] == 1 && p->replicas[i] > best)
            best = p->replicas[i];
    for (size_t i = 0; i < p->n; i++) {
        int primary = p->is_master[i] == 1 && p->replicas[i] == best;
        int replica = p->is_master[i] == 0;
        if ((p->role == FL_ROLE_PRIMARY && primary) || (p->role == FL_ROLE_REPLICA && replica) ||
            (p->role == FL_ROLE_ANY && p->is_master[i] >= 0))
            cand[m++] = p->inst[i];
    }
    size_t want = p->pick.kind == FL_PICK_ALL       ? m
                  : p->pick.kind == FL_PICK_COUNT   ? (size_t)p->pick.n
                  : p->pick.kind == FL_PICK_PERCENT ? (m * (size_t)p->pick.n + 99) / 100
                                                    : 1;
    if (p->role == FL_ROLE_PRIMARY && want > 1)
        want = 1;
    if (want > m)
        want = m;
    size_t idx[FL_MAX_PICK];
    for (size_t i = 0; i < m; i++)
        idx[i] = i;
    fl_rng_shuffle(&p->fr->run->rng, idx, m);
    struct fl_instance *out[FL_MAX_PICK];
    for (size_t i = 0; i < want; i++)
        out[i] = cand[idx[i]];
    if (want == 0 && !p->err[0])
        snprintf(p->err, sizeof p->err, "no running instance with role %s",
                 p->role == FL_ROLE_PRIMARY ? "primary" : p->role == FL_ROLE_REPLICA ? "replica"
                                                                                     : "any");
    p->cb(p->fr, out, want, want ? NULL : p->err);
    free(p);
}

static void rpick_reply(const struct fl_rq_result *res, void *ud)
{
    struct rpick_one *o = ud;
    struct rpick *p = o->p;
    if (res->status == 0 && !res->is_error && res->nelem > 0) {
        p->is_master[o->i] = strcmp(res->elem[0], "master") == 0;
        p->replicas[o->i] = res->nested;
    } else {
        p->is_master[o->i] = -1;
        snprintf(p->err, sizeof p->err, "ROLE on %.60s: %.180s", p->inst[o->i]->id, res->text);
    }
    free(o);
    if (--p->waiting == 0)
        rpick_done(p);
}

int fl_redis_pick(struct fl_fault_run *fr, const char *service, enum fl_redis_role role,
                  const struct fl_pick *pick, fl_rpick_cb cb, struct fl_error *err)
{
    struct fl_run *run = fr->run;
    struct rpick *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    p->fr = fr;
    p->role = role;
    p->pick = *pick;
    p->cb = cb;
    struct fl_instance *all[FL_MAX_PICK];
    size_t n = fl_target_instances(run->target, service, all, FL_MAX_PICK);
    for (size_t i = 0; i < n && i < FL_MAX_PICK; i++)
        if (fl_inst_running(all[i]) && !all[i]->frozen && !all[i]->stopped_by_signal)
            p->inst[p->n++] = all[i];
    if (p->n == 0) {
        free(p);
        return fl_error_set(err, FL_EINJECT, "no running instance of service '%s'", service);
    }
    static const char *const role_cmd[] = {"ROLE"};
    p->waiting = p->n + 1; /* +1 until every request is sent */
    for (size_t i = 0; i < p->n; i++) {
        struct rpick_one *o = calloc(1, sizeof *o);
        struct fl_error e = {0};
        if (o) {
            o->p = p;
            o->i = i;
        }
        if (!o || fl_rq(run, p->inst[i]->port, 1000, 1, role_cmd, rpick_reply, o, &e)) {
            free(o);
            p->is_master[i] = -1;
            p->waiting--;
        }
    }
    if (--p->waiting == 0)
        rpick_done(p);
    return 0;
}

/* ---- sentinels -------------------------------------------------------- */

struct primary_ask {
    struct fl_fault_run *fr;
    fl_rprimary_cb cb;
};

static void on_primary(int status, const char *host, int port, const char *why, void *ud)
{
    (void)host;   /* the local target's instances all listen on 127.0.0.1 */
    struct primary_ask p = *(struct primary_ask *)ud;
    free(ud);
    if (p.fr->cancelled)
        return;
    if (status)
        p.cb(p.fr, 0, why);
    else
        p.cb(p.fr, port, NULL);
}

int fl_sentinel_primary(struct fl_fault_run *fr, const char *sentinels, const char *master,
                        fl_rprimary_cb cb, struct fl_error *err)
{
    struct fl_instance *all[FL_MAX_PICK];
    struct fl_sentinel_addr addrs[FL_MAX_PICK];
    size_t n = fl_target_instances(fr->run->target, sentinels, all, FL_MAX_PICK);
    size_t m = 0;
    for (size_t i = 0; i < n && i < FL_MAX_PICK && m < FL_SENTINEL_MAX; i++)
        if (fl_inst_running(all[i]) && !all[i]->frozen && !all[i]->stopped_by_signal)
            addrs[m++] = (struct fl_sentinel_addr){
                .name = all[i]->id, .host = all[i]->host, .port = all[i]->port};
    if (m == 0)
        return fl_error_set(err, FL_EINJECT, "no running instance of sentinel service '%s'",
                            sentinels);
    struct primary_ask *p = calloc(1, sizeof *p);
    if (!p)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    p->fr = fr;
    p->cb = cb;
    struct fl_sentinel_query *q;
    int rc = fl_sentinel_ask(fr->run->loop, addrs, m, master ? master : FL_SENTINEL_DEFAULT_MASTER,
                             SENTINEL_TIMEOUT_MS, on_primary, p, &q, err);
    if (rc)
        free(p);
    return rc;
}

int fl_redis_pick_start(struct fl_fault_run *fr, size_t state_size, fl_rpick_cb cb,
                        struct fl_error *err)
{
    const struct fl_args *a = &fr->fault->args;
    enum fl_redis_role role;
    if (fl_parse_role(a->v[1].s, &role))
        return fl_error_set(err, FL_EINVAL, "role: expected primary, replica or any; got '%s'",
                            a->v[1].s);
    void *state = calloc(1, state_size);
    if (!state)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    fr->state = state;
    int rc = fl_redis_pick(fr, a->v[0].s, role, &a->v[2].pick, cb, err);
    if (rc) {
        fr->state = NULL;
        free(state);
        return rc;
    }
    return FL_PENDING;
}
