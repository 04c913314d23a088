/* scenario_yaml.c - the loader's view of libfyaml nodes: positions, scalars
 * of each expected form, mappings with a fixed set of keys. Each helper
 * reports its own problems as diagnostics so that the section parsers read
 * like the format they accept. */
#include "scenario/scenario_internal.h"
#include "base/params_parse.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>

struct fy_node *fl_sc_val(struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n))
        return n;
    /* "key:" gives a scalar without a token; ~ and null are YAML nulls. */
    if (!fy_node_get_scalar_token(n))
        return NULL;
    if (fy_node_get_style(n) != FYNS_PLAIN)
        return n;
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    if (s && ((len == 1 && s[0] == '~') || (len == 4 && (memcmp(s, "null", 4) == 0 ||
              memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0))))
        return NULL;
    return n;
}

struct fl_pos fl_sc_pos(struct fl_sc_loader *ld, struct fy_node *n, struct fl_pos fallback)
{
    /* libfyaml 0.7.12 has no node start mark: a collection is placed at
     * its first key or item, which is where a reader looks anyway. */
    for (int depth = 0; n && depth < 64; depth++) {
        if (fy_node_is_scalar(n)) {
            struct fy_token *t = fy_node_get_scalar_token(n);
            const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
            if (!m)
                break;
            return (struct fl_pos){ld->file, m->line + 1, m->column + 1};
        }
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            break;
        }
    }
    return fallback;
}

struct fl_sc_spos fl_sc_scalar_pos(struct fl_sc_loader *ld, struct fy_node *n,
                                   struct fl_pos fallback)
{
    struct fl_sc_spos sp = {fl_sc_pos(ld, n, fallback), 0};
    if (!n || !fy_node_is_scalar(n))
        return sp;
    struct fy_token *t = fy_node_get_scalar_token(n);
    if (!t)
        return sp;
    const struct fy_mark *a = fy_token_start_mark(t), *b = fy_token_end_mark(t);
    enum fy_node_style st = fy_node_get_style(n);
    size_t len;
    fy_node_get_scalar(n, &len);
    int quoted = st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED;
    if (!a || !b || (st != FYNS_PLAIN && !quoted))
        return sp;
    /* libfyaml's marks of a quoted scalar exclude the quotes, so for every
     * style an offset maps to a column exactly when the source span is the
     * value itself on one line: no escapes, no '' pairs, no folding. */
    if (a->line == b->line && b->input_pos >= a->input_pos &&
        b->input_pos - a->input_pos == len)
        sp.exact = 1;
    return sp;
}

const char *fl_sc_got(struct fl_sc_loader *ld, struct fy_node *n)
{
    if (!n)
        return "nothing";
    if (fy_node_is_mapping(n))
        return "a mapping";
    if (fy_node_is_sequence(n))
        return "a list";
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        return "nothing";
    char buf[96];
    if (len > 60)
        snprintf(buf, sizeof buf, "'%.60s...'", s);
    else
        snprintf(buf, sizeof buf, "'%.*s'", (int)len, s);
    char *r = fl_sc_strndup(ld, buf, strlen(buf));
    return r ? r : "a value";
}

