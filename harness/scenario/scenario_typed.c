/* scenario_typed.c - typed values of the loader's own keys and the limits
 * every file is held to: durations, integers, choices, names and counts
 * within their bounds (scenario_internal.h), and ${var} references
 * substituted into typed values at load time, where only vars (with their
 * --var overrides) are known. Problems are reported at the value, with
 * both forms when vars were substituted: "at: '${d}' = '5x': expected ...".
 */
#include "scenario/scenario_internal.h"
#include "base/params_parse.h"
#include "base/template.h"
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct fl_pos val_pos(struct fl_sc_loader *ld, const struct fl_sc_field *f)
{
    return fl_sc_pos(ld, f->val, f->key_pos);
}

/* ---- vars in typed values ---------------------------------------------- */

struct subst {
    struct fl_sc_loader *ld;
    const char *missing;    /* the reference that is no var */
    size_t missing_len;
};

static int subst_var(void *ud, const char *name, size_t len, struct fl_buf *out,
                     struct fl_error *err)
{
    (void)err;
    struct subst *x = ud;
    for (size_t i = 0; i < x->ld->nvars; i++) {
        const char *k = x->ld->vars[i].key;
        if (strlen(k) == len && memcmp(k, name, len) == 0)
            return fl_buf_adds(out, x->ld->vars[i].value) ? FL_ENOMEM : 0;
    }
    x->missing = name;
    x->missing_len = len;
    return FL_ENOTFOUND;
}

/* What a reference that is no var would mean at run time, for the
 * message: a builtin, a service's address, or nothing at all. */
static const char *run_time_meaning(struct fl_sc_loader *ld, const char *name, size_t len)
{
    static const char *const builtins[] = {"seed", "out", "bindir", "port", "replica"};
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strlen(builtins[i]) == len && memcmp(builtins[i], name, len) == 0)
            return "a builtin";
    const char *dot = memchr(name, '.', len);
    size_t sl = dot ? (size_t)(dot - name) : len;
    for (size_t i = 0; i < ld->nservices; i++)
        if (strlen(ld->services[i].name) == sl && memcmp(ld->services[i].name, name, sl) == 0)
            return "a service's address";
    return NULL;
}

static void not_a_var(struct fl_sc_loader *ld, const char *s, const char *key, struct fl_pos pos,
                      const char *name, size_t len)
{
    char nm[80];
    snprintf(nm, sizeof nm, "%.*s", (int)(len < 64 ? len : 64), name);
    const char *names[FL_SC_MAX_VARS];
    size_t nn = 0;
    for (size_t i = 0; i < ld->nvars && nn < FL_SC_MAX_VARS; i++)
        names[nn++] = ld->vars[i].key;
    struct fl_buf l;
    fl_buf_init(&l, 8192);
    fl_join_names(&l, names, nn);
    const char *sug = fl_suggest(nm, names, nn);
    const char *rt = run_time_meaning(ld, name, len);
    char what[320];
    if (rt)
        snprintf(what, sizeof what, "${%s} is %s, only known at run time; a typed value is "
                 "resolved when the file is loaded, from literals and vars", nm, rt);
    else
        snprintf(what, sizeof what, "${%s} is not a var (a typed value is resolved when the "
                 "file is loaded, from literals and vars)", nm);
    fl_sc_diag(ld, pos, "%s: '%s': %s; %s%s%s%s%s", key, s, what,
               nn ? "vars: " : "the scenario declares no vars", fl_buf_str(&l),
               sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    fl_buf_free(&l);
}

const char *fl_sc_subst_vars(struct fl_sc_loader *ld, const char *s, const char *key,
                             struct fl_pos pos)
{
    if (!s || !strchr(s, '$'))
        return s;
    struct subst x = {ld, NULL, 0};
    struct fl_buf b;
    fl_buf_init(&b, 64 * 1024);
    struct fl_error err = {0};
    int rc = fl_template_expand(s, subst_var, &x, &b, &err);
    const char *out = NULL;
    if (rc == 0) {
        out = fl_sc_strndup(ld, fl_buf_str(&b), b.len);
    } else if (rc == FL_ENOTFOUND && x.missing) {
        not_a_var(ld, s, key, pos, x.missing, x.missing_len);
    } else if (rc == FL_EINVAL) {
        fl_sc_diag(ld, pos, "%s: malformed reference in '%s': expected ${name} with a name made "
                   "of letters, digits, '_', '.', '-' (write $$ for a literal $)", key, s);
    } else {
        fl_sc_diag(ld, pos, "%s: '%s' is over 64 KiB once its vars are substituted", key, s);
    }
    fl_buf_free(&b);
    return out;
}

const char *fl_sc_typed(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                        const char *expect, const char **written)
{
    *written = NULL;
    const char *s = fl_sc_str(ld, f, key, expect);
    if (!s || !strchr(s, '$'))
        return s;
    const char *r = fl_sc_subst_vars(ld, s, key, val_pos(ld, f));
    if (r)
        *written = s;
    return r;
}

/* A value for a message: quoted, cut at 60 characters. */
static void shown(char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n > 60)
        snprintf(buf, len, "'%.60s...' (%zu characters)", s, n);
    else
        snprintf(buf, len, "'%s'", s);
}

