/* pick.c - choose the instances a fault acts on (injector.h). */
#include "core/injector.h"
#include "core/target.h"

static int running(const struct fl_instance *in)
{
    return fl_inst_running(in);
}

size_t fl_pick_instances(struct fl_run *run, const char *service,
                         const struct fl_pick *pick,
                         int (*filter)(const struct fl_instance *),
                         struct fl_instance **out, size_t max)
{
    struct fl_instance *all[256];
    size_t idx[256];
    size_t n = fl_target_instances(run->target, service, all, 256);
    if (n > 256)
        n = 256;
    if (!filter)
        filter = running;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (filter(all[i]))
            idx[m++] = i;
    size_t want;
    switch (pick->kind) {
    case FL_PICK_ONE: want = 1; break;
    case FL_PICK_ALL: want = m; break;
    case FL_PICK_COUNT: want = (size_t)pick->n; break;
    case FL_PICK_PERCENT: want = (m * (size_t)pick->n + 99) / 100; break;
    default: want = 1; break;
    }
    if (want > m)
        want = m;
    /* Shuffle even for `all` so the generator's state advances the same way
     * whatever the pick: a replay with the same seed makes the same picks. */
    fl_rng_shuffle(&run->rng, idx, m);
    if (want > max)
        want = max;
    /* Keep the chosen ones in replica order: stable, readable reports. */
    size_t chosen[256];
    for (size_t i = 0; i < want; i++)
        chosen[i] = idx[i];
    for (size_t i = 1; i < want; i++)
        for (size_t j = i; j > 0 && chosen[j - 1] > chosen[j]; j--) {
            size_t t = chosen[j];
            chosen[j] = chosen[j - 1];
            chosen[j - 1] = t;
        }
    for (size_t i = 0; i < want; i++)
        out[i] = all[chosen[i]];
    return want;
}
