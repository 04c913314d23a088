/* ready.c - when a container of the compose target counts as ready.
 *
 * Running (and healthy, when the container has a healthcheck) is not
 * enough: the process inside may not listen yet, and docker-proxy accepts
 * connections on the published port before it does, so a TCP check proves
 * nothing. When the scenario's service has an HTTP `ready:` check, it is
 * polled on the container's published port (${port}) after every start,
 * as the local target does; other kinds count as ready once running. */
#include "targets/compose/compose_int.h"
#include "base/template.h"
#include "core/run_context.h"
#include "proto/http.h"

#include <stdio.h>
#include <string.h>

#define URL_MAX 2048

static int inst_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                        struct fl_error *err)
{
    struct compose_inst *in = ud;
    if (len == 4 && memcmp(name, "port", 4) == 0)
        return fl_buf_addf(out, "%d", in->pub.port) ? FL_ENOMEM : 0;
    if (len == 7 && memcmp(name, "replica", 7) == 0)
        return fl_buf_addf(out, "%d", in->pub.replica) ? FL_ENOMEM : 0;
    if (len == 4 && memcmp(name, "host", 4) == 0)
        return fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
    return fl_run_resolve(in->ct->run, name, len, out, err);
}

static const struct fl_ready *spec(struct compose_inst *in)
{
    for (size_t i = 0; i < in->ct->nsvcs; i++)
        if (strcmp(in->ct->svcs[i].svc->name, in->pub.service) == 0)
            return &in->ct->svcs[i].svc->ready;
    return NULL;
}

static void attempt(uv_timer_t *t);

static void on_reply(void *ud, const struct fl_http_result *res)
{
    struct compose_inst *in = ud;
    in->ready_req = NULL;
    if (res->outcome == FL_HTTP_ABORTED || in->ct->destroyed || !in->running)
        return;
    const struct fl_ready *r = spec(in);
    double elapsed = (double)(fl_now_us() - in->ready_since_us) / 1e6;
    if (res->outcome == FL_HTTP_DONE && res->status >= 200 && res->status < 300) {
        in->http_ready = 1;
        fl_compose_set_state(in);   /* records "ready after" */
        return;
    }
    if (r && elapsed * 1000.0 >= (double)r->timeout_ms) {
        if (!in->ready_logged)
            fl_compose_record(in, FL_INFO, "not ready after %.1fs: %s", elapsed,
                              res->outcome == FL_HTTP_DONE ? "error status" : res->error);
        in->ready_logged = 1;
        return;
    }
    uv_timer_start(&in->ready_timer, attempt, r && r->interval_ms ? r->interval_ms : 100, 0);
}

static void attempt(uv_timer_t *t)
{
    struct compose_inst *in = t->data;
    const struct fl_ready *r = spec(in);
    if (in->ct->destroyed || !in->ct->http || !in->running || !r)
        return;
    struct fl_buf url;
    fl_buf_init(&url, URL_MAX);
    struct fl_error e = {0};
    int rc = fl_template_expand(r->target, inst_resolve, in, &url, &e);
    struct fl_http_request rq = {.url = fl_buf_str(&url),
                                 .timeout_ms = r->interval_ms > 1000 ? r->interval_ms : 1000};
    if (rc == 0)
        rc = fl_http_submit(in->ct->http, &rq, on_reply, in, &in->ready_req, &e);
    fl_buf_free(&url);
    if (rc) {
        /* Cannot check: count it as ready rather than never. */
        in->http_ready = 1;
        fl_compose_record(in, FL_INFO, "readiness not checked: %s", e.msg);
        fl_compose_set_state(in);
    }
}

void fl_compose_ready_begin(struct compose_inst *in)
{
    fl_compose_ready_cancel(in);
    const struct fl_ready *r = spec(in);
    in->ready_since_us = fl_now_us();
    in->ready_logged = 0;
    if (!r || r->kind != FL_READY_HTTP || !r->target) {
        in->http_ready = 1;
        return;
    }
    in->http_ready = 0;
    uv_timer_start(&in->ready_timer, attempt, 0, 0);
}

void fl_compose_ready_cancel(struct compose_inst *in)
{
    if (in->ct->started && !in->ct->destroyed)
        uv_timer_stop(&in->ready_timer);
    if (in->ready_req) {
        struct fl_http_req *req = in->ready_req;
        in->ready_req = NULL;
        fl_http_cancel(req);
    }
}
