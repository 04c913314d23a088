/* target_local_proc.c - spawning, exit handling and restarts of the local
 * target's instances.
 *
 * Every instance's process runs in its own session (UV_PROCESS_DETACHED),
 * so its pid is also its process group id and a signal to -pid reaches the
 * grandchildren a shell script starts. With run->self_exe set, processes
 * start through the exec shim (exec_shim.c), which asks the kernel to
 * SIGKILL them when faultline dies, however it dies.
 */
#include "targets/local/local_int.h"
#include "targets/local/exec_shim.h"
#include "core/run_context.h"
#include "base/template.h"
#include "core/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EXPAND_MAX (64 * 1024)
#define BACKOFF_RESET_US (10 * 1000000LL)   /* up this long: backoff resets */
#define DEFAULT_BACKOFF_MS 200
#define DEFAULT_BACKOFF_MAX_MS 5000

/* ---- processes ------------------------------------------------------- */

int fl_local_spawn(uv_loop_t *loop, uv_process_t *h, const char *self_exe,
                   char *const *argv, char *const *env, const char *cwd, int log_fd,
                   uv_exit_cb exit_cb, void *data, uv_close_cb free_on_fail,
                   struct fl_error *err)
{
    return fl_local_spawn_in(loop, h, self_exe, NULL, 0, argv, env, cwd, log_fd, exit_cb, data,
                             free_on_fail, err);
}

int fl_local_spawn_in(uv_loop_t *loop, uv_process_t *h, const char *self_exe,
                      const char *cgroup, int init, char *const *argv, char *const *env,
                      const char *cwd, int log_fd, uv_exit_cb exit_cb, void *data,
                      uv_close_cb free_on_fail, struct fl_error *err)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **args = (char **)argv;
    char pidbuf[24];
    if (self_exe) {
        /* [self_exe, "__exec", "<our pid>", ("--cgroup", DIR,) "--", cmd...]:
         * the shim checks that its parent is still us, joins the cgroup,
         * then execs the command. */
        args = calloc(n + 7, sizeof *args);
        if (!args) {
            /* Never initialised, so nothing to close: release it now. */
            h->data = data;
            free_on_fail((uv_handle_t *)h);
            return fl_error_set(err, FL_ENOMEM, "out of memory");
        }
        snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
        size_t k = 0;
        args[k++] = (char *)self_exe;
        args[k++] = "__exec";
        args[k++] = pidbuf;
        if (cgroup) {
            args[k++] = "--cgroup";
            args[k++] = (char *)cgroup;
        } else if (init) {
            args[k++] = "--init";
        }
        args[k++] = "--";
        memcpy(args + k, argv, (n + 1) * sizeof *args);
    }
    /* The shim is faultline itself: a preloaded library (disk.errors'
     * faultline-ioerr.so, libfaketime) is meant for the command, not for
     * it (a sanitized faultline even refuses to start with one). It goes
     * through as FL_SHIM_PRELOAD_ENV and the shim restores it just before
     * exec'ing the command (exec_shim.c). */
    char **env2 = NULL;
    char *moved = NULL;
    if (self_exe && env) {
        size_t ne = 0;
        while (env[ne])
            ne++;
        env2 = calloc(ne + 1, sizeof *env2);
        for (size_t i = 0; env2 && i < ne; i++) {
            env2[i] = env[i];
            if (!moved && strncmp(env[i], "LD_PRELOAD=", 11) == 0) {
                const char *val = env[i] + 11;   /* after "LD_PRELOAD=" */
                size_t l = strlen(FL_SHIM_PRELOAD_ENV) + strlen(val) + 1;
                moved = malloc(l);
                if (moved) {
                    snprintf(moved, l, "%s%s", FL_SHIM_PRELOAD_ENV, val);
                    env2[i] = moved;
                }
            }
        }
        /* Out of memory here: the environment goes as it is. */
    }
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;   /* libuv gives fds 0-2 /dev/null when ignored */
    for (int i = 1; i < 3; i++) {
        stdio[i].flags = log_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
        stdio[i].data.fd = log_fd;
    }
    uv_process_options_t o;
    memset(&o, 0, sizeof o);
    o.exit_cb = exit_cb;
    o.file = args[0];
    o.args = args;
    o.env = env2 ? env2 : (char **)env;
    o.cwd = cwd;
    o.flags = UV_PROCESS_DETACHED;
    o.stdio_count = 3;
    o.stdio = stdio;
    int rc = uv_spawn(loop, h, &o);
    h->data = data;
    if (args != argv)
        free(args);
    free(env2);
    free(moved);
    if (rc) {
        uv_close((uv_handle_t *)h, free_on_fail);
        return fl_error_set(err, FL_ESYS, "cannot run %s: %s", argv[0], uv_strerror(rc));
    }
    if (cgroup && !self_exe) {
        /* No shim: move it now. A command that forks at once may have left
         * a child outside; the environment marker still finds that one. */
        (void)fl_cgroup_enter(cgroup, h->pid);
    }
    return 0;
}