const char *fl_sc_key(struct fl_sc_loader *ld, struct fy_node_pair *p, struct fl_pos *pos,
                      struct fl_pos fallback)
{
    struct fy_node *k = fy_node_pair_key(p);
    *pos = fl_sc_pos(ld, k, fallback);
    if (!k || !fy_node_is_scalar(k)) {
        fl_sc_diag(ld, *pos, "expected a plain key here; got %s", fl_sc_got(ld, k));
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(k, &len);
    return fl_sc_strndup(ld, s ? s : "", s ? len : 0);
}

int fl_sc_fields(struct fl_sc_loader *ld, struct fy_node *n, const char *const *keys,
                 size_t nkeys, const char *ctx, struct fl_pos fallback, struct fl_sc_field *out)
{
    memset(out, 0, nkeys * sizeof *out);
    if (!n)
        return 0;
    if (!fy_node_is_mapping(n)) {
        struct fl_buf b;
        fl_buf_init(&b, 4096);
        fl_join_names(&b, keys, nkeys);
        fl_sc_diag(ld, fl_sc_pos(ld, n, fallback), "%s: expected a mapping with keys %s; got %s",
                   ctx, fl_buf_str(&b), fl_sc_got(ld, n));
        fl_buf_free(&b);
        return -1;
    }
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fl_pos kp;
        const char *k = fl_sc_key(ld, p, &kp, fallback);
        if (!k)
            continue;
        size_t i;
        for (i = 0; i < nkeys; i++)
            if (strcmp(keys[i], k) == 0)
                break;
        if (i < nkeys) {
            out[i].present = 1;
            out[i].val = fl_sc_val(fy_node_pair_value(p));
            out[i].key_pos = kp;
            continue;
        }
        struct fl_buf b;
        fl_buf_init(&b, 4096);
        fl_join_names(&b, keys, nkeys);
        const char *sug = fl_suggest(k, keys, nkeys);
        fl_sc_diag(ld, kp, "unknown key '%s' in %s; expected one of: %s%s%s%s", k, ctx,
                   fl_buf_str(&b), sug ? "; did you mean '" : "", sug ? sug : "",
                   sug ? "'?" : "");
        fl_buf_free(&b);
    }
    return 0;
}

static struct fl_pos val_pos(struct fl_sc_loader *ld, const struct fl_sc_field *f)
{
    return fl_sc_pos(ld, f->val, f->key_pos);
}

