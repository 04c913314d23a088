/* test_scenario_clock.c - `clock:` on a service and the time.* faults in the
 * loader: the modes, and the errors with their positions. (Which service a
 * time fault may act on is checked at run time, tests/e2e/clock_control.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "scenario/scenario.h"
#include "core/injector.h"
#include "support/procs.h"

#include "diag_expect.h"

static void test_clock(void **state)
{
    (void)state;
    const char *path = DIR "clock.yaml";
    struct fl_diag d = {0};
    load_bad(path, NULL, 0, &d);
    EXPECT_DIAG(&d, path, 12, 12, "clock: expected one of: real, controlled, controlled-wall",
                "got 'sometimes'");
    EXPECT_DIAG(&d, path, 16, 50, "direction", "sideways");
    EXPECT_DIAG(&d, path, 18, 5, "time.skew needs 'for'");
    EXPECT_DIAG(&d, path, 21, 48, "period", "5ms");
    EXPECT_DIAG(&d, path, 23, 5, "time.jump is an instant fault and takes no 'for'");
    fl_diag_free(&d);
}

static void test_clock_modes(void **state)
{
    (void)state;
    struct fl_scenario *sc = load_ok(DIR "clock-ok.yaml", NULL, 0);
    assert_int_equal(sc->services[0].clock, FL_CLOCK_CONTROLLED);
    assert_int_equal(sc->services[0].clock_pos.line, 4);
    assert_int_equal(sc->services[1].clock, FL_CLOCK_CONTROLLED_WALL);
    assert_int_equal(sc->services[2].clock, FL_CLOCK_REAL);
    assert_string_equal(sc->faults[0].type->name, "time.jump");
    assert_int_equal(sc->faults[0].args.v[2].ms, 660000);
    fl_scenario_free(sc);
}

int main(void)
{
    if (fl_test_chdir_source())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_clock_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
