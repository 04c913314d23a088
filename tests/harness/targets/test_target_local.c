/* test_target_local.c - the local target on a real loop with real
 * processes (sh, sleep, python3) over loopback.
 *
 * Every test records the pids the target started (from the history's
 * "started pid N" events); the teardown destroys the target and then kills
 * each of those pids itself, so no process survives a failed assertion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "targets/local/exec_shim.h"
#include "history/history.h"
#include "core/run_context.h"
#include "core/target.h"
#include "targets/local/local.h"
#include "targets/local/contain.h"
#include "core/journal.h"
#include "run/recover.h"
#include "base/template.h"
#include "support/loop.h"

#define MAX_PIDS 512
#define PY "/usr/bin/python3"

struct fx {
    uv_loop_t loop;
    struct fl_run run;
    struct fl_scenario sc;
    struct fl_service svc[4];
    struct fl_kv env[4][4];
    char outdir[64];
    char self_exe[PATH_MAX];
    struct fl_target *t;
    int pids[MAX_PIDS];
    size_t npids;
    int extra_pid;              /* not the target's child: teardown kills it */
    int start_done, start_status;
    struct fl_error start_err;
    int stop_done, stop_status;
    struct fl_error stop_err;
    char log[16384];
    size_t loglen;
};

/* ---- helpers --------------------------------------------------------- */

static void log_sink(void *ud, int level, const char *msg)
{
    (void)level;
    struct fx *f = ud;
    int n = snprintf(f->log + f->loglen, sizeof f->log - f->loglen, "%s\n", msg);
    if (n > 0 && f->loglen + (size_t)n < sizeof f->log)
        f->loglen += (size_t)n;
    if (getenv("FL_TEST_VERBOSE"))
        fprintf(stderr, "  log: %s\n", msg);
}

static void remember(struct fx *f, int pid)
{
    if (pid <= 0)
        return;   /* kill(-0) would be our own process group */
    for (size_t i = 0; i < f->npids; i++)
        if (f->pids[i] == pid)
            return;
    if (f->npids < MAX_PIDS)
        f->pids[f->npids++] = pid;
}

/* Every "started pid N" in the history. */
static void collect_pids(struct fx *f)
{
    if (!f->run.history)
        return;
    size_t n = fl_history_len(f->run.history);
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(f->run.history, i);
        long long pid;
        if (op->value && strncmp(op->value, "started pid ", 12) == 0 &&
            fl_parse_int(op->value + 12, 1, INT_MAX, &pid) == 0)
            remember(f, (int)pid);
    }
}

/* Number of target events for key whose value starts with prefix. */
static int count_events(struct fx *f, const char *key, const char *prefix)
{
    int c = 0;
    size_t n = fl_history_len(f->run.history);
    for (size_t i = 0; i < n; i++) {
        const struct fl_op *op = fl_history_get(f->run.history, i);
        if (strcmp(op->source, "target") == 0 && strcmp(op->f, FL_F_INSTANCE) == 0 &&
            op->key && strcmp(op->key, key) == 0 && op->value &&
            strncmp(op->value, prefix, strlen(prefix)) == 0)
            c++;
    }
    return c;
}

struct pred_call {
    int (*pred)(struct fx *);
    struct fx *f;
};

static int call_pred(void *ud)
{
    struct pred_call *c = ud;
    return c->pred(c->f);
}

/* Run the loop until pred(f) holds or timeout_ms passed; returns pred. */
static int run_until(struct fx *f, int (*pred)(struct fx *), int timeout_ms)
{
    struct pred_call c = {pred, f};
    int ok = fl_test_run_until(&f->loop, call_pred, &c, timeout_ms);
    collect_pids(f);
    return ok;
}

static int never(struct fx *f)
{
    (void)f;
    return 0;
}

static int start_done(struct fx *f)
{
    return f->start_done;
}

static int stop_done(struct fx *f)
{
    return f->stop_done;
}

static void on_start(struct fl_target *t, int status, const struct fl_error *err, void *ud)
{
    (void)t;
    struct fx *f = ud;
    f->start_done++;
    f->start_status = status;
    if (err)
        f->start_err = *err;
}

static void on_stop(struct fl_target *t, int status, const struct fl_error *err, void *ud)
{
    (void)t;
    struct fx *f = ud;
    f->stop_done++;
    f->stop_status = status;
    if (err)
        f->stop_err = *err;
}

