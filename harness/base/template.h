/* template.h - "${name}" references in scenario strings.
 *
 * A reference is "${" NAME "}" where NAME is [A-Za-z0-9_.-]+; "$$" is a
 * literal "$". What a name means is up to the resolver: vars, "port",
 * "svc", "svc.port", "svc.N", "svc.N.port", captures such as "job".
 */
#ifndef FL_TEMPLATE_H
#define FL_TEMPLATE_H

#include <stddef.h>

#include "base/error.h"
#include "base/util.h"

/* Append the value of name[0..len) to out. Return 0, FL_ENOTFOUND when the
 * name means nothing here, or another FL_E* code (message in err). */
typedef int (*fl_resolve_fn)(void *ud, const char *name, size_t len,
                             struct fl_buf *out, struct fl_error *err);

/* Expand tpl into out (appending). On FL_ENOTFOUND err names the reference.
 * out may hold a partial result on failure. */
int fl_template_expand(const char *tpl, fl_resolve_fn resolve, void *ud,
                       struct fl_buf *out, struct fl_error *err);

/* Walk the references of tpl without expanding: fn(ud, name, len, offset)
 * for each, where offset is the byte offset of "${" in tpl. Returns
 * FL_EINVAL (with err set, naming the offset) on an unterminated or empty
 * reference, else the first non-zero return of fn, else 0. */
typedef int (*fl_ref_fn)(void *ud, const char *name, size_t len, size_t offset);
int fl_template_refs(const char *tpl, fl_ref_fn fn, void *ud, struct fl_error *err);

#endif
