/* ioerr_ctl.c - see ioerr_ctl.h. */
#include "base/ioerr_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fl_ioerr_ctl *map_fd(int fd)
{
    void *p = mmap(NULL, sizeof(struct fl_ioerr_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

int fl_ioerr_ctl_create(const char *path, struct fl_ioerr_ctl **out)
{
    /* Readable by every service, whoever it runs as; only we write. */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    fchmod(fd, 0644);
    if (ftruncate(fd, sizeof(struct fl_ioerr_ctl)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct fl_ioerr_ctl *c = map_fd(fd);
    int e = errno;
    close(fd);
    if (!c)
        return -e;
    memset(c, 0, sizeof *c);
    c->version = FL_IOERR_VERSION;
    __atomic_store_n(&c->magic, FL_IOERR_MAGIC, __ATOMIC_RELEASE);
    *out = c;
    return 0;
}

static void begin(struct fl_ioerr_ctl *c)
{
    __atomic_add_fetch(&c->seq, 1, __ATOMIC_ACQ_REL);
}

static void end(struct fl_ioerr_ctl *c)
{
    __atomic_add_fetch(&c->seq, 1, __ATOMIC_ACQ_REL);
}

void fl_ioerr_ctl_arm(struct fl_ioerr_ctl *c, const struct fl_ioerr_ctl *cfg)
{
    begin(c);
    c->err = cfg->err;
    c->calls = cfg->calls;
    c->prob_ppm = cfg->prob_ppm;
    c->delay_us = cfg->delay_us;
    memcpy(c->prefix, cfg->prefix, sizeof c->prefix);
    c->prefix[sizeof c->prefix - 1] = 0;
    c->armed = 1;
    end(c);
}

void fl_ioerr_ctl_disarm(struct fl_ioerr_ctl *c)
{
    if (!c)
        return;
    begin(c);
    c->armed = 0;
    end(c);
}

void fl_ioerr_ctl_close(struct fl_ioerr_ctl *c)
{
    if (c)
        munmap(c, sizeof *c);
}

int fl_ioerr_ctl_disarm_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 1 : -errno;
    struct stat st;
    int rc = 1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (size_t)st.st_size >= sizeof(struct fl_ioerr_ctl)) {
        struct fl_ioerr_ctl *c = map_fd(fd);
        if (c && c->magic == FL_IOERR_MAGIC) {
            rc = c->armed ? 0 : 1;
            fl_ioerr_ctl_disarm(c);
        }
        if (c)
            fl_ioerr_ctl_close(c);
    }
    close(fd);
    if (unlink(path) != 0 && errno != ENOENT)
        return -errno;
    return rc;
}
