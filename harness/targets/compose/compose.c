/* compose.c - the `compose` target: the instances are the containers of a
 * running docker-compose project, reached through the Docker Engine API.
 *
 * faultline does not create, recreate or remove containers: the project is
 * the user's (`docker-compose up -d`). A scenario service names a compose
 * service; its instances are the containers carrying the project and
 * service labels (compose v1 and v2 both set them), in container-number
 * order. The scenario's command, env, workdir, restart and backoff are the
 * local target's business and are ignored here: the compose file says how
 * a container runs. `ready:` still decides readiness when it is an HTTP
 * check (its ${port} is the container's published port); otherwise a
 * container is ready once running (and healthy, when it has a healthcheck).
 *
 * This file holds the lifecycle: create, start (negotiate the API version,
 * follow the project's events, list and inspect its containers, wait for
 * readiness), stop (restore everything faultline changed), destroy, free,
 * the event handling and resolve. The operations live in ops.c,
 * readiness in ready.c, the API client in docker.c.
 *
 * destroy() changes nothing in Docker: what a run changed is journaled,
 * and the run's final recovery pass (run/recover.c) undoes whatever is
 * still open, synchronously, after the loop ended.
 */
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
#define STOP_TIMEOUT_MS 20000      /* restore at stop() */
#define POLL_MS 100

extern const struct fl_target_type fl_target_compose;

static struct compose_target *ctx(struct fl_target *t)
{
    return t->ctx;
}

/* ---- memory ------------------------------------------------------------ */

static void target_free(struct compose_target *ct)
{
    for (size_t i = 0; i < ct->nsvcs; i++)
        free(ct->svcs[i].inst);
    free(ct->svcs);
    free(ct->insts);
    free(ct);
}

void fl_compose_unref(struct compose_target *ct)
{
    if (--ct->refs == 0 && ct->freed)
        target_free(ct);
}

static void handle_closed(uv_handle_t *h)
{
    fl_compose_unref(h->data);
}

static void inst_handle_closed(uv_handle_t *h)
{
    struct compose_inst *in = h->data;
    fl_compose_unref(in->ct);
}

void fl_compose_record(struct compose_inst *in, enum fl_optype type, const char *fmt, ...)
{
    struct fl_run *run = in->ct->run;
    if (!run->history)
        return;
    char value[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    fl_run_record(run, FL_PROC_TARGET + in->index, type, "target", FL_F_INSTANCE, in->pub.id,
                  value, NULL);
}

void fl_compose_set_state(struct compose_inst *in)
{
    enum fl_inst_state s;
    if (!in->running)
        s = in->pub.restart_blocked ? FL_INST_BLOCKED : FL_INST_STOPPED;
    else if ((in->has_health && strcmp(in->health, "healthy") != 0) || !in->http_ready)
        s = FL_INST_STARTING;
    else
        s = FL_INST_READY;
    in->pub.state = s;
}

/* ---- create ------------------------------------------------------------ */

static int compose_create(struct fl_target **out, struct fl_run *run, struct fl_error *err)
{
    const struct fl_scenario *sc = run->sc;
    if (!sc || !sc->target_project)
        return fl_error_set(err, FL_EINVAL, "target compose needs a project "
                            "(target: {kind: compose, project: NAME} or --compose-project)");
    struct compose_target *ct = calloc(1, sizeof *ct);
    if (!ct)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    ct->run = run;
    snprintf(ct->project, sizeof ct->project, "%s", sc->target_project);
    int rc = fl_docker_socket(ct->socket, sizeof ct->socket, err);
    ct->nsvcs = sc->nservices;
    ct->svcs = calloc(ct->nsvcs ? ct->nsvcs : 1, sizeof *ct->svcs);
    if (!ct->svcs)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < ct->nsvcs; i++)
        ct->svcs[i].svc = &sc->services[i];
    if (rc == 0)
        rc = fl_docker_new(&ct->docker, run->loop, ct->socket, err);
    if (rc == 0 && (rc = fl_http_new(&ct->http, run->loop, err)) != 0) {
        fl_docker_close(ct->docker, NULL, NULL);
        ct->docker = NULL;
    }
    if (rc) {
        target_free(ct);
        return rc;
    }
    ct->refs = 2;   /* the two clients */
    uv_timer_init(run->loop, &ct->start_timer);
    uv_timer_init(run->loop, &ct->stop_timer);
    ct->start_timer.data = ct->stop_timer.data = ct;
    ct->refs += 2;
    snprintf(ct->desc, sizeof ct->desc, "containers of compose project %.100s (Docker Engine at "
             "%.100s)", ct->project, ct->socket);
    ct->base.type = &fl_target_compose;
    ct->base.ctx = ct;
    ct->base.run = run;
    *out = &ct->base;
    return 0;
}

