/* jsonptr.h - JSON Pointer (RFC 6901) over jansson.
 *
 * "" names the whole document; "/a/0" walks member "a" then element 0;
 * in a reference token "~1" stands for "/" and "~0" for "~". Array indexes
 * are "0" or a digit string without a leading zero; "-" (the element after
 * the last) never names a value, so it is reported as not found.
 */
#ifndef FL_JSONPTR_H
#define FL_JSONPTR_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "base/util.h"

/* Find the value ptr names in doc. On success *out is a borrowed reference
 * into doc (valid while doc lives) and 0 is returned. FL_EINVAL: ptr is
 * malformed (no leading "/", a "~" not followed by 0 or 1, an array index
 * such as "01" or "x"); FL_ENOTFOUND: a member or element does not exist,
 * or a token walks into a scalar. err says which token. */
int fl_jsonptr_get(json_t *doc, const char *ptr, json_t **out, struct fl_error *err);

/* Append v rendered the way the history records values: a string as its
 * raw characters (no quotes), anything else (number, true, false, null,
 * object, array) as compact JSON text. Returns 0 or FL_ENOMEM when out's
 * ceiling is reached. */
int fl_jsonptr_render(const json_t *v, struct fl_buf *out);

/* Parse body[0..len) as JSON, resolve ptr, render the value into out.
 * Returns 0, FL_EINVAL (body is not JSON or ptr malformed), FL_ENOTFOUND
 * or FL_ENOMEM, with err set. */
int fl_jsonptr_lookup(const char *body, size_t len, const char *ptr,
                      struct fl_buf *out, struct fl_error *err);

#endif
