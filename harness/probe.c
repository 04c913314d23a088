/* probe.c - HTTP probes: one sample every `every`, recorded in the history.
 *
 * A sample is an invoke plus ok (status in ok_status; value = the value at
 * `record`, or the status), fail ("http:503", or a transport error) or
 * info (timeout). A sample that is still running when the next one is due
 * is not doubled: the due sample is skipped and counted, so a hung
 * endpoint shows up as one long sample instead of a pile of them.
 */
#include "workload_impl.h"
#include "jsonptr.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_URL (64 * 1024)
#define MAX_VALUE (64 * 1024)

static void record(struct probe_driver *p, enum fl_optype type, const char *value,
                   const char *error)
{
    fl_run_record(p->w->run, p->process, type, p->m->name, FL_F_PROBE, NULL, value, error);
}

static int status_ok(const struct fl_probe *m, int status)
{
    if (m->nok_status == 0)
        return status >= 200 && status <= 299;
    for (size_t i = 0; i < m->nok_status; i++)
        if (m->ok_status[i] == status)
            return 1;
    return 0;
}

static void on_sample_done(void *ud, const struct fl_http_result *res)
{
    struct probe_driver *p = ud;
    p->req = NULL;
    if (res->outcome == FL_HTTP_ABORTED || res->outcome == FL_HTTP_TIMEOUT) {
        record(p, FL_INFO, NULL, res->error);
        return;
    }
    if (res->outcome == FL_HTTP_ERROR) {
        record(p, FL_FAIL, NULL, res->error);
        return;
    }
    char s[32];
    if (!status_ok(p->m, res->status)) {
        snprintf(s, sizeof s, FL_VALUE_HTTP_PREFIX "%d", res->status);
        record(p, FL_FAIL, s, NULL);
        return;
    }
    snprintf(s, sizeof s, "%d", res->status);
    if (!p->m->record) {
        record(p, FL_OK, s, NULL);
        return;
    }
    struct fl_buf v;
    struct fl_error err = {0};
    fl_buf_init(&v, MAX_VALUE);
    if (fl_jsonptr_lookup(res->body, res->body_len, p->m->record, &v, &err) == 0)
        record(p, FL_OK, fl_buf_str(&v), NULL);
    else   /* it answered, but not with the field: visible, not guessed */
        record(p, FL_OK, NULL, err.msg);
    fl_buf_free(&v);
}

static void on_sample_timer(uv_timer_t *t)
{
    struct probe_driver *p = t->data;
    struct fl_workers *w = p->w;
    if (!p->running || w->closing)
        return;
    if (p->req) {
        p->skipped++;
        return;
    }
    record(p, FL_INVOKE, NULL, NULL);
    struct fl_buf url;
    struct fl_error err = {0};
    fl_buf_init(&url, MAX_URL);
    int rc = fl_template_expand(p->m->url, fl_run_resolve, w->run, &url, &err);
    if (!rc) {
        struct fl_http_request rq = {
            .url = fl_buf_str(&url),
            .timeout_ms = p->m->timeout_ms ? p->m->timeout_ms : 2000,
        };
        rc = fl_http_submit(w->http, &rq, on_sample_done, p, &p->req, &err);
    }
    fl_buf_free(&url);
    if (rc)
        record(p, FL_FAIL, NULL, err.msg);
}

void wl_probe_init(struct fl_workers *w, struct probe_driver *p, size_t index,
                   const struct fl_probe *m)
{
    p->w = w;
    p->m = m;
    p->process = FL_PROC_PROBE + (int32_t)index;
    uv_timer_init(w->run->loop, &p->timer);
    p->timer.data = p;
}

void wl_probe_start(struct probe_driver *p)
{
    uint64_t every = p->m->every_ms ? p->m->every_ms : 500;
    p->running = 1;
    uv_timer_start(&p->timer, on_sample_timer, 0, every);
}

void wl_probe_stop(struct probe_driver *p)
{
    p->running = 0;
    uv_timer_stop(&p->timer);
}

void wl_probe_abort(struct probe_driver *p)
{
    if (p->req)
        fl_http_cancel(p->req);
}
