/* recover.c - see recover.h. Synchronous and bounded: it runs before a
 * run's loop exists, or after it ended. */
#include "run/recover.h"
#include "base/ioerr_ctl.h"
#include "base/proc.h"
#include "base/util.h"
#include "core/journal.h"
#include "injectors/faketime.h"
#include "targets/local/contain.h"
#include "targets/compose/docker.h"

#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define CGROUP_WAIT_MS 3000
#define KILL_ROUNDS 200          /* x 5 ms: how long escapees may take to die */
#define MARKED_MAX 4096

static void sleep_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int arg_int(const struct fl_journal_undo *u, const char *key, long long *out)
{
    const char *v = fl_journal_arg(u, key);
    return v && fl_parse_int(v, 0, (long long)1 << 62, out) == 0 ? 0 : -EINVAL;
}

/* SIGKILL every process marked with prefix, until none is left. */
static int kill_marked(const char *marker, char *why, size_t len)
{
    int *pids = malloc(MARKED_MAX * sizeof *pids);
    if (!pids)
        return -ENOMEM;
    int n = 0;
    for (int round = 0; round < KILL_ROUNDS; round++) {
        n = fl_proc_find_marked(marker, 1, pids, MARKED_MAX);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            kill(pids[i], SIGKILL);
            fl_proc_reap_adopted(pids[i]);
        }
        sleep_ms(5);
    }
    free(pids);
    if (n > 0) {
        snprintf(why, len, "%d process%s marked %s still alive", n, n == 1 ? "" : "es", marker);
        return -EBUSY;
    }
    return 0;
}

static int undo_cgroup(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    const char *marker = fl_journal_arg(u, "marker");
    if (!path || !path[0]) {
        snprintf(why, len, "no path");
        return -EINVAL;
    }
    int existed = access(path, F_OK) == 0;
    int rc = fl_cgroup_destroy(path, CGROUP_WAIT_MS);
    if (rc) {
        snprintf(why, len, "cannot remove %s: %s", path, strerror(-rc));
        return rc;
    }
    fl_cgroup_remove_parent(path);
    rc = marker && marker[0] ? kill_marked(marker, why, len) : 0;
    return rc ? rc : existed ? 0 : 1;
}

static int undo_kill_pid(const struct fl_journal_undo *u, char *why, size_t len)
{
    long long pid, start;
    if (arg_int(u, "pid", &pid) || arg_int(u, "start", &start) || pid <= 1) {
        snprintf(why, len, "bad pid/start");
        return -EINVAL;
    }
    if (!fl_proc_is((int)pid, (uint64_t)start))
        return 1;   /* gone, or the pid now names another process */
    kill(-(int)pid, SIGKILL);
    kill((int)pid, SIGKILL);
    for (int i = 0; i < KILL_ROUNDS && fl_proc_is((int)pid, (uint64_t)start); i++) {
        fl_proc_reap_adopted((int)pid);
        sleep_ms(5);
    }
    if (fl_proc_is((int)pid, (uint64_t)start)) {
        snprintf(why, len, "pid %lld survives SIGKILL", pid);
        return -EBUSY;
    }
    return 0;
}

static int undo_kill_marked(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *marker = fl_journal_arg(u, "marker");
    if (!marker || !marker[0]) {
        snprintf(why, len, "no marker");
        return -EINVAL;
    }
    return kill_marked(marker, why, len);
}

static int undo_thaw(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    if (!path || !path[0])
        return 0;
    int rc = fl_cgroup_freeze(path, 0, 1000);
    if (rc == -ENOENT)
        return 1;   /* the cgroup is gone: nothing is frozen */
    if (rc)
        snprintf(why, len, "cannot thaw %s: %s", path, strerror(-rc));
    return rc;
}

static int undo_cont(const struct fl_journal_undo *u, char *why, size_t len)
{
    (void)why;
    (void)len;
    const char *path = fl_journal_arg(u, "path");
    const char *marker = fl_journal_arg(u, "marker");
    int pids[1024];
    int n = 0;
    if (path && path[0])
        n = fl_cgroup_pids(path, pids, 1024);
    else if (marker && marker[0])
        n = fl_proc_find_marked(marker, 0, pids, 1024);
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGCONT);
    return n > 0 ? 0 : 1;   /* nobody left to continue is fine too */
}