static struct fl_service *add_svc(struct fx *f, const char *name, const char *const *cmd)
{
    struct fl_service *s = &f->svc[f->sc.nservices++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->command = cmd;
    while (cmd[s->ncommand])
        s->ncommand++;
    s->replicas = 1;
    s->restart = FL_RESTART_NEVER;
    s->stop_grace_ms = 2000;
    s->backoff_ms = 200;
    s->backoff_max_ms = 5000;
    s->ready.timeout_ms = 10000;
    s->ready.interval_ms = 50;
    return s;
}

static void set_env(struct fx *f, struct fl_service *s, size_t i, const char *k, const char *v)
{
    struct fl_kv *e = f->env[s - f->svc];
    e[i].key = k;
    e[i].value = v;
    if (s->nenv < i + 1)
        s->nenv = i + 1;
    s->env = e;
}

static void create_and_start(struct fx *f, int expect_status)
{
    struct fl_error err = {0};
    assert_int_equal(fl_target_local.create(&f->t, &f->run, &err), 0);
    f->run.target = f->t;
    assert_int_equal(f->t->type->start(f->t, on_start, f), 0);
    assert_int_equal(f->start_done, 0);   /* never called inside start() */
    assert_true(run_until(f, start_done, 20000));
    assert_int_equal(f->start_done, 1);
    if (f->start_status != expect_status)
        fail_msg("start: %d (%s), expected %d", f->start_status, f->start_err.msg, expect_status);
}

static void stop_target(struct fx *f)
{
    assert_int_equal(f->t->type->stop(f->t, on_stop, f), 0);
    assert_true(run_until(f, stop_done, 15000));
    assert_int_equal(f->stop_done, 1);
}

static struct fl_instance *inst(struct fx *f, const char *svc, int r)
{
    struct fl_instance *in[16];
    size_t n = f->t->type->instances(f->t, svc, in, 16);
    assert_true((size_t)r < n);
    return in[r];
}

static char *expand(struct fx *f, const char *tpl, char *buf, size_t len)
{
    struct fl_buf b;
    struct fl_error err = {0};
    fl_buf_init(&b, 4096);
    int rc = fl_template_expand(tpl, fl_run_resolve, &f->run, &b, &err);
    if (rc)
        fail_msg("expand %s: %s", tpl, err.msg);
    snprintf(buf, len, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return buf;
}

static int pid_gone(int pid)
{
    return kill(pid, 0) == -1 && errno == ESRCH;
}

/* Gone, or a zombie left to whichever process reaps orphans here. */
static int pid_dead(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static char proc_state(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp ? rp[2] : '?';
}

static int read_file(const char *path, char *buf, size_t len);

/* Which containment the target will choose here (contain.c's rules). */
static int subreaper_mode(void)
{
    const char *force = getenv("FAULTLINE_CONTAINMENT");
    char mnt[PATH_MAX];
    return (force && strcmp(force, "subreaper") == 0) || geteuid() != 0 ||
           fl_cgroup2_mount(mnt, sizeof mnt) != 0;
}

/* The service's own process: pid itself, or, when pid is the instance's
 * mini-init (subreaper containment), the command it runs. */
static int cmd_pid(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return pid;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    int init = 0;
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
        init |= strcmp(buf + i, "--init") == 0;
    if (!init)
        return pid;
    char kids[64], list[128];
    snprintf(kids, sizeof kids, "/proc/%d/task/%d/children", pid, pid);
    for (int i = 0; i < 200; i++) {
        fp = fopen(kids, "r");
        if (fp) {
            size_t k = fread(list, 1, sizeof list - 1, fp);
            fclose(fp);
            list[k] = '\0';
            long long c;
            char *sp = strchr(list, ' ');
            if (sp)
                *sp = '\0';
            if (k > 0 && fl_parse_int(list, 1, INT_MAX, &c) == 0)
                return (int)c;
        }
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
    return pid;
}

/* Frozen by the cgroup freezer (its cgroup's events say so), or stopped
 * by a signal where there is no cgroup. */
static int is_frozen(int pid)
{
    char path[PATH_MAX], buf[512];
    snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *p = strstr(buf, "0::");
    if (!p || strcmp(p, "0::/\n") == 0)
        return proc_state(pid) == 'T';
    char *nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    char mnt[PATH_MAX], ev[2 * PATH_MAX], data[256];
    if (fl_cgroup2_mount(mnt, sizeof mnt))
        return proc_state(pid) == 'T';
    snprintf(ev, sizeof ev, "%s%s/cgroup.events", mnt, p + 3);
    if (read_file(ev, data, sizeof data) <= 0)
        return proc_state(pid) == 'T';
    return strstr(data, "frozen 1") != NULL;
}

static int read_file(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, len - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return (int)n;
}

static void assert_all_gone(struct fx *f)
{
    collect_pids(f);
    assert_true(f->npids > 0);
    for (size_t i = 0; i < f->npids; i++)
        if (!pid_gone(f->pids[i]))
            fail_msg("pid %d is still alive", f->pids[i]);
}

/* ---- fixture --------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->outdir, sizeof f->outdir, "/tmp/fl_tl_XXXXXX");
    if (!mkdtemp(f->outdir) || uv_loop_init(&f->loop) != 0) {
        free(f);
        return -1;
    }
    f->run.loop = &f->loop;
    f->run.sc = &f->sc;
    f->run.history = fl_history_new(0);
    f->run.t0_us = fl_now_us();
    f->run.outdir = f->outdir;
    f->run.log = log_sink;
    f->run.log_ud = f;
    f->sc.name = "test";
    f->sc.services = f->svc;
    *state = f;
    return 0;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            rm_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    collect_pids(f);
    struct fl_target *t = f->t;
    if (t)
        t->type->destroy(t, NULL, NULL);
    f->t = NULL;
    f->run.target = NULL;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (t)
        t->type->free(t);
    /* Belt and braces: whatever a failed test left, by pid. */
    for (size_t i = 0; i < f->npids; i++) {
        kill(-f->pids[i], SIGKILL);
        kill(f->pids[i], SIGKILL);
        waitpid(f->pids[i], NULL, WNOHANG);
    }
    if (f->extra_pid > 0)
        kill(f->extra_pid, SIGKILL);
    int rc = uv_loop_close(&f->loop);
    fl_history_free(f->run.history);
    if (!getenv("FL_TEST_KEEP"))
        rm_tree(f->outdir);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- tests ----------------------------------------------------------- */

static const char *const http_cmd[] = {PY, "-m", "http.server", "--bind", "127.0.0.1",
                                       "${port}", NULL};
static const char *const client_cmd[] = {"sh", "-c",
                                         "echo \"$UP $R $V\" > \"$OUT.tmp\"; "
                                         "mv \"$OUT.tmp\" \"$OUT\"; exec sleep 60", NULL};
static const char *const client_ready[] = {"test", "-s", "${out}/client.txt", NULL};

static void check_resolve(struct fx *f, const int *ports)
{
    /* Round-robin over the three ready replicas. */
    char a[3][64], buf[256];
    int seen[3] = {0};
    for (int i = 0; i < 3; i++) {
        expand(f, "${api}", a[i], sizeof a[i]);
        for (int r = 0; r < 3; r++) {
            char want[64];
            snprintf(want, sizeof want, "127.0.0.1:%d", ports[r]);
            seen[r] += strcmp(a[i], want) == 0;
        }
    }
    assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    char want[256];
    snprintf(want, sizeof want, "%d", ports[2]);
    assert_string_equal(expand(f, "${api.2.port}", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%d", ports[0]);
    assert_string_equal(expand(f, "${api.port}", buf, sizeof buf), want);
    snprintf(want, sizeof want, "127.0.0.1:%d", ports[1]);
    assert_string_equal(expand(f, "${api.1}", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%d", inst(f, "api", 0)->pid);
    assert_string_equal(expand(f, "${api.0.pid}", buf, sizeof buf), want);
    assert_string_equal(expand(f, "${api.host}", buf, sizeof buf), "127.0.0.1");
    struct fl_buf b;
    fl_buf_init(&b, 256);
    assert_int_equal(f->t->type->resolve(f->t, "api.3", 5, &b, NULL), FL_ENOTFOUND);
    assert_int_equal(f->t->type->resolve(f->t, "api.0.nope", 10, &b, NULL), FL_ENOTFOUND);
    assert_int_equal(f->t->type->resolve(f->t, "apix", 4, &b, NULL), FL_ENOTFOUND);
    fl_buf_free(&b);

}

static void test_replicas_resolve_http_exec(void **state)
{
    struct fx *f = *state;
    static const struct fl_kv vars[] = {{.key = "flavor", .value = "mint"}};
    f->sc.vars = vars;
    f->sc.nvars = 1;
    struct fl_service *api = add_svc(f, "api", http_cmd);
    api->replicas = 3;
    api->ready.kind = FL_READY_HTTP;
    api->ready.target = "http://127.0.0.1:${port}/";
    struct fl_service *cl = add_svc(f, "client", client_cmd);
    set_env(f, cl, 0, "UP", "${api.1.port}");
    set_env(f, cl, 1, "R", "${replica}");
    set_env(f, cl, 2, "OUT", "${out}/client.txt");
    set_env(f, cl, 3, "V", "${flavor}");
    cl->ready.kind = FL_READY_EXEC;
    cl->ready.argv = client_ready;
    cl->ready.argc = 3;
    create_and_start(f, 0);

    int ports[3];
    for (int r = 0; r < 3; r++) {
        struct fl_instance *in = inst(f, "api", r);
        ports[r] = in->port;
        assert_true(in->port > 0 && in->pid > 0 && in->state == FL_INST_READY);
        assert_int_equal(in->replica, r);
        char id[16];
        snprintf(id, sizeof id, "api.%d", r);
        assert_string_equal(in->id, id);
        assert_int_equal(count_events(f, id, "ready after"), 1);
    }
    assert_true(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);

    check_resolve(f, ports);

    /* The second service started after the first and saw its port. */
    char path[PATH_MAX], content[128], want[256], buf[256];
    snprintf(path, sizeof path, "%s/client.txt", f->outdir);
    assert_true(read_file(path, content, sizeof content) > 0);
    snprintf(want, sizeof want, "%d 0 mint\n", ports[1]);
    assert_string_equal(content, want);

    /* Round-robin skips a replica that is down: kill api.1 (restart
     * never) and resolve again. */
    int pid1 = inst(f, "api", 1)->pid;
    assert_int_equal(f->t->type->signal(f->t, inst(f, "api", 1), SIGKILL, NULL), 0);
    assert_false(run_until(f, never, 300));
    assert_int_equal(inst(f, "api", 1)->pid, 0);
    assert_true(pid_gone(pid1));
    assert_int_equal(count_events(f, "api.1", "killed by SIGKILL"), 1);
    snprintf(want, sizeof want, "127.0.0.1:%d", ports[1]);
    for (int i = 0; i < 4; i++)
        assert_string_not_equal(expand(f, "${api}", buf, sizeof buf), want);

    stop_target(f);
    assert_int_equal(f->stop_status, 0);
    assert_all_gone(f);
}

static const char *const tcp_cmd[] = {
    PY, "-c",
    "import socket,sys,time\n"
    "time.sleep(0.4)\n"
    "s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); time.sleep(60)\n",
    "${port}", NULL};

static void test_tcp_ready_waits(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "db", tcp_cmd);
    s->ready.kind = FL_READY_TCP;
    s->ready.target = "127.0.0.1:${port}";
    int64_t t0 = fl_now_us();
    create_and_start(f, 0);
    assert_true(fl_now_us() - t0 >= 350000);   /* it really waited */
    assert_true(inst(f, "db", 0)->state == FL_INST_READY);
    assert_non_null(strstr(f->log, "db.0 ready on 127.0.0.1:"));
    stop_target(f);
    assert_all_gone(f);
}

static const char *const sleep_cmd[] = {"sleep", "60", NULL};

static void test_ready_timeout(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "slow", sleep_cmd);
    s->ready.kind = FL_READY_TCP;
    s->ready.target = "127.0.0.1:${port}";
    s->ready.timeout_ms = 500;
    int64_t t0 = fl_now_us();
    create_and_start(f, FL_ENOTREADY);
    int64_t took = fl_now_us() - t0;
    assert_true(took >= 450000 && took < 3000000);
    const char *m = f->start_err.msg;
    char logpath[PATH_MAX];
    snprintf(logpath, sizeof logpath, "%s/slow.0.log", f->outdir);
    assert_non_null(strstr(m, "'slow'"));
    assert_non_null(strstr(m, "slow.0"));
    assert_non_null(strstr(m, "connection refused"));
    assert_non_null(strstr(m, logpath));
    assert_int_equal(count_events(f, "slow.0", "not ready after"), 1);
    stop_target(f);
    assert_all_gone(f);
}

static const char *const boom_cmd[] = {"sh", "-c", "echo boom-$0 >&2; exit 3", NULL};
static const char *const false_argv[] = {"false", NULL};

static void test_exit_before_ready_and_exec_fail(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "boom", boom_cmd);
    s->ready.kind = FL_READY_TCP;
    s->ready.target = "127.0.0.1:${port}";
    int64_t t0 = fl_now_us();
    create_and_start(f, FL_ENOTREADY);
    assert_true(fl_now_us() - t0 < 5000000);   /* failed fast, not at the timeout */
    assert_non_null(strstr(f->start_err.msg, "boom.0 exited with status 3"));
    char path[PATH_MAX], content[256];
    snprintf(path, sizeof path, "%s/boom.0.log", f->outdir);
    assert_true(read_file(path, content, sizeof content) > 0);
    assert_non_null(strstr(content, "boom-sh"));   /* stderr went to the log */
    stop_target(f);
    f->t->type->destroy(f->t, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->t->type->free(f->t);
    f->t = NULL;

    /* An exec check that keeps failing names the command. */
    memset(&f->sc, 0, sizeof f->sc);
    f->sc.services = f->svc;
    f->start_done = f->stop_done = 0;
    s = add_svc(f, "never", sleep_cmd);
    s->ready.kind = FL_READY_EXEC;
    s->ready.argv = false_argv;
    s->ready.argc = 1;
    s->ready.timeout_ms = 300;
    create_and_start(f, FL_ENOTREADY);
    if (!strstr(f->start_err.msg, "false exited with status 1"))
        fail_msg("unexpected: %s", f->start_err.msg);
    stop_target(f);
    assert_all_gone(f);
}

static int has_second_restart(struct fx *f)
{
    return inst(f, "w", 0)->restarts >= 2 && inst(f, "w", 0)->pid > 0;
}

static int has_first_restart(struct fx *f)
{
    return inst(f, "w", 0)->restarts >= 1 && inst(f, "w", 0)->pid > 0;
}

static int has_third(struct fx *f)
{
    return inst(f, "w", 0)->restarts >= 3 && inst(f, "w", 0)->pid > 0;
}

static void test_restart_always_backoff(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "w", sleep_cmd);
    s->restart = FL_RESTART_ALWAYS;
    s->backoff_ms = 150;
    s->backoff_max_ms = 1000;
    create_and_start(f, 0);
    struct fl_instance *in = inst(f, "w", 0);
    int pid0 = in->pid;
    assert_true(pid0 > 0 && in->state == FL_INST_READY);

    int64_t t0 = fl_now_us();
    assert_int_equal(f->t->type->signal(f->t, in, SIGKILL, NULL), 0);
    assert_true(run_until(f, has_first_restart, 5000));
    int64_t d1 = fl_now_us() - t0;
    int pid1 = in->pid;
    assert_true(pid1 != pid0);
    assert_true(pid_gone(pid0));
    assert_true(d1 >= 140000);

    t0 = fl_now_us();
    assert_int_equal(f->t->type->signal(f->t, in, SIGKILL, NULL), 0);
    assert_true(run_until(f, has_second_restart, 5000));
    int64_t d2 = fl_now_us() - t0;
    assert_true(d2 >= 290000);   /* doubled */
    assert_true(in->pid != pid1 && in->pid != pid0);
    assert_int_equal(in->restarts, 2);

    assert_int_equal(count_events(f, "w.0", "killed by SIGKILL"), 2);
    assert_int_equal(count_events(f, "w.0", "restarting in 150ms"), 1);
    assert_int_equal(count_events(f, "w.0", "restarting in 300ms"), 1);
    assert_int_equal(count_events(f, "w.0", "started pid"), 3);
    char buf[64], want[64];
    snprintf(want, sizeof want, "%d", in->pid);
    assert_string_equal(expand(f, "${w.0.pid}", buf, sizeof buf), want);

    /* Blocked: the instance stays down, every refusal is recorded with
     * its reason, and it comes back once unblocked. */
    assert_int_equal(fl_target_block_restarts(f->t, in, "image not admitted", NULL), 0);
    assert_int_equal(fl_target_kill(f->t, in, NULL), 0);
    assert_false(run_until(f, never, 900));
    assert_int_equal(in->pid, 0);
    assert_int_equal(in->state, FL_INST_BLOCKED);
    assert_int_equal(in->restarts, 2);
    assert_true(count_events(f, "w.0", "restart refused: image not admitted") >= 1);
    assert_int_equal(count_events(f, "w.0", "starts blocked: image not admitted"), 1);
    struct fl_error berr = {0};
    assert_int_equal(fl_target_start_instance(f->t, in, &berr), FL_EINJECT);
    assert_non_null(strstr(berr.msg, "image not admitted"));
    assert_int_equal(count_events(f, "w.0", "start refused: image not admitted"), 1);
    assert_int_equal(fl_target_unblock_restarts(f->t, in, NULL), 0);
    assert_int_equal(count_events(f, "w.0", "starts allowed again"), 1);
    assert_true(run_until(f, has_third, 5000));

    stop_target(f);
    assert_int_equal(f->stop_status, 0);
    assert_false(run_until(f, never, 400));   /* no restart after stop */
    assert_int_equal(in->pid, 0);
    assert_all_gone(f);
}

/* Unblocking starts a refused restart at once, not after the backoff
 * (here 60s: a restart waiting it out would miss the 20s deadline). */
static int w0_blocked(struct fx *f)
{
    return inst(f, "w", 0)->state == FL_INST_BLOCKED &&
           count_events(f, "w.0", "restarting in 1m") >= 1;
}

static void test_unblock_restarts_at_once(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "w", sleep_cmd);
    s->restart = FL_RESTART_ALWAYS;
    s->backoff_ms = 60000;
    s->backoff_max_ms = 60000;
    create_and_start(f, 0);
    struct fl_instance *in = inst(f, "w", 0);
    int pid0 = in->pid;
    assert_int_equal(fl_target_block_restarts(f->t, in, "mutable tag not admitted", NULL), 0);
    assert_int_equal(in->state, FL_INST_READY);   /* running instances keep running */
    assert_int_equal(fl_target_kill(f->t, in, NULL), 0);
    /* waits for the exit to be seen, however slow the machine (a fixed
     * 300 ms was not always enough) */
    assert_true(run_until(f, w0_blocked, 5000));
    assert_int_equal(in->state, FL_INST_BLOCKED);
    assert_true(pid_gone(pid0));
    assert_int_equal(count_events(f, "w.0", "restarting in 1m"), 1);
    assert_int_equal(fl_target_unblock_restarts(f->t, in, NULL), 0);
    assert_true(run_until(f, has_first_restart, 20000));
    assert_true(in->pid != pid0);
    /* a second unblock is a no-op, not a second record */
    assert_int_equal(fl_target_unblock_restarts(f->t, in, NULL), 0);
    assert_int_equal(count_events(f, "w.0", "starts allowed again"), 1);
    stop_target(f);
    assert_all_gone(f);
}

static int restarted_ready(struct fx *f)
{
    return inst(f, "db", 0)->restarts == 1 && inst(f, "db", 0)->state == FL_INST_READY;
}

static int restarted(struct fx *f)
{
    return inst(f, "db", 0)->restarts == 1;
}

/* A restarted instance is not ready again until its check passes. */
static void test_restart_rechecks_readiness(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "db", tcp_cmd);
    s->ready.kind = FL_READY_TCP;
    s->ready.target = "127.0.0.1:${port}";
    s->restart = FL_RESTART_ALWAYS;
    s->backoff_ms = 50;
    create_and_start(f, 0);
    struct fl_instance *in = inst(f, "db", 0);
    assert_int_equal(f->t->type->signal(f->t, in, SIGKILL, NULL), 0);
    assert_true(run_until(f, restarted, 5000));
    assert_true(in->pid > 0);
    assert_false(in->state == FL_INST_READY);
    char buf[64], want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", in->port);
    assert_string_equal(expand(f, "${db}", buf, sizeof buf), want);   /* fallback */
    assert_true(run_until(f, restarted_ready, 5000));
    assert_int_equal(count_events(f, "db.0", "ready after"), 2);
    stop_target(f);
    assert_all_gone(f);
}

static const char *const exit0_cmd[] = {"sh", "-c", "sleep 0.2; exit 0", NULL};
static const char *const exit3_cmd[] = {"sh", "-c", "sleep 0.2; exit 3", NULL};

static int both_exited(struct fx *f)
{
    return count_events(f, "ok.0", "exited with status 0") >= 1 &&
           count_events(f, "bad.0", "exited with status 3") >= 2;
}

static void test_on_failure(void **state)
{
    struct fx *f = *state;
    struct fl_service *ok = add_svc(f, "ok", exit0_cmd);
    ok->restart = FL_RESTART_ON_FAILURE;
    ok->backoff_ms = 50;
    struct fl_service *bad = add_svc(f, "bad", exit3_cmd);
    bad->restart = FL_RESTART_ON_FAILURE;
    bad->backoff_ms = 50;
    create_and_start(f, 0);
    assert_true(run_until(f, both_exited, 5000));
    assert_false(run_until(f, never, 400));
    assert_int_equal(inst(f, "ok", 0)->restarts, 0);
    assert_int_equal(inst(f, "ok", 0)->pid, 0);
    assert_int_equal(count_events(f, "ok.0", "restarting"), 0);
    assert_int_equal(count_events(f, "ok.0", "started pid"), 1);
    assert_true(inst(f, "bad", 0)->restarts >= 1);
    assert_true(count_events(f, "bad.0", "restarting in 50ms") == 1);
    /* ${ok} with nothing ready still resolves (to replica 0's address). */
    char buf[64], want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", inst(f, "ok", 0)->port);
    assert_string_equal(expand(f, "${ok}", buf, sizeof buf), want);
    stop_target(f);
    assert_all_gone(f);
}

static const char *const stubborn_cmd[] = {"sh", "-c", "trap '' TERM; touch \"$F\"; sleep 60",
                                           NULL};
static const char *const trapped_argv[] = {"test", "-e", "${out}/trapped.${replica}", NULL};

static void test_stop_kills_after_grace(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "stubborn", stubborn_cmd);
    s->replicas = 2;
    s->stop_grace_ms = 300;
    set_env(f, s, 0, "F", "${out}/trapped.${replica}");
    s->ready.kind = FL_READY_EXEC;
    s->ready.argv = trapped_argv;
    s->ready.argc = 3;
    struct fl_service *q = add_svc(f, "quick", sleep_cmd);
    q->restart = FL_RESTART_ALWAYS;   /* must not come back during stop */
    create_and_start(f, 0);
    int64_t t0 = fl_now_us();
    /* stop twice: both callers hear back, once each */
    assert_int_equal(f->t->type->stop(f->t, on_stop, f), 0);
    assert_int_equal(f->t->type->stop(f->t, on_stop, f), 0);
    assert_true(run_until(f, stop_done, 10000));
    assert_false(run_until(f, never, 50));
    assert_int_equal(f->stop_done, 2);
    int64_t took = fl_now_us() - t0;
    assert_true(took >= 280000);
    assert_true(took < 2000000);
    assert_int_equal(f->stop_status, 0);
    assert_int_equal(count_events(f, "stubborn.0", "killed by SIGKILL"), 1);
    assert_int_equal(count_events(f, "stubborn.1", "killed by SIGKILL"), 1);
    assert_int_equal(count_events(f, "quick.0", "killed by SIGTERM"), 1);
    assert_int_equal(count_events(f, "quick.0", "started pid"), 1);
    assert_all_gone(f);
    /* stop again when everything is down: still answered, asynchronously */
    f->stop_done = 0;
    assert_int_equal(f->t->type->stop(f->t, on_stop, f), 0);
    assert_int_equal(f->stop_done, 0);
    assert_true(run_until(f, stop_done, 1000));
}

static int term_killed(struct fx *f)
{
    return count_events(f, "stubborn.0", "killed by SIGKILL") == 1;
}

static void test_terminate_and_pause(void **state)
{
    struct fx *f = *state;
    struct fl_service *s = add_svc(f, "stubborn", stubborn_cmd);
    set_env(f, s, 0, "F", "${out}/trapped.${replica}");
    s->ready.kind = FL_READY_EXEC;
    s->ready.argv = trapped_argv;
    s->ready.argc = 3;
    add_svc(f, "sleeper", sleep_cmd);
    create_and_start(f, 0);

    struct fl_instance *sl = inst(f, "sleeper", 0);
    int pid = cmd_pid(sl->pid);
    /* freeze: the cgroup freezer (SIGSTOP of every member without one) */
    assert_int_equal(fl_target_freeze(f->t, sl, NULL), 0);
    assert_int_equal(sl->frozen, 1);
    for (int i = 0; i < 500 && !is_frozen(pid); i++)   /* SIGSTOP lands a moment later */
        run_until(f, never, 10);
    assert_true(is_frozen(pid));
    assert_int_equal(fl_target_thaw(f->t, sl, NULL), 0);
    assert_int_equal(sl->frozen, 0);
    for (int i = 0; i < 500 && is_frozen(pid); i++)
        run_until(f, never, 10);
    assert_false(is_frozen(pid));
    /* SIGSTOP / SIGCONT through signal(), tracked */
    assert_int_equal(fl_target_signal(f->t, sl, SIGSTOP, NULL), 0);
    assert_int_equal(sl->stopped_by_signal, 1);
    for (int i = 0; i < 500 && proc_state(pid) != 'T'; i++)
        run_until(f, never, 10);
    assert_int_equal(proc_state(pid), 'T');
    assert_int_equal(fl_target_signal(f->t, sl, SIGCONT, NULL), 0);
    assert_int_equal(sl->stopped_by_signal, 0);
    for (int i = 0; i < 500 && proc_state(pid) == 'T'; i++)
        run_until(f, never, 10);
    assert_true(proc_state(pid) == 'S' || proc_state(pid) == 'R');

    struct fl_instance *st = inst(f, "stubborn", 0);
    int64_t t0 = fl_now_us();
    assert_int_equal(f->t->type->terminate(f->t, st, 250, NULL), 0);
    assert_true(run_until(f, term_killed, 5000));
    assert_true(fl_now_us() - t0 >= 230000);
    assert_int_equal(st->pid, 0);
    struct fl_error err = {0};
    assert_int_equal(f->t->type->signal(f->t, st, SIGTERM, &err), FL_EINJECT);
    assert_non_null(strstr(err.msg, "stubborn.0"));

    /* a frozen instance is thawed and stopped by stop() */
    assert_int_equal(fl_target_freeze(f->t, sl, NULL), 0);
    stop_target(f);
    assert_int_equal(f->stop_status, 0);
    assert_int_equal(count_events(f, "sleeper.0", "killed by SIGTERM"), 1);
    assert_all_gone(f);
}

static const char *const group_cmd[] = {"sh", "-c", "sleep 60 & echo $! > \"$G\"; wait", NULL};
static const char *const group_ready[] = {"test", "-s", "${out}/grandchild", NULL};

static int grandchild_pid(struct fx *f)
{
    char path[PATH_MAX], buf[32];
    long long pid;
    snprintf(path, sizeof path, "%s/grandchild", f->outdir);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return fl_parse_int(buf, 1, INT_MAX, &pid) == 0 ? (int)pid : 0;
}

static void test_destroy_kills_everything(void **state)
{
    struct fx *f = *state;
    struct fl_service *g = add_svc(f, "group", group_cmd);
    set_env(f, g, 0, "G", "${out}/grandchild");
    g->ready.kind = FL_READY_EXEC;
    g->ready.argv = group_ready;
    g->ready.argc = 3;
    struct fl_service *w = add_svc(f, "w", sleep_cmd);
    w->replicas = 2;
    w->restart = FL_RESTART_ALWAYS;
    create_and_start(f, 0);
    int gc = grandchild_pid(f);
    assert_true(gc > 0);
    f->extra_pid = gc;
    assert_false(pid_dead(gc));
    collect_pids(f);
    f->t->type->destroy(f->t, NULL, NULL);
    /* operations answer FL_EABORT afterwards, the memory stays valid */
    struct fl_error derr = {0};
    assert_int_equal(fl_target_kill(f->t, inst(f, "w", 0), &derr), FL_EABORT);
    /* synchronous: the children are reaped already */
    assert_all_gone(f);
    /* the grandchild got the group's SIGKILL (an orphan: its reaper is
     * not us, so allow it to be a zombie for a moment) */
    for (int i = 0; i < 200 && !pid_dead(gc); i++) {
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
    assert_true(pid_dead(gc));
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
}

/* A pod: the main process, a child that left the process group with
 * setsid() (a job queue running each job in its own session), and a
 * daemon that double-forked away from its parent. */
static const char *const pod_cmd[] = {
    "sh", "-c",
    "setsid sh -c 'echo $$$$ > \"$D/setsid\"; exec sleep 71' & "
    "(setsid sh -c 'echo $$$$ > \"$D/daemon\"; exec sleep 72' &) ; "
    "exec sleep 70", NULL};
static const char *const pod_ready[] = {"sh", "-c", "test -s \"$D/setsid\" && test -s \"$D/daemon\"",
                                        NULL};

static int pid_in(struct fx *f, const char *name)
{
    char path[PATH_MAX], buf[32];
    long long pid;
    snprintf(path, sizeof path, "%s/%s", f->outdir, name);
    if (read_file(path, buf, sizeof buf) <= 0)
        return 0;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return fl_parse_int(buf, 1, INT_MAX, &pid) == 0 ? (int)pid : 0;
}

static void start_pod(struct fx *f, int pids[3])
{
    /* Through the exec shim, as faultline runs them: the command is in its
     * cgroup before its first instruction, so a child it forks at once is
     * too. */
    ssize_t n = readlink("/proc/self/exe", f->self_exe, sizeof f->self_exe - 1);
    assert_true(n > 0);
    f->self_exe[n] = '\0';
    f->run.self_exe = f->self_exe;
    struct fl_service *s = add_svc(f, "pod", pod_cmd);
    set_env(f, s, 0, "D", "${out}");
    s->ready.kind = FL_READY_EXEC;
    s->ready.argv = pod_ready;
    s->ready.argc = 3;
    create_and_start(f, 0);
    pids[0] = cmd_pid(inst(f, "pod", 0)->pid);
    pids[1] = pid_in(f, "setsid");
    pids[2] = pid_in(f, "daemon");
    f->extra_pid = pids[2];
    remember(f, pids[1]);
    for (int i = 0; i < 3; i++)
        if (pids[i] <= 0 || pid_dead(pids[i]))
            fail_msg("process %d of the pod: pid %d, %s", i, pids[i],
                     pids[i] > 0 ? "dead" : "unknown");
    /* Neither escapee is in the command's group any more. */
    assert_true(getpgid(pids[1]) != pids[0] && getpgid(pids[2]) != pids[0]);
}

static int pod_stopped(struct fx *f)
{
    return inst(f, "pod", 0)->state == FL_INST_STOPPED && count_events(f, "pod.0", "killed") >= 1;
}

static void test_kill_takes_the_whole_pod(void **state)
{
    struct fx *f = *state;
    int pids[3];
    start_pod(f, pids);
    assert_int_equal(fl_target_kill(f->t, inst(f, "pod", 0), NULL), 0);
    assert_true(run_until(f, pod_stopped, 5000));
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 200 && !pid_dead(pids[i]); k++)
            run_until(f, never, 5);
        if (!pid_dead(pids[i]))
            fail_msg("process %d of the pod (pid %d) survived the kill", i, pids[i]);
    }
    stop_target(f);
}

static void test_pause_freezes_the_whole_pod(void **state)
{
    struct fx *f = *state;
    int pids[3];
    start_pod(f, pids);
    struct fl_instance *in = inst(f, "pod", 0);
    assert_int_equal(fl_target_freeze(f->t, in, NULL), 0);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 100 && !is_frozen(pids[i]); k++)
            run_until(f, never, 10);
        if (!is_frozen(pids[i]))
            fail_msg("process %d of the pod (pid %d) is not frozen", i, pids[i]);
    }
    assert_int_equal(fl_target_thaw(f->t, in, NULL), 0);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 100 && is_frozen(pids[i]); k++)
            run_until(f, never, 10);
        assert_false(is_frozen(pids[i]));
    }
    /* Stopping the pod ends every process of it, escapees included. */
    stop_target(f);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 200 && !pid_dead(pids[i]); k++)
            run_until(f, never, 5);
        assert_true(pid_dead(pids[i]));
    }
}

