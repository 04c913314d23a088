/* ops.c - what faultline does to one container of the compose target.
 *
 * Every change that outlives the operation is journaled before the call
 * goes out, with its undo kind (run/recover.c):
 *
 *   kill, terminate   docker.start    start the container if it is not running
 *   freeze            docker.unpause  unpause it if it is paused
 *   block_restarts    docker.policy   put its restart policy back
 *   signal STOP       docker.cont     send it SIGCONT
 *
 * The calls are asynchronous: an operation returns once its request is on
 * the way; a failure the engine answers later is recorded in the history.
 *
 * Signals (kill, terminate, signal) go from the host straight to the
 * container's main process (its host pid, State.Pid), not through
 * POST /containers/ID/kill or /stop: Docker marks a container it killed or
 * stopped itself as "stopped by hand" and then never applies its restart
 * policy (measured on 20.10: a `restart: always` container stays down
 * after an API kill, and comes back after a kill from the host). A pod
 * that is OOM-killed or drained dies without the runtime's consent, so the
 * policy must apply. When the host cannot signal the process (faultline
 * not root, a remote engine), the API kill is the fallback, and the
 * journaled docker.start brings the container back at the end.
 */
#include "targets/compose/compose_int.h"
#include "core/journal.h"
#include "core/run_context.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 15000
#define MEMBERS_MAX 4096

/* The calls for one container go out one after the other, in the order
 * they were made: the engine answers "cannot update a stopped container"
 * to a restart policy change that a kill overtook, so a block followed by
 * a kill must reach it in that order. */
struct op_call {
    struct compose_inst *in;
    char what[32];
    uint64_t *seq;               /* journal record done on success, or NULL */
    char method[8];
    char path[256];
    char *body;
    struct op_call *next;
};

static void pump(struct compose_inst *in);

static void call_free(struct op_call *c)
{
    free(c->body);
    free(c);
}

static void on_op(void *ud, const struct fl_docker_reply *r)
{
    struct op_call *c = ud;
    struct compose_inst *in = c->in;
    struct compose_target *ct = in->ct;
    ct->calls_pending--;
    in->q_busy = 0;
    /* 304: already in that state (started, paused); fine. */
    int ok = r->status >= 200 && r->status < 400;
    if (!ok && !ct->destroyed)
        fl_compose_record(in, FL_INFO, "docker %s of %s failed: %s", c->what, in->name,
                          r->error ? r->error : r->message[0] ? r->message : "error status");
    if (ok && c->seq && *c->seq) {
        fl_journal_done(ct->run->journal, *c->seq);
        *c->seq = 0;
    }
    if (ok && strcmp(c->what, "connect") == 0 && !ct->destroyed)
        fl_compose_inspect(in);   /* a port Docker picks was picked again */
    call_free(c);
    if (r->status == 0 && r->error && strcmp(r->error, "aborted") == 0) {
        /* The client is closing: drop what is queued (journaled anyway). */
        while (in->q_head) {
            struct op_call *n = in->q_head;
            in->q_head = n->next;
            ct->calls_pending--;
            call_free(n);
            fl_compose_unref(ct);
        }
        in->q_tail = NULL;
    } else {
        pump(in);
    }
    fl_compose_unref(ct);
}

static void pump(struct compose_inst *in)
{
    struct compose_target *ct = in->ct;
    while (!in->q_busy && in->q_head) {
        struct op_call *c = in->q_head;
        in->q_head = c->next;
        if (!in->q_head)
            in->q_tail = NULL;
        struct fl_error e = {0};
        if (ct->docker && fl_docker_call(ct->docker, c->method, c->path, c->body, CALL_TIMEOUT_MS,
                                         on_op, c, &e) == 0) {
            in->q_busy = 1;
            return;
        }
        if (!ct->destroyed)
            fl_compose_record(in, FL_INFO, "docker %s of %s failed: %s", c->what, in->name,
                              e.msg[0] ? e.msg : "the target has stopped");
        ct->calls_pending--;
        call_free(c);
        fl_compose_unref(ct);
    }
}

