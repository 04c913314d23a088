/* The compose target's pure parts: the Docker API version negotiation, the
 * engine's socket from DOCKER_HOST, and how a scenario (or the command
 * line) chooses the compose target and its project. The target against a
 * real engine is tested end to end (tests/e2e/compose_*.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/injector.h"
#include "core/target.h"
#include "scenario/scenario.h"
#include "targets/compose/docker.h"

static void test_version_cmp(void **state)
{
    (void)state;
    assert_true(fl_docker_version_cmp("1.9", "1.10") < 0);   /* not strcmp */
    assert_true(fl_docker_version_cmp("1.41", "1.41") == 0);
    assert_true(fl_docker_version_cmp("2.0", "1.99") > 0);
    assert_true(fl_docker_version_cmp("x", "1.0") < 0);
    assert_true(fl_docker_version_cmp("1.0", "1.") > 0);
}

static void test_pick_version(void **state)
{
    (void)state;
    char v[16];
    struct fl_error e = {0};
    /* Debian 12's engine: its own version. */
    assert_int_equal(fl_docker_pick_version("1.41", "1.12", v, sizeof v, &e), 0);
    assert_string_equal(v, "1.41");
    /* An old engine that does not say its minimum. */
    assert_int_equal(fl_docker_pick_version("1.30", NULL, v, sizeof v, &e), 0);
    assert_string_equal(v, "1.30");
    /* A newer engine that still accepts our newest. */
    assert_int_equal(fl_docker_pick_version("1.51", "1.44", v, sizeof v, &e), 0);
    assert_string_equal(v, FL_DOCKER_API_NEWEST);
    /* A newer engine that refuses everything we know. */
    memset(&e, 0, sizeof e);
    assert_int_equal(fl_docker_pick_version("1.60", "1.50", v, sizeof v, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "1.50..1.60"));
    /* Too old for us. */
    memset(&e, 0, sizeof e);
    assert_int_equal(fl_docker_pick_version("1.24", "1.12", v, sizeof v, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, FL_DOCKER_API_OLDEST));
    /* Garbage. */
    assert_int_equal(fl_docker_pick_version("", NULL, v, sizeof v, &e), FL_EINVAL);
    assert_int_equal(fl_docker_pick_version(NULL, NULL, v, sizeof v, &e), FL_EINVAL);
    assert_int_equal(fl_docker_pick_version("1.41x", NULL, v, sizeof v, &e), FL_EINVAL);
}

