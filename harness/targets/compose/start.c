/* start.c - the compose target's start: negotiate the API version, follow
 * the project's events, list its containers, keep those of the scenario's
 * services (in container-number order), inspect each, and wait until every
 * one is ready. */
#include "base/util.h"
#include "targets/compose/compose_int.h"
#include "core/journal.h"
#include "core/run_context.h"
#include "proto/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_TIMEOUT_MS 15000
#define START_TIMEOUT_MS 20000     /* readiness wait when no service says */
#define POLL_MS 100

/* ---- start ------------------------------------------------------------- */

void fl_compose_start_done(struct compose_target *ct, int status, const char *fmt, ...)
{
    fl_target_cb cb = ct->start_cb;
    ct->start_cb = NULL;
    uv_timer_stop(&ct->start_timer);
    if (!cb)
        return;
    struct fl_error e = {0};
    if (status) {
        va_list ap;
        va_start(ap, fmt);
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fl_error_set(&e, status, "%s", msg);
    }
    cb(&ct->base, status, status ? &e : NULL, ct->start_ud);
}

static void on_start_tick(uv_timer_t *t)
{
    struct compose_target *ct = t->data;
    if (!ct->start_cb || ct->inspects_pending)
        return;
    struct compose_inst *late = NULL;
    for (size_t i = 0; i < ct->ninsts && !late; i++)
        if (!fl_inst_ready(&ct->insts[i].pub))
            late = &ct->insts[i];
    if (!late) {
        fl_run_log(ct->run, 0, "compose %s: %zu container%s ready (Docker Engine %s, API %s)",
                   ct->project, ct->ninsts, ct->ninsts == 1 ? "" : "s",
                   fl_docker_engine(ct->docker), fl_docker_api(ct->docker));
        fl_compose_start_done(ct, 0, " ");
        return;
    }
    if (fl_now_us() >= ct->start_deadline_us) {
        fl_compose_start_done(ct, FL_ENOTREADY, "%s (container %s) not ready: %s%s%s",
                              late->pub.id, late->name, late->running ? "running" : "not running",
                              late->has_health ? ", health " : "",
                              late->has_health ? late->health : "");
        return;
    }
    uv_timer_start(&ct->start_timer, on_start_tick, POLL_MS, 0);
}

static int by_number(const void *a, const void *b)
{
    const struct compose_inst *x = *(struct compose_inst *const *)a;
    const struct compose_inst *y = *(struct compose_inst *const *)b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void on_start_inspect(void *ud, const struct fl_docker_reply *r)
{
    struct compose_inst *in = ud;
    struct compose_target *ct = in->ct;
    ct->inspects_pending--;
    if (ct->destroyed || !ct->start_cb) {
        fl_compose_unref(ct);
        return;
    }
    if (r->status != 200 || !r->json) {
        fl_compose_unref(ct);
        fl_compose_start_done(ct, FL_ENOTREADY, "inspect container %s: %s", in->name,
                              r->error ? r->error : r->message);
        return;
    }
    json_t *state = json_object_get(r->json, "State");
    in->running = json_is_true(json_object_get(state, "Running"));
    in->pub.incarnation = in->running ? 1 : 0;
    fl_compose_apply_inspect(in, r->json);
    json_t *pol = json_object_get(json_object_get(r->json, "HostConfig"), "RestartPolicy");
    const char *pn = json_string_value(json_object_get(pol, "Name"));
    snprintf(in->policy, sizeof in->policy, "%s", pn && pn[0] ? pn : "no");
    in->policy_retries = (long)json_integer_value(json_object_get(pol, "MaximumRetryCount"));
    const char *image = json_string_value(json_object_get(json_object_get(r->json, "Config"),
                                                          "Image"));
    if (in->pub.port)
        fl_compose_record(in, FL_OK, "container %s (%.12s) %s, image %s, restart %s, "
                          "published on 127.0.0.1:%d", in->name, in->cid,
                          in->running ? "running" : "not running", image ? image : "?",
                          in->policy, in->pub.port);
    else
        fl_compose_record(in, FL_OK, "container %s (%.12s) %s, image %s, restart %s, no port "
                          "published on 127.0.0.1", in->name, in->cid,
                          in->running ? "running" : "not running", image ? image : "?",
                          in->policy);
    if (in->running)
        fl_compose_ready_begin(in);
    fl_compose_set_state(in);
    fl_compose_unref(ct);
    if (ct->inspects_pending == 0)
        on_start_tick(&ct->start_timer);
}

/* `docker-compose run` containers carry the labels too, but they are
 * one-off commands, not replicas of the service. */
static void drop_oneoffs(json_t *list)
{
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *labels = json_object_get(json_array_get(list, i), "Labels");
        const char *oneoff = json_string_value(json_object_get(labels, COMPOSE_LABEL_ONEOFF));
        if (oneoff && strcmp(oneoff, "True") == 0)
            json_array_remove(list, i);
    }
}