/* ---- inspect: pid, published port, health ------------------------------ */

/* The host port published on loopback for the lowest TCP container port:
 * faultline talks to containers only through 127.0.0.1 (0.0.0.0 and ""
 * include it). 0 when nothing is published there. */
static int published_port(json_t *ports)
{
    int best_private = 0, best = 0;
    const char *key;
    json_t *binds;
    json_object_foreach(ports, key, binds) {
        int priv = atoi(key);
        if (!strstr(key, "/tcp") || !json_is_array(binds) || priv <= 0)
            continue;
        size_t i;
        json_t *b;
        json_array_foreach(binds, i, b) {
            const char *ip = json_string_value(json_object_get(b, "HostIp"));
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            int port = hp ? atoi(hp) : 0;
            int loop = !ip || !ip[0] || strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "0.0.0.0") == 0;
            if (port > 0 && loop && (!best || priv < best_private)) {
                best = port;
                best_private = priv;
            }
        }
    }
    return best;
}

static void apply_inspect(struct compose_inst *in, json_t *j)
{
    json_t *state = json_object_get(j, "State");
    int running = json_is_true(json_object_get(state, "Running"));
    in->pub.pid = running ? (int)json_integer_value(json_object_get(state, "Pid")) : 0;
    int port = published_port(json_object_get(json_object_get(j, "NetworkSettings"), "Ports"));
    if (port && in->pub.port && port != in->pub.port)
        fl_compose_record(in, FL_INFO, "container %s now published on 127.0.0.1:%d (was %d)",
                          in->name, port, in->pub.port);
    if (port)
        in->pub.port = port;
    json_t *health = json_object_get(state, "Health");
    in->has_health = health != NULL && json_is_object(health);
    if (in->has_health)
        snprintf(in->health, sizeof in->health, "%s",
                 json_string_value(json_object_get(health, "Status")) ?: "");
    in->pub.restarts = (int)json_integer_value(json_object_get(j, "RestartCount"));
    const char *image = json_string_value(json_object_get(json_object_get(j, "Config"), "Image"));
    if (image)
        snprintf(in->image, sizeof in->image, "%s", image);
    /* The networks as they are, unless a partition is in effect: then
     * the saved ones are what the heal restores. */
    json_t *nets = json_object_get(json_object_get(j, "NetworkSettings"), "Networks");
    int restoring = 0;
    for (int k = 0; k < in->nnets; k++)
        restoring |= in->nets[k].seq != 0;
    if (!in->pub.partitioned && !restoring && json_is_object(nets)) {
        const char *name;
        json_t *n;
        int k = 0;
        json_object_foreach(nets, name, n) {
            if (k >= COMPOSE_NETS_MAX)
                break;
            const char *id = json_string_value(json_object_get(n, "NetworkID"));
            json_t *aliases = json_object_get(n, "Aliases");
            char *a = json_is_array(aliases) ? json_dumps(aliases, JSON_COMPACT) : NULL;
            struct compose_net *cn = &in->nets[k];
            snprintf(cn->id, sizeof cn->id, "%s", id ? id : name);
            snprintf(cn->name, sizeof cn->name, "%s", name);
            snprintf(cn->aliases, sizeof cn->aliases, "%s", a && strlen(a) < sizeof cn->aliases ? a : "[]");
            free(a);
            k++;
        }
        in->nnets = k;
    }
}

static void on_inspect(void *ud, const struct fl_docker_reply *r)
{
    struct compose_inst *in = ud;
    struct compose_target *ct = in->ct;
    ct->calls_pending--;
    if (!ct->destroyed && r->status == 200 && r->json) {
        int was = in->running;
        json_t *state = json_object_get(r->json, "State");
        int running = json_is_true(json_object_get(state, "Running"));
        /* Only when the events agree: an answer that crossed a later die
         * or start would undo what that event said. */
        if (running == was)
            apply_inspect(in, r->json);
        fl_compose_set_state(in);
    }
    fl_compose_unref(ct);
}

