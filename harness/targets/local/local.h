/* local.h - the `local` target (see local.c): faultline runs the services
 * itself. Reached through the registry (fl_target_find("local")); named
 * here for tests that drive it directly. */
#ifndef FL_TARGET_LOCAL_H
#define FL_TARGET_LOCAL_H

#include "core/target.h"

extern const struct fl_target_type fl_target_local;

#endif
