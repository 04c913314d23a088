/* ioerr_probe.c - a program built the way distributions build theirs
 * (-O2 -D_FORTIFY_SOURCE=2, and -D_FILE_OFFSET_BITS=64 in one of its two
 * builds), so its calls go to glibc's fortified and 64-bit entry points
 * (__open_2/__open64_2, __openat_2, __read_chk, __pread64_chk, open64,
 * pwrite64, fallocate64, ...). test_ioerr.c runs it under faultline-ioerr.so.
 *
 * It opens its files while the control block is disarmed, then for each
 * phase (armed for everything under DIR, disarmed, armed for another path)
 * runs every call once and prints "PHASE CALL ERRNO-NAME" (OK when the
 * call succeeded). It arms the block itself through the same mapping the
 * library reads: the state changes between two calls of a running process,
 * as it does under faultline.
 *
 *   ioerr_probe DIR OPEN_FLAGS   (flags without O_CREAT, e.g. 1 = O_WRONLY) */
#include "base/ioerr_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static struct fl_ioerr_ctl *ctl;
static char dir[1024];
static int fw, fr, fd2, flags;
static size_t len;

static uint32_t delay_us;

static void set(int armed, const char *prefix, uint32_t ppm)
{
    __atomic_add_fetch(&ctl->seq, 1, __ATOMIC_ACQ_REL);
    ctl->err = EIO;
    ctl->calls = 0xffffffffu;
    ctl->prob_ppm = ppm;
    ctl->delay_us = delay_us;
    snprintf(ctl->prefix, sizeof ctl->prefix, "%s", prefix);
    ctl->armed = (uint32_t)armed;
    __atomic_add_fetch(&ctl->seq, 1, __ATOMIC_ACQ_REL);
}

static void report(const char *phase, const char *call, int failed)
{
    printf("%s %s %s\n", phase, call, failed ? (errno == EIO ? "EIO" : strerror(errno)) : "OK");
}

static void calls(const char *phase)
{
    char buf[64] = "0123456789";
    char path[1100];
    snprintf(path, sizeof path, "%s/b.txt", dir);
    int fd = open(path, flags);     /* __open(64)_2: flags unknown at compile time, no mode */
    report(phase, "open", fd < 0);
    if (fd >= 0)
        close(fd);
    fd = openat(AT_FDCWD, "c.txt", flags);   /* __openat(64)_2, relative to the cwd (DIR) */
    report(phase, "openat", fd < 0);
    if (fd >= 0)
        close(fd);
    fd = creat(path, 0644);
    report(phase, "creat", fd < 0);
    if (fd >= 0)
        close(fd);
    FILE *f = fopen(path, "w");
    report(phase, "fopen", f == NULL);
    if (f)
        fclose(f);
    report(phase, "write", write(fw, buf, 10) < 0);
    report(phase, "write_dup2", write(fd2, buf, 10) < 0);
    report(phase, "pwrite", pwrite(fw, buf, 10, 0) < 0);
    report(phase, "fsync", fsync(fw) < 0);
    report(phase, "fdatasync", fdatasync(fw) < 0);
    report(phase, "fallocate", fallocate(fw, 0, 0, 4096) < 0);
    int pf = posix_fallocate(fw, 0, 4096);
    errno = pf;
    report(phase, "posix_fallocate", pf != 0);
    /* A length the compiler cannot bound makes the fortified build call
     * __read_chk and __pread64_chk. */
    report(phase, "read", read(fr, buf, len) < 0);
    report(phase, "pread", pread(fr, buf, len, 0) < 0);
}

int main(int argc, char **argv)
{
    const char *cp = getenv(FL_IOERR_ENV);
    if (argc != 3 || !cp)
        return 2;
    snprintf(dir, sizeof dir, "%s", argv[1]);
    flags = (int)strtol(argv[2], NULL, 10);
    len = (size_t)(flags & 0) + strlen(argv[1]) % 8 + 8;   /* 8..15, unknown at compile time */
    int cfd = open(cp, O_RDWR);
    if (cfd < 0 || chdir(dir) != 0)
        return 2;
    ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
    close(cfd);
    if (ctl == MAP_FAILED)
        return 2;
    set(0, "", 1000000);
    char path[1100];
    snprintf(path, sizeof path, "%s/a.txt", dir);
    fw = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    fr = open(path, O_RDONLY);
    fd2 = dup2(fw, 100);
    if (fw < 0 || fr < 0 || fd2 != 100 || write(fw, "x", 1) != 1)
        return 3;
    for (int i = 0; i < 2; i++) {   /* b.txt, c.txt: opened later without O_CREAT */
        snprintf(path, sizeof path, "%s/%c.txt", dir, 'b' + i);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        if (fd < 0)
            return 3;
        close(fd);
    }
    set(1, dir, 1000000);
    calls("armed");
    set(0, dir, 1000000);
    calls("disarmed");
    set(1, "/nonexistent", 1000000);
    calls("elsewhere");
    /* After close, a new descriptor with the same number is not "a.txt". */
    set(0, "", 1000000);
    close(fd2);
    int other = open("/dev/null", O_WRONLY);
    int moved = other >= 0 ? dup2(other, 100) : -1;
    set(1, dir, 1000000);
    report("reused", "write_fd100", moved == 100 && write(100, "x", 1) < 0);
    /* Half of the calls, drawn per call. */
    set(1, dir, 500000);
    int failed = 0;
    for (int i = 0; i < 1000; i++)
        failed += pwrite(fw, "x", 1, 0) < 0;
    printf("probability failed %d\n", failed);
    /* A delay is slept before the failure (a lower bound: never flaky). */
    delay_us = 30000;
    set(1, dir, 1000000);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = (int)write(fw, "x", 1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    printf("delayed %s %s\n", r < 0 && errno == EIO ? "EIO" : "OK", us >= 30000 ? "slept" : "fast");
    delay_us = 0;
    set(0, "", 1000000);
    printf("hits %llu\n", (unsigned long long)ctl->hits);
    return 0;
}
