/* proc.c - see proc.h. */
#include "base/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ENVIRON_MAX (256 * 1024)   /* read at most this much of /proc/PID/environ */
#define PROC_SCAN_MAX 100000       /* entries of /proc looked at, at most */

ssize_t fl_read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

int fl_proc_start_time(int pid, uint64_t *ticks)
{
    char path[64], data[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    ssize_t n = fl_read_small(path, data, sizeof data);
    if (n < 0)
        return n == -ENOENT ? -ESRCH : (int)n;
    /* "PID (COMM) STATE ...": COMM may hold anything, so start after the
     * last ')'. Field 3 is the state, field 22 the start time. */
    const char *p = strrchr(data, ')');
    if (!p)
        return -EINVAL;
    p++;
    char state = 0;
    int field = 2;
    while (*p && field < 22) {
        while (*p == ' ')
            p++;
        field++;
        if (field == 3)
            state = *p;
        if (field == 22)
            break;
        while (*p && *p != ' ')
            p++;
    }
    if (field != 22)
        return -EINVAL;
    if (state == 'Z' || state == 'X')
        return -ESRCH;
    *ticks = strtoull(p, NULL, 10);
    return 0;
}

int fl_proc_is(int pid, uint64_t ticks)
{
    uint64_t t;
    return pid > 0 && fl_proc_start_time(pid, &t) == 0 && t == ticks;
}

/* Does /proc/PID/environ hold NAME=marker (or a prefix of it)? */
static int has_marker(const char *pid, const char *marker, int prefix, char *buf, size_t len)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/environ", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t n = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    size_t klen = strlen(FL_CONTAIN_ENV), mlen = strlen(marker);
    for (size_t i = 0; i < n;) {
        const char *e = buf + i;
        size_t elen = strnlen(e, n - i);
        if (elen > klen && memcmp(e, FL_CONTAIN_ENV, klen) == 0 && e[klen] == '=') {
            const char *v = e + klen + 1;
            size_t vlen = elen - klen - 1;
            if (prefix ? (vlen >= mlen && memcmp(v, marker, mlen) == 0)
                       : (vlen == mlen && memcmp(v, marker, mlen) == 0))
                return 1;
        }
        i += elen + 1;
    }
    return 0;
}

int fl_proc_find_marked(const char *marker, int prefix, int *pids, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -errno;
    char *buf = malloc(ENVIRON_MAX);
    if (!buf) {
        closedir(d);
        return -ENOMEM;
    }
    int n = 0, self = (int)getpid(), seen = 0;
    struct dirent *e;
    while (n < max && seen++ < PROC_SCAN_MAX && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        int pid = (int)strtol(e->d_name, NULL, 10);
        if (pid == self)
            continue;
        if (has_marker(e->d_name, marker, prefix, buf, ENVIRON_MAX))
            pids[n++] = pid;
    }
    free(buf);
    closedir(d);
    return n;
}

void fl_proc_reap_adopted(int pid)
{
    int st;
    if (pid > 0)
        waitpid(pid, &st, WNOHANG);
}

/* Parent and state of pid from /proc/PID/stat; 0 or -errno. */
static int stat_ppid(const char *pid, int *ppid, char *state)
{
    char path[300], data[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    if (fl_read_small(path, data, sizeof data) < 0)
        return -ENOENT;
    const char *p = strrchr(data, ')');
    if (!p || !p[1] || !p[2])
        return -EINVAL;
    *state = p[2];
    *ppid = (int)strtol(p + 3, NULL, 10);
    return 0;
}

int fl_proc_descendants(int root, int *pids, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -errno;
    /* One pass collects (pid, ppid) pairs; then the tree below root is
     * the fixed point of "parent is root or already in". */
    enum { CAP = 65536 };
    int *pid_of = malloc(CAP * sizeof *pid_of), *par_of = malloc(CAP * sizeof *par_of);
    if (!pid_of || !par_of) {
        free(pid_of);
        free(par_of);
        closedir(d);
        return -ENOMEM;
    }
    int n = 0, seen = 0;
    struct dirent *e;
    while (n < CAP && seen++ < PROC_SCAN_MAX && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        int ppid;
        char state;
        if (stat_ppid(e->d_name, &ppid, &state) || state == 'Z' || state == 'X')
            continue;
        pid_of[n] = (int)strtol(e->d_name, NULL, 10);
        par_of[n] = ppid;
        n++;
    }
    closedir(d);
    int found = 0;
    for (int changed = 1; changed && found < max;) {
        changed = 0;
        for (int i = 0; i < n && found < max; i++) {
            if (pid_of[i] == 0)
                continue;   /* already taken */
            int in = par_of[i] == root;
            for (int k = 0; !in && k < found; k++)
                in = par_of[i] == pids[k];
            if (in) {
                pids[found++] = pid_of[i];
                pid_of[i] = 0;
                changed = 1;
            }
        }
    }
    free(pid_of);
    free(par_of);
    return found;
}
