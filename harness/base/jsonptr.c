#include "base/jsonptr.h"

#include <stdlib.h>
#include <string.h>

/* Check the whole pointer before walking, so that a malformed pointer is
 * reported as such whatever the document holds. */
static int check_syntax(const char *ptr, struct fl_error *err)
{
    if (ptr[0] != '\0' && ptr[0] != '/')
        return fl_error_set(err, FL_EINVAL,
                            "JSON Pointer \"%s\" must be empty or start with \"/\"", ptr);
    for (size_t i = 0; ptr[i]; i++) {
        if (ptr[i] == '~' && ptr[i + 1] != '0' && ptr[i + 1] != '1')
            return fl_error_set(err, FL_EINVAL,
                                "JSON Pointer \"%s\": \"~\" at offset %zu must be followed "
                                "by 0 or 1 (write ~0 for \"~\", ~1 for \"/\")", ptr, i);
    }
    return 0;
}

/* Unescape the token starting at p (just after a "/") into tok; returns
 * the position of the next "/" or the terminating NUL. */
static const char *next_token(const char *p, char *tok, size_t *toklen)
{
    size_t n = 0;
    while (*p && *p != '/') {
        if (*p == '~') {
            tok[n++] = p[1] == '0' ? '~' : '/';
            p += 2;
        } else {
            tok[n++] = *p++;
        }
    }
    tok[n] = '\0';
    *toklen = n;
    return p;
}

/* RFC 6901 array-index: "0" or [1-9][0-9]*. Returns 0 and *idx, or
 * FL_ENOTFOUND for "-" and indexes past any possible array, or FL_EINVAL. */
static int parse_index(const char *tok, size_t len, size_t *idx)
{
    if (len == 1 && tok[0] == '-')
        return FL_ENOTFOUND;
    if (len == 0 || (len > 1 && tok[0] == '0'))
        return FL_EINVAL;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] < '0' || tok[i] > '9')
            return FL_EINVAL;
        if (v > ((size_t)-1 - 9) / 10)
            return FL_ENOTFOUND;   /* larger than any array can be */
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *idx = v;
    return 0;
}

static int step(json_t **cur, const char *ptr, const char *tok, size_t len,
                struct fl_error *err)
{
    if (json_is_object(*cur)) {
        json_t *v = json_object_get(*cur, tok);
        if (!v)
            return fl_error_set(err, FL_ENOTFOUND,
                                "JSON Pointer \"%s\": no member \"%s\"", ptr, tok);
        *cur = v;
        return 0;
    }
    if (json_is_array(*cur)) {
        size_t idx = 0;
        int rc = parse_index(tok, len, &idx);
        if (rc == FL_EINVAL)
            return fl_error_set(err, FL_EINVAL,
                                "JSON Pointer \"%s\": \"%s\" is not an array index "
                                "(digits, no leading zero)", ptr, tok);
        if (rc || idx >= json_array_size(*cur))
            return fl_error_set(err, FL_ENOTFOUND,
                                "JSON Pointer \"%s\": index \"%s\" is past the end "
                                "(%zu elements)", ptr, tok, json_array_size(*cur));
        *cur = json_array_get(*cur, idx);
        return 0;
    }
    return fl_error_set(err, FL_ENOTFOUND,
                        "JSON Pointer \"%s\": \"%s\" walks into a scalar", ptr, tok);
}

int fl_jsonptr_get(json_t *doc, const char *ptr, json_t **out, struct fl_error *err)
{
    if (!doc || !ptr || !out)
        return fl_error_set(err, FL_EINVAL, "JSON Pointer: missing argument");
    int rc = check_syntax(ptr, err);
    if (rc)
        return rc;
    char *tok = malloc(strlen(ptr) + 1);
    if (!tok)
        return fl_error_set(err, FL_ENOMEM, "JSON Pointer: out of memory");
    json_t *cur = doc;
    const char *p = ptr;
    while (*p == '/') {
        size_t len;
        p = next_token(p + 1, tok, &len);
        rc = step(&cur, ptr, tok, len, err);
        if (rc)
            break;
    }
    free(tok);
    if (rc)
        return rc;
    *out = cur;
    return 0;
}

int fl_jsonptr_render(const json_t *v, struct fl_buf *out)
{
    if (json_is_string(v))
        return fl_buf_add(out, json_string_value(v), json_string_length(v)) ? FL_ENOMEM : 0;
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return FL_ENOMEM;
    int rc = fl_buf_adds(out, s) ? FL_ENOMEM : 0;
    free(s);
    return rc;
}

int fl_jsonptr_lookup(const char *body, size_t len, const char *ptr,
                      struct fl_buf *out, struct fl_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", body ? len : 0,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        return fl_error_set(err, FL_EINVAL, "response is not JSON (line %d col %d: %s)",
                            jerr.line, jerr.column, jerr.text);
    json_t *v = NULL;
    int rc = fl_jsonptr_get(doc, ptr, &v, err);
    if (rc == 0 && fl_jsonptr_render(v, out))
        rc = fl_error_set(err, FL_ENOMEM, "JSON Pointer \"%s\": value too long", ptr);
    json_decref(doc);
    return rc;
}