int fl_local_kill_group(int pid, int sig)
{
    if (pid <= 0)
        return -ESRCH;
    if (kill(-pid, sig) == 0)
        return 0;
    if (errno != ESRCH)
        return -errno;
    return kill(pid, sig) == 0 ? 0 : -errno;
}

int fl_local_kill_reap(int pid, int wait_ms)
{
    if (pid <= 0)
        return 0;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    struct timespec ms = {0, 1000000};
    for (int i = 0; i <= wait_ms; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0)
            return 0;   /* not our child (any more) */
        nanosleep(&ms, NULL);
    }
    return 0;
}

void fl_local_exit_desc(int status, int sig, char *buf, size_t len)
{
    if (sig)
        snprintf(buf, len, "killed by %s", fl_signal_name(sig));
    else
        snprintf(buf, len, "exited with status %d", status);
}

void fl_local_record(struct local_inst *in, enum fl_optype type, const char *fmt, ...)
{
    struct fl_run *run = in->lt->run;
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

/* ---- templates and environment --------------------------------------- */

/* Names local to one replica first, then the run's (vars, builtins and,
 * through run->target, our own service names). */
static int inst_resolve(void *ud, const char *name, size_t len, struct fl_buf *out,
                        struct fl_error *err)
{
    struct local_inst *in = ud;
    if (len == 4 && memcmp(name, "port", 4) == 0)
        return fl_buf_addf(out, "%d", in->pub.port) ? FL_ENOMEM : 0;
    if (len == 7 && memcmp(name, "replica", 7) == 0)
        return fl_buf_addf(out, "%d", in->pub.replica) ? FL_ENOMEM : 0;
    if (len == 4 && memcmp(name, "host", 4) == 0)
        return fl_buf_adds(out, "127.0.0.1") ? FL_ENOMEM : 0;
    if (len > 7 && memcmp(name, "volume.", 7) == 0) {
        const struct local_vol *lv = fl_local_volume(in, name + 7, len - 7);
        if (!lv || !lv->dst[0])
            return fl_error_set(err, FL_ENOTFOUND, "${%.*s}: %s has no volume '%.*s'%s",
                                (int)len, name, in->pub.id, (int)(len - 7), name + 7,
                                lv ? " yet (a volume path may not name a volume)" : "");
        return fl_buf_adds(out, lv->dst) ? FL_ENOMEM : 0;
    }
    struct fl_run *run = in->lt->run;
    int rc = fl_run_resolve(run, name, len, out, err);
    if (rc == FL_ENOTFOUND && run->target != &in->lt->base)
        rc = fl_target_local.resolve(&in->lt->base, name, len, out, err);
    return rc;
}

/* Expand tpl for in into a new string (caller frees). */
static char *expand(struct local_inst *in, const char *tpl, struct fl_error *err)
{
    struct fl_buf b;
    fl_buf_init(&b, EXPAND_MAX);
    if (fl_template_expand(tpl, inst_resolve, in, &b, err)) {
        fl_buf_free(&b);
        return NULL;
    }
    if (!b.p) {
        char *s = fl_strdup("");
        if (!s)
            fl_error_set(err, FL_ENOMEM, "out of memory");
        return s;
    }
    return b.p;
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

char *fl_local_expand(struct local_inst *in, const char *tpl, struct fl_error *err)
{
    return expand(in, tpl, err);
}

static char **expand_argv(struct local_inst *in, const char *const *tpl, size_t n,
                          struct fl_error *err)
{
    char **v = calloc(n + 1, sizeof *v);
    if (!v) {
        fl_error_set(err, FL_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = expand(in, tpl[i], err))) {
            free_strv(v);
            return NULL;
        }
    return v;
}

static int env_overridden(const struct fl_service *svc, const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t klen = eq ? (size_t)(eq - entry) : strlen(entry);
    if (klen == 4 && memcmp(entry, "PATH", 4) == 0)
        return 1;
    for (size_t i = 0; i < svc->nenv; i++)
        if (strlen(svc->env[i].key) == klen && memcmp(svc->env[i].key, entry, klen) == 0)
            return 1;
    return 0;
}

#define HOOK_MAX_VARS 8   /* variables one environment hook may add */

/* Every LD_PRELOAD of v (faultline's own, the service's, each hook's: an
 * I/O error library and libfaketime may both be asked for) merged into
 * the last one, each library once, the later-added first (a hook's
 * interposer must come before whatever the service preloads, or symbols
 * bind to that instead: LD_PRELOAD=libc.so.6 would void disk.errors);
 * dedupe_env then drops the others. 0 or FL_ENOMEM. */
static int merge_preload(char **v)
{
    size_t last = SIZE_MAX, count = 0;
    for (size_t i = 0; v[i]; i++)
        if (strncmp(v[i], "LD_PRELOAD=", 11) == 0) {
            last = i;
            count++;
        }
    if (count < 2)
        return 0;
    struct fl_buf b;
    fl_buf_init(&b, EXPAND_MAX);
    int rc = fl_buf_adds(&b, "LD_PRELOAD=");
    for (size_t i = last + 1; i-- > 0 && !rc;) {
        if (strncmp(v[i], "LD_PRELOAD=", 11) != 0)
            continue;
        const char *p = v[i] + 11;
        while (*p && !rc) {   /* libraries are separated by ':' or spaces */
            size_t l = strcspn(p, ": ");
            if (l) {
                int dup = 0;
                const char *q = b.p + 11;
                while (*q && !dup) {
                    size_t m = strcspn(q, ":");
                    dup = m == l && memcmp(q, p, l) == 0;
                    q += m + (q[m] == ':');
                }
                if (!dup)
                    rc = fl_buf_addf(&b, "%s%.*s", b.len > 11 ? ":" : "", (int)l, p);
            }
            p += l + (p[l] != 0);
        }
    }
    if (rc) {
        fl_buf_free(&b);
        return FL_ENOMEM;
    }
    free(v[last]);
    v[last] = b.p;
    return 0;
}

/* Drop every entry whose name appears again later: the later one wins. */
static void dedupe_env(char **v)
{
    size_t n = 0;
    while (v[n])
        n++;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(v[i], '=');
        size_t klen = eq ? (size_t)(eq - v[i]) : strlen(v[i]);
        int later = 0;
        for (size_t j = i + 1; j < n && !later; j++)
            later = strncmp(v[j], v[i], klen) == 0 && (v[j][klen] == '=' || !v[j][klen]);
        if (later)
            free(v[i]);
        else
            v[k++] = v[i];
    }
    v[k] = NULL;
}

/* faultline's environment, PATH with run->bindir first, then the service's
 * env (expanded) overriding same-named variables, the containment marker,
 * then what the environment hooks add. Caller frees. */
static char **build_env(struct local_inst *in, struct fl_error *err)
{
    const struct fl_service *svc = in->ls->svc;
    struct local_target *lt = in->lt;
    size_t n = 0;
    while (environ && environ[n])
        n++;
    size_t cap = n + svc->nenv + 4 + lt->nhooks * HOOK_MAX_VARS;
    char **v = calloc(cap, sizeof *v);
    if (!v)
        goto oom;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_overridden(svc, environ[i]) && !(v[k++] = fl_strdup(environ[i])))
            goto oom;
    const char *path = getenv("PATH");
    const char *bindir = lt->run->bindir;
    struct fl_buf b;
    fl_buf_init(&b, EXPAND_MAX);
    if (fl_buf_addf(&b, "PATH=%s%s%s", bindir ? bindir : "", bindir && path ? ":" : "",
                    path ? path : (bindir ? "" : "/usr/local/bin:/usr/bin:/bin"))) {
        fl_buf_free(&b);
        goto oom;
    }
    v[k++] = b.p;
    for (size_t i = 0; i < svc->nenv; i++) {
        char *val = expand(in, svc->env[i].value, err);
        if (!val) {
            free_strv(v);
            return NULL;
        }
        fl_buf_init(&b, EXPAND_MAX);
        int rc = fl_buf_addf(&b, "%s=%s", svc->env[i].key, val);
        free(val);
        if (rc) {
            fl_buf_free(&b);
            goto oom;
        }
        v[k++] = b.p;
    }
    fl_buf_init(&b, EXPAND_MAX);
    if (fl_buf_addf(&b, "%s=%s", FL_CONTAIN_ENV, in->marker)) {
        fl_buf_free(&b);
        goto oom;
    }
    v[k++] = b.p;
    if (in->nvols && !(v[k++] = fl_local_volumes_env(in, err))) {
        free_strv(v);
        return NULL;
    }
    for (size_t h = 0; h < lt->nhooks; h++) {
        int added = lt->hooks[h].fn(lt->hooks[h].ud, &in->pub, v + k, HOOK_MAX_VARS, err);
        if (added < 0) {
            free_strv(v);
            return NULL;
        }
        k += (size_t)(added > HOOK_MAX_VARS ? HOOK_MAX_VARS : added);
    }
    if (merge_preload(v))
        goto oom;
    dedupe_env(v);
    return v;
oom:
    free_strv(v);
    fl_error_set(err, FL_ENOMEM, "out of memory building the environment of %s", in->pub.id);
    return NULL;
}