/* A run that was killed without a journal (a test, a lost state folder)
 * leaves its cgroup folder; the next target to start removes it, and
 * kills whatever is still in it. A live run's folder is left alone. */
static void test_stale_run_folders_swept(void **state)
{
    struct fx *f = *state;
    char mnt[PATH_MAX], own[PATH_MAX], base[3 * PATH_MAX], stale[4 * PATH_MAX],
        live[4 * PATH_MAX];
    if (subreaper_mode() || fl_cgroup2_mount(mnt, sizeof mnt) != 0 ||
        read_file("/proc/self/cgroup", own, sizeof own) <= 0) {
        print_message("no cgroup containment here: nothing to sweep\n");
        return;
    }
    char *p = strstr(own, "0::");
    assert_non_null(p);
    char *nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    snprintf(base, sizeof base, "%s%s%sfaultline", mnt, p + 3, strcmp(p + 3, "/") ? "/" : "");
    mkdir(base, 0755);
    /* pid 1 did not start at tick 1: a dead run's name */
    snprintf(stale, sizeof stale, "%s/run-1-1-0", base);
    uint64_t start = 0;
    assert_int_equal(fl_proc_start_time((int)getpid(), &start), 0);
    snprintf(live, sizeof live, "%s/run-%d-%llu-99", base, (int)getpid(),
             (unsigned long long)start);
    assert_int_equal(mkdir(stale, 0755), 0);
    char sub[5 * PATH_MAX];
    snprintf(sub, sizeof sub, "%s/api.0", stale);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(live, 0755), 0);
    add_svc(f, "sleeper", sleep_cmd);
    create_and_start(f, 0);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    rmdir(live);
    stop_target(f);
}

