/* The redis: shorthand expands into a primary + replicas service and a
 * sentinel service, before the scenario's own services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "scenario/scenario.h"
#include "core/injector.h"

static void test_expansion(void **state)
{
    (void)state;
    struct fl_scenario *sc = NULL;
    struct fl_diag d = {0};
    int rc = fl_scenario_load("tests/data/redis/shorthand.yaml", NULL, 0, &sc, &d);
    for (size_t i = 0; i < d.n; i++)
        print_error("%s:%d:%d: %s\n", d.items[i].file, d.items[i].line, d.items[i].col,
                    d.items[i].msg);
    assert_int_equal(rc, 0);
    assert_int_equal(sc->nservices, 3);
    const struct fl_service *data = &sc->services[0], *sent = &sc->services[1];
    assert_string_equal(data->name, "cache");
    assert_int_equal(data->replicas, 3);
    assert_int_equal(data->restart, FL_RESTART_NEVER);
    assert_int_equal(data->ready.kind, FL_READY_EXEC);
    assert_non_null(strstr(data->ready.argv[2], "master_link_status:up"));
    assert_string_equal(data->command[0], "sh");
    assert_non_null(strstr(data->command[2], "--replicaof 127.0.0.1 ${cache.0.port}"));
    assert_non_null(strstr(data->command[2], "'--maxmemory' '64mb'"));
    assert_string_equal(sent->name, "cache-sentinel");
    assert_int_equal(sent->replicas, 3);
    assert_non_null(strstr(sent->command[2], "sentinel monitor m1 127.0.0.1 ${cache.0.port} 2"));
    assert_non_null(strstr(sent->command[2], "down-after-milliseconds m1 500"));
    assert_non_null(strstr(sent->command[2], "failover-timeout m1 2000"));
    assert_non_null(strstr(sent->command[2], "--sentinel"));
    assert_string_equal(sc->services[2].name, "app");
    fl_scenario_free(sc);
    fl_diag_free(&d);
}

static void test_errors(void **state)
{
    (void)state;
    struct fl_scenario *sc = NULL;
    struct fl_diag d = {0};
    assert_int_equal(fl_scenario_load("tests/data/redis/shorthand-bad.yaml", NULL, 0, &sc, &d),
                     FL_ESCENARIO);
    int replicas = 0, unknown = 0, dup = 0;
    for (size_t i = 0; i < d.n; i++) {
        const struct fl_diag_item *it = &d.items[i];
        if (it->line == 2 && strstr(it->msg, "replicas"))
            replicas = 1;
        if (it->line == 2 && strstr(it->msg, "sentinals") && strstr(it->msg, "sentinels"))
            unknown = 1;
        if (strstr(it->msg, "already declared"))
            dup = 1;
    }
    assert_true(replicas);
    assert_true(unknown);
    assert_true(dup);
    fl_diag_free(&d);
}

static const struct fl_scenario *load(const char *path, struct fl_diag *d)
{
    struct fl_scenario *sc = NULL;
    int rc = fl_scenario_load(path, NULL, 0, &sc, d);
    for (size_t i = 0; i < d->n; i++)
        print_error("%s:%d:%d: %s\n", d->items[i].file, d->items[i].line, d->items[i].col,
                    d->items[i].msg);
    assert_int_equal(rc, 0);
    return sc;
}

/* The value of a fault's parameter as the injector will see it: NULL when
 * it is neither in the file nor defaulted. */
static const char *arg(const struct fl_fault *f, const char *name)
{
    int k = fl_param_index(f->args.params, f->args.n, name);
    assert_true(k >= 0);
    return f->args.v[k].set ? f->args.v[k].s : NULL;
}

static void assert_arg(const struct fl_fault *f, const char *name, const char *want)
{
    const char *got = arg(f, name);
    if (want ? !got || strcmp(got, want) != 0 : got != NULL)
        fail_msg("fault at %d:%d: %s is '%s', expected '%s'", f->pos.line, f->pos.col, name,
                 got ? got : "(unset)", want ? want : "(unset)");
}

/* redis.* faults on the shorthand's services default to its master and
 * sentinel service; what a fault names itself wins, and faults on other
 * services keep the injector's own defaults. */
static void test_fault_defaults(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    const struct fl_scenario *sc = load("tests/data/redis/shorthand-faults.yaml", &d);
    assert_int_equal(sc->nfaults, 6);
    const struct fl_fault *f = sc->faults;
    for (int i = 0; i < 5; i++)
        assert_string_equal(f[i].type->name, "redis.failover");
    assert_arg(&f[0], "master", "orders");
    assert_arg(&f[0], "sentinels", "cache-sentinel");
    assert_arg(&f[1], "master", "explicit");
    assert_arg(&f[1], "sentinels", "cache-sentinel");
    assert_arg(&f[2], "master", NULL);            /* other sentinels: not ours */
    assert_arg(&f[2], "sentinels", "watchers");
    assert_arg(&f[3], "master", NULL);            /* another service */
    assert_arg(&f[3], "sentinels", NULL);
    assert_arg(&f[4], "master", "orders");        /* the shorthand's sentinels */
    assert_arg(&f[4], "sentinels", "cache-sentinel");
    assert_string_equal(f[5].type->name, "redis.kill");
    assert_int_equal(fl_param_index(f[5].args.params, f[5].args.n, "master"), -1);
    assert_arg(&f[5], "service", "cache");
    fl_scenario_free((struct fl_scenario *)sc);
    fl_diag_free(&d);

    sc = load("tests/data/redis/shorthand-nomaster.yaml", &d);
    assert_int_equal(sc->nfaults, 1);
    assert_arg(&sc->faults[0], "master", "mymaster");
    assert_arg(&sc->faults[0], "sentinels", "redis-sentinel");
    fl_scenario_free((struct fl_scenario *)sc);
    fl_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fault_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
