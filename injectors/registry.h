/* registry.h - every fault type faultline knows. */
#ifndef FL_INJECTORS_REGISTRY_H
#define FL_INJECTORS_REGISTRY_H

#include "core/injector.h"

extern const struct fl_injector_type *const fl_injectors[];   /* NULL-terminated */
const struct fl_injector_type *fl_injector_find(const char *name);

#endif