static int undo_redis_unpause(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *host = fl_journal_arg(u, "host");
    long long port;
    if (!host || arg_int(u, "port", &port) || port <= 0 || port > 65535) {
        snprintf(why, len, "bad host/port");
        return -EINVAL;
    }
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout(host, (int)port, tv);
    if (!c || c->err) {
        redisFree(c);
        return 1;   /* nothing listens there any more: nothing is paused */
    }
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "CLIENT UNPAUSE");
    int rc = 0;
    if (!r) {
        snprintf(why, len, "CLIENT UNPAUSE on %s:%lld: %s", host, port, c->errstr);
        rc = -EIO;
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

static int undo_clock_reset(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    if (!path || !path[0]) {
        snprintf(why, len, "no path");
        return -EINVAL;
    }
    int rc = fl_faketime_reset_file(path);
    if (rc < 0)
        snprintf(why, len, "cannot reset %s: %s", path, strerror(-rc));
    return rc;
}

static int undo_clock_dir(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    int rc = path && path[0] ? fl_faketime_remove_dir(path) : -EINVAL;
    if (rc < 0)
        snprintf(why, len, "cannot remove the clock folder %s: %s", path ? path : "",
                 strerror(-rc));
    return rc;
}

/* ---- Docker (the compose target) --------------------------------------- */

#define DOCKER_TIMEOUT_MS 10000

/* GET the container's state. Returns 0 with *running and *paused set, 1 when
 * the container is gone (nothing to undo), or -EIO with why. */
static int docker_state(const char *sock, const char *id, int *running, int *paused,
                        char *why, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "/containers/%s/json", id);
    struct fl_buf b;
    fl_buf_init(&b, 1024 * 1024);
    int st = 0;
    int rc = fl_docker_sync(sock, "GET", path, NULL, DOCKER_TIMEOUT_MS, &st, &b, why, len);
    if (rc == 0 && st == 404) {
        rc = 1;
    } else if (rc == 0 && st != 200) {
        snprintf(why, len, "inspect %s: status %d", id, st);
        rc = -EIO;
    } else if (rc == 0) {
        json_t *j = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
        json_t *s = json_object_get(j, "State");
        *running = json_is_true(json_object_get(s, "Running")) ||
                   json_is_true(json_object_get(s, "Restarting"));
        *paused = json_is_true(json_object_get(s, "Paused"));
        json_decref(j);
    } else {
        rc = -EIO;
    }
    fl_buf_free(&b);
    return rc;
}

/* POST path; 2xx and 304 (already so) are success, 404 nothing to undo. */
static int docker_post(const char *sock, const char *id, const char *what, const char *body,
                       char *why, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "/containers/%s%s", id, what);
    int st = 0;
    int rc = fl_docker_sync(sock, "POST", path, body, DOCKER_TIMEOUT_MS, &st, NULL, why, len);
    if (rc)
        return -EIO;
    if (st == 404)
        return 1;
    if ((st >= 200 && st < 300) || st == 304)
        return 0;
    snprintf(why, len, "POST %s: status %d", path, st);
    return -EIO;
}

static int docker_args(const struct fl_journal_undo *u, const char **sock, const char **id,
                       char *why, size_t len)
{
    *sock = fl_journal_arg(u, "socket");
    *id = fl_journal_arg(u, "id");
    if (!*sock || !*id || !(*id)[0] || strchr(*id, '/') || strchr(*id, '?')) {
        snprintf(why, len, "bad socket/id");
        return -EINVAL;
    }
    return 0;
}

static int undo_docker_start(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *sock, *id;
    int running = 0, paused = 0;
    int rc = docker_args(u, &sock, &id, why, len);
    if (rc == 0)
        rc = docker_state(sock, id, &running, &paused, why, len);
    if (rc)
        return rc;
    return running ? 1 : docker_post(sock, id, "/start", NULL, why, len);
}

static int undo_docker_unpause(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *sock, *id;
    int running = 0, paused = 0;
    int rc = docker_args(u, &sock, &id, why, len);
    if (rc == 0)
        rc = docker_state(sock, id, &running, &paused, why, len);
    if (rc)
        return rc;
    return paused ? docker_post(sock, id, "/unpause", NULL, why, len) : 1;
}

static int undo_docker_policy(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *sock, *id;
    const char *policy = fl_journal_arg(u, "policy");
    long long retries = 0;
    int rc = docker_args(u, &sock, &id, why, len);
    if (rc)
        return rc;
    if (!policy || !policy[0] || strchr(policy, '"') || arg_int(u, "retries", &retries)) {
        snprintf(why, len, "bad policy/retries");
        return -EINVAL;
    }
    char body[160];
    if (strcmp(policy, "on-failure") == 0)
        snprintf(body, sizeof body, "{\"RestartPolicy\":{\"Name\":\"%s\",\"MaximumRetryCount\":%lld}}",
                 policy, retries);
    else
        snprintf(body, sizeof body, "{\"RestartPolicy\":{\"Name\":\"%s\"}}", policy);
    return docker_post(sock, id, "/update", body, why, len);
}

