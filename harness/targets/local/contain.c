/* contain.c - see contain.h. Synchronous, bounded, no libuv: also used by
 * `faultline recover` after the run that made these cgroups died. */
#include "targets/local/contain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(s);
    ssize_t w = write(fd, s, len);
    int rc = w == (ssize_t)len ? 0 : (w < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- choosing the containment ------------------------------------------ */

int fl_cgroup2_mount(char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -errno;
    char line[4096];
    int rc = -ENOENT;
    while (rc && fgets(line, sizeof line, f)) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ... */
        const char *sep = strstr(line, " - ");
        if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
            continue;
        char mnt[1024];
        if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 || strchr(mnt, '\\'))
            continue;   /* escaped characters in the path: not ours to guess */
        if (strlen(mnt) < len) {
            memcpy(buf, mnt, strlen(mnt) + 1);
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* faultline's own cgroup v2 path ("/" or "/user.slice/...") from
 * /proc/self/cgroup's "0::PATH" line. */
static int own_cgroup(char *buf, size_t len)
{
    char data[4096];
    if (fl_read_small("/proc/self/cgroup", data, sizeof data) < 0)
        return -errno;
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "0::", 3) == 0) {
            const char *p = line + 3;
            if (strlen(p) >= len)
                return -ENAMETOOLONG;
            memcpy(buf, p, strlen(p) + 1);
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -ENOENT;
}

/* Remove what runs that are gone left under the shared "faultline"
 * folder: a run that was killed before it could clean up, and had no
 * journal for `recover` to follow (tests, or a journal that was lost).
 * A run's folder is named run-PID-START[-N]; it is stale when that pid no
 * longer names the process that started then. Its members, if any, are
 * killed: no run may leave a process in an instance's cgroup. */
static void sweep_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d)) && seen++ < 10000) {
        long long pid, start;
        char rest[8];
        if (e->d_type != DT_DIR || sscanf(e->d_name, "run-%lld-%lld%7s", &pid, &start, rest) < 2 ||
            pid <= 0 || pid > 0x7fffffff)
            continue;
        if (fl_proc_is((int)pid, (uint64_t)start))
            continue;   /* its run is alive */
        char path[FL_CONTAIN_PATH_MAX];
        if (join(path, sizeof path, dir, e->d_name) == 0)
            fl_cgroup_destroy(path, 1000);
    }
    closedir(d);
}

static int try_cgroup(struct fl_contain *c)
{
    const char *force = getenv("FAULTLINE_CONTAINMENT");
    if (force && strcmp(force, "subreaper") == 0) {
        snprintf(c->why, sizeof c->why, "FAULTLINE_CONTAINMENT=subreaper");
        return -1;
    }
    char mnt[FL_CONTAIN_PATH_MAX], own[FL_CONTAIN_PATH_MAX], dir[FL_CONTAIN_PATH_MAX];
    if (fl_cgroup2_mount(mnt, sizeof mnt)) {
        snprintf(c->why, sizeof c->why, "no cgroup v2 mount in /proc/self/mountinfo");
        return -1;
    }
    if (own_cgroup(own, sizeof own)) {
        snprintf(c->why, sizeof c->why, "no cgroup v2 entry in /proc/self/cgroup");
        return -1;
    }
    int n = snprintf(dir, sizeof dir, "%s%s%sfaultline", mnt, own,
                     own[strlen(own) - 1] == '/' ? "" : "/");
    if (n < 0 || (size_t)n >= sizeof dir ||
        snprintf(c->root, sizeof c->root, "%s/%s", dir, c->run_tag) >= (int)sizeof c->root) {
        snprintf(c->why, sizeof c->why, "cgroup path too long");
        return -1;
    }
    sweep_stale(dir);
    if ((mkdir(dir, 0755) && errno != EEXIST) || (mkdir(c->root, 0755) && errno != EEXIST)) {
        snprintf(c->why, sizeof c->why, "cannot create %.150s: %s", c->root, strerror(errno));
        return -1;
    }
    char probe[FL_CONTAIN_PATH_MAX + 32];
    const char *need[] = {"cgroup.kill", "cgroup.freeze", "cgroup.procs"};
    for (size_t i = 0; i < 3; i++) {
        join(probe, sizeof probe, c->root, need[i]);
        if (access(probe, W_OK) != 0) {
            snprintf(c->why, sizeof c->why, "%s not writable (%s): kernel < 5.14 or no rights",
                     need[i], strerror(errno));
            rmdir(c->root);
            return -1;
        }
    }
    return 0;
}

int fl_contain_init(struct fl_contain *c, const char *tag, struct fl_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->run_tag, sizeof c->run_tag, "%s", tag);
    if (try_cgroup(c) == 0) {
        c->mode = FL_CONTAIN_CGROUP;
        return 0;
    }
    c->root[0] = '\0';
    c->mode = FL_CONTAIN_SUBREAPER;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
        return fl_error_set(err, FL_ESYS, "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    return 0;
}

