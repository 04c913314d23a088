/* Picks (one | all | N | P%) are drawn from the run's seeded generator: the
 * same seed picks the same instances, and only running ones are picked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/injector.h"
#include "core/target.h"

#define N 10
static struct fl_instance insts[N];

static size_t fake_instances(struct fl_target *t, const char *service,
                             struct fl_instance **out, size_t max)
{
    (void)t;
    if (strcmp(service, "api") != 0)
        return 0;
    for (size_t i = 0; i < N && i < max; i++)
        out[i] = &insts[i];
    return N;
}

static const struct fl_target_type fake = {.name = "fake", .instances = fake_instances};

static void setup_run(struct fl_run *run, struct fl_target *t, uint64_t seed)
{
    memset(run, 0, sizeof *run);
    memset(t, 0, sizeof *t);
    t->type = &fake;
    t->run = run;
    run->target = t;
    fl_rng_seed(&run->rng, seed);
    for (int i = 0; i < N; i++) {
        insts[i].replica = i;
        insts[i].pid = 1000 + i;
        insts[i].state = FL_INST_READY;
        snprintf(insts[i].id, sizeof insts[i].id, "api.%d", i);
    }
}

static size_t pick(uint64_t seed, struct fl_pick p, struct fl_instance **out)
{
    struct fl_run run;
    struct fl_target t;
    setup_run(&run, &t, seed);
    return fl_pick_instances(&run, "api", &p, NULL, out, N);
}

static void test_counts(void **state)
{
    (void)state;
    struct fl_instance *out[N];
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_ONE, 0}, out), 1);
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_ALL, 0}, out), N);
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_COUNT, 3}, out), 3);
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_COUNT, 30}, out), N);
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_PERCENT, 50}, out), 5);
    /* Percentages round up: 25% of 10 is 3, 1% is still one instance. */
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_PERCENT, 25}, out), 3);
    assert_int_equal(pick(1, (struct fl_pick){FL_PICK_PERCENT, 1}, out), 1);
}

static void test_same_seed_same_pick(void **state)
{
    (void)state;
    struct fl_instance *a[N], *b[N];
    for (uint64_t seed = 0; seed < 50; seed++) {
        size_t na = pick(seed, (struct fl_pick){FL_PICK_COUNT, 3}, a);
        size_t nb = pick(seed, (struct fl_pick){FL_PICK_COUNT, 3}, b);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++)
            assert_ptr_equal(a[i], b[i]);
        /* kept in replica order */
        for (size_t i = 1; i < na; i++)
            assert_true(a[i - 1]->replica < a[i]->replica);
    }
}

static void test_seeds_spread(void **state)
{
    (void)state;
    int hit[N] = {0};
    struct fl_instance *out[N];
    for (uint64_t seed = 0; seed < 200; seed++) {
        pick(seed, (struct fl_pick){FL_PICK_ONE, 0}, out);
        hit[out[0]->replica]++;
    }
    for (int i = 0; i < N; i++)
        assert_true(hit[i] > 0);
}

static void test_only_running(void **state)
{
    (void)state;
    struct fl_run run;
    struct fl_target t;
    setup_run(&run, &t, 3);
    for (int i = 0; i < N; i++)
        if (i != 4)
            insts[i].pid = 0, insts[i].state = FL_INST_STOPPED;
    struct fl_instance *out[N];
    struct fl_pick p = {FL_PICK_ALL, 0};
    assert_int_equal(fl_pick_instances(&run, "api", &p, NULL, out, N), 1);
    assert_int_equal(out[0]->replica, 4);
    insts[4].pid = 0, insts[4].state = FL_INST_STOPPED;
    assert_int_equal(fl_pick_instances(&run, "api", &p, NULL, out, N), 0);
    assert_int_equal(fl_pick_instances(&run, "nosuch", &p, NULL, out, N), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_same_seed_same_pick),
        cmocka_unit_test(test_seeds_spread),
        cmocka_unit_test(test_only_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