/* SIGSTOP went to every process of the container: SIGCONT does too. */
static int undo_docker_cont(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *sock, *id;
    int rc = docker_args(u, &sock, &id, why, len);
    if (rc)
        return rc;
    char path[256];
    snprintf(path, sizeof path, "/containers/%s/json", id);
    struct fl_buf b;
    fl_buf_init(&b, 1024 * 1024);
    int st = 0;
    rc = fl_docker_sync(sock, "GET", path, NULL, DOCKER_TIMEOUT_MS, &st, &b, why, len);
    int pid = 0;
    if (rc == 0 && st == 200) {
        json_t *j = json_loadb(b.p ? b.p : "", b.len, 0, NULL);
        json_t *s = json_object_get(j, "State");
        if (json_is_true(json_object_get(s, "Running")))
            pid = (int)json_integer_value(json_object_get(s, "Pid"));
        json_decref(j);
    }
    fl_buf_free(&b);
    if (rc)
        return -EIO;
    if (st == 404 || pid <= 0)
        return 1;   /* gone or not running: nothing is stopped */
    if (!fl_docker_pid_is(pid, id)) {
        snprintf(why, len, "the processes of container %s are not visible from here", id);
        return -EIO;
    }
    int pids[1024];
    int n = fl_docker_pidns_members(pid, pids, 1024);
    for (int i = 0; i < n; i++)
        kill(pids[i], SIGCONT);
    return n > 0 ? 0 : 1;
}

static int undo_docker_connect(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *sock, *id;
    const char *net = fl_journal_arg(u, "network");
    const char *aliases = fl_journal_arg(u, "aliases");
    int rc = docker_args(u, &sock, &id, why, len);
    if (rc)
        return rc;
    json_t *al = aliases ? json_loads(aliases, 0, NULL) : json_array();
    if (!net || !net[0] || strchr(net, '/') || strchr(net, '?') || !json_is_array(al)) {
        json_decref(al);
        snprintf(why, len, "bad network/aliases");
        return -EINVAL;
    }
    json_t *body = json_pack("{s:s, s:{s:O}}", "Container", id, "EndpointConfig", "Aliases", al);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    json_decref(al);
    if (!text)
        return -ENOMEM;
    char path[256];
    snprintf(path, sizeof path, "/networks/%s/connect", net);
    int st = 0;
    rc = fl_docker_sync(sock, "POST", path, text, DOCKER_TIMEOUT_MS, &st, NULL, why, len);
    free(text);
    if (rc)
        return -EIO;
    if (st >= 200 && st < 300)
        return 0;
    if (st == 404 || st == 403 || st == 409)
        return 1;   /* gone, or connected already */
    snprintf(why, len, "POST %s: status %d", path, st);
    return -EIO;
}

/* 1 when path is the root of a mount (its device differs from its
 * parent's), 0 when not, -1 when unknown. */
static int is_mountpoint(const char *path)
{
    char parent[4096];
    if (snprintf(parent, sizeof parent, "%s", path) >= (int)sizeof parent)
        return -1;
    char *slash = strrchr(parent, '/');
    if (!slash)
        return -1;
    if (slash == parent)
        slash[1] = '\0';   /* the parent of "/x" is "/" */
    else
        *slash = '\0';
    struct stat a, b;
    if (stat(path, &a) != 0 || stat(parent, &b) != 0)
        return -1;
    return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* A volume's tmpfs (targets/local/volume.c): unmount it, remove its
 * folder. Only a tmpfs is unmounted: the path may since have become
 * something else. */
static int undo_umount(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    if (!path || path[0] != '/') {
        snprintf(why, len, "no absolute path");
        return -EINVAL;
    }
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return 1;   /* gone */
    int rc = 1;
    if (sf.f_type == TMPFS_MAGIC && is_mountpoint(path) == 1) {
        if (umount2(path, 0) != 0 && umount2(path, MNT_DETACH) != 0) {
            snprintf(why, len, "cannot unmount %s: %s", path, strerror(errno));
            return -errno;
        }
        rc = 0;
    }
    rmdir(path);
    return rc;
}

/* A fill file of disk.full: remove it. */
static int undo_unlink(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    if (!path || path[0] != '/') {
        snprintf(why, len, "no absolute path");
        return -EINVAL;
    }
    if (unlink(path) == 0)
        return 0;
    if (errno == ENOENT)
        return 1;
    snprintf(why, len, "cannot remove %s: %s", path, strerror(errno));
    return -errno;
}

/* disk.errors' control block: disarm it (processes that still map it
 * stop failing calls at once) and remove the file. */
static int undo_ioerr(const struct fl_journal_undo *u, char *why, size_t len)
{
    const char *path = fl_journal_arg(u, "path");
    if (!path || path[0] != '/') {
        snprintf(why, len, "no absolute path");
        return -EINVAL;
    }
    int rc = fl_ioerr_ctl_disarm_file(path);
    if (rc < 0)
        snprintf(why, len, "cannot disarm %s: %s", path, strerror(-rc));
    return rc;
}

static const struct {
    const char *kind;
    int (*apply)(const struct fl_journal_undo *u, char *why, size_t len);
    const char *verb;
} kinds[] = {
    {"cgroup", undo_cgroup, "killed and removed the cgroup of"},
    {"kill.pid", undo_kill_pid, "killed the process of"},
    {"kill.marked", undo_kill_marked, "killed every marked process of"},
    {"thaw", undo_thaw, "thawed"},
    {"cont", undo_cont, "continued (SIGCONT)"},
    {"redis.unpause", undo_redis_unpause, "sent CLIENT UNPAUSE to"},
    {FL_FAKETIME_UNDO, undo_clock_reset, "reset to real time (and removed the clock file of)"},
    {"docker.start", undo_docker_start, "started the container of"},
    {"docker.unpause", undo_docker_unpause, "unpaused the container of"},
    {"docker.policy", undo_docker_policy, "restored the restart policy of"},
    {"docker.cont", undo_docker_cont, "sent SIGCONT to the container of"},
    {"docker.connect", undo_docker_connect, "reconnected to its network the container of"},
    {FL_FAKETIME_DIR_UNDO, undo_clock_dir, "removed the clock folder of"},
    {"umount", undo_umount, "unmounted the volume of"},
    {"unlink", undo_unlink, "removed the fill file of"},
    {"ioerr.disarm", undo_ioerr, "disarmed the I/O error library of"},
};

int fl_recover_apply(const struct fl_journal_undo *u, char *why, size_t len)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, u->kind) == 0)
            return kinds[i].apply(u, why, len);
    snprintf(why, len, "unknown undo kind '%s' (written by a newer faultline?)", u->kind);
    return FL_EINVAL;
}