void fl_contain_describe(const struct fl_contain *c, char *buf, size_t len)
{
    if (c->mode == FL_CONTAIN_CGROUP)
        snprintf(buf, len, "cgroup v2 (%s)", c->root);
    else
        snprintf(buf, len, "subreaper + environment marker (%s)", c->why);
}

int fl_contain_inst_cgroup(const struct fl_contain *c, const char *id, int create, char *buf,
                           size_t len, struct fl_error *err)
{
    if (c->mode != FL_CONTAIN_CGROUP)
        return fl_error_set(err, FL_EINVAL, "no cgroup containment");
    if (join(buf, len, c->root, id))
        return fl_error_set(err, FL_ESYS, "cgroup path of %s too long", id);
    if (create && mkdir(buf, 0755) && errno != EEXIST)
        return fl_error_set(err, FL_ESYS, "cannot create cgroup %s: %s", buf, strerror(errno));
    return 0;
}

void fl_contain_marker(const struct fl_contain *c, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", c->run_tag, id);
}

/* ---- cgroups --------------------------------------------------------- */

int fl_cgroup_enter(const char *path, int pid)
{
    char f[FL_CONTAIN_PATH_MAX + 32], v[24];
    if (join(f, sizeof f, path, "cgroup.procs"))
        return -ENAMETOOLONG;
    snprintf(v, sizeof v, "%d", pid > 0 ? pid : (int)getpid());
    return write_str(f, v);
}

int fl_cgroup_pids(const char *path, int *pids, int max)
{
    char f[FL_CONTAIN_PATH_MAX + 32];
    if (join(f, sizeof f, path, "cgroup.procs"))
        return -ENAMETOOLONG;
    FILE *fp = fopen(f, "re");
    if (!fp)
        return -errno;
    int n = 0, pid;
    while (n < max && fscanf(fp, "%d", &pid) == 1)
        pids[n++] = pid;
    fclose(fp);
    return n;
}

/* Value of a "key value" line of cgroup.events, or -errno. */
static int events_value(const char *path, const char *key)
{
    char f[FL_CONTAIN_PATH_MAX + 32], data[512];
    if (join(f, sizeof f, path, "cgroup.events"))
        return -ENAMETOOLONG;
    ssize_t n = fl_read_small(f, data, sizeof data);
    if (n < 0)
        return (int)n;
    size_t kl = strlen(key);
    for (char *p = data; (p = strstr(p, key)) != NULL; p += kl)
        if ((p == data || p[-1] == '\n') && p[kl] == ' ')
            return (int)strtol(p + kl + 1, NULL, 10);
    return -ENOENT;
}

int fl_cgroup_empty(const char *path)
{
    int v = events_value(path, "populated");
    return v == 0 || v == -ENOENT;
}

int fl_cgroup_kill(const char *path)
{
    char f[FL_CONTAIN_PATH_MAX + 32];
    if (join(f, sizeof f, path, "cgroup.kill"))
        return -ENAMETOOLONG;
    return write_str(f, "1");
}

int fl_cgroup_freeze(const char *path, int freeze, int wait_ms)
{
    char f[FL_CONTAIN_PATH_MAX + 32];
    if (join(f, sizeof f, path, "cgroup.freeze"))
        return -ENAMETOOLONG;
    int rc = write_str(f, freeze ? "1" : "0");
    if (rc)
        return rc;
    for (int waited = 0;; waited++) {
        int v = events_value(path, "frozen");
        if (v < 0)
            return v;
        if (v == (freeze ? 1 : 0))
            return 0;
        if (waited >= wait_ms)
            return -ETIMEDOUT;
        sleep_ms(1);
    }
}

void fl_cgroup_remove_parent(const char *path)
{
    char parent[FL_CONTAIN_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash)
        return;
    *slash = '\0';
    const char *base = strrchr(parent, '/');
    if (base && strcmp(base + 1, "faultline") == 0)
        rmdir(parent);   /* fails harmlessly while another run uses it */
}

int fl_cgroup_destroy(const char *path, int wait_ms)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    fl_cgroup_freeze(path, 0, 0);   /* killing works frozen too; leave it thawed */
    if (!fl_cgroup_empty(path))
        fl_cgroup_kill(path);
    for (int waited = 0; !fl_cgroup_empty(path); waited++) {
        if (waited >= wait_ms)
            return -EBUSY;
        sleep_ms(1);
    }
    /* Emptied but a child cgroup may remain (a service that made its own). */
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.')
                continue;
            char sub[FL_CONTAIN_PATH_MAX];
            if (join(sub, sizeof sub, path, e->d_name) == 0)
                fl_cgroup_destroy(sub, wait_ms);
        }
        closedir(d);
    }
    if (rmdir(path) != 0 && errno != ENOENT)
        return -errno;
    return 0;
}