/* ---- exit and restart ------------------------------------------------ */

static void proc_closed(uv_handle_t *h)
{
    struct local_proc *p = h->data;
    struct local_target *lt = p->lt;
    free(p);
    fl_local_unref(lt);
}

void fl_local_proc_close(struct local_proc *p)
{
    p->in = NULL;
    uv_close((uv_handle_t *)&p->h, proc_closed);
}

static int wants_restart(struct local_inst *in, int64_t status, int sig)
{
    if (in->lt->stopping || in->lt->destroyed)
        return 0;
    switch (in->ls->svc->restart) {
    case FL_RESTART_ALWAYS: return 1;
    case FL_RESTART_ON_FAILURE: return status != 0 || sig != 0;
    case FL_RESTART_NEVER: return 0;
    }
    return 0;
}

static void on_restart_timer(uv_timer_t *t);

/* Arm the restart timer with the current backoff, then double it. */
static void schedule_restart(struct local_inst *in, int announce)
{
    const struct fl_service *svc = in->ls->svc;
    uint64_t max = svc->backoff_max_ms ? svc->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    uint64_t delay = in->backoff_ms ? in->backoff_ms : DEFAULT_BACKOFF_MS;
    in->backoff_ms = delay * 2 > max ? max : delay * 2;
    if (announce) {
        char d[32];
        fl_format_duration(delay, d, sizeof d);
        fl_local_record(in, FL_INFO, "restarting in %s", d);
        fl_run_log(in->lt->run, 1, "%s restarting in %s", in->pub.id, d);
    }
    in->restart_pending = 1;
    uv_timer_start(&in->restart_timer, on_restart_timer, delay, 0);
}