/* fl_sc_bad_value with a hint appended ("; did you mean 'x'?"). */
static void bad_value_v(struct fl_sc_loader *ld, struct fl_pos pos, const char *key,
                        const char *written, const char *value, const char *hint,
                        const char *fmt, va_list ap)
{
    char what[512], v[128];
    vsnprintf(what, sizeof what, fmt, ap);
    shown(v, sizeof v, value);
    if (written) {
        char w[128];
        shown(w, sizeof w, written);
        fl_sc_diag(ld, pos, "%s: %s = %s: expected %s%s", key, w, v, what, hint);
    } else {
        fl_sc_diag(ld, pos, "%s: expected %s; got %s%s", key, what, v, hint);
    }
}

void fl_sc_bad_value(struct fl_sc_loader *ld, struct fl_pos pos, const char *key,
                     const char *written, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bad_value_v(ld, pos, key, written, value, "", fmt, ap);
    va_end(ap);
}

static void bad_value_hint(struct fl_sc_loader *ld, struct fl_pos pos, const char *key,
                           const char *written, const char *value, const char *hint,
                           const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void bad_value_hint(struct fl_sc_loader *ld, struct fl_pos pos, const char *key,
                           const char *written, const char *value, const char *hint,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bad_value_v(ld, pos, key, written, value, hint, fmt, ap);
    va_end(ap);
}

/* ---- typed scalars ------------------------------------------------------ */

int fl_sc_duration_min(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                       uint64_t min_ms, uint64_t *out)
{
    static const char expect[] = "a duration like 250ms, 5s, 2m";
    if (!f->present)
        return 0;
    const char *w;
    const char *s = fl_sc_typed(ld, f, key, expect, &w);
    if (!s)
        return -1;
    uint64_t v;
    if (fl_parse_duration(s, &v)) {
        fl_sc_bad_value(ld, val_pos(ld, f), key, w, s, "%s", expect);
        return -1;
    }
    if (v < min_ms || v > FL_SC_DURATION_MAX_MS) {
        char lo[32], hi[32];
        fl_format_duration(min_ms, lo, sizeof lo);
        fl_format_duration(FL_SC_DURATION_MAX_MS, hi, sizeof hi);
        if (min_ms == 0)
            fl_sc_bad_value(ld, val_pos(ld, f), key, w, s, "a duration of at most %s", hi);
        else if (min_ms == 1)
            fl_sc_bad_value(ld, val_pos(ld, f), key, w, s, "a duration above 0 and at most %s",
                            hi);
        else
            fl_sc_bad_value(ld, val_pos(ld, f), key, w, s, "a duration from %s to %s", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int fl_sc_duration(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                   uint64_t *out)
{
    return fl_sc_duration_min(ld, f, key, 0, out);
}

int fl_sc_int(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
              long long lo, long long hi, long long *out)
{
    if (!f->present)
        return 0;
    char expect[96];
    snprintf(expect, sizeof expect, "an integer from %lld to %lld", lo, hi);
    const char *w;
    const char *s = fl_sc_typed(ld, f, key, expect, &w);
    if (!s)
        return -1;
    if (fl_parse_int(s, lo, hi, out)) {
        fl_sc_bad_value(ld, val_pos(ld, f), key, w, s, "%s", expect);
        return -1;
    }
    return 0;
}

int fl_sc_choice(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                 const char *const *choices, int *out)
{
    if (!f->present)
        return 0;
    size_t n = fl_choice_count(choices);
    struct fl_buf list;
    fl_buf_init(&list, 1024);
    fl_buf_adds(&list, "one of: ");
    fl_join_names(&list, choices, n);
    const char *w;
    const char *s = fl_sc_typed(ld, f, key, fl_buf_str(&list), &w);
    int i = s ? fl_choice_index(choices, s) : -1;
    if (s && i < 0) {
        const char *sug = fl_suggest(s, choices, n);
        char hint[96] = "";
        if (sug)
            snprintf(hint, sizeof hint, "; did you mean '%s'?", sug);
        bad_value_hint(ld, val_pos(ld, f), key, w, s, hint, "%s", fl_buf_str(&list));
    }
    fl_buf_free(&list);
    if (i < 0)
        return -1;
    *out = i;
    return 0;
}

int fl_sc_name_fits(struct fl_sc_loader *ld, struct fl_pos pos, const char *kind,
                    const char *name)
{
    size_t n = strlen(name);
    if (n <= FL_SC_NAME_MAX)
        return 1;
    fl_sc_diag(ld, pos, "%s name '%.24s...' is %zu characters long; at most %d (names go into "
               "instance ids like NAME.12, file names and reports)", kind, name, n,
               FL_SC_NAME_MAX);
    return 0;
}

int fl_sc_count_fits(struct fl_sc_loader *ld, struct fl_pos pos, const char *section, int count,
                     int max)
{
    if (count <= max)
        return 1;
    fl_sc_diag(ld, pos, "%s: %d items; at most %d", section, count, max);
    return 0;
}