static void test_bindir_path(void **state)
{
    struct fx *f = *state;
    char script[PATH_MAX];
    snprintf(script, sizeof script, "%s/fl-hello", f->outdir);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    fputs("#!/bin/sh\necho \"hello $1\" > \"$OUT\"\nexec sleep 60\n", fp);
    fclose(fp);
    assert_int_equal(chmod(script, 0755), 0);
    f->run.bindir = f->outdir;
    static const char *const cmd[] = {"fl-hello", "${replica}", NULL};
    static const char *const ready[] = {"test", "-s", "${out}/hello.txt", NULL};
    struct fl_service *s = add_svc(f, "hello", cmd);
    set_env(f, s, 0, "OUT", "${out}/hello.txt");
    s->ready.kind = FL_READY_EXEC;
    s->ready.argv = ready;
    s->ready.argc = 3;
    create_and_start(f, 0);
    char path[PATH_MAX], content[64];
    snprintf(path, sizeof path, "%s/hello.txt", f->outdir);
    assert_true(read_file(path, content, sizeof content) > 0);
    assert_string_equal(content, "hello 0\n");
    stop_target(f);
    assert_all_gone(f);
}

/* ---- the exec shim --------------------------------------------------- */

static const char *const missing_cmd[] = {"fl-no-such-command-xyz", NULL};

