/* test_target.c - the target interface's shared pieces: operation names
 * for load-time messages, and the wrappers' answers after destroy or for
 * an operation the type lacks (an injector then gets an error, never a
 * call into freed or missing code). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/target.h"

static int kills;

static int fake_kill(struct fl_target *t, struct fl_instance *in, struct fl_error *err)
{
    (void)t;
    (void)in;
    (void)err;
    kills++;
    return 0;
}

static const struct fl_target_type only_kill = {
    .name = "only-kill", .ops = FL_TOP_KILL, .kill = fake_kill,
};

static void test_ops_names(void **state)
{
    (void)state;
    char buf[128];
    fl_target_ops_names(FL_TOP_FREEZE | FL_TOP_BLOCK, buf, sizeof buf);
    assert_string_equal(buf, "freeze, block");
    fl_target_ops_names(0, buf, sizeof buf);
    assert_string_equal(buf, "");
    fl_target_ops_names(FL_TOP_SIGNAL | FL_TOP_ENV, buf, 10);   /* bounded */
    assert_true(strlen(buf) < 10);
}

static void test_wrappers(void **state)
{
    (void)state;
    struct fl_target t = {.type = &only_kill};
    struct fl_instance in = {.id = "api.0"};
    struct fl_error err = {0};
    kills = 0;
    assert_int_equal(fl_target_kill(&t, &in, &err), 0);
    assert_int_equal(kills, 1);
    /* an operation the type does not have */
    assert_int_equal(fl_target_freeze(&t, &in, &err), FL_EINVAL);
    assert_non_null(strstr(err.msg, "only-kill"));
    assert_non_null(strstr(err.msg, "freeze"));
    /* after destroy: an abort error, the operation is not called */
    t.destroyed = 1;
    assert_int_equal(fl_target_kill(&t, &in, &err), FL_EABORT);
    assert_int_equal(kills, 1);
    struct fl_instance *out[4];
    assert_int_equal(fl_target_instances(&t, "api", out, 4), 0);
    assert_int_equal(fl_target_kill(NULL, &in, &err), FL_EABORT);
}

static void test_registry(void **state)
{
    (void)state;
    const struct fl_target_type *local = fl_target_find("local");
    assert_non_null(local);
    assert_null(fl_target_find("nosuch"));
    /* local implements every operation an injector may need */
    unsigned all = FL_TOP_SIGNAL | FL_TOP_KILL | FL_TOP_TERMINATE | FL_TOP_FREEZE |
                   FL_TOP_BLOCK | FL_TOP_START | FL_TOP_FS | FL_TOP_ENV;
    assert_int_equal(local->ops & all, all);
    assert_non_null(local->kill);
    assert_non_null(local->freeze);
    assert_non_null(local->free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_names),
        cmocka_unit_test(test_wrappers),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
