/* scenario.h - load a scenario file into a validated model.
 *
 * Every problem in a file is reported, not just the first: the loader keeps
 * going and collects diagnostics, each with file:line:col and the expected
 * form. A model is returned only when there are none.
 */
#ifndef FL_SCENARIO_H
#define FL_SCENARIO_H

#include <stddef.h>

#include "model.h"

struct fl_diag_item {
    char *file;
    int line, col;      /* 1-based; 0 when unknown */
    char *msg;          /* "unknown key 'replics' in service 'api'; expected one of: ..." */
};

struct fl_diag {
    struct fl_diag_item *items;
    size_t n, cap;
};

void fl_diag_free(struct fl_diag *d);
/* Append a diagnostic (copies strings). Returns 0 or FL_ENOMEM. */
int fl_diag_add(struct fl_diag *d, const char *file, int line, int col,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

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

void fl_scenario_free(struct fl_scenario *sc);

/* Effective value of a var, or NULL. */
const char *fl_scenario_var(const struct fl_scenario *sc, const char *name, size_t len);

const struct fl_service *fl_scenario_service(const struct fl_scenario *sc, const char *name, size_t len);
const struct fl_workload *fl_scenario_workload(const struct fl_scenario *sc, const char *name);
const struct fl_probe *fl_scenario_probe(const struct fl_scenario *sc, const char *name);

#endif