static int missing_exited(struct fx *f)
{
    return count_events(f, "missing.0", "exited with status 127") == 1;
}

static void test_exec_shim(void **state)
{
    struct fx *f = *state;
    ssize_t n = readlink("/proc/self/exe", f->self_exe, sizeof f->self_exe - 1);
    assert_true(n > 0);
    f->self_exe[n] = '\0';
    f->run.self_exe = f->self_exe;
    add_svc(f, "sleeper", sleep_cmd);
    add_svc(f, "missing", missing_cmd);
    create_and_start(f, 0);
    /* the shim became the command: same pid, sleep's image (under a
     * mini-init: its child) */
    int pid = cmd_pid(inst(f, "sleeper", 0)->pid);
    char path[64], cmdline[256];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    for (int i = 0; i < 100; i++) {
        if (read_file(path, cmdline, sizeof cmdline) > 0 && strcmp(cmdline, "sleep") == 0)
            break;
        run_until(f, never, 10);
    }
    assert_string_equal(cmdline, "sleep");
    assert_true(run_until(f, missing_exited, 5000));
    char logpath[PATH_MAX], content[512];
    snprintf(logpath, sizeof logpath, "%s/missing.0.log", f->outdir);
    assert_true(read_file(logpath, content, sizeof content) > 0);
    assert_non_null(strstr(content, "cannot run fl-no-such-command-xyz"));
    stop_target(f);
    assert_all_gone(f);

    /* The shim refuses to start when its parent is not the given pid. */
    char *argv[] = {f->self_exe, "__exec", "1", "--", "true", NULL};
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    assert_true(saved >= 0 && devnull >= 0);
    dup2(devnull, 2);
    int rc = fl_exec_shim_main(5, argv);
    dup2(saved, 2);
    close(saved);
    close(devnull);
    assert_int_equal(rc, 127);
}

