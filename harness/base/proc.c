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

static ssize_t read_small(const char *path, char *buf, size_t len)
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
    ssize_t n = read_small(path, data, sizeof data);
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
