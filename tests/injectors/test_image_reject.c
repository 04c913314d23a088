/* test_image_reject.c - image.reject's heal on a target whose unblock
 * fails for one instance: every other instance is still admitted again,
 * the first error is reported, and the injector's state is released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/params.h"
#include "core/injector.h"
#include "core/model.h"
#include "core/run_context.h"
#include "core/target.h"

extern const struct fl_injector_type fl_injector_image_reject;

static struct fl_instance insts[3];
static int unblock_calls;

static size_t instances(struct fl_target *t, const char *service, struct fl_instance **out,
                        size_t max)
{
    (void)t;
    size_t n = 0;
    for (size_t i = 0; i < 3 && n < max; i++)
        if (strcmp(service, insts[i].service) == 0)
            out[n++] = &insts[i];
    return n;
}

static int block(struct fl_target *t, struct fl_instance *in, const char *reason,
                 struct fl_error *err)
{
    (void)t;
    (void)reason;
    (void)err;
    in->restart_blocked = 1;
    return 0;
}

/* api.0 cannot be unblocked (its first in the fault's list) */
static int unblock(struct fl_target *t, struct fl_instance *in, struct fl_error *err)
{
    (void)t;
    unblock_calls++;
    if (in->replica == 0)
        return fl_error_set(err, FL_EIO, "%s: refused by the test", in->id);
    in->restart_blocked = 0;
    return 0;
}

static const struct fl_target_type fake_type = {
    .name = "fake", .ops = FL_TOP_BLOCK, .instances = instances, .block_restarts = block,
    .unblock_restarts = unblock};

static void test_revert_unblocks_all(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        insts[i] = (struct fl_instance){.service = "api", .replica = i, .state = FL_INST_READY};
        snprintf(insts[i].id, sizeof insts[i].id, "api.%d", i);
    }
    struct fl_target target = {.type = &fake_type};
    struct fl_run run = {.target = &target};
    struct fl_fault fault = {.type = &fl_injector_image_reject};
    fl_args_init(&fault.args, fl_injector_image_reject.params, fl_injector_image_reject.nparams);
    fl_args_set(&fault.args, "service")->s = "api";
    fl_args_set(&fault.args, "pick")->pick = (struct fl_pick){FL_PICK_ALL, 0};
    fl_args_set(&fault.args, "reason")->s = "test";
    struct fl_fault_run fr = {.fault = &fault, .run = &run};
    struct fl_error err = {0};
    assert_int_equal(fl_injector_image_reject.inject(&fr, &err), 0);
    for (int i = 0; i < 3; i++)
        assert_true(insts[i].restart_blocked);

    assert_int_equal(fl_injector_image_reject.revert(&fr, &err), FL_EIO);
    assert_non_null(strstr(err.msg, "api.0: refused by the test"));
    assert_int_equal(unblock_calls, 3);
    assert_false(insts[1].restart_blocked);
    assert_false(insts[2].restart_blocked);
    assert_null(fr.state);          /* released (the runner frees what is left) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revert_unblocks_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
