/* test_fill.c - how much disk.full writes for each goal, and the fill file
 * itself (on whatever filesystem /tmp is: no ENOSPC needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fill.h"

static void test_amount(void **state)
{
    (void)state;
    struct fl_fs_usage u = {.total = 4000, .used = 1000, .avail = 2900, .free = 3000};
    assert_int_equal(fl_fill_amount(&u, 100, UINT64_MAX), 3000);   /* full */
    assert_int_equal(fl_fill_amount(&u, 50, UINT64_MAX), 1000);    /* to 2000 of 4000 */
    assert_int_equal(fl_fill_amount(&u, 25, UINT64_MAX), 0);       /* already above */
    assert_int_equal(fl_fill_amount(&u, 0, UINT64_MAX), 0);
    assert_int_equal(fl_fill_amount(&u, 100, 1000), 2000);          /* leave 1000 free */
    assert_int_equal(fl_fill_amount(&u, 100, 5000), 0);             /* more free than there is */
    assert_int_equal(fl_fill_amount(&u, 100, 0), 3000);
    struct fl_fs_usage big = {.total = UINT64_MAX / 2, .used = 0, .free = UINT64_MAX / 2};
    assert_true(fl_fill_amount(&big, 100, UINT64_MAX) == UINT64_MAX / 2);   /* no overflow */
    assert_true(fl_fill_amount(&big, 33, UINT64_MAX) < UINT64_MAX / 2);
}

static void test_fill_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-fill.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/fill", dir);
    uint64_t w;
    assert_int_equal(fl_fill_file(path, 65536, 0, 1 << 20, &w), 0);
    assert_int_equal(w, 65536);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 65536);
    assert_true((uint64_t)st.st_blocks * 512 >= 65536);   /* really allocated */
    /* Never over an existing file (it was journaled as ours). */
    assert_true(fl_fill_file(path, 10, 0, 1 << 20, &w) < 0);
    unlink(path);
    /* Capped by max_bytes. */
    assert_int_equal(fl_fill_file(path, 1 << 20, 0, 4096, &w), 0);
    assert_int_equal(w, 4096);
    unlink(path);
    struct fl_fs_usage u;
    assert_int_equal(fl_fs_usage(dir, &u), 0);
    assert_true(u.total > 0 && u.used <= u.total && u.avail <= u.free);
    assert_true(fl_fs_usage("/nonexistent/x", &u) < 0);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount),
        cmocka_unit_test(test_fill_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