static int call(struct compose_inst *in, const char *what, const char *method, const char *path,
                const char *body, uint64_t *seq, struct fl_error *err)
{
    struct compose_target *ct = in->ct;
    if (!ct->docker)
        return fl_error_set(err, FL_EABORT, "docker %s %s: the target has stopped", what,
                            in->pub.id);
    struct op_call *c = calloc(1, sizeof *c);
    if (!c || (body && !(c->body = strdup(body)))) {
        free(c);
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    }
    c->in = in;
    c->seq = seq;
    snprintf(c->what, sizeof c->what, "%s", what);
    snprintf(c->method, sizeof c->method, "%s", method);
    if (path[0] == '/')
        snprintf(c->path, sizeof c->path, "/containers/%s%s", in->cid, path);
    else   /* not about the container itself: "networks/ID/connect" */
        snprintf(c->path, sizeof c->path, "/%s", path);
    if (in->q_tail)
        in->q_tail->next = c;
    else
        in->q_head = c;
    in->q_tail = c;
    ct->calls_pending++;
    ct->refs++;
    pump(in);
    return 0;
}

int fl_compose_call(struct compose_inst *in, const char *what, const char *method,
                    const char *path, const char *body, struct fl_error *err)
{
    return call(in, what, method, path, body, NULL, err);
}

static int journal(struct compose_inst *in, const char *kind, uint64_t *seq,
                   const char *k1, const char *v1, const char *k2, const char *v2,
                   struct fl_error *err)
{
    if (*seq)
        return 0;
    const char *kv[] = {"socket", in->ct->socket, "id", in->cid, "name", in->name,
                        k1, v1, k2, v2, NULL};
    if (!k1)
        kv[6] = NULL;
    else if (!k2)
        kv[8] = NULL;
    return fl_journal_undo(in->ct->run->journal, kind, in->pub.id, kv, seq, err);
}

static int pid_is_container(const struct compose_inst *in)
{
    return fl_docker_pid_is(in->pub.pid, in->cid);
}

/* sig to the container's main process from the host; when that is not
 * possible, through the API. how says which ("host pid 812", "docker
 * kill"). Returns 0 or FL_E*. */