static void on_restart_timer(uv_timer_t *t)
{
    struct local_inst *in = t->data;
    in->restart_pending = 0;
    if (in->lt->stopping || in->lt->destroyed || in->proc || in->draining)
        return;
    if (in->pub.restart_blocked) {
        /* Like an image the cluster will not admit: keep retrying with
         * backoff, recording each refusal, start as soon as it is lifted. */
        fl_local_record(in, FL_INFO, "restart refused: %s", in->block_reason);
        if (!in->blocked_logged) {
            fl_run_log(in->lt->run, 1, "%s: restart refused: %s", in->pub.id, in->block_reason);
            in->blocked_logged = 1;
        }
        schedule_restart(in, 0);
        return;
    }
    in->blocked_logged = 0;
    struct fl_error err = {0};
    if (fl_local_inst_spawn(in, &err)) {
        fl_local_record(in, FL_INFO, "failed to start: %s", err.msg);
        fl_run_log(in->lt->run, 0, "%s failed to start: %s", in->pub.id, err.msg);
        if (!in->proc)
            schedule_restart(in, 1);
        return;
    }
    in->pub.restarts++;
    if (fl_inst_ready(&in->pub))
        fl_local_on_ready(in);
}

void fl_local_restart_now(struct local_inst *in)
{
    if (!in->restart_pending || in->lt->stopping || in->lt->destroyed)
        return;
    in->backoff_ms = in->ls->svc->backoff_ms;
    uv_timer_start(&in->restart_timer, on_restart_timer, 0, 0);
}

