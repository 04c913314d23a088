/* test_steady_state.c - the steady-state check judges every probe, however
 * many there are: a scenario with 70 probes whose last one never answers ok
 * must not reach the timeline (a fixed array of 64 flags once ignored the
 * probes past the 64th), and with all 70 ok it must.
 *
 * The probes sample a libmicrohttpd server in this process (127.0.0.1, port
 * 0); the one service is `sleep`, stopped by the runner before it returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/runner.h"
#include "scenario/scenario.h"
#include "support/procs.h"

#define PATH "tests/data/scenarios/many_probes.yaml"

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls; (void)method; (void)version; (void)upload; (void)upload_size;
    static int seen;
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    static const char body[] = "{}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    unsigned int status = strcmp(url, "/ok") == 0 ? 200 : 503;
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

struct fixture {
    struct MHD_Daemon *d;
    char addr[64];
    char outdir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)10, MHD_OPTION_END);
    assert_non_null(f->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%u", (unsigned)info->port);
    snprintf(f->outdir, sizeof f->outdir, "/tmp/fl-steady-XXXXXX");
    assert_non_null(mkdtemp(f->outdir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    MHD_stop_daemon(f->d);
    /* The runner writes events.jsonl and one log per replica: files only. */
    DIR *dir = opendir(f->outdir);
    struct dirent *e;
    for (int i = 0; dir && i < 100 && (e = readdir(dir)); i++) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->outdir, e->d_name);
        unlink(p);
    }
    if (dir)
        closedir(dir);
    rmdir(f->outdir);
    free(f);
    return 0;
}

/* Load the scenario with addr (and down, when given) and run it. */
static void run(struct fixture *f, const char *down, struct fl_result *res)
{
    struct fl_var_override ov[] = {{"addr", f->addr}, {"down", down}};
    struct fl_diag d = {0};
    struct fl_scenario *sc = NULL;
    int rc = fl_scenario_load(PATH, ov, down ? 2 : 1, &sc, &d);
    for (size_t i = 0; i < d.n; i++)
        print_message("%s:%d:%d: %s\n", d.items[i].file, d.items[i].line, d.items[i].col,
                      d.items[i].msg);
    fl_diag_free(&d);
    assert_int_equal(rc, 0);
    assert_int_equal(sc->nprobes, 70);
    struct fl_runner_opts o = {.outdir = f->outdir, .verbose = -1, .steady_timeout_ms = 1500};
    memset(res, 0, sizeof *res);
    assert_int_equal(fl_runner_run(sc, &o, res), 0);
    /* The result borrows the model: only its history is read from here. */
    res->sc = NULL;
    res->file = res->name = NULL;
    fl_scenario_free(sc);
}

static size_t phase_count(const struct fl_history *h, const char *phase)
{
    size_t n = 0;
    for (size_t i = 0; i < fl_history_len(h); i++) {
        const struct fl_op *op = fl_history_get(h, i);
        if (strcmp(op->f, FL_F_PHASE) == 0 && op->value && strcmp(op->value, phase) == 0)
            n++;
    }
    return n;
}

static void test_probe_past_64_blocks_steady_state(void **state)
{
    struct fixture *f = *state;
    struct fl_result res;
    run(f, NULL, &res);
    if (res.harness_status != FL_ENOTREADY)
        print_message("harness_status %d: %s\n", res.harness_status, res.harness_error);
    assert_int_equal(res.harness_status, FL_ENOTREADY);
    assert_non_null(strstr(res.harness_error, "probe 'p69'"));
    assert_int_equal(phase_count(res.history, "timeline"), 0);
    fl_result_free(&res);
}

static void test_all_70_ok_reaches_timeline(void **state)
{
    struct fixture *f = *state;
    struct fl_result res;
    run(f, "/ok", &res);
    if (res.harness_status)
        print_message("harness_status %d: %s\n", res.harness_status, res.harness_error);
    assert_int_equal(res.harness_status, 0);
    assert_int_equal(phase_count(res.history, "timeline"), 1);
    fl_result_free(&res);
}

int main(void)
{
    if (fl_test_chdir_source())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probe_past_64_blocks_steady_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_70_ok_reaches_timeline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
