/* pick.c - choose the instances a fault acts on (injector.h). */
#include "core/injector.h"
#include "core/target.h"

static int running(const struct fl_instance *in)
{
    return fl_inst_running(in);
}

size_t fl_pick_indexes(struct fl_rng *rng, const struct fl_pick *pick, size_t m,
                       size_t *chosen, size_t max)
{
    size_t idx[256];
    if (m > 256)
        m = 256;
    for (size_t i = 0; i < m; i++)
        idx[i] = i;
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
    fl_rng_shuffle(rng, idx, m);
    if (want > max)
        want = max;
    /* Keep the chosen ones in ascending order: stable, readable reports. */
    for (size_t i = 0; i < want; i++)
        chosen[i] = idx[i];
    for (size_t i = 1; i < want; i++)
        for (size_t j = i; j > 0 && chosen[j - 1] > chosen[j]; j--) {
            size_t t = chosen[j];
            chosen[j] = chosen[j - 1];
            chosen[j - 1] = t;
        }
    return want;
}

size_t fl_pick_instances(struct fl_run *run, const char *service,
                         const struct fl_pick *pick,
                         int (*filter)(const struct fl_instance *),
                         struct fl_instance **out, size_t max)
{
    struct fl_instance *all[256], *cand[256];
    size_t n = fl_target_instances(run->target, service, all, 256);
    if (n > 256)
        n = 256;
    if (!filter)
        filter = running;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (filter(all[i]))
            cand[m++] = all[i];
    size_t chosen[256];
    size_t want = fl_pick_indexes(&run->rng, pick, m, chosen, max < 256 ? max : 256);
    for (size_t i = 0; i < want; i++)
        out[i] = cand[chosen[i]];
    return want;
}