static void test_socket(void **state)
{
    (void)state;
    char buf[256];
    struct fl_error e = {0};
    unsetenv("DOCKER_HOST");
    assert_int_equal(fl_docker_socket(buf, sizeof buf, &e), 0);
    assert_string_equal(buf, FL_DOCKER_DEFAULT_SOCKET);
    setenv("DOCKER_HOST", "unix:///tmp/x/docker.sock", 1);
    assert_int_equal(fl_docker_socket(buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "/tmp/x/docker.sock");
    setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
    assert_int_equal(fl_docker_socket(buf, sizeof buf, &e), FL_EINVAL);
    assert_non_null(strstr(e.msg, "unix socket"));
    setenv("DOCKER_HOST", "unix://", 1);
    assert_int_equal(fl_docker_socket(buf, sizeof buf, &e), FL_EINVAL);
    unsetenv("DOCKER_HOST");
}

static struct fl_scenario *load(const char *path, const struct fl_target_override *to,
                                struct fl_diag *d)
{
    struct fl_scenario *sc = NULL;
    int rc = fl_scenario_load_target(path, NULL, 0, to, &sc, d);
    for (size_t i = 0; rc && i < d->n; i++)
        print_error("%s:%d:%d: %s\n", d->items[i].file, d->items[i].line, d->items[i].col,
                    d->items[i].msg);
    return rc ? NULL : sc;
}

static int has_diag(const struct fl_diag *d, int line, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if ((line < 0 || d->items[i].line == line) && strstr(d->items[i].msg, needle))
            return 1;
    return 0;
}

static void test_target_mapping(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    struct fl_scenario *sc = load("tests/data/compose/target-map.yaml", NULL, &d);
    assert_non_null(sc);
    assert_string_equal(sc->target->name, "compose");
    assert_string_equal(sc->target_project, "shop");   /* ${project} substituted */
    fl_scenario_free(sc);
    fl_diag_free(&d);

    /* --target local over the file's compose: no project left. */
    struct fl_target_override local = {.kind = "local"};
    sc = load("tests/data/compose/target-map.yaml", &local, &d);
    assert_non_null(sc);
    assert_string_equal(sc->target->name, "local");
    assert_null(sc->target_project);
    fl_scenario_free(sc);
    fl_diag_free(&d);
}

static void test_override(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    /* The shipped scenario, only the target changed. */
    struct fl_target_override both = {.kind = "compose", .project = "demo-1"};
    struct fl_scenario *sc = load("scenarios/killed-pod-mid-job.yaml", &both, &d);
    assert_non_null(sc);
    assert_string_equal(sc->target->name, "compose");
    assert_string_equal(sc->target_project, "demo-1");
    assert_true((sc->faults[0].type->needs & ~sc->target->ops) == 0);
    fl_scenario_free(sc);
    fl_diag_free(&d);

    /* --compose-project alone implies the compose target. */
    struct fl_target_override project = {.project = "demo_2"};
    sc = load("scenarios/killed-pod-mid-job.yaml", &project, &d);
    assert_non_null(sc);
    assert_string_equal(sc->target->name, "compose");
    fl_scenario_free(sc);
    fl_diag_free(&d);

    /* --target compose without a project. */
    struct fl_target_override kind = {.kind = "compose"};
    assert_null(load("scenarios/killed-pod-mid-job.yaml", &kind, &d));
    assert_true(has_diag(&d, 0, "needs a project"));
    fl_diag_free(&d);

    /* A project for the local target, and a bad project name. */
    struct fl_target_override odd = {.kind = "local", .project = "x"};
    assert_null(load("scenarios/killed-pod-mid-job.yaml", &odd, &d));
    assert_true(has_diag(&d, 0, "only the compose target has a project"));
    fl_diag_free(&d);
    struct fl_target_override bad = {.project = "Shop"};   /* uppercase: compose would rename it */
    assert_null(load("scenarios/killed-pod-mid-job.yaml", &bad, &d));
    assert_true(has_diag(&d, 0, "not a compose project name"));
    fl_diag_free(&d);
    struct fl_target_override unknown = {.kind = "kubernetes"};
    assert_null(load("scenarios/killed-pod-mid-job.yaml", &unknown, &d));
    assert_true(has_diag(&d, 0, "unknown target 'kubernetes'"));
    fl_diag_free(&d);
}

static void test_target_errors(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    assert_null(load("tests/data/compose/target-bad.yaml", NULL, &d));
    assert_true(has_diag(&d, 2, "'Shop Front' is not a compose project name"));
    assert_true(has_diag(&d, 2, "did you mean 'project'"));
    fl_diag_free(&d);
    assert_null(load("tests/data/compose/target-noproject.yaml", NULL, &d));
    assert_true(has_diag(&d, 2, "target compose needs a project"));
    fl_diag_free(&d);
    assert_null(load("tests/data/compose/target-unknown.yaml", NULL, &d));
    assert_true(has_diag(&d, 2, "target: expected one of: local, compose; got 'kubernetes'"));
    fl_diag_free(&d);
}

/* ${api.N.container}, .id, .image, .host are the compose target's names:
 * accepted there, unknown references on the local target. */
static void test_compose_names(void **state)
{
    (void)state;
    struct fl_diag d = {0};
    struct fl_scenario *sc = load("tests/data/compose/target-names.yaml", NULL, &d);
    assert_non_null(sc);
    fl_scenario_free(sc);
    fl_diag_free(&d);
    struct fl_target_override local = {.kind = "local"};
    assert_null(load("tests/data/compose/target-names.yaml", &local, &d));
    assert_true(has_diag(&d, 6, "api.1.container"));
    fl_diag_free(&d);
}

/* A pid whose cgroup does not name the container is not signalled from
 * the host (faultline in another pid namespace than the engine). */
static void test_pid_is(void **state)
{
    (void)state;
    const char *id = "2378b2b4be959f008422ab274d1bde254c7d56961be8d6c275fd4f36bd5faa77";
    assert_false(fl_docker_pid_is((int)getpid(), id));
    assert_false(fl_docker_pid_is(0, id));
    assert_false(fl_docker_pid_is(-1, id));
    assert_false(fl_docker_pid_is((int)getpid(), ""));    /* "" is in every file */
    assert_false(fl_docker_pid_is((int)getpid(), "0"));
}

static void test_registry(void **state)
{
    (void)state;
    const struct fl_target_type *t = fl_target_find("compose");
    assert_non_null(t);
    /* What the injectors of the other fault families will need. */
    unsigned want = FL_TOP_KILL | FL_TOP_SIGNAL | FL_TOP_TERMINATE | FL_TOP_FREEZE |
                    FL_TOP_BLOCK | FL_TOP_START | FL_TOP_FS;
    assert_int_equal(t->ops & want, want);
    /* A container's environment is the compose file's. */
    assert_int_equal(t->ops & FL_TOP_ENV, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_cmp),  cmocka_unit_test(test_pick_version),
        cmocka_unit_test(test_socket),       cmocka_unit_test(test_target_mapping),
        cmocka_unit_test(test_override),     cmocka_unit_test(test_target_errors),
        cmocka_unit_test(test_compose_names), cmocka_unit_test(test_pid_is),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