/* The pod is gone as a whole: decide about a restart and tell the start
 * and stop sequences. */
static void finish_exit(struct local_inst *in)
{
    in->draining = 0;
    uv_timer_stop(&in->drain_timer);
    struct local_target *lt = in->lt;
    /* A new incarnation starts thawed and running, whatever this one was. */
    if (in->pub.frozen && in->cgroup[0])
        fl_cgroup_freeze(in->cgroup, 0, 1000);
    in->pub.frozen = 0;
    in->pub.stopped_by_signal = 0;
    fl_journal_done(lt->run->journal, in->seq_thaw);
    fl_journal_done(lt->run->journal, in->seq_cont);
    in->seq_thaw = in->seq_cont = 0;
    fl_local_set_state(in, FL_INST_STOPPED);
    int restarting = in->drain_restart && !lt->stopping && !lt->destroyed;
    if (restarting) {
        if (fl_now_us() - in->started_us >= BACKOFF_RESET_US)
            in->backoff_ms = in->ls->svc->backoff_ms;
        schedule_restart(in, 1);
    }
    fl_local_on_exit(in, restarting);
}

#define DRAIN_POLL_MS 10
#define DRAIN_MAX_US (5 * 1000000LL)

static void on_drain_timer(uv_timer_t *t)
{
    struct local_inst *in = t->data;
    if (!in->draining)
        return;
    if (fl_local_members_gone(in)) {
        finish_exit(in);
        return;
    }
    if (fl_now_us() > in->drain_deadline_us) {
        fl_local_record(in, FL_INFO, "processes of the instance still alive after %llds",
                        (long long)(DRAIN_MAX_US / 1000000));
        fl_run_log(in->lt->run, 0, "%s: processes still alive after SIGKILL", in->pub.id);
        finish_exit(in);
        return;
    }
    fl_local_kill_members(in);
    uv_timer_start(&in->drain_timer, on_drain_timer, DRAIN_POLL_MS, 0);
}