const char *fl_sc_str(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                      const char *expect)
{
    if (!f->present)
        return NULL;
    if (!f->val)
        return fl_sc_strndup(ld, "", 0);
    if (!fy_node_is_scalar(f->val)) {
        fl_sc_diag(ld, val_pos(ld, f), "%s: expected %s; got %s", key, expect,
                   fl_sc_got(ld, f->val));
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(f->val, &len);
    return fl_sc_strndup(ld, s ? s : "", s ? len : 0);
}

void fl_sc_add_tpl(struct fl_sc_loader *ld, const char *s, struct fl_sc_spos at,
                   enum fl_sc_scope scope, size_t owner)
{
    struct fl_sc_tpl *t = fl_sc_alloc(ld, sizeof *t);
    if (!t || !s)
        return;
    t->s = s;
    t->at = at;
    t->scope = scope;
    t->owner = owner;
    if (ld->tpl_tail)
        ld->tpl_tail->next = t;
    else
        ld->tpl_head = t;
    ld->tpl_tail = t;
}

const char *fl_sc_tpl(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key,
                      const char *expect, enum fl_sc_scope scope, size_t owner)
{
    const char *s = fl_sc_str(ld, f, key, expect);
    if (s)
        fl_sc_add_tpl(ld, s, fl_sc_scalar_pos(ld, f->val, f->key_pos), scope, owner);
    return s;
}

/* One item of a list: a scalar as an arena string, or NULL (diagnostic). */
static const char *list_item(struct fl_sc_loader *ld, struct fy_node *it, const char *key,
                             const char *expect, struct fl_pos fallback)
{
    if (!it)
        return fl_sc_strndup(ld, "", 0);
    if (!fy_node_is_scalar(it)) {
        fl_sc_diag(ld, fl_sc_pos(ld, it, fallback), "%s: expected %s; got %s in the list",
                   key, expect, fl_sc_got(ld, it));
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(it, &len);
    return fl_sc_strndup(ld, s ? s : "", s ? len : 0);
}

const char *const *fl_sc_strlist(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                                 const char *key, const char *expect, int allow_scalar,
                                 int tpl, enum fl_sc_scope scope, size_t owner, size_t *n)
{
    *n = 0;
    if (!f->present)
        return NULL;
    struct fy_node *v = f->val;
    int count = 0;
    if (v && fy_node_is_sequence(v))
        count = fy_node_sequence_item_count(v);
    else if (v && fy_node_is_scalar(v) && allow_scalar)
        count = 1;
    else if (v) {
        fl_sc_diag(ld, val_pos(ld, f), "%s: expected %s; got %s", key, expect, fl_sc_got(ld, v));
        return NULL;
    }
    if (count <= 0) {
        fl_sc_diag(ld, val_pos(ld, f), "%s: expected %s; got %s", key, expect,
                   v ? "an empty list" : "nothing");
        return NULL;
    }
    const char **arr = fl_sc_alloc(ld, ((size_t)count + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    int bad = 0;
    size_t k = 0;
    void *it = NULL;
    struct fy_node *item = fy_node_is_scalar(v) ? v : fy_node_sequence_iterate(v, &it);
    while (item && k < (size_t)count) {
        const char *s = list_item(ld, item, key, expect, f->key_pos);
        if (!s)
            bad = 1;
        else if (tpl)
            fl_sc_add_tpl(ld, s, fl_sc_scalar_pos(ld, item, f->key_pos), scope, owner);
        arr[k++] = s;
        item = fy_node_is_scalar(v) ? NULL : fy_node_sequence_iterate(v, &it);
    }
    if (bad)
        return NULL;
    *n = k;
    return arr;
}

int fl_sc_status_list(struct fl_sc_loader *ld, const struct fl_sc_field *f,
                      const int **out, size_t *n)
{
    static const char expect[] = "an HTTP status like 200 or a list like [200, 202]";
    size_t cnt;
    const char *const *l = fl_sc_strlist(ld, f, "ok_status", expect, 1, 0, FL_SC_REQUEST, 0, &cnt);
    if (!l)
        return f->present ? -1 : 0;
    int *st = fl_sc_alloc(ld, cnt * sizeof *st);
    if (!st)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        long long v;
        const char *s = fl_sc_subst_vars(ld, l[i], "ok_status", val_pos(ld, f));
        if (!s)
            return -1;
        if (fl_parse_int(s, 100, 599, &v)) {
            fl_sc_bad_value(ld, val_pos(ld, f), "ok_status", s != l[i] ? l[i] : NULL, s, "%s",
                            expect);
            return -1;
        }
        st[i] = (int)v;
    }
    *out = st;
    *n = cnt;
    return 0;
}

const char *fl_sc_pointer(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *key)
{
    static const char expect[] = "a JSON Pointer like /status, or \"\" for the whole body";
    const char *s = fl_sc_str(ld, f, key, expect);
    if (s && s[0] && s[0] != '/') {
        fl_sc_diag(ld, val_pos(ld, f), "%s: expected %s; got '%s'", key, expect, s);
        return NULL;
    }
    return s;
}

int fl_sc_valid_name(const char *s, int allow_dot)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || (allow_dot && c == '.');
        if (!ok)
            return 0;
    }
    return 1;
}

int fl_sc_kv_map(struct fl_sc_loader *ld, const struct fl_sc_field *f, const char *what,
                 const char *example, int (*key_ok)(const char *), const char *key_expect,
                 enum fl_sc_scope scope, size_t owner, const struct fl_kv **out, size_t *nout)
{
    struct fy_node *n = f->val;
    if (!n)
        return 0;
    if (!fy_node_is_mapping(n)) {
        fl_sc_diag(ld, fl_sc_pos(ld, n, f->key_pos), "%s: expected a mapping of %s; got %s",
                   what, example, fl_sc_got(ld, n));
        return -1;
    }
    int cnt = fy_node_mapping_item_count(n);
    struct fl_kv *kvs = fl_sc_alloc(ld, (size_t)(cnt > 0 ? cnt : 1) * sizeof *kvs);
    if (!kvs)
        return -1;
    size_t k = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it)) && k < (size_t)cnt) {
        struct fl_kv kv;
        kv.key = fl_sc_key(ld, p, &kv.pos, f->key_pos);
        if (!kv.key)
            continue;
        if (key_ok && !key_ok(kv.key))
            fl_sc_diag(ld, kv.pos, "%s: expected %s; got '%s'", what, key_expect, kv.key);
        struct fl_sc_field v = {1, fl_sc_val(fy_node_pair_value(p)), kv.pos};
        kv.value = fl_sc_tpl(ld, &v, kv.key, "a scalar value", scope, owner);
        if (kv.value)
            kvs[k++] = kv;
    }
    *out = kvs;
    *nout = k;
    return 0;
}
