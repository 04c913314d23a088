/* ops.c - what faultline does to one instance of the local target: signal,
 * kill, terminate, freeze, thaw, block restarts, start, plus the glue to
 * its containment (contain.c). Every change that outlives the operation
 * (a freeze, a SIGSTOP) is journaled before it is made. */
#include "targets/local/local_int.h"
#include "core/journal.h"
#include "core/run_context.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEMBERS_MAX 4096
#define FREEZE_WAIT_MS 2000

/* ---- containment glue -------------------------------------------------- */

int fl_local_contain_prepare(struct local_inst *in, struct fl_error *err)
{
    struct local_target *lt = in->lt;
    if (lt->contain.mode != FL_CONTAIN_CGROUP || in->seq_cgroup)
        return 0;
    int rc = fl_contain_inst_cgroup(&lt->contain, in->pub.id, 0, in->cgroup, sizeof in->cgroup,
                                    err);
    const char *kv[] = {"path", in->cgroup, NULL};
    if (rc == 0)
        rc = fl_journal_undo(lt->run->journal, "cgroup", in->pub.id, kv, &in->seq_cgroup, err);
    if (rc == 0)
        rc = fl_contain_inst_cgroup(&lt->contain, in->pub.id, 1, in->cgroup, sizeof in->cgroup,
                                    err);
    if (rc) {
        fl_journal_done(lt->run->journal, in->seq_cgroup);
        in->seq_cgroup = 0;
        in->cgroup[0] = '\0';
    }
    return rc;
}

/* Members of the instance's containment: the cgroup's processes; or,
 * under its mini-init, every process below it (what escaped to us carries
 * the marker); or, with neither, the processes carrying its marker. The
 * mini-init itself is not a member: it is ours, not the service's. */
static int members(struct local_inst *in, int *pids, int max)
{
    if (in->cgroup[0])
        return fl_cgroup_pids(in->cgroup, pids, max);
    int n = 0;
    if (in->proc && in->proc->init) {
        n = fl_proc_descendants(in->proc->pid, pids, max);
        if (n < 0)
            n = 0;
    }
    int base = n;
    int m = fl_proc_find_marked(in->marker, 0, pids + base, max - base);
    for (int i = 0; i < m; i++) {
        int pid = pids[base + i];
        int dup = in->proc && in->proc->init && pid == in->proc->pid;
        for (int k = 0; !dup && k < n; k++)
            dup = pids[k] == pid;
        if (!dup)
            pids[n++] = pid;
    }
    return n;
}

int fl_local_signal_members(struct local_inst *in, int sig)
{
    int *pids = malloc(MEMBERS_MAX * sizeof *pids);
    if (!pids)
        return -ENOMEM;
    int n = members(in, pids, MEMBERS_MAX);
    int sent = 0;
    for (int i = 0; i < n; i++)
        if (kill(pids[i], sig) == 0)
            sent++;
    free(pids);
    return n < 0 ? n : sent;
}

int fl_local_kill_members(struct local_inst *in)
{
    if (in->cgroup[0]) {
        int rc = fl_cgroup_kill(in->cgroup);
        if (rc && rc != -ENOENT)
            return rc;
        if (in->lt->run->self_exe)
            return 0;
        /* Without the exec shim the command was moved into its cgroup
         * only after it started: a child it forked at once may be outside,
         * so the sweep below runs too. */
    }
    int *pids = malloc(MEMBERS_MAX * sizeof *pids);
    if (!pids)
        return -ENOMEM;
    int n = members(in, pids, MEMBERS_MAX);
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    /* The mini-init is not killed: it sees its command die, reaps every
     * zombie below it and exits the way the command did. */
    for (int i = 0; i < n; i++) {
        /* Escapees re-parented to us (subreaper): reap the dead ones, but
         * never our main child, which libuv waits for. */
        if (!in->proc || pids[i] != in->proc->pid)
            fl_proc_reap_adopted(pids[i]);
    }
    free(pids);
    return n < 0 ? n : 0;
}

int fl_local_members_gone(struct local_inst *in)
{
    if (in->cgroup[0])
        return fl_cgroup_empty(in->cgroup);
    int pids[8];
    int n = members(in, pids, 8);
    for (int i = 0; i < n; i++)
        fl_proc_reap_adopted(pids[i]);
    return members(in, pids, 8) <= 0;
}

void fl_local_set_state(struct local_inst *in, enum fl_inst_state s)
{
    if (s == FL_INST_STOPPED && in->pub.restart_blocked)
        s = FL_INST_BLOCKED;
    in->pub.state = s;
}

/* ---- operations ------------------------------------------------------- */

static struct local_inst *running(struct fl_instance *pub, const char *op, struct fl_error *err)
{
    struct local_inst *in = (struct local_inst *)pub;
    if (in->lt->destroyed) {
        fl_error_set(err, FL_EABORT, "%s %s: the target is gone", op, pub->id);
        return NULL;
    }
    if (!in->proc || pub->pid <= 0) {
        fl_error_set(err, FL_EINJECT, "%s %s: not running", op, pub->id);
        return NULL;
    }
    return in;
}

