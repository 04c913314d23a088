/* params_parse.h - turn the raw YAML mapping of a fault or an invariant
 * into a struct fl_args, driven by the type's parameter table (params.h).
 *
 * Used by the scenario loader; kept apart from params.h so that injectors
 * and checkers, which only read struct fl_args, do not see the loader's
 * diagnostics type.
 */
#ifndef FL_PARAMS_PARSE_H
#define FL_PARAMS_PARSE_H

#include <stddef.h>

#include "base/params.h"
#include "base/diag.h"

/* The scenario's names, for FL_PT_SERVICE / FL_PT_WORKLOAD / FL_PT_PROBE
 * values. A NULL array means "not known": any name is then accepted. */
struct fl_params_names {
    const char *const *services;
    size_t nservices;
    const char *const *workloads;
    size_t nworkloads;
    const char *const *probes;
    size_t nprobes;
};

/* Parse raw[0..nraw) against params[0..n) into out (fully overwritten:
 * out->v[k] belongs to params[k]). `what` names the owner in messages
 * ("process.kill", "invariant lifecycle"); `where` is the position used for
 * a missing required parameter (the owner's key). names may be NULL.
 *
 * Every problem becomes a diagnostic in diag (file from the positions):
 * unknown keys (with "expected one of: ..." and a did-you-mean), duplicate
 * keys, missing required parameters, values of the wrong type (with the
 * expected form from fl_ptype_expect), values outside the parameter's
 * bounds (lo, hi, or the type's default), enum values that are none of the
 * choices (with a did-you-mean) and names that match nothing. When the
 * loader substituted vars into a value (raw->written), messages show both
 * forms: "signal: '${sig}' = 'STOPP': expected ...".
 * Defaults from the table are applied to the parameters not given.
 *
 * Ownership: out points into raw's strings and into the table's static
 * default strings; both must outlive out (the loader keeps raw strings in
 * the model's arena). A STRINGS default is a single value.
 *
 * Returns 0 when raw is valid, FL_ESCENARIO when diagnostics were added,
 * FL_EINVAL when n > FL_MAX_PARAMS, FL_ENOMEM when a diagnostic could not
 * be stored. */
int fl_params_parse(const struct fl_param *params, size_t n,
                    const struct fl_rawparam *raw, size_t nraw,
                    const char *what, struct fl_pos where,
                    const struct fl_params_names *names,
                    struct fl_args *out, struct fl_diag *diag);

/* Parse one scalar as type t into v (v->s points at s). Names of
 * services/workloads/probes are not checked here, nor are bounds; an
 * FL_PT_ENUM needs its table (fl_param_parse_value). Returns 0 or
 * FL_EINVAL. */
int fl_param_value(enum fl_ptype t, const char *s, struct fl_pval *v);

/* Parse one scalar as p's value into v: its type's form, p's choices
 * (FL_PT_ENUM, index in v->e) and p's bounds (params.h: lo, hi).
 * Returns 0 or FL_EINVAL. */
int fl_param_parse_value(const struct fl_param *p, const char *s, struct fl_pval *v);

/* Levenshtein distance between a and b, capped at 255 for long strings. */
size_t fl_edit_distance(const char *a, const char *b);

/* The candidate closest to s when it is close enough to be a plausible typo
 * (distance 1 for names of up to 5 characters, 2 up to 8, else 3), or NULL.
 * Ties go to the earlier candidate. Points into cands. */
const char *fl_suggest(const char *s, const char *const *cands, size_t n);

/* Append "a, b, c" (the candidates joined by ", ") to a bounded buffer;
 * returns 0 or FL_ENOMEM. */
struct fl_buf;
int fl_join_names(struct fl_buf *b, const char *const *cands, size_t n);

#endif