static int send_signal(struct compose_inst *in, int sig, char *how, size_t len,
                       struct fl_error *err)
{
    /* While restarts are blocked the API kill is the right one: Docker
     * then never restarts the container, even if the death overtook the
     * restart policy's update on its way to the engine. */
    if (in->pub.restart_blocked && (sig == SIGKILL || sig == SIGTERM)) {
        char path[64];
        snprintf(path, sizeof path, "/kill?signal=%d", sig);
        snprintf(how, len, "docker kill: restarts are blocked");
        return call(in, "kill", "POST", path, NULL, NULL, err);
    }
    int mine = pid_is_container(in);
    if (mine && kill(in->pub.pid, sig) == 0) {
        snprintf(how, len, "host pid %d", in->pub.pid);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/kill?signal=%d", sig);
    snprintf(how, len, "docker kill: %s",
             mine ? strerror(errno)
                  : in->pub.pid > 0 ? "its pid is not visible from here" : "pid unknown");
    return call(in, "kill", "POST", path, NULL, NULL, err);
}

/* sig to every process of the container from the host; the main process
 * alone through the API when the host cannot. */
static int signal_all(struct compose_inst *in, int sig, char *how, size_t len,
                      struct fl_error *err)
{
    int *pids = pid_is_container(in) ? malloc(MEMBERS_MAX * sizeof *pids) : NULL;
    int n = pids ? fl_docker_pidns_members(in->pub.pid, pids, MEMBERS_MAX) : -ESRCH;
    int sent = 0;
    for (int i = 0; i < n; i++)
        sent += kill(pids[i], sig) == 0;
    free(pids);
    if (sent > 0) {
        snprintf(how, len, "%d process%s of its pid namespace", sent, sent == 1 ? "" : "es");
        return 0;
    }
    return send_signal(in, sig, how, len, err);
}

static struct compose_inst *usable(struct fl_target *t, struct fl_instance *pub, const char *op,
                                   int need_running, struct fl_error *err)
{
    struct compose_inst *in = (struct compose_inst *)pub;
    if (t->destroyed || in->ct->destroyed) {
        fl_error_set(err, FL_EABORT, "%s %s: the target is gone", op, pub->id);
        return NULL;
    }
    if (need_running && !in->running) {
        fl_error_set(err, FL_EINJECT, "%s %s: container %s is not running", op, pub->id,
                     in->name);
        return NULL;
    }
    return in;
}

int fl_compose_op_kill(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "kill", 1, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    /* Back by its restart policy or not: at the end it runs again. */
    int rc = journal(in, "docker.start", &in->seq_start, NULL, NULL, NULL, NULL, err);
    char how[128] = "";
    if (rc == 0)
        rc = send_signal(in, SIGKILL, how, sizeof how, err);
    if (rc)
        return rc;
    in->stopped_by_us = 1;
    /* The main process is the pid namespace's init: when it dies, the
     * kernel kills every other process of the container. */
    fl_compose_record(in, FL_INFO, "pod kill: SIGKILL to container %s (%s)", in->name, how);
    fl_run_log(in->ct->run, 1, "%s (container %s): killed", pub->id, in->name);
    return 0;
}

int fl_compose_op_signal(struct fl_target *t, struct fl_instance *pub, int sig,
                         struct fl_error *err)
{
    if (sig == SIGKILL)
        return fl_compose_op_kill(t, pub, err);
    struct compose_inst *in = usable(t, pub, "signal", 1, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    int rc = 0;
    if (sig == SIGSTOP && !pub->stopped_by_signal)
        rc = journal(in, "docker.cont", &in->seq_cont, NULL, NULL, NULL, NULL, err);
    char how[128] = "";
    if (rc == 0)
        rc = signal_all(in, sig, how, sizeof how, err);
    if (rc)
        return rc;
    if (sig == SIGSTOP) {
        pub->stopped_by_signal = 1;
    } else if (sig == SIGCONT) {
        pub->stopped_by_signal = 0;
        fl_journal_done(in->ct->run->journal, in->seq_cont);
        in->seq_cont = 0;
    }
    fl_compose_record(in, FL_INFO, "%s to container %s (%s)", fl_signal_name(sig), in->name,
                      how);
    return 0;
}

void fl_compose_on_term_timer(uv_timer_t *t)
{
    struct compose_inst *in = t->data;
    if (in->ct->destroyed || !in->running || in->pub.incarnation != in->term_incarnation)
        return;
    struct fl_error e = {0};
    char how[128] = "";
    if (send_signal(in, SIGKILL, how, sizeof how, &e) == 0)
        fl_compose_record(in, FL_INFO, "grace over: SIGKILL to container %s (%s)", in->name, how);
}

int fl_compose_op_terminate(struct fl_target *t, struct fl_instance *pub, uint64_t grace_ms,
                            struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "terminate", 1, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    int rc = journal(in, "docker.start", &in->seq_start, NULL, NULL, NULL, NULL, err);
    char how[128] = "";
    if (rc == 0)
        rc = send_signal(in, SIGTERM, how, sizeof how, err);
    if (rc)
        return rc;
    in->stopped_by_us = 1;
    in->term_incarnation = pub->incarnation;
    uv_timer_start(&in->term_timer, fl_compose_on_term_timer, grace_ms, 0);
    fl_compose_record(in, FL_INFO, "SIGTERM to container %s (%s), SIGKILL after %llums",
                      in->name, how, (unsigned long long)grace_ms);
    return 0;
}

int fl_compose_op_freeze(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "freeze", 1, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (pub->frozen)
        return 0;
    int rc = journal(in, "docker.unpause", &in->seq_unpause, NULL, NULL, NULL, NULL, err);
    if (rc == 0)
        rc = call(in, "pause", "POST", "/pause", NULL, NULL, err);
    if (rc)
        return rc;
    pub->frozen = 1;
    fl_compose_record(in, FL_INFO, "frozen: docker pause of container %s (cgroup freezer)",
                      in->name);
    return 0;
}

int fl_compose_op_thaw(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "thaw", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (!pub->frozen && !in->seq_unpause)
        return 0;
    int rc = call(in, "unpause", "POST", "/unpause", NULL, &in->seq_unpause, err);
    if (rc)
        return rc;
    pub->frozen = 0;
    return 0;
}

static int set_policy(struct compose_inst *in, const char *name, long retries, uint64_t *seq,
                      struct fl_error *err)
{
    char body[160];
    if (strcmp(name, "on-failure") == 0)
        snprintf(body, sizeof body, "{\"RestartPolicy\":{\"Name\":\"%s\",\"MaximumRetryCount\":%ld}}",
                 name, retries);
    else
        snprintf(body, sizeof body, "{\"RestartPolicy\":{\"Name\":\"%s\"}}", name);
    return call(in, "update", "POST", "/update", body, seq, err);
}

int fl_compose_op_block(struct fl_target *t, struct fl_instance *pub, const char *reason,
                        struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "block", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (pub->restart_blocked)
        return 0;
    char retries[32];
    snprintf(retries, sizeof retries, "%ld", in->policy_retries);
    int rc = journal(in, "docker.policy", &in->seq_policy, "policy", in->policy, "retries",
                     retries, err);
    if (rc == 0 && strcmp(in->policy, "no") != 0)
        rc = set_policy(in, "no", 0, NULL, err);
    if (rc)
        return rc;
    pub->restart_blocked = 1;
    snprintf(in->block_reason, sizeof in->block_reason, "%s",
             reason && reason[0] ? reason : "blocked by a fault");
    fl_compose_record(in, FL_INFO, "restarts blocked (restart policy %s -> no): %s", in->policy,
                      in->block_reason);
    fl_compose_set_state(in);
    return 0;
}

int fl_compose_op_unblock(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "unblock", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (!pub->restart_blocked && !in->seq_policy)
        return 0;
    int rc = 0;
    if (strcmp(in->policy, "no") == 0) {
        fl_journal_done(in->ct->run->journal, in->seq_policy);
        in->seq_policy = 0;
    } else if (in->running) {
        rc = set_policy(in, in->policy, in->policy_retries, &in->seq_policy, err);
    } else {
        /* The engine refuses to update a stopped container: the policy
         * goes back right after its next start (fl_compose_policy_due). */
        in->policy_deferred = 1;
    }
    if (rc)
        return rc;
    pub->restart_blocked = 0;
    fl_compose_record(in, FL_INFO, "restarts allowed again (restart policy %s)", in->policy);
    if (in->restart_waiting && !in->running) {
        /* The restart that was refused happens now. */
        in->restart_waiting = 0;
        rc = call(in, "start", "POST", "/start", NULL, NULL, err);
        if (rc)
            return rc;
        fl_compose_record(in, FL_INFO, "docker start of container %s (its refused restart)",
                          in->name);
    }
    fl_compose_set_state(in);
    return 0;
}

int fl_compose_op_partition(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "partition", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (pub->partitioned)
        return 0;
    if (in->nnets == 0)
        return fl_error_set(err, FL_EINJECT, "partition %s: container %s is on no network",
                            pub->id, in->name);
    char names[256] = "";
    for (int k = 0; k < in->nnets; k++) {
        struct compose_net *n = &in->nets[k];
        const char *kv[] = {"socket", in->ct->socket, "id", in->cid, "name", in->name,
                            "network", n->id, "aliases", n->aliases, NULL};
        int rc = n->seq ? 0
                        : fl_journal_undo(in->ct->run->journal, "docker.connect", pub->id, kv,
                                          &n->seq, err);
        char path[160], body[160];
        snprintf(path, sizeof path, "networks/%s/disconnect", n->id);
        snprintf(body, sizeof body, "{\"Container\":\"%s\",\"Force\":true}", in->cid);
        if (rc == 0)
            rc = call(in, "disconnect", "POST", path, body, NULL, err);
        if (rc)
            return rc;
        pub->partitioned = 1;
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", k ? ", " : "", n->name);
    }
    fl_compose_record(in, FL_INFO, "partitioned: container %s disconnected from %s", in->name,
                      names);
    return 0;
}

int fl_compose_op_unpartition(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "unpartition", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (!pub->partitioned)
        return 0;
    for (int k = 0; k < in->nnets; k++) {
        struct compose_net *n = &in->nets[k];
        if (!n->seq)
            continue;
        char path[160], body[800];
        snprintf(path, sizeof path, "networks/%s/connect", n->id);
        snprintf(body, sizeof body, "{\"Container\":\"%s\",\"EndpointConfig\":{\"Aliases\":%s}}",
                 in->cid, n->aliases);
        int rc = call(in, "connect", "POST", path, body, &n->seq, err);
        if (rc)
            return rc;
        fl_compose_record(in, FL_INFO, "reconnected: container %s to %s (aliases %s)", in->name,
                          n->name, n->aliases);
    }
    pub->partitioned = 0;
    return 0;
}

void fl_compose_policy_due(struct compose_inst *in)
{
    if (!in->policy_deferred || in->pub.restart_blocked)
        return;
    in->policy_deferred = 0;
    struct fl_error e = {0};
    if (set_policy(in, in->policy, in->policy_retries, &in->seq_policy, &e))
        fl_compose_record(in, FL_INFO, "restart policy of %s not restored: %s", in->name, e.msg);
}

int fl_compose_op_start_instance(struct fl_target *t, struct fl_instance *pub,
                                 struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "start", 0, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (in->running)
        return 0;
    if (pub->restart_blocked)
        return fl_error_set(err, FL_EINJECT, "%s: starts are refused: %s", pub->id,
                            in->block_reason);
    int rc = call(in, "start", "POST", "/start", NULL, NULL, err);
    if (rc == 0)
        fl_compose_record(in, FL_INFO, "docker start of container %s", in->name);
    return rc;
}

int fl_compose_op_fs_path(struct fl_target *t, struct fl_instance *pub, const char *path,
                          struct fl_buf *out, struct fl_error *err)
{
    struct compose_inst *in = usable(t, pub, "fs_path", 1, err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (!pid_is_container(in))
        return fl_error_set(err, FL_EINJECT, "fs_path %s: the processes of container %s are not "
                            "visible from here (pid %d)", pub->id, in->name, pub->pid);
    /* The container's mount namespace as the host sees it: its root
     * filesystem and every volume and tmpfs mounted into it. */
    if (fl_buf_addf(out, "/proc/%d/root%s%s", pub->pid, path[0] == '/' ? "" : "/", path))
        return fl_error_set(err, FL_ENOMEM, "path too long: %s", path);
    return 0;
}

size_t fl_compose_restore(struct compose_target *ct)
{
    size_t n = 0;
    for (size_t i = 0; i < ct->ninsts; i++) {
        struct compose_inst *in = &ct->insts[i];
        struct fl_error e = {0};
        if (in->seq_cont && fl_compose_op_signal(&ct->base, &in->pub, SIGCONT, &e) == 0) {
            in->pub.stopped_by_signal = 0;
            n++;
        }
        /* A heal already on its way (thaw, unblock) is not repeated. */
        if (in->seq_unpause && in->pub.frozen &&
            call(in, "unpause", "POST", "/unpause", NULL, &in->seq_unpause, &e) == 0) {
            in->pub.frozen = 0;
            n++;
        }
        if (in->seq_policy && in->pub.restart_blocked &&
            fl_compose_op_unblock(&ct->base, &in->pub, &e) == 0)
            n++;
        if (in->pub.partitioned && fl_compose_op_unpartition(&ct->base, &in->pub, &e) == 0)
            n++;
        if (in->seq_start && !in->running &&
            call(in, "start", "POST", "/start", NULL, NULL, &e) == 0) {
            fl_compose_record(in, FL_INFO, "restored: docker start of container %s", in->name);
            n++;
        }
    }
    return n;
}