int fl_local_op_signal(struct fl_target *t, struct fl_instance *pub, int sig,
                       struct fl_error *err)
{
    (void)t;
    struct local_inst *in = running(pub, "signal", err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    struct fl_journal *j = in->lt->run->journal;
    if (sig == SIGSTOP && !pub->stopped_by_signal) {
        /* Journaled before: a crash leaves a stopped process behind that
         * `recover` continues (or kills with the rest of the run). */
        const char *kv[] = {"path", in->cgroup, "marker", in->marker, NULL};
        int rc = fl_journal_undo(j, "cont", pub->id, kv, &in->seq_cont, err);
        if (rc)
            return rc;
    }
    if (sig == SIGKILL)
        return fl_local_op_kill(t, pub, err);
    int n = fl_local_signal_members(in, sig);
    const char *how = in->cgroup[0] ? "cgroup" : in->proc->init ? "below its init" : "marked";
    if (n <= 0) {
        /* The cgroup or marker saw nobody: fall back to the group. */
        int rc = fl_local_kill_group(pub->pid, sig);
        if (rc)
            return fl_error_set(err, FL_ESYS, "kill %s to %s (pid %d): %s", fl_signal_name(sig),
                                pub->id, pub->pid, strerror(-rc));
        n = 0;
        how = "process group";
    }
    fl_local_record(in, FL_INFO, "%s to %d process%s (%s)", fl_signal_name(sig), n,
                    n == 1 ? "" : "es", how);
    if (sig == SIGSTOP) {
        pub->stopped_by_signal = 1;
    } else if (sig == SIGCONT && pub->stopped_by_signal) {
        pub->stopped_by_signal = 0;
        fl_journal_done(j, in->seq_cont);
        in->seq_cont = 0;
    }
    fl_run_log(in->lt->run, 1, "%s (pid %d): %s to %d process%s", pub->id, pub->pid,
               fl_signal_name(sig), n, n == 1 ? "" : "es");
    return 0;
}

int fl_local_op_kill(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    (void)t;
    struct local_inst *in = running(pub, "kill", err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    int before = fl_local_signal_members(in, 0);
    fl_local_record(in, FL_INFO, "pod kill: %d process%s (%s)", before < 0 ? 0 : before,
                    before == 1 ? "" : "es",
                    in->cgroup[0] ? "cgroup.kill" : in->proc->init ? "everything below its init"
                                                                  : "every marked process");
    int rc = fl_local_kill_members(in);
    /* The main process too, whatever the containment saw (a mini-init
     * follows its command by itself and reaps the pod's zombies). */
    int rg = in->proc->init ? 0 : fl_local_kill_group(pub->pid, SIGKILL);
    if (rc && rg)
        return fl_error_set(err, FL_ESYS, "kill %s (pid %d): %s", pub->id, pub->pid,
                            strerror(-rc));
    fl_run_log(in->lt->run, 1, "%s (pid %d): killed (%s)", pub->id, pub->pid,
               in->cgroup[0] ? "cgroup.kill" : "every marked process");
    return 0;
}

int fl_local_op_terminate(struct fl_target *t, struct fl_instance *pub, uint64_t grace_ms,
                          struct fl_error *err)
{
    (void)t;
    struct local_inst *in = running(pub, "terminate", err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    fl_local_terminate(in, grace_ms);
    fl_run_log(in->lt->run, 1, "%s (pid %d): SIGTERM", pub->id, pub->pid);
    return 0;
}

int fl_local_op_freeze(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct local_inst *in = running(pub, "freeze", err);
    if (!in)
        return err ? err->code : FL_EINJECT;
    if (pub->frozen)
        return 0;
    if (!in->cgroup[0]) {
        /* No cgroup: SIGSTOP every member, which the process can observe
         * (a parent's waitpid sees it) but which stops it all the same. */
        int rc = fl_local_op_signal(t, pub, SIGSTOP, err);
        if (rc == 0)
            pub->frozen = 1;
        return rc;
    }
    const char *kv[] = {"path", in->cgroup, NULL};
    int rc = fl_journal_undo(in->lt->run->journal, "thaw", pub->id, kv, &in->seq_thaw, err);
    if (rc)
        return rc;
    rc = fl_cgroup_freeze(in->cgroup, 1, FREEZE_WAIT_MS);
    if (rc) {
        fl_cgroup_freeze(in->cgroup, 0, FREEZE_WAIT_MS);
        return fl_error_set(err, FL_ESYS, "freeze %s (%s): %s", pub->id, in->cgroup,
                            strerror(-rc));
    }
    pub->frozen = 1;
    int n = fl_local_signal_members(in, 0);
    fl_local_record(in, FL_INFO, "frozen: %d process%s (cgroup.freeze)", n < 0 ? 0 : n,
                    n == 1 ? "" : "es");
    fl_run_log(in->lt->run, 1, "%s (pid %d): frozen", pub->id, pub->pid);
    return 0;
}

int fl_local_op_thaw(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    struct local_inst *in = (struct local_inst *)pub;
    if (in->lt->destroyed)
        return fl_error_set(err, FL_EABORT, "thaw %s: the target is gone", pub->id);
    if (!pub->frozen)
        return 0;
    if (!in->cgroup[0]) {
        int rc = pub->stopped_by_signal ? fl_local_op_signal(t, pub, SIGCONT, err) : 0;
        if (rc == 0)
            pub->frozen = 0;
        return rc;
    }
    int rc = fl_cgroup_freeze(in->cgroup, 0, FREEZE_WAIT_MS);
    if (rc && rc != -ENOENT)
        return fl_error_set(err, FL_ESYS, "thaw %s (%s): %s", pub->id, in->cgroup,
                            strerror(-rc));
    pub->frozen = 0;
    fl_journal_done(in->lt->run->journal, in->seq_thaw);
    in->seq_thaw = 0;
    fl_run_log(in->lt->run, 1, "%s (pid %d): thawed", pub->id, pub->pid);
    return 0;
}

int fl_local_op_block(struct fl_target *t, struct fl_instance *pub, const char *reason,
                      struct fl_error *err)
{
    (void)t;
    struct local_inst *in = (struct local_inst *)pub;
    if (in->lt->destroyed)
        return fl_error_set(err, FL_EABORT, "block %s: the target is gone", pub->id);
    int was = pub->restart_blocked;
    pub->restart_blocked = 1;
    snprintf(in->block_reason, sizeof in->block_reason, "%s",
             reason && reason[0] ? reason : "blocked by a fault");
    in->blocked_logged = 0;
    if (pub->state == FL_INST_STOPPED)
        pub->state = FL_INST_BLOCKED;
    /* Only the block itself; every start it refuses is recorded where the
     * start is refused (a restart: proc.c; start_instance: below). */
    if (!was)
        fl_local_record(in, FL_INFO, "starts blocked: %s", in->block_reason);
    return 0;
}

int fl_local_op_unblock(struct fl_target *t, struct fl_instance *pub, struct fl_error *err)
{
    (void)t;
    struct local_inst *in = (struct local_inst *)pub;
    if (in->lt->destroyed)
        return fl_error_set(err, FL_EABORT, "unblock %s: the target is gone", pub->id);
    int was = pub->restart_blocked;
    pub->restart_blocked = 0;
    if (pub->state == FL_INST_BLOCKED)
        pub->state = FL_INST_STOPPED;
    if (was) {
        fl_local_record(in, FL_INFO, "starts allowed again");
        /* A restart that was being refused comes now, not after the
         * backoff the refusals grew to. */
        fl_local_restart_now(in);
    }
    return 0;
}

int fl_local_op_start_instance(struct fl_target *t, struct fl_instance *pub,
                               struct fl_error *err)
{
    (void)t;
    struct local_inst *in = (struct local_inst *)pub;
    if (in->proc)
        return 0;
    if (in->lt->destroyed)
        return fl_error_set(err, FL_EABORT, "start %s: the target is gone", pub->id);
    if (in->lt->stopping)
        return fl_error_set(err, FL_EINJECT, "%s: the target is stopping", pub->id);
    if (pub->restart_blocked) {
        fl_local_record(in, FL_INFO, "start refused: %s", in->block_reason);
        return fl_error_set(err, FL_EINJECT, "%s: starts are refused: %s", pub->id,
                            in->block_reason);
    }
    if (in->draining)
        return fl_error_set(err, FL_EINJECT, "%s: its last processes are still being killed",
                            pub->id);
    if (in->restart_pending) {
        uv_timer_stop(&in->restart_timer);
        in->restart_pending = 0;
    }
    int rc = fl_local_inst_spawn(in, err);
    if (rc == 0)
        pub->restarts++;
    return rc;
}

int fl_local_op_fs_path(struct fl_target *t, struct fl_instance *pub, const char *path,
                        struct fl_buf *out, struct fl_error *err)
{
    (void)t;
    /* Local instances share faultline's view of the filesystem, except
     * for their volumes (bound in their private mount namespace). */
    int rc = fl_local_volume_map((const struct local_inst *)pub, path, out);
    if (rc == 1)
        return 0;
    if (rc || fl_buf_adds(out, path))
        return fl_error_set(err, FL_ENOMEM, "path too long: %s", path);
    return 0;
}

int fl_local_op_add_env_hook(struct fl_target *t, fl_env_hook fn, void *ud,
                             struct fl_error *err)
{
    struct local_target *lt = t->ctx;
    if (lt->nhooks >= LOCAL_MAX_HOOKS)
        return fl_error_set(err, FL_ENOMEM, "more than %d environment hooks", LOCAL_MAX_HOOKS);
    lt->hooks[lt->nhooks].fn = fn;
    lt->hooks[lt->nhooks].ud = ud;
    lt->nhooks++;
    return 0;
}
