/* history_jsonl.c - read a recorded history back from JSON lines.
 *
 * The file is untrusted input (`faultline check` is pointed at whatever a
 * CI job left behind, cut short or edited by hand): every line is bounded,
 * a NUL byte or a malformed field is an error at path:line:col, numbers are
 * range-checked before any checker does arithmetic with them, and the
 * history stops growing at its op limit. What the file says about its own
 * completeness (the op indexes) is kept in the history's origin record for
 * fl_history_integrity.
 */
#include "history/history.h"
#include "base/error.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define LOAD_MAX_LINE ((size_t)4 * 1024 * 1024)
#define READ_CHUNK ((size_t)64 * 1024)

/* ---- lines ---------------------------------------------------------------- */

struct reader {
    FILE *fp;
    size_t pos, len;
    int eof;
    char buf[READ_CHUNK];
};

/* Read the next line (without its newline) into b; *nl: it ended with a
 * newline. Returns 1 when a line was read, 0 at end of file, FL_ENOMEM
 * (the line is longer than b's ceiling) or FL_EIO. */
static int next_line(struct reader *r, struct fl_buf *b, int *nl)
{
    fl_buf_reset(b);
    *nl = 0;
    int any = 0;
    /* bounded: every pass consumes buffered bytes or reaches end of file */
    for (;;) {
        if (r->pos == r->len) {
            if (r->eof)
                return any;
            r->len = fread(r->buf, 1, sizeof r->buf, r->fp);
            r->pos = 0;
            if (r->len == 0) {
                if (ferror(r->fp))
                    return FL_EIO;
                r->eof = 1;
                return any;
            }
        }
        const char *p = r->buf + r->pos;
        size_t n = r->len - r->pos;
        const char *e = memchr(p, '\n', n);
        size_t take = e ? (size_t)(e - p) : n;
        any = 1;
        if (fl_buf_add(b, p, take))
            return FL_ENOMEM;
        r->pos += take + (e != NULL);
        if (e) {
            *nl = 1;
            return 1;
        }
    }
}

/* 1-based column, in characters, of byte offset off of s. */
static int char_col(const char *s, size_t off)
{
    size_t col = 1;
    for (size_t i = 0; i < off; i++)
        col += ((unsigned char)s[i] & 0xC0) != 0x80;
    return col > 1000000000 ? 1000000000 : (int)col;
}

/* ---- where a member's value starts ---------------------------------------- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* Past the string literal starting at s[i] == '"'. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Past the JSON value starting at s[i]: a string, an object or array
 * (nesting counted, strings skipped whole so brackets in them do not
 * count), or a scalar. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '"')
        return skip_string(s, n, i);
    if (i < n && (s[i] == '{' || s[i] == '[')) {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
        i++;
    return i;
}

/* Column of the value of top-level member `name` in the object s[0..n)
 * (already known to be valid JSON), or of the object itself when the
 * member is absent. Member names are compared as written (the format has
 * no escapes in them). */
static int member_col(const char *s, size_t n, const char *name)
{
    size_t i = skip_ws(s, n, 0), obj = i, want = strlen(name);
    if (i >= n || s[i] != '{')
        return char_col(s, obj);
    i++;
    /* bounded: every pass moves i forward over one member */
    while (i < n) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            break;
        size_t k0 = i + 1, k1 = skip_string(s, n, i);
        i = skip_ws(s, n, k1);
        if (i >= n || s[i] != ':')
            break;
        i = skip_ws(s, n, i + 1);
        if (k1 - k0 == want + 1 && memcmp(s + k0, name, want) == 0)
            return char_col(s, i);
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i < n && s[i] == ',')
            i++;
        else
            break;
    }
    return char_col(s, obj);
}

/* ---- one op ----------------------------------------------------------------- */

struct line {
    const char *path;
    size_t lineno;
    const char *s;
    size_t len;
    struct fl_error *err;
};

static int bad_member(const struct line *l, const char *name, const char *expect)
{
    return fl_error_set(l->err, FL_EINVAL, "%s:%zu:%d: \"%s\": expected %s", l->path,
                        l->lineno, member_col(l->s, l->len, name), name, expect);
}

static int int_member(const struct line *l, json_t *o, const char *name, long long lo,
                      long long hi, const char *expect, long long *out)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bad_member(l, name, expect);
    *out = json_integer_value(v);
    return 0;
}

/* A string member: required ones must be strings, optional ones may also
 * be null or absent (*out = NULL). */
static int str_member(const struct line *l, json_t *o, const char *name, int required,
                      const char **out)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if ((!v || json_is_null(v)) && !required)
        return 0;
    if (!json_is_string(v))
        return bad_member(l, name, required ? "a string" : "a string or null");
    *out = json_string_value(v);
    return 0;
}

static int optype_parse(const char *s, enum fl_optype *t)
{
    static const enum fl_optype all[] = {FL_INVOKE, FL_OK, FL_FAIL, FL_INFO};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, fl_optype_name(all[i])) == 0) {
            *t = all[i];
            return 0;
        }
    }
    return FL_EINVAL;
}

/* The file's op index: it counts up from 0 by one. A jump forward is a
 * gap (lines lost); a step back or a repeat is a duplicated or reordered
 * line. Both go into the origin record. */