/* A faultline that is SIGKILLed: a forked child plays faultline, with a
 * journal, and starts a service that leaves its process group (setsid)
 * and so escapes PDEATHSIG; then it dies. Its direct child dies with it;
 * the escapee and the cgroup are what `recover` must clean up. */
static const char *const escaping_cmd[] = {
    "sh", "-c", "setsid sleep 61 & echo $! > \"$G\"; exec sleep 60", NULL};

static void fake_faultline(const char *self_exe, const char *outdir, int wfd)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct fl_service svc;
    memset(&svc, 0, sizeof svc);
    svc.name = "orphan";
    svc.command = escaping_cmd;
    svc.ncommand = 3;
    svc.replicas = 1;
    svc.stop_grace_ms = 1000;
    static char gpath[PATH_MAX];
    snprintf(gpath, sizeof gpath, "%s/escapee", outdir);
    struct fl_kv env = {"G", gpath, {0}};
    svc.env = &env;
    svc.nenv = 1;
    struct fl_scenario sc;
    memset(&sc, 0, sizeof sc);
    sc.services = &svc;
    sc.nservices = 1;
    struct fl_run run;
    memset(&run, 0, sizeof run);
    run.loop = &loop;
    run.sc = &sc;
    run.outdir = outdir;
    run.self_exe = self_exe;
    run.run_tag = "run-fake";
    char state[PATH_MAX];
    snprintf(state, sizeof state, "%s/state", outdir);
    struct fl_target *t;
    if (fl_journal_open(&run.journal, state, "run-fake", "fake faultline", NULL) == 0 &&
        fl_target_local.create(&t, &run, NULL) == 0 && t->type->start(t, NULL, NULL) == 0) {
        for (int i = 0; i < 200; i++) {
            uv_run(&loop, UV_RUN_NOWAIT);
            struct fl_instance *in;
            char buf[32];
            if (t->type->instances(t, "orphan", &in, 1) == 1 && in->pid > 0 &&
                read_file(gpath, buf, sizeof buf) > 0 && strchr(buf, '\n')) {
                int pid = in->pid;
                if (write(wfd, &pid, sizeof pid) != (ssize_t)sizeof pid)
                    break;
                for (;;)
                    pause();   /* until the test SIGKILLs us */
            }
            struct timespec ms = {0, 10000000};
            nanosleep(&ms, NULL);
        }
    }
    _exit(1);
}

