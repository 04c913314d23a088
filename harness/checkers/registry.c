/* registry.c - every checker faultline knows, in the order docs list them. */
#include "checkers/checker.h"

#include <string.h>

extern const struct fl_checker_type fl_checker_lifecycle;
extern const struct fl_checker_type fl_checker_transitions;
extern const struct fl_checker_type fl_checker_recovers;
extern const struct fl_checker_type fl_checker_always;
extern const struct fl_checker_type fl_checker_capacity;
extern const struct fl_checker_type fl_checker_no_loss;
extern const struct fl_checker_type fl_checker_agreement;
extern const struct fl_checker_type fl_checker_fresh_retry;
extern const struct fl_checker_type fl_checker_unique_effects;
extern const struct fl_checker_type fl_checker_rate_limit;
extern const struct fl_checker_type fl_checker_slo;
extern const struct fl_checker_type fl_checker_delivered;
extern const struct fl_checker_type fl_checker_progress;
extern const struct fl_checker_type fl_checker_honest_health;
extern const struct fl_checker_type fl_checker_bounded_usage;

const struct fl_checker_type *const fl_checkers[] = {
    &fl_checker_lifecycle,
    &fl_checker_transitions,
    &fl_checker_recovers,
    &fl_checker_always,
    &fl_checker_capacity,
    &fl_checker_no_loss,
    &fl_checker_agreement,
    &fl_checker_fresh_retry,
    &fl_checker_unique_effects,
    &fl_checker_rate_limit,
    &fl_checker_slo,
    &fl_checker_delivered,
    &fl_checker_progress,
    &fl_checker_honest_health,
    &fl_checker_bounded_usage,
    NULL,
};

const struct fl_checker_type *fl_checker_find(const char *name)
{
    for (size_t i = 0; fl_checkers[i]; i++)
        if (strcmp(fl_checkers[i]->name, name) == 0)
            return fl_checkers[i];
    return NULL;
}
