#include "base/template.h"

#include <string.h>

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Find the reference at tpl[i] == '$'. Returns 1 and sets name/len/next for
 * a reference, 0 for "$$" or a lone "$" (next set), -1 when malformed. */
static int scan(const char *tpl, size_t i, const char **name, size_t *len, size_t *next)
{
    if (tpl[i + 1] == '$') {
        *next = i + 2;
        return 0;
    }
    if (tpl[i + 1] != '{') {
        *next = i + 1;
        return 0;
    }
    size_t j = i + 2;
    while (name_char(tpl[j]))
        j++;
    if (tpl[j] != '}' || j == i + 2)
        return -1;
    *name = tpl + i + 2;
    *len = j - (i + 2);
    *next = j + 1;
    return 1;
}

int fl_template_refs(const char *tpl, fl_ref_fn fn, void *ud, struct fl_error *err)
{
    for (size_t i = 0; tpl[i];) {
        if (tpl[i] != '$') {
            i++;
            continue;
        }
        const char *name;
        size_t len, next;
        int r = scan(tpl, i, &name, &len, &next);
        if (r < 0)
            return fl_error_set(err, FL_EINVAL,
                                "malformed reference at offset %zu: expected ${name} "
                                "with name made of letters, digits, '_', '.', '-'", i);
        if (r > 0) {
            int rc = fn(ud, name, len, i);
            if (rc)
                return rc;
        }
        i = next;
    }
    return 0;
}

int fl_template_expand(const char *tpl, fl_resolve_fn resolve, void *ud,
                       struct fl_buf *out, struct fl_error *err)
{
    size_t i = 0, lit = 0;
    while (tpl[i]) {
        if (tpl[i] != '$') {
            i++;
            continue;
        }
        if (fl_buf_add(out, tpl + lit, i - lit))
            return fl_error_set(err, FL_ENOMEM, "expanded string too long");
        const char *name;
        size_t len, next;
        int r = scan(tpl, i, &name, &len, &next);
        if (r < 0)
            return fl_error_set(err, FL_EINVAL, "malformed reference in \"%s\"", tpl);
        if (r == 0) {
            if (fl_buf_add(out, "$", 1))
                return fl_error_set(err, FL_ENOMEM, "expanded string too long");
        } else {
            int rc = resolve(ud, name, len, out, err);
            if (rc == FL_ENOTFOUND)
                return fl_error_set(err, FL_ENOTFOUND, "${%.*s} refers to nothing",
                                    (int)len, name);
            if (rc)
                return rc;
        }
        i = lit = next;
    }
    if (fl_buf_add(out, tpl + lit, i - lit))
        return fl_error_set(err, FL_ENOMEM, "expanded string too long");
    return 0;
}