static const char *verb_of(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].verb;
    return kind;
}

static void sayf(fl_recover_say say, void *ud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sayf(fl_recover_say say, void *ud, const char *fmt, ...)
{
    if (!say)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(ud, msg);
}

int fl_recover_file(const char *path, int own, fl_recover_say say, void *ud,
                    struct fl_recover_stats *st, struct fl_error *err)
{
    struct fl_journal_file f;
    int rc = fl_journal_read(path, &f, err);
    if (rc)
        return rc;
    size_t open = 0, failed = 0;
    for (size_t i = 0; i < f.nundo; i++)
        open += !f.undo[i].done;
    if (!own && open)
        sayf(say, ud, "run %s (pid %d, started %s: %s) ended without healing; undoing %zu "
             "change%s", f.tag, f.pid, f.started, f.what, open, open == 1 ? "" : "s");
    for (size_t k = f.nundo; k-- > 0;) {
        const struct fl_journal_undo *u = &f.undo[k];
        if (u->done)
            continue;
        char why[512] = "";
        int r = fl_recover_apply(u, why, sizeof why);
        if (r < 0) {
            failed++;
            sayf(say, ud, "  FAILED to undo %s %s%s%s%s: %s", u->kind, u->subject,
                 u->cause[0] ? " (" : "", u->cause, u->cause[0] ? ")" : "",
                 why[0] ? why : strerror(r < 0 && r > -4096 ? -r : EIO));
        } else if (r == 0) {
            sayf(say, ud, "  %s %s%s%s%s", verb_of(u->kind), u->subject, u->cause[0] ? " (" : "",
                 u->cause, u->cause[0] ? ")" : "");
        }
        if (st)
            r < 0 ? st->failed++ : st->applied++;
    }
    fl_journal_file_free(&f);
    if (failed)
        return fl_error_set(err, FL_EINJECT, "%zu change%s of %s could not be undone (journal "
                            "kept: %s)", failed, failed == 1 ? "" : "s", path, path);
    if (!own)
        unlink(path);
    return 0;
}

int fl_recover_dir(const char *dir, fl_recover_say say, void *ud, struct fl_recover_stats *st,
                   struct fl_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return fl_error_set(err, FL_EIO, "cannot read the state folder %s: %s", dir,
                            strerror(errno));
    }
    int rc = 0;
    struct dirent *e;
    size_t slen = strlen(FL_JOURNAL_SUFFIX);
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= slen || strcmp(e->d_name + n - slen, FL_JOURNAL_SUFFIX) != 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        int fd = fl_journal_try_lock(path);
        if (fd == -EWOULDBLOCK) {
            if (st)
                st->alive++;
            sayf(say, ud, "%s: its run is still going: left alone", path);
            continue;
        }
        if (fd < 0)
            continue;   /* vanished meanwhile (its run ended) */
        if (st)
            st->journals++;
        struct fl_error e2 = {0};
        int r = fl_recover_file(path, 0, say, ud, st, &e2);
        close(fd);
        if (r && !rc)
            rc = fl_error_set(err, r, "%s", e2.msg);
    }
    closedir(d);
    return rc;
}
