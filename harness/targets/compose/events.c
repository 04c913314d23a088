/* events.c - what the compose target learns from the engine: the state
 * of a container (inspect: pid, published port, health, networks) and the
 * project's events (die, start, oom, health_status, kill, pause), which
 * become instance records in the history. */
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
        long long priv;
        const char *rest;
        if (fl_parse_leading_int(key, 1, 65535, &priv, &rest) || strcmp(rest, "/tcp") != 0 ||
            !json_is_array(binds))
            continue;
        size_t i;
        json_t *b;
        json_array_foreach(binds, i, b) {
            const char *ip = json_string_value(json_object_get(b, "HostIp"));
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            long long port = 0;
            if (!hp || fl_parse_int(hp, 1, 65535, &port))
                port = 0;
            int loop = !ip || !ip[0] || strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "0.0.0.0") == 0;
            if (port > 0 && loop && (!best || priv < best_private)) {
                best = (int)port;
                best_private = (int)priv;
            }
        }
    }
    return best;
}

void fl_compose_apply_inspect(struct compose_inst *in, json_t *j)
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
            fl_compose_apply_inspect(in, r->json);
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

void fl_compose_on_event(void *ud, json_t *ev)
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
            fl_compose_record(in, FL_OK, "started container %s (incarnation %u)", in->name,
                              in->pub.incarnation);
            if (in->seq_start) {
                /* Back by itself (its restart policy) or by us. */
                fl_journal_done(ct->run->journal, in->seq_start);
                in->seq_start = 0;
            }
            in->stopped_by_us = 0;
            in->restart_waiting = 0;
            if (!ct->stopping) {
                fl_compose_ready_begin(in);
            } else {
                in->http_ready = 1;
                in->ready_since_us = fl_now_us();
            }
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
        long long st = -1;
        if (!code || fl_parse_int(code, -1, 1000000, &st))
            st = -1;
        int status = (int)st;
        in->running = 0;
        in->pub.pid = 0;
        in->pub.frozen = 0;
        fl_compose_ready_cancel(in);
        /* A container's exit code is 128 + N when its main process died of
         * signal N. */
        if (status > 128 && status < 128 + 65)
            fl_compose_record(in, FL_INFO, "killed by %s (container %s died, exit code %d)",
                              fl_signal_name(status - 128), in->name, status);
        else
            fl_compose_record(in, FL_INFO, "exited with status %d (container %s died)", status,
                              in->name);
        /* The restart its policy wanted is what a block refuses (Docker
         * does not even try: the policy is "no" meanwhile); the unblock
         * starts it at once, as the local target does. */
        int wanted = strcmp(in->policy, "always") == 0 ||
                     strcmp(in->policy, "unless-stopped") == 0 ||
                     (strcmp(in->policy, "on-failure") == 0 && status != 0);
        if (in->pub.restart_blocked && wanted && !ct->stopping) {
            in->restart_waiting = 1;
            fl_compose_record(in, FL_INFO, "restart refused: %s", in->block_reason);
        }
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

void fl_compose_on_events_end(void *ud, const char *error)
{
    struct compose_target *ct = ud;
    ct->events_up = 0;
    if (!ct->destroyed && strcmp(error, "aborted") != 0)
        fl_run_log(ct->run, 0, "compose %s: %s: instance states are no longer followed",
                   ct->project, error);
}