/* Count the containers of each scenario service into svcs[].n. Returns
 * how many are instances, or 0 after reporting a service without one. */
static size_t count_containers(struct compose_target *ct, json_t *list)
{
    size_t n = json_array_size(list), total = 0;
    char others[256] = "";
    for (size_t i = 0; i < n; i++) {
        json_t *labels = json_object_get(json_array_get(list, i), "Labels");
        const char *svc = json_string_value(json_object_get(labels, COMPOSE_LABEL_SERVICE));
        int known = 0;
        for (size_t k = 0; svc && k < ct->nsvcs; k++)
            if (strcmp(ct->svcs[k].svc->name, svc) == 0) {
                ct->svcs[k].n++;
                known = 1;
            }
        total += (size_t)known;
        if (svc && !known && !strstr(others, svc) && strlen(others) + strlen(svc) + 3 < sizeof others)
            snprintf(others + strlen(others), sizeof others - strlen(others), "%s%s",
                     others[0] ? ", " : "", svc);
    }
    for (size_t k = 0; k < ct->nsvcs; k++)
        if (ct->svcs[k].n == 0) {
            fl_compose_start_done(ct, FL_ENOTREADY, "compose project %s has no container of "
                                  "service '%s' (%s%s); scenario services must be compose "
                                  "services", ct->project, ct->svcs[k].svc->name,
                                  n ? "its services: " : "no container carries its label",
                                  others);
            return 0;
        }
    return total;
}

/* The instances: one per container of a scenario service, numbered per
 * service in container-number order. Returns 0 or FL_ENOMEM. */
static int make_instances(struct compose_target *ct, json_t *list, size_t total)
{
    ct->insts = calloc(total ? total : 1, sizeof *ct->insts);
    for (size_t k = 0; ct->insts && k < ct->nsvcs; k++) {
        ct->svcs[k].inst = calloc((size_t)ct->svcs[k].n, sizeof *ct->svcs[k].inst);
        ct->svcs[k].n = 0;
        if (!ct->svcs[k].inst)
            return FL_ENOMEM;   /* target_free releases what was allocated */
    }
    if (!ct->insts)
        return FL_ENOMEM;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        json_t *labels = json_object_get(c, "Labels");
        const char *svc = json_string_value(json_object_get(labels, COMPOSE_LABEL_SERVICE));
        const char *num = json_string_value(json_object_get(labels, COMPOSE_LABEL_NUMBER));
        const char *id = json_string_value(json_object_get(c, "Id"));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        for (size_t k = 0; svc && id && k < ct->nsvcs && ct->ninsts < total; k++) {
            struct compose_svc *cs = &ct->svcs[k];
            if (strcmp(cs->svc->name, svc) != 0)
                continue;
            struct compose_inst *in = &ct->insts[ct->ninsts++];
            in->ct = ct;
            in->index = (int)(ct->ninsts - 1);
            snprintf(in->cid, sizeof in->cid, "%s", id);
            snprintf(in->name, sizeof in->name, "%s", name ? (name[0] == '/' ? name + 1 : name) : id);
            long long number = 0;
            if (!num || fl_parse_int(num, 0, 1000000, &number))
                number = 0;
            in->number = (int)number;
            in->pub.service = cs->svc->name;
            snprintf(in->pub.host, sizeof in->pub.host, "127.0.0.1");
            cs->inst[cs->n++] = in;
        }
    }
    for (size_t k = 0; k < ct->nsvcs; k++) {
        struct compose_svc *cs = &ct->svcs[k];
        qsort(cs->inst, (size_t)cs->n, sizeof *cs->inst, by_number);
        for (int r = 0; r < cs->n; r++) {
            cs->inst[r]->pub.replica = r;
            snprintf(cs->inst[r]->pub.id, sizeof cs->inst[r]->pub.id, "%s.%d", cs->svc->name, r);
        }
        if (cs->svc->replicas > 1 && cs->svc->replicas != cs->n)
            fl_run_log(ct->run, 0, "compose %s: service %s has %d container%s (the scenario "
                       "says replicas: %d): acting on the containers", ct->project,
                       cs->svc->name, cs->n, cs->n == 1 ? "" : "s", cs->svc->replicas);
    }
    for (size_t i = 0; i < ct->ninsts; i++) {
        struct compose_inst *in = &ct->insts[i];
        uv_timer_init(ct->run->loop, &in->term_timer);
        uv_timer_init(ct->run->loop, &in->ready_timer);
        in->term_timer.data = in->ready_timer.data = in;
        ct->refs += 2;
    }
    ct->started = 1;
    return 0;
}

