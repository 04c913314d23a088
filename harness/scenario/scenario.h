/* scenario.h - load a scenario file into a validated model.
 *
 * Every problem in a file is reported, not just the first: the loader keeps
 * going and collects diagnostics, each with file:line:col and the expected
 * form. A model is returned only when there are none.
 */
#ifndef FL_SCENARIO_H
#define FL_SCENARIO_H

#include <stddef.h>

#include "base/diag.h"
#include "core/model.h"

/* --var NAME=VALUE overrides, applied over the file's vars: defaults. A
 * --var naming a var the file does not declare is a diagnostic. */
struct fl_var_override {
    const char *name;
    const char *value;
};

/* Load and validate path. On success *out owns a model (free with
 * fl_scenario_free) and returns 0. On failure returns FL_ESCENARIO with
 * diagnostics in diag (caller frees with fl_diag_free), or FL_EIO when the
 * file cannot be read (also as a diagnostic). */
int fl_scenario_load(const char *path, const struct fl_var_override *ov,
                     size_t nov, struct fl_scenario **out, struct fl_diag *diag);

/* The command line's choice of target, over the file's `target:`
 * (faultline run --target compose --compose-project NAME). NULL fields
 * leave the file's choice. */
struct fl_target_override {
    const char *kind;
    const char *project;
};

/* fl_scenario_load with a target override (to may be NULL). The target is
 * chosen before the faults are checked against its operations. */
int fl_scenario_load_target(const char *path, const struct fl_var_override *ov, size_t nov,
                            const struct fl_target_override *to, struct fl_scenario **out,
                            struct fl_diag *diag);

void fl_scenario_free(struct fl_scenario *sc);

#endif