static void say_nothing(void *ud, const char *msg)
{
    (void)ud;
    if (getenv("FL_TEST_VERBOSE"))
        fprintf(stderr, "  recover: %s\n", msg);
}

static void test_no_orphans_after_sigkill(void **state)
{
    struct fx *f = *state;
    ssize_t n = readlink("/proc/self/exe", f->self_exe, sizeof f->self_exe - 1);
    assert_true(n > 0);
    f->self_exe[n] = '\0';
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        fake_faultline(f->self_exe, f->outdir, fds[1]);
    }
    close(fds[1]);
    remember(f, child);
    int pid = 0;
    ssize_t r = read(fds[0], &pid, sizeof pid);
    close(fds[0]);
    if (r == (ssize_t)sizeof pid && pid > 0)
        remember(f, pid);
    char path[PATH_MAX], buf[32];
    snprintf(path, sizeof path, "%s/escapee", f->outdir);
    long long esc = 0;
    if (read_file(path, buf, sizeof buf) > 0) {
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        fl_parse_int(buf, 1, INT_MAX, &esc);
    }
    if (esc > 0)
        f->extra_pid = (int)esc;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(r, (ssize_t)sizeof pid);
    assert_true(pid > 0 && esc > 0);
    /* The direct child follows faultline (PDEATHSIG)... */
    for (int i = 0; i < 200 && !pid_dead(pid); i++) {
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
    assert_true(pid_dead(pid));
    if (subreaper_mode()) {
        /* The instance's mini-init got faultline's death as a signal and
         * took its pod with it, the setsid escapee included. */
        for (int i = 0; i < 200 && !pid_dead((int)esc); i++) {
            struct timespec ms = {0, 5000000};
            nanosleep(&ms, NULL);
        }
        assert_true(pid_dead((int)esc));
    } else {
        /* ...the setsid escapee does not: only the journal knows about it. */
        assert_false(pid_dead((int)esc));
    }
    char state_dir[PATH_MAX];
    snprintf(state_dir, sizeof state_dir, "%s/state", f->outdir);
    struct fl_recover_stats st = {0};
    struct fl_error err = {0};
    assert_int_equal(fl_recover_dir(state_dir, say_nothing, NULL, &st, &err), 0);
    assert_int_equal(st.journals, 1);
    assert_true(st.applied >= 2);   /* the instance's cgroup (or marker), the run's */
    for (int i = 0; i < 200 && !pid_dead((int)esc); i++) {
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
    assert_true(pid_dead((int)esc));
    /* Nothing left: no journal, no cgroup folder of the run. */
    char jpath[2 * PATH_MAX];
    snprintf(jpath, sizeof jpath, "%s/run-fake.journal", state_dir);
    assert_int_equal(access(jpath, F_OK), -1);
    char mnt[PATH_MAX], own[PATH_MAX], cg[3 * PATH_MAX];
    if (fl_cgroup2_mount(mnt, sizeof mnt) == 0 && read_file("/proc/self/cgroup", own,
                                                              sizeof own) > 0) {
        char *p = strstr(own, "0::");
        char *nl = p ? strchr(p, '\n') : NULL;
        if (nl)
            *nl = '\0';
        snprintf(cg, sizeof cg, "%s%s%sfaultline/run-fake", mnt, p ? p + 3 : "",
                 p && strcmp(p + 3, "/") == 0 ? "" : "/");
        assert_int_equal(access(cg, F_OK), -1);
    }
    /* Idempotent: a second pass finds nothing to do. */
    struct fl_recover_stats st2 = {0};
    assert_int_equal(fl_recover_dir(state_dir, say_nothing, NULL, &st2, &err), 0);
    assert_int_equal(st2.journals, 0);
    assert_int_equal(st2.applied, 0);
}

int main(int argc, char **argv)
{
    /* Spawned through the shim by the tests above: be the shim. */
    if (argc > 1 && strcmp(argv[1], FL_EXEC_SHIM_ARG) == 0)
        return fl_exec_shim_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replicas_resolve_http_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_ready_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_before_ready_and_exec_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_always_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unblock_restarts_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_rechecks_readiness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_kills_after_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_and_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_kills_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_takes_the_whole_pod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_run_folders_swept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_freezes_the_whole_pod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bindir_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_shim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_orphans_after_sigkill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
