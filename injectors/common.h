/* common.h - shared by the process injectors: pick instances and describe
 * what was done to them. */
#ifndef FL_INJECTORS_COMMON_H
#define FL_INJECTORS_COMMON_H

#include "core/injector.h"
#include "core/target.h"

#define FL_MAX_PICK 256

/* Pick instances of the service named by args->v[svc_idx] with the pick in
 * args->v[pick_idx]. Returns the count (0 sets err: nothing to act on). */
size_t fl_inj_pick(struct fl_fault_run *fr, int svc_idx, int pick_idx,
                   int (*filter)(const struct fl_instance *),
                   struct fl_instance **out, struct fl_error *err);

/* Append printf-style text to fr->desc (bounded: the rest is cut). */
void fl_inj_descf(struct fl_fault_run *fr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append "api.1" style ids to fr->key, comma-separated (bounded). */
void fl_inj_add_key(struct fl_fault_run *fr, const struct fl_instance *in);

#endif