/* The containers of the project, kept when their service is the
 * scenario's; then each is inspected. */
static void on_list(void *ud, const struct fl_docker_reply *r)
{
    struct compose_target *ct = ud;
    fl_compose_unref(ct);
    if (ct->destroyed || !ct->start_cb)
        return;
    if (r->status != 200 || !json_is_array(r->json)) {
        fl_compose_start_done(ct, FL_ENOTREADY, "list the containers of compose project %s: %s",
                              ct->project, r->error ? r->error : r->message);
        return;
    }
    drop_oneoffs(r->json);
    size_t total = count_containers(ct, r->json);
    if (total == 0)
        return;
    if (make_instances(ct, r->json, total)) {
        fl_compose_start_done(ct, FL_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < ct->ninsts; i++) {
        struct compose_inst *in = &ct->insts[i];
        char path[160];
        snprintf(path, sizeof path, "/containers/%s/json", in->cid);
        struct fl_error e = {0};
        if (fl_docker_call(ct->docker, "GET", path, NULL, CALL_TIMEOUT_MS, on_start_inspect, in,
                           &e)) {
            fl_compose_start_done(ct, FL_ENOTREADY, "%s", e.msg);
            return;
        }
        ct->inspects_pending++;
        ct->refs++;
    }
}

static void on_negotiated(void *ud, const struct fl_docker_reply *r)
{
    struct compose_target *ct = ud;
    fl_compose_unref(ct);
    if (ct->destroyed || !ct->start_cb)
        return;
    if (r->status != 200) {
        fl_compose_start_done(ct, FL_ENOTREADY, "%s", r->error ? r->error : "no Docker engine");
        return;
    }
    /* Follow the events first, so that nothing between the listing and
     * the stream goes unseen. */
    char filters[512];
    snprintf(filters, sizeof filters, "{\"type\":[\"container\"],\"label\":[\"%s=%s\"]}",
             COMPOSE_LABEL_PROJECT, ct->project);
    struct fl_error e = {0};
    if (fl_docker_events(ct->docker, filters, fl_compose_on_event, fl_compose_on_events_end, ct,
                         &e)) {
        fl_compose_start_done(ct, FL_ENOTREADY, "%s", e.msg);
        return;
    }
    ct->events_up = 1;
    char path[700], enc[600];
    snprintf(filters, sizeof filters, "{\"label\":[\"%s=%s\"]}", COMPOSE_LABEL_PROJECT,
             ct->project);
    size_t k = 0;
    for (const char *p = filters; *p && k + 4 < sizeof enc; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.", *p)) {
            enc[k++] = *p;
        } else {
            snprintf(enc + k, sizeof enc - k, "%%%02X", (unsigned char)*p);
            k += 3;
        }
    }
    enc[k] = '\0';
    snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", enc);
    if (fl_docker_call(ct->docker, "GET", path, NULL, CALL_TIMEOUT_MS, on_list, ct, &e)) {
        fl_compose_start_done(ct, FL_ENOTREADY, "%s", e.msg);
        return;
    }
    ct->refs++;
}

int fl_compose_start(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = t->ctx;
    if (ct->destroyed)
        return FL_EABORT;
    if (ct->start_cb || ct->started)
        return FL_EINVAL;
    ct->start_cb = cb;
    ct->start_ud = ud;
    uint64_t wait = 0;
    for (size_t i = 0; i < ct->nsvcs; i++)
        if (ct->svcs[i].svc->ready.timeout_ms > wait)
            wait = ct->svcs[i].svc->ready.timeout_ms;
    ct->start_deadline_us = fl_now_us() + (int64_t)(wait ? wait : START_TIMEOUT_MS) * 1000;
    fl_run_log(ct->run, 0, "compose %s: the scenario's command, env, workdir and restart "
               "settings are ignored: the compose file runs the containers", ct->project);
    struct fl_error e = {0};
    int rc = fl_docker_negotiate(ct->docker, on_negotiated, ct, &e);
    if (rc) {
        ct->start_cb = NULL;
        return rc;
    }
    ct->refs++;
    return 0;
}