static void proc_exited(uv_process_t *h, int64_t status, int sig)
{
    struct local_proc *p = h->data;
    struct local_inst *in = p->in;
    uv_close((uv_handle_t *)h, proc_closed);
    if (!in)
        return;
    p->in = NULL;
    in->proc = NULL;
    in->pub.pid = 0;
    in->last_status = (int)status;
    in->last_signal = sig;
    fl_journal_done(in->lt->run->journal, in->seq_proc);
    in->seq_proc = 0;
    if (in->check) {
        snprintf(in->last_check_err, sizeof in->last_check_err, "%s",
                 fl_ready_last_error(in->check));
        fl_ready_cancel(in->check);
        in->check = NULL;
    }
    if (in->kill_pid == p->pid)
        uv_timer_stop(&in->kill_timer);
    char why[64];
    fl_local_exit_desc((int)status, sig, why, sizeof why);
    fl_local_record(in, FL_INFO, "%s", why);
    fl_run_log(in->lt->run, in->lt->stopping ? 1 : 0, "%s (pid %d) %s", in->pub.id, p->pid, why);
    in->drain_restart = wants_restart(in, status, sig);
    if (fl_local_members_gone(in)) {
        finish_exit(in);
        return;
    }
    /* Its main process is gone but others of the pod live on (a setsid
     * child, a daemon): a pod dies whole, so they are killed too. */
    int left = fl_local_signal_members(in, 0);
    fl_local_record(in, FL_INFO, "killing %d process%s left in the instance", left,
                    left == 1 ? "" : "es");
    /* Worth saying out loud: a service that daemonizes looks like one
     * that keeps exiting, and this is the only sign of why. */
    fl_run_log(in->lt->run, in->lt->stopping ? 1 : 0,
               "%s: its main process ended but %d other process%s of it still ran; a pod dies "
               "whole, so they are killed (a service that forks into the background must run "
               "in the foreground: nginx 'daemon off;', redis '--daemonize no')",
               in->pub.id, left, left == 1 ? "" : "es");
    fl_local_kill_members(in);
    in->draining = 1;
    in->drain_deadline_us = fl_now_us() + DRAIN_MAX_US;
    uv_timer_start(&in->drain_timer, on_drain_timer, DRAIN_POLL_MS, 0);
}

/* ---- spawning an instance -------------------------------------------- */

static void on_check_done(struct fl_ready_check *c, int ok, const char *last_err,
                          uint64_t elapsed_ms, void *ud)
{
    (void)c;
    struct local_inst *in = ud;
    in->check = NULL;
    if (ok) {
        fl_local_set_state(in, FL_INST_READY);
        in->last_check_err[0] = '\0';
        fl_local_record(in, FL_OK, "ready after %.1fs", (double)elapsed_ms / 1000.0);
        enum fl_ready_kind k = in->ls->svc->ready.kind;
        if (k == FL_READY_TCP || k == FL_READY_HTTP)
            fl_run_log(in->lt->run, 0, "%s ready on %s:%d after %.1fs", in->pub.id,
                       in->pub.host, in->pub.port, (double)elapsed_ms / 1000.0);
        else
            fl_run_log(in->lt->run, 0, "%s ready after %.1fs (its exec check passed)", in->pub.id,
                       (double)elapsed_ms / 1000.0);
        fl_local_on_ready(in);
        return;
    }
    snprintf(in->last_check_err, sizeof in->last_check_err, "%s", last_err);
    char d[32];
    fl_format_duration(elapsed_ms, d, sizeof d);
    fl_local_record(in, FL_INFO, "not ready after %s: %s", d, last_err);
    fl_local_on_not_ready(in, last_err);
}

