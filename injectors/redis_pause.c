/* redis_pause.c - make Redis instances stop answering for the fault's
 * duration: SIGSTOP (the process freezes: clients time out, sentinels may
 * fail over) or CLIENT PAUSE WRITE (the server holds every write; ALL
 * would also hold the UNPAUSE).
 * The heal sends SIGCONT or CLIENT UNPAUSE; a CLIENT PAUSE also expires by
 * itself a little after the fault, so a crashed run cannot leave it on. */
#include "injectors/redis_common.h"
#include "core/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_SERVICE, P_ROLE, P_PICK, P_MODE };
enum { MODE_STOP, MODE_CLIENT };

static const struct fl_param params[] = {
    FL_REDIS_ROLE_PARAMS,
    [P_MODE] = {"mode", FL_PT_ENUM, 0, "stop", "stop: SIGSTOP/SIGCONT; client: CLIENT PAUSE WRITE (writes held, reads answered), CLIENT UNPAUSE on heal",
                .choices = (const char *const[]){[MODE_STOP] = "stop", [MODE_CLIENT] = "client", NULL}},
};

struct paused {
    int client;
    size_t n, waiting;
    struct fl_instance *in[FL_MAX_PICK];
    int pid[FL_MAX_PICK];
    uint64_t seq[FL_MAX_PICK];       /* journal: CLIENT UNPAUSE */
    int failed;
    char err[300];
};

static void add_desc(struct fl_fault_run *fr, const char *verb, struct fl_instance *in, int pid,
                     size_t i)
{
    size_t len = strlen(fr->desc);
    snprintf(fr->desc + len, sizeof fr->desc - len, "%s%s %s (pid %d)", i ? ", " : "", verb,
             in->id, pid);
}

static void on_client_reply(const struct fl_rq_result *res, void *ud)
{
    struct fl_fault_run *fr = ud;
    struct paused *p = fr->state;
    if (res->status || res->is_error) {
        p->failed = 1;
        snprintf(p->err, sizeof p->err, "%.290s", res->text);
    }
    if (--p->waiting == 0)
        fl_fault_done(fr, p->failed ? FL_EINJECT : 0, p->failed ? p->err : NULL);
}

static int client_cmd(struct fl_fault_run *fr, int unpause, struct fl_error *err)
{
    struct paused *p = fr->state;
    char ms[32];
    snprintf(ms, sizeof ms, "%llu", (unsigned long long)(fr->fault->for_ms + 2000));
    const char *pause_argv[] = {"CLIENT", "PAUSE", ms, "WRITE"};
    const char *unpause_argv[] = {"CLIENT", "UNPAUSE"};
    p->waiting = p->n + 1;
    p->failed = 0;
    for (size_t i = 0; i < p->n; i++) {
        /* Journaled before the pause, done after the unpause was sent (a
         * CLIENT PAUSE also expires by itself: belt and braces). */
        char port[16];
        snprintf(port, sizeof port, "%d", p->in[i]->port);
        const char *kv[] = {"host", p->in[i]->host, "port", port, NULL};
        if (!unpause && fl_journal_undo(fr->run->journal, "redis.unpause", p->in[i]->id, kv,
                                        &p->seq[i], err)) {
            p->waiting = 0;
            return FL_EINJECT;
        }
        if (unpause) {
            fl_journal_done(fr->run->journal, p->seq[i]);
            p->seq[i] = 0;
        }
        int rc = unpause ? fl_rq(fr->run, p->in[i]->port, 2000, 2, unpause_argv, on_client_reply,
                                 fr, err)
                         : fl_rq(fr->run, p->in[i]->port, 2000, 4, pause_argv, on_client_reply, fr,
                                 err);
        if (rc) {
            p->waiting = 0;
            return rc;
        }
    }
    if (--p->waiting == 0)
        return p->failed ? fl_error_set(err, FL_EINJECT, "%s", p->err) : 0;
    return FL_PENDING;
}

static void on_pick(struct fl_fault_run *fr, struct fl_instance **in, size_t n, const char *why)
{
    struct paused *p = fr->state;
    if (n == 0) {
        fl_fault_done(fr, FL_EINJECT, why);
        return;
    }
    p->client = fr->fault->args.v[P_MODE].e == MODE_CLIENT;
    for (size_t i = 0; i < n; i++) {
        p->in[i] = in[i];
        p->pid[i] = in[i]->pid;
        p->n = i + 1;
        fl_inj_add_key(fr, in[i]);
        add_desc(fr, p->client ? "CLIENT PAUSE" : "SIGSTOP", in[i], in[i]->pid, i);
        if (!p->client) {
            struct fl_error e = {0};
            if (fl_target_signal(fr->run->target, in[i], SIGSTOP, &e)) {
                fl_fault_done(fr, FL_EINJECT, e.msg);
                return;
            }
        }
    }
    if (!p->client) {
        fl_fault_done(fr, 0, NULL);
        return;
    }
    struct fl_error e = {0};
    int rc = client_cmd(fr, 0, &e);
    if (rc != FL_PENDING)
        fl_fault_done(fr, rc, rc ? e.msg : NULL);
}

static int inject(struct fl_fault_run *fr, struct fl_error *err)
{
    /* on_pick reads the mode from the arguments (an enum: the loader
     * accepted only stop or client): the pick may answer before the state
     * could be filled in here. */
    return fl_redis_pick_start(fr, sizeof(struct paused), on_pick, err);
}

static int revert(struct fl_fault_run *fr, struct fl_error *err)
{
    struct paused *p = fr->state;
    if (!p)
        return 0;
    fr->desc[0] = '\0';
    for (size_t i = 0; i < p->n; i++)
        add_desc(fr, p->client ? "CLIENT UNPAUSE" : "SIGCONT", p->in[i], p->pid[i], i);
    if (p->client) {
        /* The state stays until the process ends: a second revert (final
         * heal) unpauses again, harmlessly. */
        for (size_t i = 0; i < p->n; i++)
            if (p->in[i]->pid != p->pid[i]) {
                p->in[i] = p->in[--p->n]; /* restarted meanwhile: nothing to unpause */
                p->pid[i] = p->pid[p->n];
                i--;
            }
        if (p->n == 0)
            return 0;
        return client_cmd(fr, 1, err);
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->in[i]->pid == p->pid[i] && p->in[i]->stopped_by_signal) {
            int rc = fl_target_signal(fr->run->target, p->in[i], SIGCONT, err);
            if (rc)
                return rc;
        }
    free(p);
    fr->state = NULL;
    return 0;
}

const struct fl_injector_type fl_injector_redis_pause = {
    .name = "redis.pause",
    .help = "freeze Redis instances by role for `for:` (SIGSTOP, or CLIENT PAUSE with mode: "
            "client); SIGCONT / CLIENT UNPAUSE on heal",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .wants_duration = 1,
    .needs = FL_TOP_SIGNAL,
    .inject = inject,
    .revert = revert,
};