static void note_index(struct fl_history_origin *o, size_t lineno, uint64_t index)
{
    if (o->ops && index == 0 && !o->restart_line)
        o->restart_line = lineno;    /* `run --events` puts every run in one file */
    if (o->ops && index <= o->high) {
        if (!o->disordered++) {
            o->disorder_line = lineno;
            o->disorder_index = index;
            o->disorder_after = o->high;
        }
    } else {
        uint64_t from = o->ops ? o->high + 1 : 0;
        if (index > from) {
            o->missing += index - from;
            if (!o->gap_line) {
                o->gap_line = lineno;
                o->gap_from = from;
                o->gap_to = index;
            }
        }
        o->high = index;
    }
    o->ops++;
}

static int load_line(struct fl_history *h, const struct line *l)
{
    json_error_t jerr;
    json_t *o = json_loadb(l->s, l->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return fl_error_set(l->err, FL_EINVAL, "%s:%zu:%d: invalid JSON: %s", l->path,
                            l->lineno, jerr.column > 0 ? jerr.column : 1, jerr.text);
    int rc = FL_EINVAL;
    long long index, time_us, process;
    const char *src, *f, *key, *value, *error, *type;
    enum fl_optype t;
    if (!json_is_object(o)) {
        fl_error_set(l->err, FL_EINVAL, "%s:%zu:%d: expected a JSON object (one op per line)",
                     l->path, l->lineno, char_col(l->s, skip_ws(l->s, l->len, 0)));
        goto out;
    }
    if (int_member(l, o, "index", 0, INT64_MAX, "a non-negative integer", &index) ||
        int_member(l, o, "time_us", -FL_TIME_MAX_US, FL_TIME_MAX_US,
                   "microseconds since the run started, an integer within 31 years",
                   &time_us) ||
        int_member(l, o, "process", INT32_MIN, INT32_MAX, "a 32-bit integer", &process) ||
        str_member(l, o, "type", 1, &type))
        goto out;
    if (optype_parse(type, &t)) {
        bad_member(l, "type", "one of invoke, ok, fail, info");
        goto out;
    }
    if (str_member(l, o, "source", 1, &src) || str_member(l, o, "f", 1, &f) ||
        str_member(l, o, "key", 0, &key) || str_member(l, o, "value", 0, &value) ||
        str_member(l, o, "error", 0, &error))
        goto out;
    note_index(fl_history_origin_edit(h), l->lineno, (uint64_t)index);
    /* Over the limit the op is dropped and counted, like a live run would,
     * and the integrity check reports it. */
    fl_history_add(h, (int64_t)time_us, (int32_t)process, t, src, f, key, value, error);
    rc = 0;
out:
    json_decref(o);
    return rc;
}

int fl_history_load_jsonl(struct fl_history *h, const char *path, struct fl_error *err)
{
    struct fl_history_origin *org = fl_history_origin_edit(h);
    memset(org, 0, sizeof *org);
    org->path = fl_history_intern(h, path);
    struct reader *r = calloc(1, sizeof *r);
    if (!r || !org->path) {
        free(r);
        return fl_error_set(err, FL_ENOMEM, "%s: out of memory", path);
    }
    r->fp = fopen(path, "r");
    if (!r->fp) {
        int e = errno;
        free(r);
        return fl_error_set(err, FL_EIO, "%s: %s", path, strerror(e));
    }
    struct fl_buf buf;
    fl_buf_init(&buf, LOAD_MAX_LINE);
    int rc = 0, nl = 1;
    /* bounded by the file size: each pass consumes one line */
    for (size_t lineno = 1;; lineno++) {
        int got = next_line(r, &buf, &nl);
        if (got == 0)
            break;
        org->lines = lineno;
        if (got == FL_ENOMEM) {
            rc = fl_error_set(err, FL_EINVAL, "%s:%zu:1: line longer than %zu bytes: not an "
                              "events file?", path, lineno, LOAD_MAX_LINE);
            break;
        }
        if (got < 0) {
            rc = fl_error_set(err, FL_EIO, "%s:%zu: read error: %s", path, lineno,
                              strerror(errno));
            break;
        }
        const char *s = fl_buf_str(&buf);
        const char *nul = memchr(s, '\0', buf.len);
        if (nul) {
            rc = fl_error_set(err, FL_EINVAL, "%s:%zu:%d: NUL byte: not a text file", path,
                              lineno, char_col(s, (size_t)(nul - s)));
            break;
        }
        if (skip_ws(s, buf.len, 0) == buf.len)
            continue;
        struct line l = {path, lineno, s, buf.len, err};
        rc = load_line(h, &l);
        if (rc) {
            if (!nl && err) {   /* the last line, cut short */
                char msg[sizeof err->msg];
                memcpy(msg, err->msg, sizeof msg);
                fl_error_set(err, rc, "%.400s (the file ends in the middle of this line: "
                             "the recording was cut short)", msg);
            }
            break;
        }
    }
    org->cut_mid_line = !nl;
    fl_buf_free(&buf);
    fclose(r->fp);
    free(r);
    return rc;
}