static int open_log(struct local_inst *in, struct fl_error *err)
{
    if (in->log_fd >= 0)
        return 0;
    in->log_fd = open(in->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (in->log_fd < 0)
        return fl_error_set(err, FL_EIO, "cannot open log %s: %s", in->log_path,
                            strerror(errno));
    return 0;
}

static int start_check(struct local_inst *in, char **env, const char *cwd, struct fl_error *err)
{
    const struct fl_ready *r = &in->ls->svc->ready;
    struct fl_ready_spec spec = {
        .kind = r->kind, .env = env, .cwd = cwd, .log_fd = in->log_fd,
        .self_exe = in->lt->run->self_exe, .timeout_ms = r->timeout_ms,
        .interval_ms = r->interval_ms,
    };
    char *target = NULL;
    char **argv = NULL;
    int rc;
    if (r->kind == FL_READY_EXEC) {
        if (!(argv = expand_argv(in, r->argv, r->argc, err)))
            return err ? err->code : FL_EINVAL;
        spec.argv = argv;
    } else {
        if (!(target = expand(in, r->target ? r->target : "", err)))
            return err ? err->code : FL_EINVAL;
        spec.target = target;
    }
    rc = fl_ready_start(in->lt->run->loop, &spec, on_check_done, in, &in->check, err);
    free(target);
    free_strv(argv);
    return rc;
}

int fl_local_inst_spawn(struct local_inst *in, struct fl_error *err)
{
    struct local_target *lt = in->lt;
    const struct fl_service *svc = in->ls->svc;
    char *cwd = NULL;
    char **env = NULL, **argv = NULL;
    if (in->proc || in->draining)
        return fl_error_set(err, FL_EINVAL, "%s: still running or stopping", in->pub.id);
    int rc = open_log(in, err);
    if (rc == 0)
        rc = fl_local_contain_prepare(in, err);
    if (rc)
        return rc;
    if (svc->ncommand == 0)
        return fl_error_set(err, FL_EINVAL, "service '%s' has no command", svc->name);
    if (!(argv = expand_argv(in, svc->command, svc->ncommand, err)) ||
        !(env = build_env(in, err)) ||
        (svc->workdir && !(cwd = expand(in, svc->workdir, err)))) {
        rc = err && err->code ? err->code : FL_ENOMEM;
        goto out;
    }
    struct local_proc *p = calloc(1, sizeof *p);
    if (!p) {
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
        goto out;
    }
    p->in = in;
    p->lt = lt;
    lt->refs++;
    /* Without a cgroup, the shim stays as the instance's init (a child
     * subreaper): what the service forks away stays below it. */
    int init = !in->cgroup[0] && lt->run->self_exe != NULL;
    rc = fl_local_spawn_in(lt->run->loop, &p->h, lt->run->self_exe,
                           in->cgroup[0] ? in->cgroup : NULL, init, argv, env, cwd, in->log_fd,
                           proc_exited, p, proc_closed, err);
    if (rc)
        goto out;
    p->pid = p->h.pid;
    p->init = init;
    in->proc = p;
    in->pub.pid = p->pid;
    in->pub.incarnation++;
    in->pub.frozen = 0;
    in->pub.stopped_by_signal = 0;
    in->started_us = fl_now_us();
    fl_local_set_state(in, FL_INST_STARTING);
    /* Journaled right after the spawn (its pid is only known now); the
     * cgroup or the marker recorded before already covers the window. */
    uint64_t start = 0;
    char pid_s[24], start_s[24];
    fl_proc_start_time(p->pid, &start);
    snprintf(pid_s, sizeof pid_s, "%d", p->pid);
    snprintf(start_s, sizeof start_s, "%llu", (unsigned long long)start);
    const char *kv[] = {"pid", pid_s, "start", start_s, NULL};
    struct fl_error jerr = {0};
    if (fl_journal_undo(lt->run->journal, "kill.pid", in->pub.id, kv, &in->seq_proc, &jerr))
        fl_run_log(lt->run, 0, "%s", jerr.msg);
    fl_local_record(in, FL_OK, "started pid %d", p->pid);
    fl_run_log(lt->run, 1, "%s started pid %d: %s", in->pub.id, p->pid, argv[0]);
    if (svc->ready.kind == FL_READY_NONE) {
        fl_local_set_state(in, FL_INST_READY);
        fl_local_record(in, FL_OK, "ready after 0.0s");
    } else {
        rc = start_check(in, env, cwd, err);
    }
out:
    free(cwd);
    free_strv(env);
    free_strv(argv);
    return rc;
}
