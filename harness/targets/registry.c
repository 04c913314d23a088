/* registry.c - every target faultline knows; `target:` selects one. */
#include "core/target.h"

#include <string.h>

extern const struct fl_target_type fl_target_local;
extern const struct fl_target_type fl_target_compose;

const struct fl_target_type *const fl_targets[] = {
    &fl_target_local,
    &fl_target_compose,
    NULL,
};

const struct fl_target_type *fl_target_find(const char *name)
{
    for (size_t i = 0; fl_targets[i]; i++)
        if (strcmp(fl_targets[i]->name, name) == 0)
            return fl_targets[i];
    return NULL;
}