void fl_compose_inspect(struct compose_inst *in)
{
    struct compose_target *ct = in->ct;
    char path[160];
    snprintf(path, sizeof path, "/containers/%s/json", in->cid);
    struct fl_error e = {0};
    if (ct->docker &&
        fl_docker_call(ct->docker, "GET", path, NULL, CALL_TIMEOUT_MS, on_inspect, in, &e) == 0) {
        ct->calls_pending++;
        ct->refs++;
    }
}

/* ---- events ------------------------------------------------------------ */

static struct compose_inst *inst_by_id(struct compose_target *ct, const char *id)
{
    for (size_t i = 0; id && i < ct->ninsts; i++)
        if (strcmp(ct->insts[i].cid, id) == 0)
            return &ct->insts[i];
    return NULL;
}

static void on_event(void *ud, json_t *ev)
{
    struct compose_target *ct = ud;
    if (ct->destroyed)
        return;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    json_t *actor = json_object_get(ev, "Actor");
    json_t *attrs = json_object_get(actor, "Attributes");
    struct compose_inst *in = inst_by_id(ct, json_string_value(json_object_get(actor, "ID")));
    if (!in || !action)
        return;
    if (strcmp(action, "start") == 0) {
        if (!in->running) {
            in->running = 1;
            in->pub.incarnation++;
            in->http_ready = 0;
            fl_compose_record(in, FL_OK, "container %s started (incarnation %u)", in->name,
                              in->pub.incarnation);
            if (in->seq_start) {
                /* Back by itself (its restart policy) or by us. */
                fl_journal_done(ct->run->journal, in->seq_start);
                in->seq_start = 0;
            }
            in->stopped_by_us = 0;
            if (!ct->stopping)
                fl_compose_ready_begin(in);
            else
                in->http_ready = 1;
            fl_compose_policy_due(in);
            if (in->pub.restart_blocked) {
                /* Somebody started it by hand while starts are refused
                 * (the restart policy is "no" meanwhile): refused, as the
                 * local target refuses a restart. */
                struct fl_error e = {0};
                fl_compose_record(in, FL_INFO, "start refused: %s", in->block_reason);
                fl_compose_call(in, "kill", "POST", "/kill?signal=KILL", NULL, &e);
            }
        }
        fl_compose_inspect(in);
    } else if (strcmp(action, "die") == 0) {
        const char *code = json_string_value(json_object_get(attrs, "exitCode"));
        in->running = 0;
        in->pub.pid = 0;
        in->pub.frozen = 0;
        fl_compose_ready_cancel(in);
        fl_compose_record(in, FL_INFO, "container %s died (exit code %s)", in->name,
                          code ? code : "?");
    } else if (strcmp(action, "oom") == 0) {
        fl_compose_record(in, FL_INFO, "container %s: out of memory (the kernel's OOM killer)",
                          in->name);
    } else if (strncmp(action, "health_status", 13) == 0) {
        const char *st = action[13] == ':' ? action + 14 : "";
        while (*st == ' ')
            st++;
        snprintf(in->health, sizeof in->health, "%s", st);
        in->has_health = 1;
        fl_compose_record(in, strcmp(st, "healthy") == 0 ? FL_OK : FL_INFO, "health: %s", st);
    } else if (strcmp(action, "kill") == 0) {
        const char *sig = json_string_value(json_object_get(attrs, "signal"));
        fl_compose_record(in, FL_INFO, "container %s: signal %s", in->name, sig ? sig : "?");
    } else if (strcmp(action, "pause") == 0 || strcmp(action, "unpause") == 0) {
        fl_compose_record(in, FL_INFO, "container %s %sd", in->name, action);
    } else if (strcmp(action, "destroy") == 0) {
        in->running = 0;
        in->pub.pid = 0;
        fl_compose_record(in, FL_INFO, "container %s removed", in->name);
    }
    fl_compose_set_state(in);
}

static void on_events_end(void *ud, const char *error)
{
    struct compose_target *ct = ud;
    ct->events_up = 0;
    if (!ct->destroyed && strcmp(error, "aborted") != 0)
        fl_run_log(ct->run, 0, "compose %s: %s: instance states are no longer followed",
                   ct->project, error);
}

/* ---- start ------------------------------------------------------------- */

