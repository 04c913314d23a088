/* test_ioerr.c - faultline-ioerr.so in a real process: the probe program
 * (ioerr_probe.c), built fortified and with 64-bit file offsets, and once
 * more without them, makes every wrapped call while the control block is
 * armed (everything under its folder fails with EIO), disarmed (nothing
 * fails) and armed for another path (nothing fails); a descriptor from
 * dup2 fails like its original, a reused number does not; a probability
 * of 50% fails some calls and not others; a delay is slept first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ioerr_ctl.h"

static const char *const calls[] = {"open", "openat", "creat", "fopen", "write", "write_dup2",
                                    "pwrite", "fsync", "fdatasync", "fallocate",
                                    "posix_fallocate", "read", "pread"};

static void run_probe(const char *probe)
{
    const char *build = getenv("FL_BUILD_DIR");
    if (!build)
        build = "build";
    char dir[] = "/tmp/fl-ioerr.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ctlpath[256], lib[1024], exe[1024], cmd[4096], out[256];
    snprintf(ctlpath, sizeof ctlpath, "%s/ctl", dir);
    snprintf(lib, sizeof lib, "%s/faultline-ioerr.so", build);
    snprintf(exe, sizeof exe, "%s/%s", build, probe);
    snprintf(out, sizeof out, "%s/out", dir);
    struct fl_ioerr_ctl *c;
    assert_int_equal(fl_ioerr_ctl_create(ctlpath, &c), 0);
    /* The probe's files are in a sub-folder, so the control file is not
     * under the armed prefix. */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/files", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(cmd, sizeof cmd, "LD_PRELOAD=%s %s=%s %s %s %d > %s", lib, FL_IOERR_ENV, ctlpath,
             exe, sub, O_WRONLY, out);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char want[128];
        const char *phase[] = {"armed", "disarmed", "elsewhere"};
        const char *res[] = {"EIO", "OK", "OK"};
        for (int p = 0; p < 3; p++) {
            snprintf(want, sizeof want, "%s %s %s\n", phase[p], calls[i], res[p]);
            if (!strstr(text, want))
                fail_msg("%s: no line '%s' in:\n%s", probe, want, text);
        }
    }
    assert_non_null(strstr(text, "reused write_fd100 OK\n"));
    assert_non_null(strstr(text, "delayed EIO slept\n"));
    const char *pf = strstr(text, "probability failed ");
    assert_non_null(pf);
    char *endp;
    long failed = strtol(pf + strlen("probability failed "), &endp, 10);
    assert_true(endp != pf + strlen("probability failed "));
    /* 1000 draws at 50%: far outside 300..700 only by a broken generator. */
    assert_true(failed > 300 && failed < 700);
    assert_true(c->hits >= 14 + (uint64_t)failed);
    fl_ioerr_ctl_close(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_fortified_64(void **state)
{
    (void)state;
    run_probe("ioerr_probe64");
}

static void test_plain(void **state)
{
    (void)state;
    run_probe("ioerr_probe");
}

static void test_disarm_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-ioerr.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/ctl", dir);
    struct fl_ioerr_ctl *c, cfg;
    assert_int_equal(fl_ioerr_ctl_create(path, &c), 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.err = 28;
    fl_ioerr_ctl_arm(c, &cfg);
    assert_int_equal(c->armed, 1);
    /* Recovery disarms the live mapping and removes the file. */
    assert_int_equal(fl_ioerr_ctl_disarm_file(path), 0);
    assert_int_equal(c->armed, 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(fl_ioerr_ctl_disarm_file(path), 1);   /* nothing left: fine */
    fl_ioerr_ctl_close(c);
    /* Not a control block: removed, nothing else touched. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
    assert_int_equal(fl_ioerr_ctl_disarm_file(path), 1);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fortified_64),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_disarm_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
