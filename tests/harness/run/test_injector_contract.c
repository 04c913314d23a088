/* test_injector_contract.c - the injector interface as the runner drives
 * it, with a test injector put in place of a loaded fault's type:
 *
 *   setup      once, after the target exists and before any service
 *              starts: its environment hook reaches the service;
 *   names      ${t.answer} resolves through the injector at run time;
 *   inject     returns FL_PENDING and never completes;
 *   cancel     called once, by the teardown watchdog, for that pending
 *              injection; no completion is taken afterwards;
 *   teardown   once, after every service has stopped;
 *
 * and the run still ends with complete reports: a harness error, the
 * cancelled injection in the history as info, the done phase last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/injector.h"
#include "core/target.h"
#include "run/runner.h"
#include "scenario/scenario.h"
#include "targets/local/exec_shim.h"
#include "support/procs.h"

#define PATH "tests/data/scenarios/injector_contract.yaml"

static struct {
    int setup, inject, cancel, teardown, hook;
    int services_up_at_setup;       /* instances running when setup ran */
    int services_up_at_teardown;
    int order_ok;                   /* setup < inject < cancel < teardown */
    int fs_ok;
    char resolved[64];
    struct fl_fault_run *fr;
} calls;

static int hook(void *ud, const struct fl_instance *in, char **env, size_t max,
                struct fl_error *err)
{
    (void)ud;
    (void)in;
    (void)err;
    calls.hook++;
    if (max < 1)
        return 0;
    env[0] = strdup("FL_TEST_HOOK=from-setup");
    return env[0] ? 1 : FL_ENOMEM;
}

static int running(struct fl_run *run)
{
    struct fl_instance *in[4];
    size_t n = fl_target_instances(run->target, "svc", in, 4);
    int up = 0;
    for (size_t i = 0; i < n && i < 4; i++)
        up += fl_inst_running(in[i]);
    return up;
}

static int t_setup(struct fl_fault_run *fr, struct fl_error *err)
{
    calls.setup++;
    calls.order_ok = calls.inject == 0 && calls.cancel == 0 && calls.teardown == 0;
    calls.services_up_at_setup = running(fr->run);
    struct fl_target *t = fr->run->target;
    /* A local instance sees faultline's filesystem as it is. */
    struct fl_instance *in[1];
    struct fl_buf b;
    fl_buf_init(&b, 256);
    if (fl_target_instances(t, "svc", in, 1) == 1 &&
        t->type->fs_path(t, in[0], "/var/lib/x", &b, err) == 0)
        calls.fs_ok = strcmp(fl_buf_str(&b), "/var/lib/x") == 0;
    fl_buf_free(&b);
    return t->type->add_env_hook(t, hook, fr, err);
}

static int t_inject(struct fl_fault_run *fr, struct fl_error *err)
{
    calls.inject++;
    calls.fr = fr;
    struct fl_buf b;
    fl_buf_init(&b, 64);
    if (fl_run_resolve(fr->run, "t.answer", 8, &b, err) == 0)
        snprintf(calls.resolved, sizeof calls.resolved, "%s", fl_buf_str(&b));
    fl_buf_free(&b);
    return FL_PENDING;   /* and never fl_fault_done */
}

static void t_cancel(struct fl_fault_run *fr)
{
    calls.cancel++;
    calls.order_ok = calls.order_ok && calls.inject == 1 && calls.teardown == 0 &&
                     fr->cancelled;
    /* A late completion must be dropped. */
    fl_fault_done(fr, 0, NULL);
}

static void t_teardown(struct fl_fault_run *fr)
{
    calls.teardown++;
    calls.services_up_at_teardown = running(fr->run);
}

static int t_resolve(struct fl_fault_run *fr, const char *name, size_t len, struct fl_buf *out,
                     struct fl_error *err)
{
    (void)fr;
    (void)err;
    if (len == 8 && memcmp(name, "t.answer", 8) == 0)
        return fl_buf_adds(out, "42") ? FL_ENOMEM : 0;
    return FL_ENOTFOUND;
}

static const struct fl_injector_type test_injector = {
    .name = "test.contract",
    .help = "test",
    .wants_duration = 1,
    .setup = t_setup,
    .teardown = t_teardown,
    .inject = t_inject,
    .cancel = t_cancel,
    .names = "t",
    .resolve = t_resolve,
};

static void test_contract(void **state)
{
    (void)state;
    char outdir[64] = "/tmp/fl-contract-XXXXXX";
    assert_non_null(mkdtemp(outdir));
    struct fl_diag d = {0};
    struct fl_scenario *sc = NULL;
    assert_int_equal(fl_scenario_load(PATH, NULL, 0, &sc, &d), 0);
    fl_diag_free(&d);
    assert_int_equal(sc->nfaults, 1);
    ((struct fl_fault *)&sc->faults[0])->type = &test_injector;

    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    struct fl_runner_opts o = {.outdir = outdir, .verbose = -1, .self_exe = self,
                               .teardown_timeout_ms = 1000};
    struct fl_result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(fl_runner_run(sc, &o, &res), 0);

    assert_int_equal(calls.setup, 1);
    assert_int_equal(calls.services_up_at_setup, 0);
    assert_true(calls.fs_ok);
    assert_true(calls.hook >= 1);
    char path[128], buf[64] = "";
    snprintf(path, sizeof path, "%s/hook.txt", outdir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "from-setup\n");
    assert_int_equal(calls.inject, 1);
    assert_string_equal(calls.resolved, "42");
    assert_int_equal(calls.cancel, 1);
    assert_int_equal(calls.teardown, 1);
    assert_int_equal(calls.services_up_at_teardown, 0);
    assert_true(calls.order_ok);

    /* Complete reports: the watchdog's harness error, the cancelled
     * injection as info, the done phase. */
    assert_int_equal(res.harness_status, FL_ETIMEDOUT);
    size_t cancelled = 0, done = 0;
    for (size_t i = 0; i < fl_history_len(res.history); i++) {
        const struct fl_op *op = fl_history_get(res.history, i);
        if (strcmp(op->source, "test.contract") == 0 && op->type == FL_INFO &&
            strcmp(op->f, FL_F_FAULT) == 0)
            cancelled++;
        if (strcmp(op->f, FL_F_PHASE) == 0 && op->value && strcmp(op->value, "done") == 0)
            done++;
    }
    assert_int_equal(cancelled, 1);
    assert_int_equal(done, 1);

    res.sc = NULL;
    fl_result_free(&res);
    fl_scenario_free(sc);
    DIR *dir = opendir(outdir);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", outdir, e->d_name);
        unlink(p);
    }
    if (dir)
        closedir(dir);
    rmdir(outdir);
}

int main(int argc, char **argv)
{
    /* Spawned through the exec shim by the runner: be the shim. */
    if (argc > 1 && strcmp(argv[1], FL_EXEC_SHIM_ARG) == 0)
        return fl_exec_shim_main(argc, argv);
    if (fl_test_chdir_source())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