static void start_done(struct compose_target *ct, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void start_done(struct compose_target *ct, int status, const char *fmt, ...)
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
        start_done(ct, 0, " ");
        return;
    }
    if (fl_now_us() >= ct->start_deadline_us) {
        start_done(ct, FL_ENOTREADY, "%s (container %s) not ready: %s%s%s", late->pub.id,
                   late->name, late->running ? "running" : "not running",
                   late->has_health ? ", health " : "", late->has_health ? late->health : "");
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
        start_done(ct, FL_ENOTREADY, "inspect container %s: %s", in->name,
                   r->error ? r->error : r->message);
        return;
    }
    json_t *state = json_object_get(r->json, "State");
    in->running = json_is_true(json_object_get(state, "Running"));
    in->pub.incarnation = in->running ? 1 : 0;
    apply_inspect(in, r->json);
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

/* The containers of the project, kept when their service is the
 * scenario's. */
static void on_list(void *ud, const struct fl_docker_reply *r)
{
    struct compose_target *ct = ud;
    fl_compose_unref(ct);
    if (ct->destroyed || !ct->start_cb)
        return;
    if (r->status != 200 || !json_is_array(r->json)) {
        start_done(ct, FL_ENOTREADY, "list the containers of compose project %s: %s",
                   ct->project, r->error ? r->error : r->message);
        return;
    }
    size_t n = json_array_size(r->json), total = 0;
    char others[256] = "";
    /* `docker-compose run` containers carry the labels too, but they are
     * one-off commands, not replicas of the service. */
    for (size_t i = n; i-- > 0;) {
        json_t *labels = json_object_get(json_array_get(r->json, i), "Labels");
        const char *oneoff = json_string_value(json_object_get(labels, COMPOSE_LABEL_ONEOFF));
        if (oneoff && strcmp(oneoff, "True") == 0)
            json_array_remove(r->json, i);
    }
    n = json_array_size(r->json);
    for (size_t i = 0; i < n; i++) {
        json_t *labels = json_object_get(json_array_get(r->json, i), "Labels");
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
            start_done(ct, FL_ENOTREADY, "compose project %s has no container of service '%s' "
                       "(%s%s); scenario services must be compose services",
                       ct->project, ct->svcs[k].svc->name,
                       n ? "its services: " : "no container carries its label", others);
            return;
        }
    ct->insts = calloc(total ? total : 1, sizeof *ct->insts);
    for (size_t k = 0; ct->insts && k < ct->nsvcs; k++) {
        ct->svcs[k].inst = calloc((size_t)ct->svcs[k].n, sizeof *ct->svcs[k].inst);
        if (!ct->svcs[k].inst) {
            free(ct->insts);
            ct->insts = NULL;
        }
    }
    if (!ct->insts) {
        start_done(ct, FL_ENOMEM, "out of memory");
        return;
    }
    for (size_t k = 0; k < ct->nsvcs; k++)
        ct->svcs[k].n = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(r->json, i);
        json_t *labels = json_object_get(c, "Labels");
        const char *svc = json_string_value(json_object_get(labels, COMPOSE_LABEL_SERVICE));
        const char *num = json_string_value(json_object_get(labels, COMPOSE_LABEL_NUMBER));
        const char *id = json_string_value(json_object_get(c, "Id"));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        for (size_t k = 0; svc && id && k < ct->nsvcs; k++) {
            struct compose_svc *cs = &ct->svcs[k];
            if (strcmp(cs->svc->name, svc) != 0)
                continue;
            struct compose_inst *in = &ct->insts[ct->ninsts++];
            in->ct = ct;
            in->index = (int)(ct->ninsts - 1);
            snprintf(in->cid, sizeof in->cid, "%s", id);
            snprintf(in->name, sizeof in->name, "%s", name ? (name[0] == '/' ? name + 1 : name) : id);
            in->number = num ? atoi(num) : 0;
            in->pub.service = cs->svc->name;
            snprintf(in->pub.host, sizeof in->pub.host, "127.0.0.1");
            cs->inst[cs->n++] = in;
        }
    }
    for (size_t k = 0; k < ct->nsvcs; k++) {
        struct compose_svc *cs = &ct->svcs[k];
        qsort(cs->inst, (size_t)cs->n, sizeof *cs->inst, by_number);
        for (int r2 = 0; r2 < cs->n; r2++) {
            struct compose_inst *in = cs->inst[r2];
            in->pub.replica = r2;
            snprintf(in->pub.id, sizeof in->pub.id, "%s.%d", cs->svc->name, r2);
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
    for (size_t i = 0; i < ct->ninsts; i++) {
        struct compose_inst *in = &ct->insts[i];
        char path[160];
        snprintf(path, sizeof path, "/containers/%s/json", in->cid);
        struct fl_error e = {0};
        if (fl_docker_call(ct->docker, "GET", path, NULL, CALL_TIMEOUT_MS, on_start_inspect, in,
                           &e)) {
            start_done(ct, FL_ENOTREADY, "%s", e.msg);
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
        start_done(ct, FL_ENOTREADY, "%s", r->error ? r->error : "no Docker engine");
        return;
    }
    /* Follow the events first, so that nothing between the listing and
     * the stream goes unseen. */
    char filters[512];
    snprintf(filters, sizeof filters, "{\"type\":[\"container\"],\"label\":[\"%s=%s\"]}",
             COMPOSE_LABEL_PROJECT, ct->project);
    struct fl_error e = {0};
    if (fl_docker_events(ct->docker, filters, on_event, on_events_end, ct, &e)) {
        start_done(ct, FL_ENOTREADY, "%s", e.msg);
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
        start_done(ct, FL_ENOTREADY, "%s", e.msg);
        return;
    }
    ct->refs++;
}

static int compose_start(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = ctx(t);
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

/* ---- stop: restore what faultline changed ------------------------------ */

static void stop_report(struct compose_target *ct, int status)
{
    uv_timer_stop(&ct->stop_timer);
    while (ct->stop_waiters) {
        struct compose_waiter *w = ct->stop_waiters;
        ct->stop_waiters = w->next;
        w->cb(&ct->base, status, NULL, w->ud);
        free(w);
    }
}

/* Every restore call answered, and every container faultline started is
 * seen running (a failed call leaves its journal record open: the final
 * recovery pass tries again). */
static int restored(struct compose_target *ct)
{
    if (ct->calls_pending)
        return 0;
    for (size_t i = 0; i < ct->ninsts; i++) {
        const struct compose_inst *in = &ct->insts[i];
        if ((in->seq_start && !in->running) || (in->policy_deferred && in->seq_policy))
            return 0;
        if (in->pub.partitioned)
            return 0;
    }
    return 1;
}

static void on_closed(void *ud);

/* The clients go when the target stops: an open event stream and parked
 * keep-alive connections would keep the run's loop alive. Idempotent. */
static void close_clients(struct compose_target *ct)
{
    if (ct->clients_closed)
        return;
    ct->clients_closed = 1;
    struct fl_docker *d = ct->docker;
    struct fl_http *h = ct->http;
    ct->docker = NULL;
    ct->http = NULL;
    /* Callbacks of calls in flight run now, with "aborted". */
    fl_docker_close(d, on_closed, ct);
    fl_http_close(h, on_closed, ct);
}

static void on_stop_tick(uv_timer_t *t)
{
    struct compose_target *ct = t->data;
    if (restored(ct) || fl_now_us() >= ct->stop_deadline_us) {
        /* What is still open stays journaled: the final recovery pass
         * applies it synchronously. */
        close_clients(ct);
        stop_report(ct, 0);
        return;
    }
    uv_timer_start(&ct->stop_timer, on_stop_tick, POLL_MS, 0);
}

static int compose_stop(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = ctx(t);
    if (ct->destroyed)
        return FL_EABORT;
    struct compose_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return FL_ENOMEM;
    w->cb = cb;
    w->ud = ud;
    w->next = ct->stop_waiters;
    ct->stop_waiters = w;
    if (!ct->stopping) {
        ct->stopping = 1;
        if (ct->start_cb)
            start_done(ct, FL_EABORT, "stopped before the start finished");
        for (size_t i = 0; i < ct->ninsts; i++) {
            uv_timer_stop(&ct->insts[i].term_timer);
            fl_compose_ready_cancel(&ct->insts[i]);
        }
        size_t n = fl_compose_restore(ct);
        if (n)
            fl_run_log(ct->run, 1, "compose %s: %zu restore call%s (unpause, restart policy, "
                       "start)", ct->project, n, n == 1 ? "" : "s");
        ct->stop_deadline_us = fl_now_us() + (int64_t)STOP_TIMEOUT_MS * 1000;
    }
    uv_timer_start(&ct->stop_timer, on_stop_tick, 0, 0);
    return 0;
}

/* ---- destroy / free ---------------------------------------------------- */

static void on_closed(void *ud)
{
    struct compose_target *ct = ud;
    fl_compose_unref(ct);
}

/* destroy's callbacks run on the next loop turn, never inside destroy. */
static void on_destroy_timer_closed(uv_handle_t *h)
{
    struct compose_target *ct = h->data;
    free(h);
    fl_compose_unref(ct);
}

static void on_destroy_report(uv_timer_t *t)
{
    struct compose_target *ct = t->data;
    ct->destroy_timer = NULL;
    uv_close((uv_handle_t *)t, on_destroy_timer_closed);
    while (ct->destroy_waiters) {
        struct compose_waiter *w = ct->destroy_waiters;
        ct->destroy_waiters = w->next;
        w->cb(&ct->base, 0, NULL, w->ud);
        free(w);
    }
}

static void compose_destroy(struct fl_target *t, fl_target_cb cb, void *ud)
{
    struct compose_target *ct = ctx(t);
    if (cb) {
        struct compose_waiter *w = calloc(1, sizeof *w);
        if (w) {
            w->cb = cb;
            w->ud = ud;
            w->next = ct->destroy_waiters;
            ct->destroy_waiters = w;
        }
    }
    if (!ct->destroyed) {
        ct->destroyed = 1;
        t->destroyed = 1;
        ct->start_cb = NULL;
        while (ct->stop_waiters) {
            struct compose_waiter *w = ct->stop_waiters;
            ct->stop_waiters = w->next;
            free(w);
        }
        for (size_t i = 0; i < ct->ninsts; i++) {
            struct compose_inst *in = &ct->insts[i];
            fl_compose_ready_cancel(in);
            uv_close((uv_handle_t *)&in->term_timer, inst_handle_closed);
            uv_close((uv_handle_t *)&in->ready_timer, inst_handle_closed);
        }
        uv_close((uv_handle_t *)&ct->start_timer, handle_closed);
        uv_close((uv_handle_t *)&ct->stop_timer, handle_closed);
        close_clients(ct);
    }
    if (ct->destroy_waiters && !ct->destroy_timer) {
        uv_timer_t *tm = malloc(sizeof *tm);
        if (tm && uv_timer_init(ct->run->loop, tm) == 0) {
            tm->data = ct;
            ct->destroy_timer = tm;
            ct->refs++;
            uv_timer_start(tm, on_destroy_report, 0, 0);
        } else {
            free(tm);
        }
    }
}

static void compose_free(struct fl_target *t)
{
    struct compose_target *ct = ctx(t);
    ct->freed = 1;
    if (ct->refs == 0)
        target_free(ct);
}

/* ---- instances, resolve ------------------------------------------------ */

static struct compose_svc *svc_named(struct compose_target *ct, const char *name, size_t len)
{
    struct compose_svc *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ct->nsvcs; i++) {
        size_t sl = strlen(ct->svcs[i].svc->name);
        if (sl <= len && sl > best_len && memcmp(name, ct->svcs[i].svc->name, sl) == 0 &&
            (sl == len || name[sl] == '.')) {
            best = &ct->svcs[i];
            best_len = sl;
        }
    }
    return best;
}

static size_t compose_instances(struct fl_target *t, const char *service,
                                struct fl_instance **out, size_t max)
{
    struct compose_target *ct = ctx(t);
    struct compose_svc *cs = svc_named(ct, service, strlen(service));
    if (!cs || strcmp(cs->svc->name, service) != 0)
        return 0;
    size_t n = 0;
    for (int r = 0; r < cs->n && n < max; r++)
        out[n++] = &cs->inst[r]->pub;
    return (size_t)cs->n;
}

static int is(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int addr(struct fl_buf *out, const struct compose_inst *in)
{
    return fl_buf_addf(out, "127.0.0.1:%d", in ? in->pub.port : 0) ? FL_ENOMEM : 0;
}

/* "svc": round-robin over ready containers; with none ready, the first
 * one's address, so that requests fail honestly. */
static int resolve_rr(struct compose_svc *cs, struct fl_buf *out)
{
    if (cs->n == 0)
        return addr(out, NULL);
    int ready = 0;
    for (int r = 0; r < cs->n; r++)
        ready += fl_inst_ready(&cs->inst[r]->pub);
    if (ready == 0)
        return addr(out, cs->inst[0]);
    unsigned pick = cs->rr++ % (unsigned)ready;
    for (int r = 0; r < cs->n; r++)
        if (fl_inst_ready(&cs->inst[r]->pub) && pick-- == 0)
            return addr(out, cs->inst[r]);
    return addr(out, cs->inst[0]);
}

static int compose_resolve(struct fl_target *t, const char *name, size_t len,
                           struct fl_buf *out, struct fl_error *err)
{
    struct compose_target *ct = ctx(t);
    struct compose_svc *cs = svc_named(ct, name, len);
    if (!cs)
        return FL_ENOTFOUND;
    size_t sl = strlen(cs->svc->name);
    int rc = FL_ENOTFOUND;
    if (sl == len) {
        rc = resolve_rr(cs, out);
    } else {
        const char *rest = name + sl + 1;
        size_t rlen = len - sl - 1;
        struct compose_inst *first = cs->n ? cs->inst[0] : NULL;
        if (is(rest, rlen, "port"))
            rc = fl_buf_addf(out, "%d", first ? first->pub.port : 0) ? FL_ENOMEM : 0;
        else if (is(rest, rlen, "host"))
            rc = fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
        else {
            size_t d = 0;
            long n = 0;
            while (d < rlen && d < 6 && rest[d] >= '0' && rest[d] <= '9')
                n = n * 10 + (rest[d++] - '0');
            if (d == 0 || n >= cs->n || (d < rlen && rest[d] != '.'))
                return FL_ENOTFOUND;
            struct compose_inst *in = cs->inst[n];
            const char *field = rest + d + 1;
            size_t flen = d < rlen ? rlen - d - 1 : 0;
            if (d == rlen)
                rc = addr(out, in);
            else if (is(field, flen, "port"))
                rc = fl_buf_addf(out, "%d", in->pub.port) ? FL_ENOMEM : 0;
            else if (is(field, flen, "pid"))
                rc = fl_buf_addf(out, "%d", in->pub.pid) ? FL_ENOMEM : 0;
            else if (is(field, flen, "host"))
                rc = fl_buf_adds(out, in->pub.host) ? FL_ENOMEM : 0;
            else if (is(field, flen, "container"))
                rc = fl_buf_adds(out, in->name) ? FL_ENOMEM : 0;
            else if (is(field, flen, "id"))
                rc = fl_buf_adds(out, in->cid) ? FL_ENOMEM : 0;
            else if (is(field, flen, "image"))
                rc = fl_buf_adds(out, in->image) ? FL_ENOMEM : 0;
        }
    }
    if (rc == FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "value of ${%.*s} too long", (int)len, name);
    return rc;
}

static const char *compose_containment(struct fl_target *t)
{
    return ctx(t)->desc;
}

static int compose_add_env_hook(struct fl_target *t, fl_env_hook fn, void *ud,
                                struct fl_error *err)
{
    (void)fn;
    (void)ud;
    return fl_error_set(err, FL_EINVAL, "compose %s: a container's environment is set by the "
                        "compose file; faultline cannot add to it (docs/compose.md: the "
                        "libfaketime recipe)", ctx(t)->project);
}

const struct fl_target_type fl_target_compose = {
    .name = "compose",
    .help = "the containers of a running docker-compose project, through the Docker Engine "
            "API (target: {kind: compose, project: NAME})",
    .ops = FL_TOP_SIGNAL | FL_TOP_KILL | FL_TOP_TERMINATE | FL_TOP_FREEZE | FL_TOP_BLOCK |
           FL_TOP_START | FL_TOP_FS | FL_TOP_NETWORK,
    .create = compose_create,
    .start = compose_start,
    .stop = compose_stop,
    .destroy = compose_destroy,
    .free = compose_free,
    .instances = compose_instances,
    .signal = fl_compose_op_signal,
    .kill = fl_compose_op_kill,
    .terminate = fl_compose_op_terminate,
    .freeze = fl_compose_op_freeze,
    .thaw = fl_compose_op_thaw,
    .block_restarts = fl_compose_op_block,
    .unblock_restarts = fl_compose_op_unblock,
    .start_instance = fl_compose_op_start_instance,
    .fs_path = fl_compose_op_fs_path,
    .add_env_hook = compose_add_env_hook,
    .partition = fl_compose_op_partition,
    .unpartition = fl_compose_op_unpartition,
    .resolve = compose_resolve,
    .containment = compose_containment,
};
